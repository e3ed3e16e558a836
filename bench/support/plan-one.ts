/**
 * Plans a generated app with N functions on one target, in its own process
 * so its peak memory is its own. Prints `{ ms, cpuMs, resources, maxRssMb }`.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { App } from "../../sdk";
import { planUnderMocks } from "../../providers/plan";
import { describeTarget, TARGET_FACTORIES } from "../../providers/registry";
import type { Target } from "../../sdk";

const [target, count] = [process.argv[2] as Target, Number(process.argv[3])];

/** A directory with one small handler module per function (cloud targets bundle each one). */
function handlerRoot(functions: number): string {
  const root = mkdtempSync(join(tmpdir(), "cloudloom-plan-bench-"));
  for (let i = 0; i < functions; i++) writeFileSync(join(root, `fn-${i}.ts`), `export const handler = async () => ({ index: ${i} });\n`);
  return root;
}

function generatedApp(functions: number, root: string): App {
  const app = new App("gen", { root });
  const central = app.region("central", {
    kind: "central",
    placement: { aws: { region: "us-east-1" }, alicloud: { region: "cn-hangzhou" }, kubernetes: { labels: { zone: "a" } } },
  });
  const policy = app.scalingPolicy("p", { minInstances: 1, maxInstances: 10, targetConcurrency: 5 });
  for (let i = 0; i < functions; i++) {
    const fn = app.function(`fn-${i}`, { handler: `fn-${i}.ts`, regions: [central], scaling: policy, environment: { INDEX: String(i) } });
    app.route(`POST /f/${i}`, { target: fn, rateLimit: { requests: 100, per: "1 second" } });
  }
  return app;
}

void (async () => {
  const root = handlerRoot(count);
  const spec = generatedApp(count, root).toSpec({ target });
  // The target's offline placeholders (networks, keys), as `cloudloom plan` fills them in for a stack that sets none.
  const values: Record<string, string> = { ...describeTarget(target).placeholders(), artifactBaseUrl: "https://artifacts.example.invalid" };
  const settings = {
    get: (key: string) => values[key],
    getSecret: (key: string) => (values[key] === undefined ? undefined : pulumi.secret(values[key])),
    secretKeys: () => undefined,
  };
  const started = performance.now();
  const cpu = process.cpuUsage();
  const { resources } = await planUnderMocks(() => TARGET_FACTORIES[target]!({ spec, root }, settings));
  const ms = performance.now() - started;
  const { user, system } = process.cpuUsage(cpu);
  console.log(
    JSON.stringify({ ms, cpuMs: (user + system) / 1000, resources: resources.length, maxRssMb: process.resourceUsage().maxRSS / 1024 }),
  );
})();
