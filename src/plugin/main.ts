// kubectl golden: parse, connect, run one command, and map every outcome to an exit code.
import { type Args, HELP, parse } from "./args.js";
import { COMMANDS, type Io } from "./commands.js";
import { EXIT, PluginError, usage } from "./errors.js";
import { connect } from "./kube.js";

export interface Streams {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** Runs the plugin with `argv` (without node and the script); resolves with the exit code. */
export async function main(argv: string[], streams: Streams, io: Partial<Io> = {}): Promise<number> {
  try {
    const args: Args = parse(argv);
    if (args.help || args.command === "" || args.command === "help") {
      streams.out(HELP.trimEnd());
      return args.command === "" && !args.help ? EXIT.usage : EXIT.ok;
    }
    const command = COMMANDS[args.command];
    if (!command)
      throw usage(`unknown command "${args.command}"; commands: ${Object.keys(COMMANDS).join(", ")}`);
    if (args.positionals.length !== command.arity) throw usage(`usage: kubectl golden ${command.usage}`);
    await command.run(connect(args), args, {
      out: streams.out,
      now: io.now ?? (() => new Date()),
      sleep: io.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
    });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof PluginError) {
      streams.err(`error: ${err.message}`);
      return err.exitCode;
    }
    streams.err(`error: ${(err as Error).stack ?? String(err)}`);
    return EXIT.failed;
  }
}
