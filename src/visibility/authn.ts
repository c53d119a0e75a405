// Delegated authentication by request header, as k8s.io/apiserver's requestheader authenticator:
// the aggregator proxies each request with a client certificate signed by the requestheader CA and
// names the user in X-Remote-* headers. The headers count only when the peer certificate chains to
// that CA (TLS verifies the chain; the server's `ca` is that CA) and its CN is an allowed name.
/** The requestheader-* keys of kube-system/extension-apiserver-authentication. */
export interface RequestHeaderConfig {
  /** PEM bundle of the CAs that sign front-proxy client certificates. */
  clientCA: string;
  /** CNs allowed to assert users; empty allows any certificate the CA signed. */
  allowedNames: string[];
  usernameHeaders: string[];
  uidHeaders: string[];
  groupHeaders: string[];
  extraHeaderPrefixes: string[];
}

export interface UserInfo {
  name: string;
  uid?: string;
  groups: string[];
  extra: Record<string, string[]>;
}

export interface PeerCertificate {
  /** The certificate chains to the requestheader CA (tls `authorized`). */
  authorized: boolean;
  commonName?: string;
}

export const AUTHENTICATION_CONFIGMAP = {
  namespace: "kube-system",
  name: "extension-apiserver-authentication",
};

function jsonList(data: Record<string, string>, key: string): string[] {
  const raw = data[key];
  if (!raw) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || !parsed.every((v) => typeof v === "string"))
    throw new Error(`${AUTHENTICATION_CONFIGMAP.name}: ${key} is not a JSON list of strings`);
  return parsed;
}

/** Undefined when the cluster has no front proxy configured (no requestheader CA). */
export function parseRequestHeaderConfig(
  data: Record<string, string> | undefined,
): RequestHeaderConfig | undefined {
  const clientCA = data?.["requestheader-client-ca-file"];
  if (!data || !clientCA) return undefined;
  return {
    clientCA,
    allowedNames: jsonList(data, "requestheader-allowed-names"),
    usernameHeaders: jsonList(data, "requestheader-username-headers"),
    uidHeaders: jsonList(data, "requestheader-uid-headers"),
    groupHeaders: jsonList(data, "requestheader-group-headers"),
    extraHeaderPrefixes: jsonList(data, "requestheader-extra-headers-prefix"),
  };
}

/** Every value of every named header, in order (one header may be repeated). */
function values(headers: Record<string, string[] | undefined>, names: string[]): string[] {
  return names.flatMap((n) => headers[n.toLowerCase()] ?? []);
}

/** A malformed escape is taken literally, as Go's url.PathUnescape failing would leave it. */
function unescapeExtraKey(raw: string): string {
  try {
    return decodeURIComponent(raw).toLowerCase();
  } catch {
    return raw.toLowerCase();
  }
}

/**
 * The user the front proxy asserts, or undefined when the request is not from a trusted front proxy
 * or names no user. `headers` are node's headersDistinct (repeated headers kept apart).
 */
export function authenticateRequestHeader(
  config: RequestHeaderConfig | undefined,
  peer: PeerCertificate,
  headers: Record<string, string[] | undefined>,
): UserInfo | undefined {
  if (!config || !peer.authorized) return undefined;
  if (config.allowedNames.length > 0 && !config.allowedNames.includes(peer.commonName ?? ""))
    return undefined;
  const name = values(headers, config.usernameHeaders).find((v) => v !== "");
  if (!name) return undefined;
  const uid = values(headers, config.uidHeaders).find((v) => v !== "");
  const extra: Record<string, string[]> = {};
  for (const [header, vals] of Object.entries(headers)) {
    for (const prefix of config.extraHeaderPrefixes) {
      const p = prefix.toLowerCase();
      if (!header.startsWith(p) || header.length === p.length) continue;
      // Extra keys are percent-encoded in header names (RFC 7230 tokens), lower-cased.
      const key = unescapeExtraKey(header.slice(p.length));
      extra[key] = [...(extra[key] ?? []), ...(vals ?? [])];
    }
  }
  return { name, ...(uid ? { uid } : {}), groups: values(headers, config.groupHeaders), extra };
}
