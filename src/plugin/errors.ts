// The plugin's exit codes, for scripts: 0 done, 1 failed (refused, API error, timed out),
// 2 bad usage, 3 an Image, version or channel that does not exist.
export const EXIT = { ok: 0, failed: 1, usage: 2, notFound: 3 } as const;

export class PluginError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failed,
  ) {
    super(message);
  }
}

export const usage = (message: string) => new PluginError(message, EXIT.usage);
export const notFound = (message: string) => new PluginError(message, EXIT.notFound);
