/**
 * CLI start-up benchmark: wall time from spawning `cloudloom <args>` (the
 * installed bin, `node cli/bin.js`) to its exit, against `node -e 0` (Node's
 * own start-up on this machine), over several runs each, with the spread.
 * The target: `--help` and `--version` under 0.5 s; `spec` without Pulumi.
 *
 *   npm run bench:cli            (RUNS=N to change the number of runs; default 10)
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const ROOT = join(__dirname, "..");
const BIN = join(ROOT, "cli/bin.js");
const RUNS = Number(process.env.RUNS ?? 10);
const TARGET_MS = 500;

const CASES: Array<{ label: string; argv: string[]; target?: number }> = [
  { label: "node -e 0 (baseline)", argv: ["-e", "0"] },
  { label: "cloudloom --help", argv: [BIN, "--help"], target: TARGET_MS },
  { label: "cloudloom --version", argv: [BIN, "--version"], target: TARGET_MS },
  { label: "cloudloom spec examples/support-desk", argv: [BIN, "spec", "examples/support-desk"] },
  { label: "cloudloom serve --help", argv: [BIN, "serve", "--help"] },
];

/** Milliseconds of one run, from spawn to exit. */
function once(argv: string[]): number {
  const started = performance.now();
  const child = spawnSync(process.execPath, argv, { cwd: ROOT, encoding: "utf8", env: { ...process.env, NODE_OPTIONS: "" } });
  const ms = performance.now() - started;
  if (child.status !== 0) throw new Error(`node ${argv.join(" ")} exited ${child.status}:\n${child.stderr}`);
  return ms;
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.round(q * (sorted.length - 1)))];
const fmt = (ms: number) => `${ms.toFixed(0)} ms`;

console.log(`CLI start-up, ${RUNS} runs each after one warm-up run (tsx's compile cache warm), Node ${process.version}\n`);
console.log("| command | median | min | p90 | max | spread (max−min) | over baseline (median) | target |");
console.log("|---|---:|---:|---:|---:|---:|---:|---|");
let baseline = 0;
const misses: string[] = [];
for (const { label, argv, target } of CASES) {
  once(argv); // warm-up: the first run after an edit pays tsx's transpile
  const times = Array.from({ length: RUNS }, () => once(argv)).sort((a, b) => a - b);
  const median = quantile(times, 0.5);
  if (label.startsWith("node -e 0")) baseline = median;
  const met = target === undefined ? "" : median < target ? `< ${target} ms: met` : `< ${target} ms: MISSED`;
  if (target !== undefined && median >= target) misses.push(label);
  console.log(
    `| ${label} | ${fmt(median)} | ${fmt(times[0])} | ${fmt(quantile(times, 0.9))} | ${fmt(times.at(-1)!)} | ${fmt(times.at(-1)! - times[0])} | ${label.startsWith("node -e 0") ? "-" : `+${fmt(median - baseline)}`} | ${met} |`,
  );
}
if (misses.length > 0) console.log(`\nover the ${TARGET_MS} ms target: ${misses.join(", ")}`);
