// Builds the visibility server from operator configuration: where its certificate comes from,
// the delegated authn/authz clients, and the Manager runnable that runs it on every replica.
import { setTimeout as sleep } from "node:timers/promises";
import { ApiregistrationV1Api, AuthorizationV1Api, CoreV1Api } from "@kubernetes/client-node";
import { unlessNotFound } from "../runtime/api-errors.js";
import type { RestClient } from "../runtime/kube.js";
import type { Logger, LogLevel } from "../runtime/logger.js";
import type { Runnable } from "../runtime/manager.js";
import type { PendingQueueSource } from "../scheduler/pending.js";
import { AUTHENTICATION_CONFIGMAP, parseRequestHeaderConfig, type RequestHeaderConfig } from "./authn.js";
import { DelegatingAuthorizer, type SubjectAccessReviewer } from "./authz.js";
import { VisibilityServer } from "./server.js";
import {
  CertDirSource,
  ManagedSecretSource,
  type ServingCertificate,
  type ServingCertificateSource,
  syncApiServiceCaBundle,
} from "./serving-cert.js";

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
  /**
   * Serve from a thread of its own (thread.ts), started from this entry module; absent: in the
   * operator's thread. The operator's entry point sets it: it knows where the module was built.
   */
  thread?: { entry: URL; logLevel: LogLevel; loggerName: string };
}

/**
 * What the visibility server needs from the apiserver, all on the main thread (where the operator's
 * API client lives): its serving certificate, the front proxy's CA and header names, a
 * SubjectAccessReview per decision, and publishing its CA into the APIService.
 */
export interface VisibilityServices {
  certificates: ServingCertificateSource;
  requestHeaderConfig: () => Promise<RequestHeaderConfig | undefined>;
  review: SubjectAccessReviewer;
  /** Undefined: golden does not keep the APIService's caBundle (a mounted certificate, or none). */
  onCertificate?: (cert: ServingCertificate) => Promise<void>;
}

export function visibilityServices(cfg: VisibilityConfig, rest: RestClient, log: Logger): VisibilityServices {
  const core = rest.api(CoreV1Api);
  const authorization = rest.api(AuthorizationV1Api);
  const registration = rest.api(ApiregistrationV1Api);
  return {
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
          onCertificate: async (cert: ServingCertificate) => {
            if (cert.caCert) await syncApiServiceCaBundle(registration, cfg.apiService, cert.caCert, log);
          },
        }
      : {}),
    requestHeaderConfig: async () => {
      const cm = await unlessNotFound(core.readNamespacedConfigMap(AUTHENTICATION_CONFIGMAP));
      return parseRequestHeaderConfig(cm?.data);
    },
    review: async (spec) => {
      const sar = await authorization.createSubjectAccessReview({
        body: { apiVersion: "authorization.k8s.io/v1", kind: "SubjectAccessReview", spec },
      });
      return {
        allowed: sar.status?.allowed === true,
        ...(sar.status?.reason ? { reason: sar.status.reason } : {}),
      };
    },
  };
}

/** Observes each request's duration, by verb and HTTP code, and whether it came on a new connection. */
export type RequestObserver = (verb: string, code: number, seconds: number, newConnection: boolean) => void;

/** The visibility server in the operator's own thread (tests, and callers with their own source). */
export function visibilityRunnable(
  cfg: VisibilityConfig,
  services: VisibilityServices,
  source: PendingQueueSource,
  log: Logger,
  onRequest?: RequestObserver,
  /** Counts each TLS connection accepted. */
  onConnection?: () => void,
): Runnable {
  const server = new VisibilityServer({
    port: cfg.port,
    bindAddress: cfg.bindAddress,
    source,
    log,
    ...(onRequest ? { onRequest } : {}),
    ...(onConnection ? { onConnection } : {}),
    certificates: services.certificates,
    ...(services.onCertificate ? { onCertificate: services.onCertificate } : {}),
    requestHeaderConfig: services.requestHeaderConfig,
    authorizer: new DelegatingAuthorizer({ review: services.review }),
  });
  return restartingRunnable(log, async (signal) => {
    try {
      await server.start();
    } catch (err) {
      return { served: false, err };
    }
    await aborted(signal);
    await server.stop();
    return { served: true };
  });
}

/**
 * One run of a visibility server: resolves once `signal` aborted and the server stopped, or when it
 * failed to start (served: false) or ended on its own (its thread died).
 */
export type ServeOnce = (signal: AbortSignal) => Promise<{ served: boolean; err?: unknown }>;

/**
 * A visibility server as a Manager runnable on every replica. One that cannot start (its RBAC not
 * applied yet, the port taken, an apiserver blip) must not take the reconcilers down with it: log,
 * back off (1 s, doubling up to 60 s), try again. One that served and then ended starts again
 * after 1 s.
 */
export function restartingRunnable(log: Logger, serveOnce: ServeOnce): Runnable {
  return {
    name: "visibility-server",
    start: async (signal) => {
      let failures = 0;
      while (!signal.aborted) {
        const ran = await serveOnce(signal);
        if (signal.aborted) break;
        failures = ran.served ? 0 : failures + 1;
        const retryMs = Math.min(60_000, 1000 * 2 ** Math.max(0, failures - 1));
        log.error(
          ran.served
            ? "visibility thread ended; starting it again"
            : "visibility server failed to start; retrying",
          { err: ran.err, retryMs },
        );
        await sleep(retryMs, undefined, { signal }).catch(() => undefined);
      }
    },
  };
}

/** Resolves when `signal` aborts; at once if it has. */
export function aborted(signal: AbortSignal): Promise<undefined> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(undefined);
    else signal.addEventListener("abort", () => resolve(undefined), { once: true });
  });
}
