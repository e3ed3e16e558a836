/**
 * A real gateway taking demand reports (DEMAND_REPORT_PATH) for a model at
 * zero that only a function calls, and readers of its demand endpoint (what
 * the model's KEDA metrics-api trigger reads), for tests of the reporters
 * (function pods, serverless functions) over real sockets.
 */
import pino from "pino";
import { composeGateway, type ComposedGateway } from "../../cli/compose-gateway";
import { parseSettings } from "../../gateway/config";
import example from "../../examples/support-desk/app";
import { App, type SpecV1 } from "../../sdk";
import { METRICS_TOKEN, scrape } from "./metrics-token";

/** The token the test gateways take reports with. */
export const DEMAND_TOKEN = "demand-token-0123456789abcdef";

/** The calls the model's hold keeps waiting at once. */
export const MAX_PENDING = 5;

/** Model intent@1 at zero (holding MAX_PENDING), called only by function "caller", which one route reaches. */
export function functionsOnlySpec(): SpecV1 {
  const app = new App("reports", { root: example.root });
  const central = app.region("central", { kind: "central", placement: {} });
  const zero = app.scalingPolicy("zero", {
    maxInstances: 2,
    targetConcurrency: 1,
    scaleToZero: { idleWindow: "5 minutes" },
    hold: { maxPending: MAX_PENDING, maxWait: "60 seconds" },
  });
  const draft = example.toDraft().models["intent@1"];
  const model = app.model("intent", {
    version: "1",
    artifact: draft.artifact,
    signature: draft.signature,
    regions: [central],
    scaling: zero,
  });
  const caller = app.function("caller", { handler: "functions/classify.ts", regions: [central], models: [model] });
  app.route("POST /call", { target: caller, auth: "none" });
  return app.toSpec({ root: undefined });
}

/** intent@1's demand in central, as KEDA reads it. */
export const DEMAND = "/metrics/demand?kind=model&entry=intent%401&region=central";

/** The gateway's answer at DEMAND. */
export type Demand = { pending: number; inFlight: number; demand: number; instances: number };

/** A gateway for functionsOnlySpec, taking reports with `token` (none: it takes none), on `redisUrl` when given. */
export async function gatewayFor(token: string | undefined, redisUrl?: string): Promise<{ composed: ComposedGateway; base: string }> {
  const composed = composeGateway({
    spec: functionsOnlySpec(),
    settings: parseSettings({
      health: { probeIntervalMs: 60_000 },
      logSampleRate: 0,
      metricsToken: METRICS_TOKEN,
      ...(token ? { demandToken: token } : {}),
      ...(redisUrl ? { redis: { url: redisUrl, commandTimeoutMs: 500 } } : {}),
    }),
    source: { kind: "remote", endpoints: { functions: { caller: { central: "http://127.0.0.1:9" } }, models: {} } },
    logger: pino({ level: "silent" }),
  });
  if (redisUrl) await composed.connected();
  return { composed, base: `http://127.0.0.1:${(await composed.gateway.listen(0)).port}` };
}

/** intent@1's demand in central at the gateway at `base`. */
export const demandAt = async (base: string): Promise<Demand> => (await (await scrape(`${base}${DEMAND}`)).json()) as Demand;

/** Waits until the gateway at `base` answers a demand for which `done` holds. */
export async function untilDemand(base: string, done: (demand: Demand) => boolean): Promise<Demand> {
  for (;;) {
    const demand = await demandAt(base);
    if (done(demand)) return demand;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
