import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  envName,
  type FlagSpec,
  helpText,
  parseFlags,
  parseSelector,
  parseTolerations,
} from "../../../src/cmd/flags.js";

const SPECS: FlagSpec[] = [
  { name: "kubeconfig", type: "string", help: "Path to a kubeconfig" },
  { name: "max-concurrent-builds", type: "number", default: 4, help: "Builds at once" },
  { name: "leader-elect", type: "boolean", default: false, help: "Elect a leader" },
  { name: "log-level", type: "string", default: "info", help: "Log level" },
  { name: "verbose", type: "boolean", help: "More output" },
];

describe("envName", () => {
  it("upper-cases and prefixes GOLDEN_", () => {
    assert.equal(envName("max-concurrent-reconciles"), "GOLDEN_MAX_CONCURRENT_RECONCILES");
    assert.equal(envName("kubeconfig"), "GOLDEN_KUBECONFIG");
  });
});

describe("parseFlags", () => {
  it("uses defaults when neither argv nor env sets a flag", () => {
    const v = parseFlags(SPECS, [], {});
    assert.deepEqual(v, {
      help: false,
      kubeconfig: undefined,
      "max-concurrent-builds": 4,
      "leader-elect": false,
      "log-level": "info",
      verbose: undefined,
    });
  });

  it("takes a boolean as --flag, --flag=true|false or --no-flag, and refuses another value naming it", () => {
    assert.equal(parseFlags(SPECS, ["--leader-elect"], {})["leader-elect"], true);
    assert.equal(
      parseFlags(SPECS, ["--leader-elect=false"], { GOLDEN_LEADER_ELECT: "true" })["leader-elect"],
      false,
    );
    assert.equal(parseFlags(SPECS, ["--leader-elect=true"], {})["leader-elect"], true);
    assert.equal(
      parseFlags(SPECS, ["--no-leader-elect"], { GOLDEN_LEADER_ELECT: "true" })["leader-elect"],
      false,
    );
    assert.throws(
      () => parseFlags(SPECS, ["--leader-elect=maybe"], {}),
      /--leader-elect: want true or false, got "maybe"/,
    );
  });

  it("takes the environment over the default", () => {
    const v = parseFlags(SPECS, [], {
      GOLDEN_MAX_CONCURRENT_BUILDS: "9",
      GOLDEN_LEADER_ELECT: "true",
      GOLDEN_LOG_LEVEL: "debug",
      GOLDEN_KUBECONFIG: "/k",
    });
    assert.equal(v["max-concurrent-builds"], 9);
    assert.equal(v["leader-elect"], true);
    assert.equal(v["log-level"], "debug");
    assert.equal(v.kubeconfig, "/k");
  });

  it("takes the command line over the environment", () => {
    const env = {
      GOLDEN_MAX_CONCURRENT_BUILDS: "9",
      GOLDEN_LOG_LEVEL: "debug",
      GOLDEN_LEADER_ELECT: "false",
    };
    const v = parseFlags(SPECS, ["--max-concurrent-builds", "2", "--log-level=warn", "--leader-elect"], env);
    assert.equal(v["max-concurrent-builds"], 2);
    assert.equal(v["log-level"], "warn");
    assert.equal(v["leader-elect"], true);
  });

  it("ignores environment variables of other names", () => {
    const v = parseFlags(SPECS, [], {
      MAX_CONCURRENT_BUILDS: "9",
      GOLDEN_MAX_BUILDS: "8",
      golden_log_level: "x",
    });
    assert.equal(v["max-concurrent-builds"], 4);
    assert.equal(v["log-level"], "info");
  });

  it("coerces numbers", () => {
    assert.equal(parseFlags(SPECS, ["--max-concurrent-builds", "0"], {})["max-concurrent-builds"], 0);
    assert.equal(parseFlags(SPECS, ["--max-concurrent-builds", " 12 "], {})["max-concurrent-builds"], 12);
    assert.equal(parseFlags(SPECS, ["--max-concurrent-builds=1.5"], {})["max-concurrent-builds"], 1.5);
    assert.equal(parseFlags(SPECS, [], { GOLDEN_MAX_CONCURRENT_BUILDS: "-3" })["max-concurrent-builds"], -3);
    assert.equal(
      typeof parseFlags(SPECS, ["--max-concurrent-builds", "5"], {})["max-concurrent-builds"],
      "number",
    );
  });

  it("rejects bad numbers with an error naming the flag", () => {
    for (const bad of ["abc", "", "  ", "Infinity", "NaN", "3x"]) {
      assert.throws(
        () => parseFlags(SPECS, [`--max-concurrent-builds=${bad}`], {}),
        (err: Error) => err.message === `--max-concurrent-builds: want a number, got ${JSON.stringify(bad)}`,
        bad,
      );
    }
    assert.throws(
      () => parseFlags(SPECS, [], { GOLDEN_MAX_CONCURRENT_BUILDS: "lots" }),
      /--max-concurrent-builds: want a number, got "lots"/,
    );
  });

  it("coerces booleans from the environment", () => {
    for (const t of ["true", "1", "yes"]) {
      assert.equal(parseFlags(SPECS, [], { GOLDEN_LEADER_ELECT: t })["leader-elect"], true, t);
    }
    for (const f of ["false", "0", "no", ""]) {
      assert.equal(parseFlags(SPECS, [], { GOLDEN_LEADER_ELECT: f })["leader-elect"], false, f);
    }
  });

  it("rejects bad booleans with an error naming the flag", () => {
    assert.throws(
      () => parseFlags(SPECS, [], { GOLDEN_VERBOSE: "maybe" }),
      (err: Error) => err.message === '--verbose: want true or false, got "maybe"',
    );
  });

  it("a boolean flag on the command line is true", () => {
    const v = parseFlags(SPECS, ["--verbose"], { GOLDEN_VERBOSE: "false" });
    assert.equal(v.verbose, true);
  });

  it("keeps strings as given", () => {
    const v = parseFlags(SPECS, ["--kubeconfig", "/home/me/.kube/config"], { GOLDEN_LOG_LEVEL: "" });
    assert.equal(v.kubeconfig, "/home/me/.kube/config");
    assert.equal(v["log-level"], "", "an empty environment value is still a value");
  });

  it("reports --help", () => {
    assert.equal(parseFlags(SPECS, ["--help"], {}).help, true);
    assert.equal(parseFlags(SPECS, [], {}).help, false);
  });

  it("rejects unknown flags, missing values and positionals", () => {
    assert.throws(() => parseFlags(SPECS, ["--nope"], {}), /nope/);
    assert.throws(() => parseFlags(SPECS, ["--kubeconfig"], {}), /kubeconfig/);
    assert.throws(() => parseFlags(SPECS, ["stray"], {}), /stray/);
  });
});

describe("helpText", () => {
  const text = helpText("golden-operator", "Runs the operator.", SPECS);

  it("starts with usage and summary and ends with a newline", () => {
    assert.ok(text.startsWith("Usage: golden-operator [flags]\n\nRuns the operator.\n"), text);
    assert.ok(text.endsWith("\n"));
  });

  it("lists every flag with its type, help, default and environment variable", () => {
    for (const s of SPECS) {
      const flagLine = s.type === "boolean" ? `  --${s.name}\n` : `  --${s.name} <${s.type}>\n`;
      assert.ok(text.includes(flagLine), `flag line of ${s.name}`);
      assert.ok(text.includes(`[$${envName(s.name)}]`), `env var of ${s.name}`);
      assert.ok(text.includes(s.help), `help of ${s.name}`);
    }
    assert.ok(text.includes("Builds at once (default 4) [$GOLDEN_MAX_CONCURRENT_BUILDS]"));
    assert.ok(text.includes('Log level (default "info") [$GOLDEN_LOG_LEVEL]'));
    assert.ok(text.includes("Elect a leader (default false) [$GOLDEN_LEADER_ELECT]"));
    assert.ok(text.includes("Path to a kubeconfig [$GOLDEN_KUBECONFIG]"), "no default shown without one");
  });

  it("documents --help", () => {
    assert.match(text, /\n {2}--help\n {6}Show this help\n$/);
  });

  it("lists the flags in the given order", () => {
    const order = SPECS.map((s) => text.indexOf(`  --${s.name}`));
    assert.deepEqual(
      [...order].sort((a, b) => a - b),
      order,
    );
    assert.ok(order.every((i) => i > 0));
  });
});

describe("parseSelector", () => {
  it("parses key=value pairs", () => {
    assert.deepEqual(parseSelector("pool=builders,kubernetes.io/os=linux"), {
      pool: "builders",
      "kubernetes.io/os": "linux",
    });
  });

  it("trims and skips empty entries", () => {
    assert.deepEqual(parseSelector(" a = 1 ,,b=2,"), { a: "1", b: "2" });
    assert.deepEqual(parseSelector(""), {});
  });

  it("a key without a value selects the empty value", () => {
    assert.deepEqual(parseSelector("dedicated"), { dedicated: "" });
  });

  it("rejects an entry without a key", () => {
    assert.throws(() => parseSelector("=x"), /--worker-node-selector: bad entry "=x"/);
  });
});

describe("parseTolerations", () => {
  it("parses key=value:Effect as Equal", () => {
    assert.deepEqual(parseTolerations("dedicated=builds:NoSchedule"), [
      { key: "dedicated", operator: "Equal", value: "builds", effect: "NoSchedule" },
    ]);
  });

  it("parses key:Effect as Exists", () => {
    assert.deepEqual(parseTolerations("golden.dev/builders:NoSchedule"), [
      { key: "golden.dev/builders", operator: "Exists", effect: "NoSchedule" },
    ]);
  });

  it("omits the effect when none is given", () => {
    assert.deepEqual(parseTolerations("a=b,c"), [
      { key: "a", operator: "Equal", value: "b" },
      { key: "c", operator: "Exists" },
    ]);
  });

  it("parses several comma-separated entries in order and skips empty ones", () => {
    const t = parseTolerations("a=1:NoSchedule,,b:NoExecute,");
    assert.deepEqual(t, [
      { key: "a", operator: "Equal", value: "1", effect: "NoSchedule" },
      { key: "b", operator: "Exists", effect: "NoExecute" },
    ]);
    assert.deepEqual(parseTolerations(""), []);
  });

  it("rejects an entry without a key", () => {
    assert.throws(() => parseTolerations(":NoSchedule"), /--worker-tolerations: bad entry ":NoSchedule"/);
    assert.throws(() => parseTolerations("=v:NoSchedule"), /--worker-tolerations: bad entry/);
  });
});
