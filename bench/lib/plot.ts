// The results plot: an SVG drawn here (no plotting dependency), turned into a PNG by rsvg-convert
// (Debian's librsvg2-bin, which hack/bench.sh installs when missing).
import { spawnSync } from "node:child_process";
import fs from "node:fs";

export interface Series {
  name: string;
  color: string;
  dashed?: boolean;
  points: [number, number][];
}

export interface Panel {
  title: string;
  yLabel: string;
  logY?: boolean;
  series: Series[];
}

const W = 460;
const H = 400;
const M = { left: 64, right: 16, top: 40, bottom: 110 };

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function niceTicks(min: number, max: number, count = 5): number[] {
  const span = max - min || Math.abs(max) || 1;
  const step0 = span / count;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => span / s <= count) ?? 10 * mag;
  const ticks: number[] = [];
  const top = Math.ceil(max / step - 1e-9) * step;
  for (let v = Math.floor(min / step) * step; v <= top + step * 1e-9; v += step)
    ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function fmt(v: number): string {
  if (v >= 1e6) return `${v / 1e6}M`;
  if (v >= 1e3) return `${v / 1e3}k`;
  return String(Number(v.toPrecision(3)));
}

function panelSvg(p: Panel, xs: number[], ox: number): string {
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const ys = p.series
    .flatMap((s) => s.points.map(([, y]) => y))
    .filter((y) => Number.isFinite(y) && (!p.logY || y > 0));
  if (ys.length === 0) ys.push(1, 10);
  const xMin = Math.log10(Math.min(...xs));
  const xMax = Math.log10(Math.max(...xs));
  const xPad = xMax - xMin < 1e-9 ? 0.5 : (xMax - xMin) * 0.08;
  const sx = (x: number) => ox + M.left + ((Math.log10(x) - (xMin - xPad)) / (xMax - xMin + 2 * xPad)) * pw;
  let yTicks: number[];
  let sy: (y: number) => number;
  if (p.logY) {
    const lo = Math.floor(Math.log10(Math.min(...ys)));
    const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...ys))));
    yTicks = [];
    for (let e = lo; e <= hi; e++) yTicks.push(10 ** e);
    sy = (y: number) => M.top + ph - ((Math.log10(Math.max(y, 10 ** lo)) - lo) / (hi - lo || 1)) * ph;
  } else {
    yTicks = niceTicks(0, Math.max(...ys, 1) * 1.05);
    const top = yTicks.at(-1) ?? 1;
    sy = (y: number) => M.top + ph - (y / top) * ph;
  }
  const out: string[] = [];
  out.push(
    `<text x="${ox + M.left + pw / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(p.title)}</text>`,
  );
  out.push(`<rect x="${ox + M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`);
  for (const t of yTicks) {
    const y = sy(t);
    out.push(`<line x1="${ox + M.left}" x2="${ox + M.left + pw}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${ox + M.left - 6}" y="${y + 4}" text-anchor="end" font-size="11">${fmt(t)}</text>`);
  }
  for (const x of xs) {
    const X = sx(x);
    out.push(`<line x1="${X}" x2="${X}" y1="${M.top}" y2="${M.top + ph}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${X}" y="${M.top + ph + 16}" text-anchor="middle" font-size="11">${fmt(x)}</text>`);
  }
  out.push(
    `<text x="${ox + M.left + pw / 2}" y="${M.top + ph + 34}" text-anchor="middle" font-size="12">N (Images per burst)</text>`,
  );
  out.push(
    `<text transform="translate(${ox + 16},${M.top + ph / 2}) rotate(-90)" text-anchor="middle" font-size="12">${esc(p.yLabel)}</text>`,
  );
  p.series.forEach((s, i) => {
    const pts = s.points.filter(([x, y]) => Number.isFinite(y) && x > 0 && (!p.logY || y > 0));
    if (pts.length > 0) {
      const d = pts.map(([x, y], j) => `${j ? "L" : "M"}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(" ");
      out.push(
        `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6,4"' : ""}/>`,
      );
      for (const [x, y] of pts)
        out.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3.5" fill="${s.color}"/>`);
    }
    const col = i % 2;
    const row = Math.floor(i / 2);
    const lx = ox + M.left + col * (pw / 2);
    const ly = M.top + ph + 54 + row * 17;
    out.push(
      `<line x1="${lx}" x2="${lx + 22}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6,4"' : ""}/>`,
    );
    out.push(`<text x="${lx + 27}" y="${ly}" font-size="11">${esc(s.name)}</text>`);
  });
  return out.join("\n");
}

export function renderSvg(title: string, subtitle: string, xs: number[], panels: Panel[]): string {
  const width = W * panels.length;
  const height = H + 40;
  const body = panels
    .map((p, i) => `<g transform="translate(0,40)">${panelSvg(p, xs, i * W)}</g>`)
    .join("\n");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">
<title>${esc(title)}</title>
<rect width="100%" height="100%" fill="white"/>
<text x="${width / 2}" y="22" text-anchor="middle" font-size="17" font-weight="bold">${esc(title)}</text>
<text x="${width / 2}" y="40" text-anchor="middle" font-size="12" fill="#444">${esc(subtitle)}</text>
${body}
</svg>
`;
}

/** Writes the SVG, and the PNG when rsvg-convert is on PATH; returns what it wrote. */
export function writePlot(
  svg: string,
  svgPath: string,
  pngPath: string,
): { svg: string; png?: string; note?: string } {
  fs.writeFileSync(svgPath, svg);
  const r = spawnSync("rsvg-convert", ["-f", "png", "-o", pngPath, svgPath], { encoding: "utf8" });
  if (r.error || r.status !== 0) {
    return {
      svg: svgPath,
      note: `no PNG: rsvg-convert ${r.error ? "not found (apt-get install librsvg2-bin)" : `failed: ${r.stderr}`}`,
    };
  }
  return { svg: svgPath, png: pngPath };
}
