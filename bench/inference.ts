/**
 * Inference benchmark: the large generated model over HTTP, dynamic batching
 * on against off, at 1, 16 and 64 concurrent clients, in one run. Then the
 * example model's cold start (scaled to zero, then the first request).
 *
 *   npm run bench:inference   (BENCH_SECONDS=5 to lengthen each run)
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { once } from "node:events";
import { createInterface } from "node:readline";
import pino from "pino";
import { LocalRuntime } from "../runtime/runtime";
import example from "../examples/support-desk/app";
import { percentile, runLoad, type LoadResult } from "./support/load";
import { writeLargeModel } from "./support/large-model";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const ROOT = join(__dirname, "..", ".bench");

async function startServer(sha256: string): Promise<{ origin: string; stop: () => void }> {
  const child = spawn(process.execPath, ["--import", "tsx", join(__dirname, "support/inference-server.ts"), ROOT, sha256], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const [line] = (await once(createInterface({ input: child.stdout! }), "line")) as [string];
  return { origin: `http://127.0.0.1:${line.trim()}`, stop: () => child.kill("SIGTERM") };
}

const fmt = (r: LoadResult) =>
  `${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50.toFixed(2).padStart(7)} ms  p99 ${r.p99.toFixed(2).padStart(7)} ms${r.errors ? `  errors ${r.errors}` : ""}`;

async function coldStarts(samples: number): Promise<number[]> {
  const spec = example.toSpec();
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const runtime = new LocalRuntime(spec, example.root, { warn: () => {} });
    const started = performance.now();
    const prediction = await runtime.predict("intent@1", "central", { features: new Array(512).fill(0) });
    if (!prediction.cold) throw new Error("expected a cold start");
    times.push(performance.now() - started);
    await runtime.close();
  }
  return times.sort((a, b) => a - b);
}

async function main(): Promise<void> {
  const model = writeLargeModel(ROOT);
  console.log(`large model: ${(model.bytes / 1e6).toFixed(1)} MB, 512→2048→1024→5, ${SECONDS} s per run\n`);
  const server = await startServer(model.sha256);
  const body = JSON.stringify({ inputs: { features: Array.from({ length: 512 }, (_, i) => Math.sin(i)) } });
  try {
    await runLoad(server.origin, "/on", body, 8, 500);
    await runLoad(server.origin, "/off", body, 8, 500);
    console.log("clients  batching  result");
    for (const clients of [1, 16, 64]) {
      const off = await runLoad(server.origin, "/off", body, clients, SECONDS * 1000);
      const on = await runLoad(server.origin, "/on", body, clients, SECONDS * 1000);
      console.log(`${String(clients).padStart(7)}  off       ${fmt(off)}`);
      console.log(`${String(clients).padStart(7)}  on        ${fmt(on)}`);
      console.log(
        `${String(clients).padStart(7)}  ratio     throughput ×${(on.rps / off.rps).toFixed(2)}, p99 ×${(on.p99 / off.p99).toFixed(2)} (on/off)\n`,
      );
    }
  } finally {
    server.stop();
  }
  pino({ level: "silent" });
  const cold = await coldStarts(15);
  console.log(
    `example model cold start (scale to zero → first request, in-process, 15 samples): p50 ${percentile(cold, 50).toFixed(1)} ms, max ${cold[cold.length - 1].toFixed(1)} ms`,
  );
}

void main();
