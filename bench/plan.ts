/**
 * Plan benchmark: time and peak memory to plan generated apps with 10, 100
 * and 1,000 functions on each target, under Pulumi's mock runtime.
 *
 *   npm run bench:plan
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { TARGET_FACTORIES } from "../providers/registry";

const SIZES = [10, 100, 1_000];

function planOnce(target: string, functions: number): { ms: number; resources: number; maxRssMb: number } {
  const result = spawnSync(process.execPath, ["--import", "tsx", join(__dirname, "support/plan-one.ts"), target, String(functions)], {
    encoding: "utf8",
    maxBuffer: 1 << 24,
  });
  if (result.status !== 0) throw new Error(`planning ${functions} functions on ${target} failed:\n${result.stderr}`);
  return JSON.parse(result.stdout.trim().split("\n").pop()!);
}

console.log("| target | functions | resources | plan time | ms per function | peak RSS |");
console.log("|---|---:|---:|---:|---:|---:|");
let total = 0;
for (const target of Object.keys(TARGET_FACTORIES)) {
  for (const functions of SIZES) {
    const { ms, resources, maxRssMb } = planOnce(target, functions);
    if (functions === 1_000) total += ms;
    console.log(
      `| ${target} | ${functions} | ${resources} | ${(ms / 1000).toFixed(2)} s | ${(ms / functions).toFixed(2)} | ${maxRssMb.toFixed(0)} MB |`,
    );
  }
}
console.log(
  `\n1,000 functions on every available target (${Object.keys(TARGET_FACTORIES).join(", ")}): ${(total / 1000).toFixed(1)} s in all`,
);
