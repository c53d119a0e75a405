// Where the visibility server's serving certificate comes from: a directory (tls.crt, tls.key,
// mounted from a Secret that cert-manager or an admin maintains), or golden's own management,
// like Kueue's internal cert management: one Secret holding a CA and a serving certificate for the
// Service, created by the first replica to start (on 409 it reads the winner's), re-issued from
// the same CA before it expires, and served by every replica. The CA also goes into the
// APIService's spec.caBundle, so the aggregator trusts the certificate.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { ApiregistrationV1Api, CoreV1Api, V1Secret } from "@kubernetes/client-node";
import { LABELS, OPERATOR_NAME } from "../build/names.js";
import { isAlreadyExists, isConflict, isNotFound, unlessNotFound } from "../runtime/api-errors.js";
import { mergePatchOptions } from "../runtime/kube.js";
import type { Logger } from "../runtime/logger.js";
import {
  createCertificateAuthority,
  issueCertificate,
  type KeyPair,
  renewalReason,
  serviceDnsNames,
} from "./certs.js";

export interface ServingCertificate extends KeyPair {
  /** The CA that signed it, when known (operator-managed). */
  caCert?: string;
}

/** Supplies the current serving certificate; called again periodically to pick up rotations. */
export interface ServingCertificateSource {
  current(): Promise<ServingCertificate>;
}

/** tls.crt and tls.key of a directory (a mounted Secret). */
export class CertDirSource implements ServingCertificateSource {
  constructor(private readonly dir: string) {}

  async current(): Promise<ServingCertificate> {
    const [cert, key] = await Promise.all(
      ["tls.crt", "tls.key"].map((f) => readFile(join(this.dir, f), "utf8")),
    );
    return { cert: cert ?? "", key: key ?? "" };
  }
}

export const CA_KEY = "ca.crt";
const CA_PRIVATE_KEY = "ca.key";
/** A serving certificate valid for a year, re-issued when 90 days are left. */
const SERVING_VALIDITY_DAYS = 365;
const RENEW_BEFORE_MS = 90 * 86_400_000;

export interface ManagedSecretOptions {
  core: Pick<CoreV1Api, "readNamespacedSecret" | "createNamespacedSecret" | "replaceNamespacedSecret">;
  namespace: string;
  secretName: string;
  serviceName: string;
  log: Logger;
  now?: () => Date;
}

const b64 = (s: string) => Buffer.from(s).toString("base64");
const unb64 = (s: string | undefined) => (s ? Buffer.from(s, "base64").toString("utf8") : "");

function readBundle(secret: V1Secret): { ca: KeyPair; serving: KeyPair } | undefined {
  const d = secret.data ?? {};
  const bundle = {
    ca: { cert: unb64(d[CA_KEY]), key: unb64(d[CA_PRIVATE_KEY]) },
    serving: { cert: unb64(d["tls.crt"]), key: unb64(d["tls.key"]) },
  };
  return bundle.ca.cert && bundle.ca.key ? bundle : undefined;
}

export class ManagedSecretSource implements ServingCertificateSource {
  readonly #now: () => Date;
  readonly #dnsNames: string[];

  constructor(private readonly opts: ManagedSecretOptions) {
    this.#now = opts.now ?? (() => new Date());
    this.#dnsNames = serviceDnsNames(opts.serviceName, opts.namespace);
  }

  async current(): Promise<ServingCertificate> {
    // A few rounds: each lost race (409) means another replica wrote first; read what it wrote.
    for (let attempt = 0; attempt < 5; attempt++) {
      const secret = await unlessNotFound(
        this.opts.core.readNamespacedSecret({ namespace: this.opts.namespace, name: this.opts.secretName }),
      );
      try {
        return await (secret ? this.#renewIfNeeded(secret) : this.#create());
      } catch (err) {
        if (!isAlreadyExists(err) && !isConflict(err) && !isNotFound(err)) throw err;
      }
    }
    throw new Error(`secret ${this.opts.namespace}/${this.opts.secretName}: too many conflicting writers`);
  }

  #issue(ca: KeyPair): KeyPair {
    return issueCertificate(ca, {
      commonName: this.#dnsNames[2] ?? this.opts.serviceName,
      usage: "server",
      dnsNames: this.#dnsNames,
      now: this.#now(),
      validityDays: SERVING_VALIDITY_DAYS,
    });
  }

  #body(ca: KeyPair, serving: KeyPair, resourceVersion?: string): V1Secret {
    return {
      apiVersion: "v1",
      kind: "Secret",
      type: "kubernetes.io/tls",
      metadata: {
        name: this.opts.secretName,
        namespace: this.opts.namespace,
        labels: { [LABELS.managedBy]: OPERATOR_NAME },
        ...(resourceVersion ? { resourceVersion } : {}),
      },
      data: {
        [CA_KEY]: b64(ca.cert),
        [CA_PRIVATE_KEY]: b64(ca.key),
        "tls.crt": b64(serving.cert),
        "tls.key": b64(serving.key),
      },
    };
  }

  async #create(): Promise<ServingCertificate> {
    const ca = createCertificateAuthority(
      `golden-visibility-ca-${Math.floor(this.#now().getTime() / 1000)}`,
      this.#now(),
    );
    const serving = this.#issue(ca);
    await this.opts.core.createNamespacedSecret({
      namespace: this.opts.namespace,
      body: this.#body(ca, serving),
    });
    this.opts.log.info("created the visibility serving certificate", { secret: this.opts.secretName });
    return { ...serving, caCert: ca.cert };
  }

  async #renewIfNeeded(secret: V1Secret): Promise<ServingCertificate> {
    const bundle = readBundle(secret);
    // A Secret without our CA (made by hand, half-written) is replaced whole.
    const ca = bundle?.ca ?? createCertificateAuthority("golden-visibility-ca", this.#now());
    const why = bundle
      ? renewalReason(bundle.serving, ca.cert, this.#dnsNames, this.#now(), RENEW_BEFORE_MS)
      : "no CA in the secret";
    if (bundle && !why) return { ...bundle.serving, caCert: ca.cert };
    const serving = this.#issue(ca);
    // resourceVersion-guarded: of two replicas renewing at once, one wins and the other re-reads.
    await this.opts.core.replaceNamespacedSecret({
      namespace: this.opts.namespace,
      name: this.opts.secretName,
      body: this.#body(ca, serving, secret.metadata?.resourceVersion),
    });
    this.opts.log.info("re-issued the visibility serving certificate", { secret: this.opts.secretName, why });
    return { ...serving, caCert: ca.cert };
  }
}

/**
 * Keeps spec.caBundle of the APIService equal to `caCert`: a read, and a merge patch only when it
 * differs. A missing APIService (not installed yet) is logged, not fatal.
 */
export async function syncApiServiceCaBundle(
  api: Pick<ApiregistrationV1Api, "readAPIService" | "patchAPIService">,
  name: string,
  caCert: string,
  log: Logger,
): Promise<boolean> {
  const apiService = await unlessNotFound(api.readAPIService({ name }));
  if (!apiService) {
    log.warn("APIService not found; not injecting the CA bundle", { apiService: name });
    return false;
  }
  const caBundle = b64(caCert);
  if (apiService.spec?.caBundle === caBundle) return false;
  await api.patchAPIService({ name, body: { spec: { caBundle } } }, mergePatchOptions());
  log.info("updated the APIService's caBundle", { apiService: name });
  return true;
}
