import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { KubernetesObject } from "@kubernetes/client-node";
import { parse } from "yaml";
import {
  API_VERSION,
  ARCHITECTURE_VALUES,
  GROUP,
  IMAGE_BUILD_RESOURCE,
  IMAGE_FORMAT_VALUES,
  IMAGE_KIND,
  IMAGE_RESOURCE,
  type Image,
  type ImageBuild,
  type ImageSpec,
  OPERATING_SYSTEM_VALUES,
  VERSION,
} from "../../../src/api/v1alpha1/index.js";
import { repoRoot } from "../../support/repo-root.js";

describe("generated types", () => {
  it("are usable as KubernetesObject", () => {
    const image: Image = {
      apiVersion: API_VERSION,
      kind: IMAGE_KIND,
      metadata: { name: "web", namespace: "default" },
      spec: { base: { os: "debian", release: "12", arch: "arm64" }, formats: ["raw"] },
    };
    const build: ImageBuild = {
      metadata: { name: "web-1-1" },
      spec: { imageName: "web", imageGeneration: 1, trigger: "Created", image: image.spec },
      status: { phase: "Queued", jobName: "", progress: { percent: 0 } },
    };
    const objects: KubernetesObject[] = [image, build];
    assert.equal(objects.length, 2);
  });

  it("export the API's names", () => {
    assert.equal(GROUP, "golden.dev");
    assert.equal(VERSION, "v1alpha1");
    assert.equal(API_VERSION, "golden.dev/v1alpha1");
    assert.equal(IMAGE_RESOURCE.plural, "images");
    assert.equal(IMAGE_RESOURCE.crdName, "images.golden.dev");
    assert.equal(IMAGE_BUILD_RESOURCE.kind, "ImageBuild");
    assert.deepEqual(IMAGE_BUILD_RESOURCE.shortNames, ["ib"]);
  });
});

describe("config/samples", () => {
  const dir = join(repoRoot(), "config", "samples");
  const files = readdirSync(dir).filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml");

  it("are all listed in the kustomization", () => {
    const kustomization = parse(readFileSync(join(dir, "kustomization.yaml"), "utf8")) as {
      resources: string[];
    };
    assert.deepEqual([...kustomization.resources].sort(), [...files].sort());
    assert.ok(files.length >= 3);
  });

  for (const file of files) {
    it(`${file} is a fast, well-formed Image`, () => {
      const image = parse(readFileSync(join(dir, file), "utf8"), { version: "1.1" }) as Image;
      assert.equal(image.apiVersion, API_VERSION);
      assert.equal(image.kind, IMAGE_KIND);
      assert.match(image.metadata?.name ?? "", /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
      const spec: ImageSpec = image.spec;
      assert.ok((OPERATING_SYSTEM_VALUES as readonly string[]).includes(spec.base.os ?? ""));
      assert.equal(typeof spec.base.release, "string", "quote releases such as 12 or 24.04");
      assert.ok(
        spec.base.arch === undefined || (ARCHITECTURE_VALUES as readonly string[]).includes(spec.base.arch),
      );
      assert.ok(!(spec.base.os === "sles" && spec.base.arch === "arm64"));
      for (const f of spec.formats) assert.ok((IMAGE_FORMAT_VALUES as readonly string[]).includes(f), f);
      const stepSeconds = spec.build?.simulate?.stepSeconds;
      assert.ok(stepSeconds !== undefined && stepSeconds <= 2, "samples simulate quick steps");
      for (const f of spec.customizations?.files ?? []) {
        assert.ok(f.path.startsWith("/"), f.path);
        assert.ok(f.mode === undefined || typeof f.mode === "string", "quote file modes");
      }
    });
  }
});
