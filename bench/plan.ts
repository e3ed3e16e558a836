/**
 * Plan benchmark: time and peak memory to plan generated apps with 10, 100
 * and 1,000 functions on each target, under Pulumi's mock runtime, and each
 * 1,000-function plan against Pulumi's own floor measured in the same run:
 * as many trivial resources, planned the same way.
 *
 *   npm run bench:plan
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { TARGET_FACTORIES } from "../providers/registry";

const SIZES = [10, 100, 1_000];

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
  runScript<{ ms: number; resources: number; maxRssMb: number }>("plan-one.ts", target, String(functions));

/** Pulumi's floor: as many trivial resources, planned the same way. */
const floorFor = (resources: number) => runScript<{ ms: number }>("plan-floor.ts", String(resources)).ms;

console.log("| target | functions | resources | plan time | ms per function | peak RSS |");
console.log("|---|---:|---:|---:|---:|---:|");
let total = 0;
let floor = 0;
const floors: string[] = [];
for (const target of Object.keys(TARGET_FACTORIES)) {
  for (const functions of SIZES) {
    const { ms, resources, maxRssMb } = planOnce(target, functions);
    console.log(
      `| ${target} | ${functions} | ${resources} | ${(ms / 1000).toFixed(2)} s | ${(ms / functions).toFixed(2)} | ${maxRssMb.toFixed(0)} MB |`,
    );
    if (functions !== 1_000) continue;
    const floorMs = floorFor(resources);
    total += ms;
    floor += floorMs;
    floors.push(`${target}: ${(ms / floorMs).toFixed(2)}× the floor of ${resources} trivial resources (${(floorMs / 1000).toFixed(2)} s)`);
  }
}
console.log(`\n${floors.join("\n")}`);
console.log(
  `\n1,000 functions on every available target (${Object.keys(TARGET_FACTORIES).join(", ")}): ${(total / 1000).toFixed(1)} s in all; Pulumi's floor for as many trivial resources: ${(floor / 1000).toFixed(1)} s`,
);
