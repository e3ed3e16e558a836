/**
 * Pre-warm replay: the shared Azure Functions 2019 excerpt (500 functions,
 * 8 hours, per-minute counts; CC BY 4.0, Shahrad et al., USENIX ATC 2020)
 * through each policy, at app level and function level. Prints the
 * cold-start share per unit at p50/p75/p90, the overall share, and wasted
 * warm minutes relative to fixed 10 minutes.
 *
 *   npm run bench:prewarm
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CloudloomPolicy, FixedKeepAlive, HybridHistogram, type KeepAlivePolicy } from "../sdk/prewarm/policies";
import { replay, type ReplayResult } from "../sdk/prewarm/simulate";
import { byApp, parseTrace, type TraceUnit } from "../sdk/prewarm/trace";

const TRACE = process.env.TRACE ?? join(__dirname, "../../shared/traces/azure2019-500fn-8h/invocations.csv");

const POLICIES: Array<[string, () => KeepAlivePolicy]> = [
  ...[5, 10, 20, 60, 120, 240].map((m): [string, () => KeepAlivePolicy] => [`fixed-${m}`, () => new FixedKeepAlive(m)]),
  ["hybrid", () => new HybridHistogram()],
  ["cloudloom", () => new CloudloomPolicy()],
];

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1)))];
}

function table(level: string, units: TraceUnit[]): void {
  const active = units.filter((u) => u.counts.some((c) => c > 0));
  const results = new Map<string, ReplayResult[]>(POLICIES.map(([name, make]) => [name, active.map((u) => replay(u.counts, make()))]));
  const wasted = (name: string) => results.get(name)!.reduce((sum, r) => sum + r.wastedMinutes, 0);
  const baseline = wasted("fixed-10");
  console.log(`\n${level} level (${active.length} units with invocations)\n`);
  console.log("| policy | cold share p50 | p75 | p90 | overall | wasted memory-time vs fixed-10 |");
  console.log("|---|---:|---:|---:|---:|---:|");
  for (const [name] of POLICIES) {
    const list = results.get(name)!;
    const shares = list.map((r) => r.coldStarts / r.invocations).sort((a, b) => a - b);
    const cold = list.reduce((s, r) => s + r.coldStarts, 0) / list.reduce((s, r) => s + r.invocations, 0);
    const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
    console.log(
      `| ${name} | ${pct(quantile(shares, 0.5))} | ${pct(quantile(shares, 0.75))} | ${pct(quantile(shares, 0.9))} | ${pct(cold)} | ${pct(wasted(name) / baseline)} |`,
    );
  }
}

const units = parseTrace(readFileSync(TRACE, "utf8"));
table("app", byApp(units));
table("function", units);
