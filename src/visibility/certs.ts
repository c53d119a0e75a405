// X.509 for the visibility server's own serving certificate (and for tests' CAs and client
// certificates): keys from node:crypto, certificates from node-forge, all PEM.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import forge from "node-forge";

export interface KeyPair {
  cert: string;
  key: string;
}

export interface IssueOptions {
  commonName: string;
  /** server: serving certificate (SANs below); client: client authentication (e.g. a front proxy). */
  usage: "server" | "client";
  dnsNames?: string[];
  ipAddresses?: string[];
  now: Date;
  validityDays: number;
}

function newKey(): { forgeKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey; pem: string } {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const pem = privateKey.export({ type: "pkcs1", format: "pem" }).toString();
  const forgeKey = forge.pki.privateKeyFromPem(pem);
  return { forgeKey, publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e), pem };
}

function baseCertificate(publicKey: forge.pki.PublicKey, commonName: string, now: Date, days: number) {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  // Positive 128-bit serial (leading byte < 0x80).
  cert.serialNumber = `01${randomBytes(15).toString("hex")}`;
  // Back-dated a little: replicas' clocks differ.
  cert.validity.notBefore = new Date(now.getTime() - 5 * 60_000);
  cert.validity.notAfter = new Date(now.getTime() + days * 86_400_000);
  // UTF8String: forge's default PrintableString cannot hold `@`, `_` and more, and Go's x509 (the
  // aggregator's) then refuses the whole certificate.
  cert.setSubject([{ name: "commonName", value: commonName, valueTagClass: forge.asn1.Type.UTF8 as number }]);
  return cert;
}

/** A self-signed CA. */
export function createCertificateAuthority(commonName: string, now: Date, validityDays = 3650): KeyPair {
  const { forgeKey, publicKey, pem } = newKey();
  const cert = baseCertificate(publicKey, commonName, now, validityDays);
  cert.setIssuer(cert.subject.attributes);
  cert.setExtensions([
    { name: "basicConstraints", cA: true, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ]);
  cert.sign(forgeKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: pem };
}

/** A leaf certificate signed by `ca`. */
export function issueCertificate(ca: KeyPair, opts: IssueOptions): KeyPair {
  const caCert = forge.pki.certificateFromPem(ca.cert);
  const caKey = forge.pki.privateKeyFromPem(ca.key);
  const { publicKey, pem } = newKey();
  const cert = baseCertificate(publicKey, opts.commonName, opts.now, opts.validityDays);
  cert.setIssuer(caCert.subject.attributes);
  const altNames = [
    ...(opts.dnsNames ?? []).map((value) => ({ type: 2, value })),
    ...(opts.ipAddresses ?? []).map((ip) => ({ type: 7, ip })),
  ];
  cert.setExtensions([
    { name: "basicConstraints", cA: false },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: opts.usage === "server", clientAuth: opts.usage === "client" },
    ...(altNames.length ? [{ name: "subjectAltName", altNames }] : []),
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: pem };
}

/** The DNS names a serving certificate for a Service is valid for. */
export function serviceDnsNames(service: string, namespace: string): string[] {
  return [
    service,
    `${service}.${namespace}`,
    `${service}.${namespace}.svc`,
    `${service}.${namespace}.svc.cluster.local`,
  ];
}

/**
 * Why a serving certificate must be re-issued, or undefined when it is fine: it must have been
 * signed by `caCert`, name every one of `dnsNames`, and have more than `renewBeforeMs` left.
 */
export function renewalReason(
  pair: KeyPair,
  caCert: string,
  dnsNames: string[],
  now: Date,
  renewBeforeMs: number,
): string | undefined {
  let cert: forge.pki.Certificate;
  let ca: forge.pki.Certificate;
  try {
    cert = forge.pki.certificateFromPem(pair.cert);
    ca = forge.pki.certificateFromPem(caCert);
    forge.pki.privateKeyFromPem(pair.key);
  } catch (err) {
    return `unreadable: ${err instanceof Error ? err.message : String(err)}`;
  }
  let signed: boolean;
  try {
    signed = ca.verify(cert);
  } catch {
    signed = false; // forge throws when the issuer is not the CA's subject
  }
  if (!signed) return "not signed by the CA";
  if (cert.validity.notAfter.getTime() - now.getTime() <= renewBeforeMs) return "about to expire";
  const san = cert.getExtension("subjectAltName") as { altNames?: { type: number; value?: string }[] } | null;
  const names = new Set((san?.altNames ?? []).filter((a) => a.type === 2).map((a) => a.value));
  const missing = dnsNames.filter((n) => !names.has(n));
  return missing.length ? `does not name ${missing.join(", ")}` : undefined;
}
