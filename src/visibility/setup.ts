// Builds the visibility server from operator configuration: where its certificate comes from,
// the delegated authn/authz clients, and the Manager runnable that runs it on every replica.
import { setTimeout as sleep } from "node:timers/promises";
import { ApiregistrationV1Api, AuthorizationV1Api, CoreV1Api } from "@kubernetes/client-node";
import { unlessNotFound } from "../runtime/api-errors.js";
import type { RestClient } from "../runtime/kube.js";
import type { Logger } from "../runtime/logger.js";
import type { Runnable } from "../runtime/manager.js";
import type { PendingQueueSource } from "../scheduler/pending.js";
import { AUTHENTICATION_CONFIGMAP, parseRequestHeaderConfig } from "./authn.js";
import { DelegatingAuthorizer } from "./authz.js";
import { VisibilityServer } from "./server.js";
import { CertDirSource, ManagedSecretSource, syncApiServiceCaBundle } from "./serving-cert.js";

export interface VisibilityConfig {
  /** 0 disables the server. */
  port: number;
  bindAddress: string;
  /** tls.crt and tls.key from here; empty: golden manages its own certificate in certSecret. */
  certDir: string;
  certSecretNamespace: string;
  certSecretName: string;
  /** The Service in front of the operator pods; the managed certificate names it. */
  serviceName: string;
  /** The APIService whose caBundle golden keeps in sync (managed certificate only); empty: none. */
  apiService: string;
}

export function visibilityRunnable(
  cfg: VisibilityConfig,
  rest: RestClient,
  source: PendingQueueSource,
  log: Logger,
  /** Observes each request's duration, by verb and HTTP code. */
  onRequest?: (verb: string, code: number, seconds: number, newConnection: boolean) => void,
  /** Counts each TLS connection accepted. */
  onConnection?: () => void,
): Runnable {
  const core = rest.api(CoreV1Api);
  const authorization = rest.api(AuthorizationV1Api);
  const registration = rest.api(ApiregistrationV1Api);
  const server = new VisibilityServer({
    port: cfg.port,
    bindAddress: cfg.bindAddress,
    source,
    log,
    ...(onRequest ? { onRequest } : {}),
    ...(onConnection ? { onConnection } : {}),
    certificates: cfg.certDir
      ? new CertDirSource(cfg.certDir)
      : new ManagedSecretSource({
          core,
          namespace: cfg.certSecretNamespace,
          secretName: cfg.certSecretName,
          serviceName: cfg.serviceName,
          log,
        }),
    ...(!cfg.certDir && cfg.apiService
      ? {
          onCertificate: async (cert) => {
            if (cert.caCert) await syncApiServiceCaBundle(registration, cfg.apiService, cert.caCert, log);
          },
        }
      : {}),
    requestHeaderConfig: async () => {
      const cm = await unlessNotFound(core.readNamespacedConfigMap(AUTHENTICATION_CONFIGMAP));
      return parseRequestHeaderConfig(cm?.data);
    },
    authorizer: new DelegatingAuthorizer({
      review: async (spec) => {
        const sar = await authorization.createSubjectAccessReview({
          body: { apiVersion: "authorization.k8s.io/v1", kind: "SubjectAccessReview", spec },
        });
        return {
          allowed: sar.status?.allowed === true,
          ...(sar.status?.reason ? { reason: sar.status.reason } : {}),
        };
      },
    }),
  });
  return {
    name: "visibility-server",
    start: async (signal) => {
      // A visibility API that cannot start (its RBAC not applied yet, the port taken, an apiserver
      // blip) must not take the reconcilers down with it: log, back off, try again.
      for (let attempt = 0; !signal.aborted; attempt++) {
        try {
          await server.start();
          break;
        } catch (err) {
          const retryMs = Math.min(60_000, 1000 * 2 ** attempt);
          log.error("visibility server failed to start; retrying", { err, retryMs });
          await sleep(retryMs, undefined, { signal }).catch(() => undefined);
        }
      }
      if (!signal.aborted)
        await new Promise<void>((resolve) =>
          signal.addEventListener("abort", () => resolve(), { once: true }),
        );
      await server.stop();
    },
  };
}
