/** A rollout route over a stub upstream, gateways that run it with a clock the test moves, and traffic to drive it. */
import pino from "pino";
import { composeGateway } from "../../cli/compose-gateway";
import type { Gateway } from "../../gateway/gateway";
import type { BackendSource } from "../../gateway/route-table";
import { parseSettings } from "../../gateway/config";
import type { RolloutStatus } from "../../gateway/rollout/controller";
import { App, type Duration, type RolloutGateArgs, type SpecV1 } from "../../sdk";
import { post } from "./gateway-app";
import type { StubUpstream } from "./upstream";

/** The admin key of rollout gateways. */
export const ADMIN_KEY = "admin-key-0123456789abcdef";
/** The route that rolls m@2 out over m@1. */
export const ROUTE = "POST /model";

/** A spec whose route POST /model rolls m@2 out over m@1 through `steps`, one per `interval`, judged by `gate`. */
export function rolloutSpec(options: { steps?: number[]; interval?: Duration; gate?: RolloutGateArgs } = {}): SpecV1 {
  const app = new App("ro");
  const central = app.region("central", { kind: "central", placement: {} });
  const signature = {
    inputs: { x: { type: "float32" as const, shape: [-1, 1] } },
    outputs: { y: { type: "float32" as const, shape: [-1, 1] } },
  };
  const artifact = { path: "m.onnx", sha256: "a".repeat(64) };
  const v1 = app.model("m", { version: "1", artifact, signature, regions: [central] });
  const v2 = app.model("m", { version: "2", artifact, signature, regions: [central] });
  app.route(ROUTE, {
    target: {
      strategy: "canary",
      versions: [
        { model: v1, weight: 100 },
        { model: v2, weight: 0 },
      ],
    },
    auth: "none",
    rollout: {
      to: v2,
      steps: options.steps ?? [10, 50, 100],
      interval: options.interval ?? "1 minute",
      gate: options.gate ?? { maxErrorRate: "1%", maxP99: "2 seconds", minRequests: 20 },
    },
  });
  return app.toSpec({ root: undefined });
}

/** The endpoints of m@1 and m@2, both on `upstream`. */
export function rolloutSource(upstream: StubUpstream): BackendSource {
  return { kind: "remote", endpoints: { functions: {}, models: { "m@1": { central: upstream.url }, "m@2": { central: upstream.url } } } };
}

/** A clock that moves only when the test moves it. */
export class ManualClock {
  time = Date.UTC(2026, 0, 1);
  readonly now = () => this.time;
  advance(ms: number): void {
    this.time += ms;
  }
}

/** A running gateway of a rollout test, with the log lines it wrote. */
export interface RolloutGateway {
  gateway: Gateway;
  base: string;
  lines: Array<Record<string, any>>;
  close(): Promise<void>;
}

/**
 * Starts a gateway for `spec` in front of `upstream` (m@1 and m@2 on it),
 * sharing `redis` when given, timed by `now`, syncing every `syncIntervalMs`.
 */
export async function startRolloutGateway(
  spec: SpecV1,
  upstream: StubUpstream,
  options: { redis?: string; now?: () => number; syncIntervalMs?: number; adminKey?: string | null } = {},
): Promise<RolloutGateway> {
  const lines: Array<Record<string, any>> = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const syncIntervalMs = options.syncIntervalMs ?? 20;
  const { gateway, connected, close } = composeGateway({
    spec,
    settings: parseSettings({
      ...(options.adminKey === null ? {} : { adminKey: options.adminKey ?? ADMIN_KEY }),
      health: { probeIntervalMs: 60_000 },
      rollouts: { syncIntervalMs, leaseMs: Math.max(2_000, 3 * syncIntervalMs) },
      // A loaded 2-core machine can take longer than the 50 ms default to answer.
      ...(options.redis ? { redis: { url: options.redis, commandTimeoutMs: 1_000 } } : {}),
    }),
    source: rolloutSource(upstream),
    logger,
    now: options.now,
    env: {},
  });
  await connected();
  const { port } = await gateway.listen(0);
  return { gateway, base: `http://127.0.0.1:${port}`, lines, close };
}

/** Makes `upstream` fail one in `every` of the requests to m@`version` (the first of each run of `every`), and serve the rest. */
export function failOneIn(upstream: StubUpstream, version: string, every: number): void {
  let calls = 0;
  const path = `/_cloudloom/models/m%40${version}`;
  upstream.behaviour = {
    ...upstream.behaviour,
    statusOf: (req) => (req.url === path && calls++ % every === 0 ? 500 : 200),
  };
}

/** Sends requests to the rollout route, one at a time, until `done()` holds; returns how many each version served. */
export async function drive(
  base: string,
  done: (served: Record<string, number>) => boolean | Promise<boolean>,
): Promise<Record<string, number>> {
  const served: Record<string, number> = {};
  while (!(await done(served))) {
    const response = await post(base, "/model", { x: [[1]] });
    await response.arrayBuffer();
    const version = response.headers.get("x-cloudloom-version") ?? "-";
    served[version] = (served[version] ?? 0) + 1;
  }
  return served;
}

/** The phase of the rollout `gateway` runs. */
export const phaseOf = async (gateway: Gateway) => (await gateway.rollouts.status())[0].phase;

/** The rollout's status as the gateway at `base` reports it (admin key included). */
export async function statusAt(base: string): Promise<RolloutStatus> {
  const response = await fetch(`${base}/_cloudloom/rollouts`, { headers: { "x-admin-key": ADMIN_KEY } });
  const body = (await response.json()) as { rollouts: RolloutStatus[] };
  return body.rollouts[0];
}

/** Transitions of kind `kind` logged in `lines`. */
export const logged = (lines: Array<Record<string, any>>, kind: string) => lines.filter((line) => line.msg === `rollout ${kind}`);
