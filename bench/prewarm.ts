/**
 * Pre-warm replay: the shared Azure Functions 2019 excerpt (500 functions,
 * 8 hours, per-minute counts; CC BY 4.0, Shahrad et al., USENIX ATC 2020)
 * through each policy, at app level and function level. Prints the
 * cold-start share per unit at p50/p75/p90, the overall share, and wasted
 * warm minutes relative to fixed 10 minutes, plain and weighted by each
 * unit's memory (memory.csv). Writes the app-level trade-off chart to
 * docs/prewarm-tradeoff.svg.
 *
 *   npm run bench:prewarm
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CloudloomPolicy, FixedKeepAlive, HybridHistogram, type KeepAlivePolicy } from "../sdk/prewarm/policies";
import { replay, type ReplayResult } from "../sdk/prewarm/simulate";
import { byApp, parseTrace, type TraceUnit } from "../sdk/prewarm/trace";
import { tradeoffSvg, type TradeoffPoint } from "./support/tradeoff-svg";

const TRACE = process.env.TRACE ?? join(__dirname, "../../shared/traces/azure2019-500fn-8h/invocations.csv");
const MEMORY = join(TRACE, "../memory.csv");

/**
 * Average allocated memory (MB) by function hash and by app hash (an app's
 * instances hold all its functions: the sum). Units without a row weigh the
 * median.
 */
function memoryWeights(): { byFunction: Map<string, number>; byApp: Map<string, number> } {
  const byFunction = new Map<string, number>();
  const byApp = new Map<string, number>();
  if (!existsSync(MEMORY)) return { byFunction, byApp };
  const [header, ...rows] = readFileSync(MEMORY, "utf8").trim().split("\n");
  const columns = header.split(",");
  const [fn, app, mb] = ["HashFunction", "HashApp", "AverageAllocatedMb"].map((name) => columns.indexOf(name));
  for (const row of rows) {
    const cells = row.split(",");
    byFunction.set(cells[fn], Number(cells[mb]));
    byApp.set(cells[app], (byApp.get(cells[app]) ?? 0) + Number(cells[mb]));
  }
  return { byFunction, byApp };
}

const MEMORY_MB = memoryWeights();

/** Each policy, made for one unit of `unitMb` memory in a fleet whose median is `referenceMb`. */
const POLICIES: Array<[string, (memory: { unitMb: number; referenceMb: number }) => KeepAlivePolicy]> = [
  ...[5, 10, 20, 60, 120, 240].map((m): [string, () => KeepAlivePolicy] => [`fixed-${m}`, () => new FixedKeepAlive(m)]),
  ["hybrid", () => new HybridHistogram()],
  ["cloudloom", (memory) => new CloudloomPolicy({ memory })],
];

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1)))];
}

function table(level: "app" | "function", units: TraceUnit[]): TradeoffPoint[] {
  const active = units.filter((u) => u.counts.some((c) => c > 0));
  const weights = level === "app" ? MEMORY_MB.byApp : MEMORY_MB.byFunction;
  const known = active.map((u) => weights.get(level === "app" ? u.app : u.fn)).filter((w): w is number => w !== undefined);
  const median = known.sort((a, b) => a - b)[Math.floor(known.length / 2)] ?? 1;
  const weightOf = (u: TraceUnit) => weights.get(level === "app" ? u.app : u.fn) ?? median;
  const results = new Map<string, ReplayResult[]>(
    POLICIES.map(([name, make]) => [name, active.map((u) => replay(u.counts, make({ unitMb: weightOf(u), referenceMb: median })))]),
  );
  const wasted = (name: string, weighted: boolean) =>
    results.get(name)!.reduce((sum, r, i) => sum + r.wastedMinutes * (weighted ? weightOf(active[i]) : 1), 0);
  console.log(`\n${level} level (${active.length} units with invocations; memory known for ${known.length})\n`);
  console.log("| policy | cold share p50 | p75 | p90 | overall | wasted warm time vs fixed-10 | memory-weighted |");
  console.log("|---|---:|---:|---:|---:|---:|---:|");
  const points: TradeoffPoint[] = [];
  for (const [name] of POLICIES) {
    const list = results.get(name)!;
    const shares = list.map((r) => r.coldStarts / r.invocations).sort((a, b) => a - b);
    const cold = list.reduce((s, r) => s + r.coldStarts, 0) / list.reduce((s, r) => s + r.invocations, 0);
    const relative = wasted(name, false) / wasted("fixed-10", false);
    const weighted = wasted(name, true) / wasted("fixed-10", true);
    const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
    console.log(
      `| ${name} | ${pct(quantile(shares, 0.5))} | ${pct(quantile(shares, 0.75))} | ${pct(quantile(shares, 0.9))} | ${pct(cold)} | ${pct(relative)} | ${pct(weighted)} |`,
    );
    points.push({ policy: name, wasted: weighted, coldP75: quantile(shares, 0.75) });
  }
  return points;
}

const units = parseTrace(readFileSync(TRACE, "utf8"));
const appPoints = table("app", byApp(units));
table("function", units);
const chart = join(__dirname, "../docs/prewarm-tradeoff.svg");
writeFileSync(chart, tradeoffSvg(appPoints, { wasted: 0.9, coldP75: 0.15 }, "Pre-warm policies on the Azure 2019 excerpt (app level)"));
console.log(`\nwrote ${chart}`);
