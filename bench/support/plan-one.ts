/**
 * Plans a generated app with N functions on one target, in its own process
 * so its peak memory is its own. Prints `{ ms, resources, maxRssMb }`.
 */
import { App } from "../../sdk";
import { planUnderMocks } from "../../providers/plan";
import { TARGET_FACTORIES } from "../../providers/registry";
import type { Target } from "../../sdk";

const [target, count] = [process.argv[2] as Target, Number(process.argv[3])];

function generatedApp(functions: number): App {
  const app = new App("gen");
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
  const spec = generatedApp(count).toSpec({ target, root: undefined });
  const settings = {
    get: (key: string) => (key === "artifactBaseUrl" ? "https://artifacts.example.invalid" : undefined),
    getSecret: () => undefined,
    secretKeys: () => undefined,
  };
  const started = performance.now();
  const { resources } = await planUnderMocks(() => TARGET_FACTORIES[target]!({ spec, root: process.cwd() }, settings));
  const ms = performance.now() - started;
  console.log(JSON.stringify({ ms, resources: resources.length, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
})();
