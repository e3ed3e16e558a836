/**
 * Plan benchmark: time and peak memory to plan generated apps with 10, 100
 * and 1,000 functions on each target, under Pulumi's mock runtime, and each
 * 1,000-function plan against Pulumi's own floor measured right after it:
 * as many trivial resources, planned the same way. The goal is at most 3×
 * the floor on every target, in every run.
 *
 *   npm run bench:plan           (BENCH_RUNS=N to change the number of 1,000-function runs; default 5, as every goal of issue 19 is judged on five)
 */
import { spawnSync } from "node:child_process";
import { loadavg } from "node:os";
import { join } from "node:path";
import { TARGET_FACTORIES } from "../providers/registry";

const SMALL_SIZES = [10, 100];
const LARGE = 1_000;
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
/** The goal: a 1,000-function plan takes at most this many times Pulumi's floor. */
const GOAL = 3;

interface Measured {
  ms: number;
  cpuMs: number;
}

/** Runs one bench script in its own process and returns the JSON it prints last. */
function runScript<T>(script: string, ...args: string[]): T {
  const result = spawnSync(process.execPath, ["--import", "tsx", join(__dirname, "support", script), ...args], {
    encoding: "utf8",
    maxBuffer: 1 << 24,
  });
  if (result.status !== 0) throw new Error(`${script} ${args.join(" ")} failed:\n${result.stderr}`);
  return JSON.parse(result.stdout.trim().split("\n").pop()!);
}

const planOnce = (target: string, functions: number) =>
  runScript<Measured & { resources: number; maxRssMb: number }>("plan-one.ts", target, String(functions));

/** Pulumi's floor: as many trivial resources, planned the same way. */
const floorFor = (resources: number) => runScript<Measured>("plan-floor.ts", String(resources));

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const load = () =>
  `load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")}`;
const targets = Object.keys(TARGET_FACTORIES);

console.log(`Plans on ${targets.join(", ")}; ${load()}\n`);
console.log("| target | functions | resources | plan time | ms per function | peak RSS |");
console.log("|---|---:|---:|---:|---:|---:|");
for (const target of targets) {
  for (const functions of SMALL_SIZES) {
    const { ms, resources, maxRssMb } = planOnce(target, functions);
    console.log(
      `| ${target} | ${functions} | ${resources} | ${seconds(ms)} | ${(ms / functions).toFixed(2)} | ${maxRssMb.toFixed(0)} MB |`,
    );
  }
}

// Each run plans 1,000 functions on every target, each plan followed at once by its floor,
// so that both see the same load on a shared machine.
const runs: Record<string, Array<{ plan: Measured & { resources: number; maxRssMb: number }; floor: Measured }>> = {};
for (let run = 1; run <= RUNS; run++) {
  console.log(`\nrun ${run} of ${RUNS} (${load()})`);
  for (const target of targets) {
    const plan = planOnce(target, LARGE);
    const floor = floorFor(plan.resources);
    (runs[target] ??= []).push({ plan, floor });
    console.log(
      `  ${target}: ${seconds(plan.ms)} for ${plan.resources} resources (${plan.maxRssMb.toFixed(0)} MB), floor ${seconds(floor.ms)}: ` +
        `${(plan.ms / floor.ms).toFixed(2)}× (CPU time ${(plan.cpuMs / floor.cpuMs).toFixed(2)}×)`,
    );
  }
}

const spread = (values: number[]) => `${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}`;
console.log(`\n1,000 functions against Pulumi's floor for as many trivial resources, ${RUNS} runs (goal ≤ ${GOAL}× in every run):\n`);
console.log("| target | resources | plan time | × floor, each run | spread | CPU time × floor | goal |");
console.log("|---|---:|---:|---|---:|---:|:---:|");
for (const target of targets) {
  const ratios = runs[target].map(({ plan, floor }) => plan.ms / floor.ms);
  const cpuRatios = runs[target].map(({ plan, floor }) => plan.cpuMs / floor.cpuMs);
  const times = runs[target].map(({ plan }) => plan.ms);
  console.log(
    `| ${target} | ${runs[target][0].plan.resources} | ${seconds(Math.min(...times))}–${seconds(Math.max(...times))} | ` +
      `${ratios.map((r) => r.toFixed(2)).join(", ")} | ${spread(ratios)} | ${spread(cpuRatios)} | ${ratios.every((r) => r <= GOAL) ? "✓" : "✗"} |`,
  );
}
console.log(`\n${load()}`);
