// A minimal reader of the Prometheus text exposition format, enough to diff counters and
// histograms scraped before and after a benchmark phase (apiserver and operator /metrics).

export type Labels = Record<string, string>;

export interface Sample {
  name: string;
  labels: Labels;
  value: number;
}

export class Scrape {
  readonly samples: Sample[];
  readonly at: number;

  constructor(samples: Sample[], at = Date.now()) {
    this.samples = samples;
    this.at = at;
  }

  static parse(text: string, at = Date.now()): Scrape {
    const samples: Sample[] = [];
    for (const raw of text.split("\n")) {
      const line = raw.trim();
      if (!line || line.startsWith("#")) continue;
      const sample = parseLine(line);
      if (sample) samples.push(sample);
    }
    return new Scrape(samples, at);
  }

  /** Samples of one metric whose labels match every given label (a function tests freely). */
  select(name: string, match: Labels | ((l: Labels) => boolean) = {}): Sample[] {
    const test =
      typeof match === "function"
        ? match
        : (l: Labels) => Object.entries(match).every(([k, v]) => l[k] === v);
    return this.samples.filter((s) => s.name === name && test(s.labels));
  }

  sum(name: string, match: Labels | ((l: Labels) => boolean) = {}): number {
    return this.select(name, match).reduce((acc, s) => acc + s.value, 0);
  }

  /** Sums a metric grouped by the given label names, e.g. ['resource', 'verb']. */
  groupSum(name: string, by: string[], match: Labels | ((l: Labels) => boolean) = {}): Map<string, number> {
    const out = new Map<string, number>();
    for (const s of this.select(name, match)) {
      const key = by.map((b) => s.labels[b] ?? "").join("|");
      out.set(key, (out.get(key) ?? 0) + s.value);
    }
    return out;
  }

  /** Cumulative histogram buckets (le → count), summed over matching series. */
  buckets(name: string, match: Labels | ((l: Labels) => boolean) = {}): Map<number, number> {
    const out = new Map<number, number>();
    for (const s of this.select(`${name}_bucket`, match)) {
      const le = s.labels.le === "+Inf" ? Number.POSITIVE_INFINITY : Number(s.labels.le);
      out.set(le, (out.get(le) ?? 0) + s.value);
    }
    return out;
  }
}

function parseLine(line: string): Sample | undefined {
  const brace = line.indexOf("{");
  let name: string;
  let labels: Labels = {};
  let rest: string;
  if (brace >= 0 && brace < (line.indexOf(" ") === -1 ? line.length : line.indexOf(" "))) {
    name = line.slice(0, brace);
    const close = findClose(line, brace);
    labels = parseLabels(line.slice(brace + 1, close));
    rest = line.slice(close + 1).trim();
  } else {
    const space = line.indexOf(" ");
    if (space < 0) return undefined;
    name = line.slice(0, space);
    rest = line.slice(space + 1).trim();
  }
  const value = parseValue(rest.split(/\s+/)[0] ?? "");
  if (value === undefined) return undefined;
  return { name, labels, value };
}

function findClose(line: string, open: number): number {
  let inString = false;
  for (let i = open + 1; i < line.length; i++) {
    const c = line[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "}") return i;
  }
  return line.length;
}

function parseLabels(body: string): Labels {
  const labels: Labels = {};
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  for (let m = re.exec(body); m; m = re.exec(body)) {
    labels[m[1] as string] = (m[2] as string).replace(/\\n/g, "\n").replace(/\\(.)/g, "$1");
  }
  return labels;
}

function parseValue(v: string): number | undefined {
  if (v === "+Inf") return Number.POSITIVE_INFINITY;
  if (v === "-Inf") return Number.NEGATIVE_INFINITY;
  if (v === "NaN") return Number.NaN;
  const n = Number(v);
  return Number.isNaN(n) ? undefined : n;
}

/** after − before for every key of a grouped sum (counters only grow, unless the process restarted). */
export function diffMaps(after: Map<string, number>, before: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of after) {
    const d = v - (before.get(k) ?? 0);
    if (d !== 0) out.set(k, d);
  }
  return out;
}

/** Quantile of a (diffed) cumulative histogram, interpolated within the bucket like PromQL. */
export function histogramQuantile(q: number, buckets: Map<number, number>): number | undefined {
  const sorted = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of sorted) {
    if (count >= rank) {
      if (le === Number.POSITIVE_INFINITY) return prevLe;
      const inBucket = count - prevCount;
      return inBucket > 0 ? prevLe + ((le - prevLe) * (rank - prevCount)) / inBucket : le;
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}

export function diffBuckets(after: Map<number, number>, before: Map<number, number>): Map<number, number> {
  const out = new Map<number, number>();
  for (const [le, v] of after) out.set(le, v - (before.get(le) ?? 0));
  return out;
}
