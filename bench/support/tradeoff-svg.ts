/**
 * The pre-warm trade-off as an SVG scatter plot: one point per policy,
 * wasted warm memory-time (relative to fixed 10 minutes) against the p75
 * cold-start share, with the goal region shaded.
 */

/** One policy's point. */
export interface TradeoffPoint {
  policy: string;
  /** Wasted memory-time relative to fixed-10, e.g. 1.03. */
  wasted: number;
  /** p75 cold-start share, e.g. 0.167. */
  coldP75: number;
}

const WIDTH = 640;
const HEIGHT = 420;
const PAD = { left: 70, right: 30, top: 40, bottom: 60 };

/** Renders the points; `goal` is the target corner (wasted ≤ x, cold ≤ y). */
export function tradeoffSvg(points: TradeoffPoint[], goal: { wasted: number; coldP75: number }, title: string): string {
  const maxX = Math.max(2, ...points.map((p) => p.wasted)) * 1.05;
  const maxY = Math.max(0.3, ...points.map((p) => p.coldP75)) * 1.1;
  const x = (v: number) => PAD.left + (v / maxX) * (WIDTH - PAD.left - PAD.right);
  const y = (v: number) => HEIGHT - PAD.bottom - (v / maxY) * (HEIGHT - PAD.top - PAD.bottom);
  const ticks = (max: number, step: number) => Array.from({ length: Math.floor(max / step) + 1 }, (_, i) => i * step);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="22" text-anchor="middle" font-size="14">${title}</text>`,
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
    `<text x="${WIDTH / 2}" y="${HEIGHT - 15}" text-anchor="middle">wasted warm memory-time, relative to fixed 10 minutes</text>`,
    `<text transform="translate(18 ${HEIGHT / 2}) rotate(-90)" text-anchor="middle">p75 share of an app's calls that start cold</text>`,
    ...points.map((p) => {
      const color = p.policy === "cloudloom" ? "#c0392b" : p.policy === "hybrid" ? "#2c3e8f" : "#555";
      return `<circle cx="${x(p.wasted).toFixed(1)}" cy="${y(p.coldP75).toFixed(1)}" r="5" fill="${color}"/><text x="${(x(p.wasted) + 8).toFixed(1)}" y="${(y(p.coldP75) - 6).toFixed(1)}" fill="${color}">${p.policy}</text>`;
    }),
    `</svg>`,
  ];
  return parts.join("\n") + "\n";
}
