// metav1.Status: how every error leaves the visibility server, as it does from the apiserver, so
// kubectl prints "Error from server (Reason): message".

export type StatusReason =
  | "BadRequest"
  | "Unauthorized"
  | "Forbidden"
  | "NotFound"
  | "MethodNotAllowed"
  | "NotAcceptable"
  | "Expired"
  | "ServiceUnavailable"
  | "InternalError";

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
}

/** A request that ends in a Status; thrown by any handler, rendered by the server. */
export class StatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: StatusReason,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
  }

  toStatus(): Record<string, unknown> {
    return {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

export const badRequest = (message: string) => new StatusError(400, "BadRequest", message);
export const unauthorized = () => new StatusError(401, "Unauthorized", "Unauthorized");
export const methodNotAllowed = (message: string) => new StatusError(405, "MethodNotAllowed", message);
export const notFound = (message: string, details?: StatusDetails) =>
  new StatusError(404, "NotFound", message, details);
