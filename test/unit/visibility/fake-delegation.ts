// What the visibility server delegates to the apiserver, faked: a FakeApiServer that serves the
// requestheader ConfigMap (front-proxy CA, allowed name, header names), keeps the managed serving
// certificate Secret, takes the APIService's caBundle and answers SubjectAccessReviews (alice may,
// anyone else may not); and an HTTPS client that calls the server as the front proxy would.
import { request } from "node:https";
import type { V1Secret } from "@kubernetes/client-node";
import { createCertificateAuthority, issueCertificate, type KeyPair } from "../../../src/visibility/certs.js";
import type { VisibilityConfig } from "../../../src/visibility/setup.js";
import { FakeApiServer, json, status } from "../runtime/fake-apiserver.js";

export const NS = "golden-system";
export const SECRET = "golden-visibility-serving-cert";
export const APISERVICE = "v1alpha1.visibility.golden.dev";
export const BASE = "/apis/visibility.golden.dev/v1alpha1";
export const TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";

export interface Reply {
  code: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown> & {
    message?: string;
    reason?: string;
    items?: { metadata: { name: string } }[];
  };
}

export const itemNames = (r: Reply) => (r.body.items ?? []).map((i) => i.metadata.name);

/** The visibility config the tests serve with on `port` (managed certificate, APIService kept). */
export function testVisibilityConfig(port: number): VisibilityConfig {
  return {
    port,
    bindAddress: "127.0.0.1",
    certDir: "",
    certSecretNamespace: NS,
    certSecretName: SECRET,
    serviceName: "golden-visibility",
    apiService: APISERVICE,
  };
}

export class FakeDelegation {
  readonly fake = new FakeApiServer();
  readonly frontProxyCa = createCertificateAuthority("test-front-proxy-ca", new Date());
  readonly frontProxy = issueCertificate(this.frontProxyCa, {
    commonName: "front-proxy-client",
    usage: "client",
    now: new Date(),
    validityDays: 1,
  });
  secret: V1Secret | undefined;
  caBundlePatch: unknown;
  readonly reviews: unknown[] = [];

  constructor() {
    this.fake.route((req, res) => {
      if (req.path !== "/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication")
        return false;
      json(res, 200, {
        kind: "ConfigMap",
        apiVersion: "v1",
        metadata: { name: "extension-apiserver-authentication", namespace: "kube-system" },
        data: {
          "requestheader-client-ca-file": this.frontProxyCa.cert,
          "requestheader-allowed-names": '["front-proxy-client"]',
          "requestheader-username-headers": '["X-Remote-User"]',
          "requestheader-group-headers": '["X-Remote-Group"]',
          "requestheader-extra-headers-prefix": '["X-Remote-Extra-"]',
        },
      });
    });
    this.fake.route((req, res) => {
      if (req.path === `/api/v1/namespaces/${NS}/secrets/${SECRET}` && req.method === "GET")
        return this.secret ? json(res, 200, this.secret) : status(res, 404, "NotFound");
      if (req.path === `/api/v1/namespaces/${NS}/secrets` && req.method === "POST") {
        const body = JSON.parse(req.body);
        this.secret = { ...body, metadata: { ...body.metadata, resourceVersion: "1" } };
        return json(res, 201, this.secret);
      }
      return false;
    });
    this.fake.route((req, res) => {
      if (req.path !== `/apis/apiregistration.k8s.io/v1/apiservices/${APISERVICE}`) return false;
      if (req.method === "PATCH") this.caBundlePatch = JSON.parse(req.body);
      json(res, 200, {
        apiVersion: "apiregistration.k8s.io/v1",
        kind: "APIService",
        metadata: { name: APISERVICE },
        spec: {},
      });
    });
    this.fake.route((req, res) => {
      if (req.path !== "/apis/authorization.k8s.io/v1/subjectaccessreviews") return false;
      const sar = JSON.parse(req.body);
      this.reviews.push(sar.spec);
      json(res, 201, { ...sar, status: { allowed: sar.spec.user === "alice" } });
    });
  }

  /** A request to the server on `port` as the front proxy sends it (alice of team-a by default). */
  get(
    port: number,
    path: string,
    headers: Record<string, string> = { "X-Remote-User": "alice", "X-Remote-Group": "team-a" },
    client: KeyPair | null = this.frontProxy,
    method = "GET",
  ): Promise<Reply> {
    const ca = this.secret?.data?.["ca.crt"];
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: "127.0.0.1",
          port,
          path,
          method,
          headers,
          // The managed certificate names the Service; the CA is the managed Secret's.
          servername: "golden-visibility.golden-system.svc",
          ...(ca ? { ca: Buffer.from(ca, "base64").toString() } : { rejectUnauthorized: false }),
          ...(client ? { cert: client.cert, key: client.key } : {}),
        },
        (res) => {
          let text = "";
          res.on("data", (c: Buffer) => {
            text += c.toString();
          });
          res.on("end", () => {
            let body: Reply["body"];
            try {
              body = JSON.parse(text);
            } catch {
              body = { text };
            }
            resolve({ code: res.statusCode ?? 0, headers: res.headers, body });
          });
        },
      );
      req.on("error", reject);
      req.end();
    });
  }

  /** Resolves once the server on `port` answers its health check. */
  async listening(port: number): Promise<void> {
    for (;;) {
      const up = await this.get(port, "/healthz", {}, null).then(
        () => true,
        () => false,
      );
      if (up) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
