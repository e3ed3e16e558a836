/**
 * Inference benchmark, five runs by default: the large generated model over
 * HTTP with dynamic batching on against off at 1, 16 and 64 concurrent
 * clients (eight alternated slices, ABBA then BAAB, so that a machine
 * growing busier or quieter favours neither); `/healthz` and a cached route probed idle, and
 * while 64 clients load the model, unbatched (the model is the bottleneck)
 * and batched (the event loop's own HTTP work is); and the example model's
 * cold start (scaled to zero, then the first request). Prints every run, the
 * spread over runs, and each goal of issue 19 with its worst-run ratio and
 * ✓ or ✗.
 *
 * Load comes from wrk when it is installed (apt-get install wrk), else from
 * a Node load generator, which takes a share of the 2 cores the server has.
 *
 *   npm run bench:inference   (BENCH_RUNS=5 BENCH_SECONDS=4 per measurement)
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { loadavg } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { LocalRuntime } from "../runtime/runtime";
import example from "../examples/support-desk/app";
import { combine, percentile, type LoadResult } from "./support/load";
import { hasWrk, load } from "./support/wrk";
import { writeLargeModel } from "./support/large-model";
import type { ProbeResult } from "./support/probe";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const COLD_SAMPLES = Number(process.env.BENCH_COLD_SAMPLES ?? 10);
const ROOT = join(__dirname, "..", ".bench");
const CLIENTS = [1, 16, 64] as const;

/** Starts a TypeScript entry in its own process; resolves with its first stdout line. */
async function child(entry: string, args: string[]): Promise<{ line: string; stop: () => void }> {
  const proc = spawn(process.execPath, ["--import", "tsx", join(__dirname, entry), ...args], { stdio: ["ignore", "pipe", "inherit"] });
  const [line] = (await once(createInterface({ input: proc.stdout! }), "line")) as [string];
  return { line: line.trim(), stop: () => proc.kill("SIGTERM") };
}

/** `/healthz` and the cached route, probed for `SECONDS`. */
async function probe(origin: string, body: string): Promise<Record<"healthz" | "cached", ProbeResult>> {
  const { line } = await child("support/probe.ts", [origin, String(SECONDS), "/cached", body]);
  return JSON.parse(line);
}

type Probed = Record<"healthz" | "cached", ProbeResult>;
type Batching = "off" | "on";

/** One run's measurements. */
interface Run {
  load: string;
  levels: Record<(typeof CLIENTS)[number], Record<Batching, LoadResult>>;
  idle: Probed;
  /** Probed while 64 clients load the model with batching off, and on. */
  loaded: Record<Batching, Probed>;
  cold: number[];
}

const fmt = (r: LoadResult) =>
  `${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50.toFixed(2).padStart(7)} ms  p99 ${r.p99.toFixed(2).padStart(7)} ms${r.errors ? `  errors ${r.errors}` : ""}`;
const fmtProbe = (p: ProbeResult) =>
  `p50 ${p.p50.toFixed(2).padStart(6)} ms  p99 ${p.p99.toFixed(2).padStart(6)} ms  (${p.requests} requests${p.misses ? `, ${p.misses} not 200/HIT` : ""})`;
const loadNow = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

/**
 * The example model's cold start in this process: a fresh runtime (scaled to
 * zero), idle for a moment as a model scaled to zero is before its next
 * request, then its first request.
 */
async function coldStarts(samples: number): Promise<number[]> {
  const spec = example.toSpec();
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const runtime = new LocalRuntime(spec, example.root, { warn: () => {} });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const started = performance.now();
    const prediction = await runtime.predict("intent@1", "central", { features: new Array(512).fill(0) });
    if (!prediction.cold) throw new Error("expected a cold start");
    times.push(performance.now() - started);
    await runtime.close();
  }
  return times.sort((a, b) => a - b);
}

/**
 * The order of a cell's slices: off, on, on, off, then on, off, off, on. Each
 * side gets the same share of the start, the middle and the end of the cell,
 * so a machine that grows busier or quieter, steadily or in one step,
 * favours neither.
 */
const SLICES: readonly Batching[] = ["off", "on", "on", "off", "on", "off", "off", "on"];

/** Batching off and on at `clients`: eight slices of a quarter of `SECONDS` each, in the order of SLICES. */
async function compare(origin: string, body: string, clients: number): Promise<Record<Batching, LoadResult>> {
  const slices: Record<Batching, LoadResult[]> = { off: [], on: [] };
  for (const batching of SLICES) slices[batching].push(await load(origin, `/${batching}`, body, clients, SECONDS / 4));
  return { off: combine(slices.off), on: combine(slices.on) };
}

/** The probes while 64 clients load `/off` or `/on`. */
async function probeUnderLoad(origin: string, body: string, batching: Batching): Promise<Probed> {
  const [probed] = await Promise.all([probe(origin, body), load(origin, `/${batching}`, body, 64, SECONDS + 1)]);
  return probed;
}

async function measure(origin: string, body: string): Promise<Run> {
  const load = loadNow();
  const levels = {} as Run["levels"];
  for (const clients of CLIENTS) levels[clients] = await compare(origin, body, clients);
  const idle = await probe(origin, body);
  const loaded = { off: await probeUnderLoad(origin, body, "off"), on: await probeUnderLoad(origin, body, "on") };
  return { load, levels, idle, loaded, cold: await coldStarts(COLD_SAMPLES) };
}

function printRun(index: number, run: Run): void {
  console.log(`\nrun ${index + 1}/${RUNS} (load average at start: ${run.load})`);
  console.log("clients  batching  result");
  for (const clients of CLIENTS) {
    const { off, on } = run.levels[clients];
    console.log(`${String(clients).padStart(7)}  off       ${fmt(off)}`);
    console.log(`${String(clients).padStart(7)}  on        ${fmt(on)}`);
    console.log(
      `${String(clients).padStart(7)}  ratio     throughput ×${(on.rps / off.rps).toFixed(2)}, p99 ×${(on.p99 / off.p99).toFixed(2)} (on/off)`,
    );
  }
  for (const name of ["healthz", "cached"] as const) {
    console.log(`${name.padEnd(8)} idle                       ${fmtProbe(run.idle[name])}`);
    console.log(`${name.padEnd(8)} 64 clients, batching off   ${fmtProbe(run.loaded.off[name])}`);
    console.log(`${name.padEnd(8)} 64 clients, batching on    ${fmtProbe(run.loaded.on[name])}`);
  }
  const cold = run.cold;
  console.log(
    `cold start of the example model (${cold.length} samples): p50 ${percentile(cold, 50).toFixed(1)} ms, worst ${cold[cold.length - 1].toFixed(1)} ms`,
  );
}

/** A goal: a value per run, the bound it must meet in every run, and which direction is better. */
interface Goal {
  name: string;
  values: number[];
  bound: number;
  atLeast: boolean;
  unit: "×" | "ms";
}

function printGoals(runs: Run[]): void {
  const ratio = (clients: (typeof CLIENTS)[number]) => runs.map((r) => r.levels[clients].on.rps / r.levels[clients].off.rps);
  const probeRatio = (name: "healthz" | "cached", batching: Batching) => runs.map((r) => r.loaded[batching][name].p99 / r.idle[name].p99);
  const goals: Goal[] = [
    { name: "1 client: batching on ≥ 0.9× off (throughput)", values: ratio(1), bound: 0.9, atLeast: true, unit: "×" },
    { name: "16 clients: batching on ≥ 2× off (throughput)", values: ratio(16), bound: 2, atLeast: true, unit: "×" },
    { name: "64 clients: batching on ≥ 3× off (throughput)", values: ratio(64), bound: 3, atLeast: true, unit: "×" },
    {
      name: "64 clients: p99 on ≤ 1× off (no worse)",
      values: runs.map((r) => r.levels[64].on.p99 / r.levels[64].off.p99),
      bound: 1,
      atLeast: false,
      unit: "×",
    },
    ...(["off", "on"] as const).flatMap((batching) => [
      {
        name: `/healthz p99, 64 clients batching ${batching} ≤ 2× idle`,
        values: probeRatio("healthz", batching),
        bound: 2,
        atLeast: false,
        unit: "×" as const,
      },
      {
        name: `cached route p99, 64 clients batching ${batching} ≤ 2× idle`,
        values: probeRatio("cached", batching),
        bound: 2,
        atLeast: false,
        unit: "×" as const,
      },
    ]),
    { name: "cold start p50 < 100 ms", values: runs.map((r) => percentile(r.cold, 50)), bound: 100, atLeast: false, unit: "ms" },
    { name: "cold start worst < 100 ms", values: runs.map((r) => r.cold[r.cold.length - 1]), bound: 100, atLeast: false, unit: "ms" },
  ];
  const show = (v: number, unit: Goal["unit"]) => (unit === "×" ? `×${v.toFixed(2)}` : `${v.toFixed(1)} ms`);
  console.log(`\ngoals over ${runs.length} run(s): worst run, spread (min–max), every run`);
  for (const goal of goals) {
    const worst = goal.atLeast ? Math.min(...goal.values) : Math.max(...goal.values);
    const met = goal.atLeast ? worst >= goal.bound : goal.unit === "ms" ? worst < goal.bound : worst <= goal.bound;
    const spread = `${show(Math.min(...goal.values), goal.unit)}–${show(Math.max(...goal.values), goal.unit)}`;
    console.log(
      `${met ? "✓" : "✗"} ${goal.name.padEnd(50)} worst ${show(worst, goal.unit).padStart(9)}  spread ${spread.padEnd(19)} runs ${goal.values.map((v) => show(v, goal.unit)).join(" ")}`,
    );
  }
}

async function main(): Promise<void> {
  const model = writeLargeModel(ROOT);
  console.log(
    `large model: ${(model.bytes / 1e6).toFixed(1)} MB, 512→2048→1024→5, ${RUNS} run(s), ${SECONDS} s per measurement, load from ${hasWrk ? "wrk" : "Node (install wrk for a lighter load generator)"}`,
  );
  const server = await child("support/inference-server.ts", [ROOT, model.sha256]);
  const origin = `http://127.0.0.1:${server.line}`;
  const body = JSON.stringify({ inputs: { features: Array.from({ length: 512 }, (_, i) => Math.sin(i)) } });
  const runs: Run[] = [];
  try {
    // Warm-up, long enough that the JIT has settled: the first seconds cost the server twice the CPU per request.
    for (const clients of [1, 64]) for (const batching of ["off", "on"]) await load(origin, `/${batching}`, body, clients, 2);
    await load(origin, "/cached", body, 1, 1);
    for (let i = 0; i < RUNS; i++) {
      runs.push(await measure(origin, body));
      printRun(i, runs[i]);
    }
  } finally {
    server.stop();
  }
  printGoals(runs);
}

void main();
