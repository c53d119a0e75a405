import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ApiException, type V1Secret } from "@kubernetes/client-node";
import forge from "node-forge";
import { nopLogger } from "../../../src/runtime/logger.js";
import {
  createCertificateAuthority,
  issueCertificate,
  renewalReason,
  serviceDnsNames,
} from "../../../src/visibility/certs.js";
import { ManagedSecretSource } from "../../../src/visibility/serving-cert.js";

const apiError = (code: number) => new ApiException(code, "", JSON.stringify({ kind: "Status", code }), {});

/** A Secret store with one other replica that wins the first create. */
function secrets(winner?: V1Secret) {
  let stored: V1Secret | undefined;
  const writes: string[] = [];
  const core = {
    readNamespacedSecret: async () => {
      if (!stored) throw apiError(404);
      return stored;
    },
    createNamespacedSecret: async ({ body }: { body: V1Secret }) => {
      writes.push("create");
      if (winner && !stored) {
        stored = winner; // Another replica got there first.
        throw apiError(409);
      }
      stored = body;
      return body;
    },
    replaceNamespacedSecret: async ({ body }: { body: V1Secret }) => {
      writes.push("replace");
      stored = body;
      return body;
    },
  };
  return { core, writes, stored: () => stored };
}

const options = (core: ReturnType<typeof secrets>["core"], now = new Date()) => ({
  core: core as never,
  namespace: "golden-system",
  secretName: "golden-visibility-serving-cert",
  serviceName: "golden-visibility",
  log: nopLogger,
  now: () => now,
});

describe("operator-managed serving certificate", () => {
  it("the first replica creates it; the next reads it and writes nothing", async () => {
    const s = secrets();
    const first = await new ManagedSecretSource(options(s.core)).current();
    const second = await new ManagedSecretSource(options(s.core)).current();
    assert.deepEqual(s.writes, ["create"]);
    assert.equal(second.cert, first.cert);
    assert.ok(first.caCert);
    assert.equal(
      renewalReason(
        first,
        first.caCert,
        serviceDnsNames("golden-visibility", "golden-system"),
        new Date(),
        0,
      ),
      undefined,
    );
  });

  it("a replica that loses the create race serves the winner's certificate", async () => {
    const winner = secrets();
    const won = await new ManagedSecretSource(options(winner.core)).current();
    const s = secrets(winner.stored());
    const lost = await new ManagedSecretSource(options(s.core)).current();
    assert.equal(lost.cert, won.cert);
    assert.deepEqual(s.writes, ["create"]);
  });

  it("re-issues from the same CA when the certificate is about to expire", async () => {
    const s = secrets();
    const first = await new ManagedSecretSource(options(s.core)).current();
    const later = new Date(Date.now() + 300 * 86_400_000);
    const renewed = await new ManagedSecretSource(options(s.core, later)).current();
    assert.deepEqual(s.writes, ["create", "replace"]);
    assert.notEqual(renewed.cert, first.cert);
    assert.equal(renewed.caCert, first.caCert);
  });

  it("encodes names as UTF8String, which Go's x509 accepts whatever the characters", () => {
    const ca = createCertificateAuthority("golden-visibility-ca@1764549083", new Date());
    const cn = forge.pki.certificateFromPem(ca.cert).subject.getField("CN") as {
      valueTagClass: number;
      value: string;
    };
    assert.equal(cn.valueTagClass, forge.asn1.Type.UTF8);
    assert.equal(cn.value, "golden-visibility-ca@1764549083");
  });

  it("names why a certificate needs renewal", () => {
    const now = new Date();
    const ca = createCertificateAuthority("ca", now);
    const names = serviceDnsNames("svc", "ns");
    const cert = issueCertificate(ca, {
      commonName: "svc.ns.svc",
      usage: "server",
      dnsNames: names,
      now,
      validityDays: 365,
    });
    assert.equal(renewalReason(cert, ca.cert, names, now, 0), undefined);
    assert.match(
      renewalReason(cert, ca.cert, [...names, "extra.ns.svc"], now, 0) ?? "",
      /does not name extra\.ns\.svc/,
    );
    assert.equal(
      renewalReason(cert, createCertificateAuthority("other", now).cert, names, now, 0),
      "not signed by the CA",
    );
    assert.equal(renewalReason(cert, ca.cert, names, now, 366 * 86_400_000), "about to expire");
  });
});
