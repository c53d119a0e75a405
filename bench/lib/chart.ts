// The results plot: a Vega-Lite chart (one panel per metric, N on a log x axis), rendered to SVG by
// Vega and to PNG by resvg. Both are npm packages: nothing to install on the machine.
import fs from "node:fs";
import { Resvg } from "@resvg/resvg-js";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

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

const PANEL_WIDTH = 380;
const PANEL_HEIGHT = 250;
const FONT = "DejaVu Sans";

/** The Vega-Lite spec: the panels side by side, each a line per series with its points. */
export function chartSpec(title: string, subtitle: string, xs: number[], panels: Panel[]): TopLevelSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: title, subtitle, fontSize: 17, subtitleFontSize: 12, subtitleColor: "#444" },
    background: "white",
    config: {
      font: FONT,
      legend: { orient: "bottom", columns: 2, labelLimit: 200, symbolType: "stroke", symbolStrokeWidth: 2 },
    },
    hconcat: panels.map((panel, i) => {
      const rows = panel.series.flatMap((s) =>
        s.points
          .filter(([x, y]) => x > 0 && Number.isFinite(y) && (!panel.logY || y > 0))
          .map(([n, value]) => ({ n, value, series: s.name })),
      );
      const names = panel.series.map((s) => s.name);
      const colors = panel.series.map((s) => s.color);
      return {
        title: { text: panel.title, fontSize: 15 },
        width: PANEL_WIDTH,
        height: PANEL_HEIGHT,
        data: { values: rows },
        encoding: {
          x: {
            field: "n",
            type: "quantitative",
            title: "N (Images per burst)",
            scale: { type: "log", domain: [Math.min(...xs), Math.max(...xs)], nice: false },
            axis: { values: xs, format: "~s" },
          },
          y: {
            field: "value",
            type: "quantitative",
            title: panel.yLabel,
            scale: panel.logY ? { type: "log" } : { zero: true },
            axis: { format: "~s" },
          },
          color: {
            field: "series",
            type: "nominal",
            title: null,
            sort: names,
            scale: { domain: names, range: colors },
          },
        },
        layer: [
          {
            mark: { type: "line", strokeWidth: 2 },
            encoding: {
              strokeDash: {
                field: "series",
                type: "nominal",
                sort: names,
                // Same field and domain as color: one legend shows both.
                scale: { domain: names, range: panel.series.map((s) => (s.dashed ? [6, 4] : [1, 0])) },
                title: null,
              },
            },
          },
          { mark: { type: "point", filled: true, size: 40, opacity: 1 } },
        ],
        name: `panel${i}`,
      };
    }),
    resolve: { scale: { color: "independent", strokeDash: "independent", y: "independent" } },
  } as TopLevelSpec;
}

/** The chart as SVG text and as a PNG. */
export async function renderChart(
  title: string,
  subtitle: string,
  xs: number[],
  panels: Panel[],
): Promise<{ svg: string; png: Buffer }> {
  const view = new vega.View(vega.parse(compile(chartSpec(title, subtitle, xs, panels)).spec), {
    renderer: "none",
  });
  const svg = await view.toSVG(1);
  view.finalize();
  const png = new Resvg(svg, {
    background: "white",
    fitTo: { mode: "zoom", value: 2 },
    font: { loadSystemFonts: true, defaultFontFamily: FONT },
  })
    .render()
    .asPng();
  return { svg, png };
}

/** Writes the plot's SVG and PNG; returns their paths. */
export async function writeChart(
  paths: { svg: string; png: string },
  title: string,
  subtitle: string,
  xs: number[],
  panels: Panel[],
): Promise<{ svg: string; png: string }> {
  const { svg, png } = await renderChart(title, subtitle, xs, panels);
  fs.writeFileSync(paths.svg, svg);
  fs.writeFileSync(paths.png, png);
  return paths;
}
