/**
 * The pre-warm trade-off as an SVG scatter plot: wasted warm memory-time
 * (relative to fixed 10 minutes) against the p75 cold-start share, one
 * marker shape per data split, one colour per policy, bootstrap intervals as
 * whiskers where given, and the goal region shaded.
 */
import type { Interval } from "./bootstrap";

/** One policy's point. */
export interface TradeoffPoint {
  policy: string;
  /** Wasted memory-time relative to fixed-10, e.g. 1.03. */
  wasted: number;
  /** p75 cold-start share, e.g. 0.167. */
  coldP75: number;
  /** 95 % intervals, drawn as whiskers. */
  wastedInterval?: Interval;
  coldInterval?: Interval;
}

/** The points of one split (one marker shape). */
export interface TradeoffSeries {
  label: string;
  points: TradeoffPoint[];
}

const WIDTH = 720;
const HEIGHT = 480;
const PAD = { left: 70, right: 190, top: 40, bottom: 60 };

const COLORS: Record<string, string> = {
  cloudloom: "#c0392b",
  hybrid: "#2c3e8f",
  "hybrid-no-wait": "#2980b9",
  "hybrid (paper)": "#8e44ad",
};
const colorOf = (policy: string) => COLORS[policy] ?? "#777";

/** A marker of `shape` (0 circle, 1 square, 2 triangle, 3 diamond) centred at (x, y). */
function marker(shape: number, x: number, y: number, color: string): string {
  const r = 5;
  switch (shape % 4) {
    case 0:
      return `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="${r}" fill="${color}"/>`;
    case 1:
      return `<rect x="${(x - r).toFixed(1)}" y="${(y - r).toFixed(1)}" width="${2 * r}" height="${2 * r}" fill="${color}"/>`;
    case 2:
      return `<polygon points="${x.toFixed(1)},${(y - r - 1).toFixed(1)} ${(x - r - 1).toFixed(1)},${(y + r).toFixed(1)} ${(x + r + 1).toFixed(1)},${(y + r).toFixed(1)}" fill="${color}"/>`;
    default:
      return `<polygon points="${x.toFixed(1)},${(y - r - 1).toFixed(1)} ${(x + r + 1).toFixed(1)},${y.toFixed(1)} ${x.toFixed(1)},${(y + r + 1).toFixed(1)} ${(x - r - 1).toFixed(1)},${y.toFixed(1)}" fill="${color}"/>`;
  }
}

/** Renders the series; `goal` is the target corner (wasted ≤ x, cold ≤ y). Policy names label the first series' points. */
export function tradeoffSvg(series: TradeoffSeries[], goal: { wasted: number; coldP75: number }, title: string): string {
  const all = series.flatMap((s) => s.points);
  const maxX = Math.max(2, ...all.map((p) => p.wastedInterval?.high ?? p.wasted)) * 1.05;
  const maxY = Math.max(0.3, ...all.map((p) => p.coldInterval?.high ?? p.coldP75)) * 1.1;
  const x = (v: number) => PAD.left + (v / maxX) * (WIDTH - PAD.left - PAD.right);
  const y = (v: number) => HEIGHT - PAD.bottom - (v / maxY) * (HEIGHT - PAD.top - PAD.bottom);
  const ticks = (max: number, step: number) => Array.from({ length: Math.floor(max / step) + 1 }, (_, i) => i * step);
  const whiskers = (p: TradeoffPoint, color: string) =>
    [
      p.wastedInterval &&
        `<line x1="${x(p.wastedInterval.low).toFixed(1)}" y1="${y(p.coldP75).toFixed(1)}" x2="${x(p.wastedInterval.high).toFixed(1)}" y2="${y(p.coldP75).toFixed(1)}" stroke="${color}" stroke-opacity="0.5"/>`,
      p.coldInterval &&
        `<line x1="${x(p.wasted).toFixed(1)}" y1="${y(p.coldInterval.low).toFixed(1)}" x2="${x(p.wasted).toFixed(1)}" y2="${y(p.coldInterval.high).toFixed(1)}" stroke="${color}" stroke-opacity="0.5"/>`,
    ].filter(Boolean);
  const legendX = WIDTH - PAD.right + 20;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${(WIDTH - PAD.right + PAD.left) / 2}" y="22" text-anchor="middle" font-size="14">${title}</text>`,
    `<rect x="${x(0)}" y="${y(goal.coldP75)}" width="${x(goal.wasted) - x(0)}" height="${y(0) - y(goal.coldP75)}" fill="#d8f0d8"/>`,
    `<text x="${x(0) + 6}" y="${y(goal.coldP75) + 16}" fill="#2a7a2a">goal</text>`,
    ...ticks(maxX, 0.5).map(
      (v) =>
        `<line x1="${x(v)}" y1="${y(0)}" x2="${x(v)}" y2="${y(0) + 5}" stroke="black"/><text x="${x(v)}" y="${y(0) + 20}" text-anchor="middle">${Math.round(v * 100)} %</text>`,
    ),
    ...ticks(maxY, maxY > 0.5 ? 0.1 : 0.05).map(
      (v) =>
        `<line x1="${x(0) - 5}" y1="${y(v)}" x2="${x(0)}" y2="${y(v)}" stroke="black"/><text x="${x(0) - 8}" y="${y(v) + 4}" text-anchor="end">${Math.round(v * 100)} %</text>`,
    ),
    `<line x1="${x(0)}" y1="${y(0)}" x2="${x(maxX)}" y2="${y(0)}" stroke="black"/>`,
    `<line x1="${x(0)}" y1="${y(0)}" x2="${x(0)}" y2="${y(maxY)}" stroke="black"/>`,
    `<text x="${(WIDTH - PAD.right + PAD.left) / 2}" y="${HEIGHT - 15}" text-anchor="middle">wasted warm memory-time, relative to fixed 10 minutes</text>`,
    `<text transform="translate(18 ${HEIGHT / 2}) rotate(-90)" text-anchor="middle">p75 share of an app's calls that start cold</text>`,
    ...series.flatMap((s, shape) =>
      s.points.flatMap((p) => [...whiskers(p, colorOf(p.policy)), marker(shape, x(p.wasted), y(p.coldP75), colorOf(p.policy))]),
    ),
    ...(series[0]?.points ?? []).map(
      (p) =>
        `<text x="${(x(p.wasted) + 8).toFixed(1)}" y="${(y(p.coldP75) - 6).toFixed(1)}" fill="${colorOf(p.policy)}">${p.policy}</text>`,
    ),
    ...series.map(
      (s, shape) =>
        `${marker(shape, legendX, PAD.top + 20 + 20 * shape, "#333")}<text x="${legendX + 12}" y="${PAD.top + 24 + 20 * shape}">${s.label}</text>`,
    ),
    `<text x="${legendX - 6}" y="${PAD.top + 24 + 20 * series.length}" fill="#555">lines: 95 % intervals</text>`,
    `<text x="${legendX - 6}" y="${PAD.top + 40 + 20 * series.length}" fill="#555">(bootstrap over apps)</text>`,
    `</svg>`,
  ];
  return parts.join("\n") + "\n";
}
