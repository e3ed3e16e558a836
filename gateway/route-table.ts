/**
 * The route table, compiled once per configuration: every route's limiter,
 * cache settings, version split, region levels and backends are built up
 * front, so a request does a map lookup and runs what it finds.
 */
import type Redis from "ioredis";
import type { CircuitBreakerPolicy } from "cockatiel";
import {
  asyncEntries,
  asyncEntryKey,
  holdLimits,
  routeAsync,
  toMilliseconds,
  type AsyncEntry,
  type AsyncSpec,
  type Endpoint,
  type EndpointsMap,
  type HoldLimits,
  type RouteSpec,
  type SpecV1,
} from "../sdk/spec";
import type { Backend, BackendAuthFor, BackendRequest, BufferedResponse } from "./backends/backend";
import { LocalBackend } from "./backends/local";
import { RemoteBackend } from "./backends/remote";
import type { GatewaySettings } from "./config";
import { functionInvokePath, modelPredictPath, type InvocationQueue } from "../runtime/contract";
import { entryTag, routeTag } from "./invocations/ids";
import { RouteLimiter, type DecisionCounter } from "./route-limiter";
import { BackendHealth } from "./routing/health";
import { reportableKey } from "./demand-reports";
import { Demand, TargetHold } from "./routing/hold";
import { regionLevels, type RegionLevels } from "./routing/locality";
import { breakerStateValue, createBreaker } from "./routing/resilience";
import { compileSplit, type CompiledSplit } from "./routing/versions";
import type { Rollout } from "./rollout/rollout";

/** What names the version in a target's responses (`x-cloudloom-version`, and the requests metric's version label). */
export type ResponseVersion =
  /** The model version the gateway's split picked. */
  | { namedBy: "split"; version: string }
  /** A function: the models it calls, comma-separated ("-" for none). */
  | { namedBy: "function"; models: string }
  /** The backend, which splits the model's versions itself and names the one each response came from. */
  | { namedBy: "backend" };

/** Where a gateway's backends are: the in-process runtime, or remote endpoints. */
export type BackendSource =
  | {
      kind: "local";
      call: LocalCall;
      /** The instances of a function or model version in a region, so a target at zero is held while one loads. */
      instances?: (kind: "function" | "model", entry: string, region: string) => LocalInstances | undefined;
    }
  | { kind: "remote"; endpoints: EndpointsMap };

/** Calls one function or model version of the in-process runtime, which the local target hands over. */
export type LocalCall = (kind: "function" | "model", entry: string, region: string, request: BackendRequest) => Promise<BufferedResponse>;

/** The runtime's instances of one function or model version in one region. */
export interface LocalInstances {
  /** Loaded now. */
  readonly instances: number;
  /** Loads one when none is; resolves once one is. */
  warmOne(): Promise<void>;
}

/** One function or model version, with a backend per region. */
export interface CompiledTarget {
  kind: "function" | "model";
  /** Function name or model key. */
  entry: string;
  /** What names the version in this target's responses. */
  responseVersion: ResponseVersion;
  levels: RegionLevels;
  backends: Map<string, Backend>;
  breakers: Map<string, CircuitBreakerPolicy>;
  /** Holds requests while the target starts, when its scaling policy says so (shared by every route to the entry). */
  hold?: TargetHold;
}

/**
 * The queue of each asynchronous entry, which the composer builds from the
 * endpoints map or the local runtime; undefined when there is none, which
 * makes the configuration invalid.
 */
export type QueueFor = (entry: AsyncEntry) => InvocationQueue | undefined;

/** An asynchronous entry of a route: where its jobs go. */
export interface QueuedEntry {
  kind: "function" | "model";
  entry: string;
  region: string;
  /** The entry's tag in invocation ids. */
  tag: string;
  queue: InvocationQueue;
}

/** What makes a route asynchronous: its settings, its tag in invocation ids and each entry's queue. */
export interface CompiledAsync {
  settings: AsyncSpec;
  tag: string;
  retentionMs: number;
  /** By target key (a model version, or "-"), as `targets`. */
  entries: Map<string, QueuedEntry>;
  /** By entry tag, for status reads. */
  byTag: Map<string, QueuedEntry>;
}

/** A route, ready to serve. */
export interface CompiledRoute {
  key: string;
  spec: RouteSpec;
  limiter?: RouteLimiter;
  cache?: { ttlMs: number; vary: string[] };
  /** The only target, or one per model version. */
  targets: Map<string, CompiledTarget>;
  split?: CompiledSplit;
  /** The route's rollout, which owns `split` and counts what each version served. */
  rollout?: Rollout;
  /** Set when the route answers 202 and queues its calls. */
  async?: CompiledAsync;
}

/** Every route of one configuration generation, and the backends they share. */
export class RouteTable {
  readonly routes = new Map<string, CompiledRoute>();
  readonly paths = new Set<string>();
  /** Asynchronous routes by their tag in invocation ids. */
  readonly asyncByTag = new Map<string, CompiledRoute>();
  private readonly backends = new Map<string, Backend>();
  /** The hold of every function and model version whose policy holds, by `kind:entry`. */
  readonly holds = new Map<string, TargetHold>();
  /** Every model version whose policy holds, in each of its regions: what function pods may report calls to (demand-reports.ts). */
  readonly reportableModels = new Map<string, { maxPending: number }>();
  /** The demand of model versions that hold but that no route reaches (only functions call them): only reports count there. */
  private readonly unrouted: Demand[] = [];

  constructor(
    readonly spec: SpecV1,
    private readonly settings: GatewaySettings,
    private readonly source: BackendSource,
    redis: Redis | undefined,
    countDecision: DecisionCounter,
    private readonly authFor: BackendAuthFor,
    /** Told of every ejection of a remote backend (kind:entry) in a region. */
    private readonly onEject: (backend: string, region: string) => void = () => undefined,
    queueFor: QueueFor = () => undefined,
  ) {
    const queued = asyncEntries(spec);
    for (const [key, route] of Object.entries(spec.routes)) {
      this.paths.add(key.slice(key.indexOf(" ") + 1));
      const compiled = this.compile(key, route, redis, countDecision);
      const settings = routeAsync(spec, key);
      if (settings) {
        compiled.async = compileAsync(key, compiled, settings, queued, queueFor);
        this.asyncByTag.set(compiled.async.tag, compiled);
      }
      this.routes.set(key, compiled);
    }
    for (const [key, model] of Object.entries(spec.models)) {
      const limits = holdLimits(spec, "model", key);
      if (!limits) continue;
      for (const region of model.regions) {
        this.reportableModels.set(reportableKey(key, region), { maxPending: limits.maxPending });
        if (!this.holds.has(`model:${key}`)) this.unrouted.push(new Demand("model", key, region));
      }
    }
  }

  /** Every backend of this generation. */
  allBackends(): Backend[] {
    return [...this.backends.values()];
  }

  /** The demand of every function and model version that holds, per region. */
  demand(): Demand[] {
    return [...[...this.holds.values()].flatMap((hold) => [...hold.demand.values()]), ...this.unrouted];
  }

  /** Every backend's health now: its `kind:entry` (or `canary:<route>`), region, and whether it is in service. */
  *backendHealth(): Iterable<{ backend: string; region: string; healthy: boolean }> {
    for (const [id, backend] of this.backends)
      yield { backend: id.slice(0, id.lastIndexOf("|")), region: backend.region, healthy: backend.health.healthy };
  }

  /** Every route's breaker state per region (0 closed, 1 half-open, 2 open): the worst over the route's targets. */
  *breakerStates(): Iterable<{ route: string; region: string; state: number }> {
    for (const [route, compiled] of this.routes) {
      const worst = new Map<string, number>();
      for (const target of compiled.targets.values())
        for (const [region, breaker] of target.breakers) worst.set(region, Math.max(worst.get(region) ?? 0, breakerStateValue(breaker)));
      for (const [region, state] of worst) yield { route, region, state };
    }
  }

  /** Starts active health probes of remote backends. */
  startProbes(): void {
    for (const backend of this.backends.values())
      backend.startProbes?.(this.settings.health.probeIntervalMs, this.settings.health.probePath);
  }

  /** Closes every backend (after the generation's last request). */
  async close(): Promise<void> {
    for (const hold of this.holds.values()) hold.close();
    await Promise.all(this.allBackends().map((b) => b.close()));
  }

  private compile(key: string, spec: RouteSpec, redis: Redis | undefined, countDecision: DecisionCounter): CompiledRoute {
    const route: CompiledRoute = {
      key,
      spec,
      limiter: spec.rateLimit && new RouteLimiter(key, spec.rateLimit, redis, countDecision),
      cache: spec.cache && { ttlMs: toMilliseconds(spec.cache.ttl), vary: spec.cache.varyHeaders },
      targets: new Map(),
      // Set up front, so every route has one shape on the request path; a split route fills them in.
      split: undefined,
      rollout: undefined,
    };
    if (spec.target.kind === "function") {
      const fn = this.spec.functions[spec.target.name];
      route.targets.set(
        "-",
        this.target("function", spec.target.name, { namedBy: "function", models: fn.models.join(",") || "-" }, fn.regions),
      );
      return route;
    }
    const canary = this.canary(key, spec);
    if (canary) {
      route.targets.set("-", canary);
      return route;
    }
    route.split = compileSplit(spec.target.weights, spec.target.sticky);
    for (const version of Object.keys(spec.target.weights)) {
      const entry = `${spec.target.name}@${version}`;
      route.targets.set(version, this.target("model", entry, { namedBy: "split", version }, this.spec.models[entry].regions));
    }
    return route;
  }

  /**
   * The route's target when its backend splits the model's versions itself
   * (a `canaries` endpoint; never for sticky splits, nor for rollouts, whose weights the gateway moves):
   * one target, on the model's version-less path, whose responses name the version.
   */
  private canary(key: string, spec: RouteSpec): CompiledTarget | undefined {
    // An asynchronous route queues each version's calls for that version's workers, so the gateway splits them.
    if (spec.target.kind !== "model" || spec.target.sticky || spec.rollout || this.source.kind !== "remote" || routeAsync(this.spec, key))
      return undefined;
    const endpoints = this.source.endpoints.canaries?.[key];
    if (!endpoints) return undefined;
    const path = modelPredictPath(spec.target.name);
    const backends = Object.entries(endpoints).map(
      ([region, endpoint]) => [region, this.remote(`canary:${key}|${region}`, endpoint, path, region)] as const,
    );
    return this.assemble("model", spec.target.name, { namedBy: "backend" }, backends);
  }

  private target(kind: "function" | "model", entry: string, responseVersion: ResponseVersion, regions: string[]): CompiledTarget {
    const backends = regions.flatMap((region) => {
      const backend = this.backend(kind, entry, region);
      return backend ? [[region, backend] as const] : [];
    });
    const limits = backends.length > 0 ? holdLimits(this.spec, kind, entry) : undefined;
    const target = this.assemble(kind, entry, responseVersion, backends, limits !== undefined);
    if (limits) target.hold = this.hold(target, limits);
    return target;
  }

  /** The target's hold, created once per entry and shared by every route to it. */
  private hold(target: CompiledTarget, limits: HoldLimits): TargetHold {
    const id = `${target.kind}:${target.entry}`;
    let hold = this.holds.get(id);
    if (!hold) {
      hold = new TargetHold(
        target.kind,
        target.entry,
        limits,
        [...target.backends.values()],
        target.levels,
        this.settings.health.holdProbeIntervalMs,
      );
      this.holds.set(id, hold);
    }
    return hold;
  }

  /** A target over `backends` (by region), each with its own circuit breaker (for a target that `holds`, one that refused connections do not open). */
  private assemble(
    kind: "function" | "model",
    entry: string,
    responseVersion: ResponseVersion,
    backends: ReadonlyArray<readonly [string, Backend]>,
    holds = false,
  ): CompiledTarget {
    const { consecutiveFailures, halfOpenAfterMs } = this.settings.breaker;
    return {
      kind,
      entry,
      responseVersion,
      hold: undefined,
      levels: regionLevels(
        backends.map(([region]) => region),
        this.spec.regions,
      ),
      backends: new Map(backends),
      breakers: new Map(
        backends.map(([region]) => [region, createBreaker(consecutiveFailures, halfOpenAfterMs, this.settings.health.ejectOn, holds)]),
      ),
    };
  }

  private backend(kind: "function" | "model", entry: string, region: string): Backend | undefined {
    const id = `${kind}:${entry}|${region}`;
    const source = this.source;
    if (source.kind === "local")
      return this.shared(id, () => new LocalBackend(source.call, kind, entry, region, source.instances?.(kind, entry, region)));
    const endpoint = (kind === "function" ? source.endpoints.functions : source.endpoints.models)[entry]?.[region];
    if (!endpoint) return undefined;
    return this.remote(id, endpoint, kind === "function" ? functionInvokePath(entry) : modelPredictPath(entry), region);
  }

  /** The remote backend `id` at `endpoint` + `path`. */
  private remote(id: string, endpoint: Endpoint, path: string, region: string): Backend {
    const { ejectAfter, ejectForMs } = this.settings.health;
    return this.shared(
      id,
      () =>
        new RemoteBackend({
          endpoint,
          path,
          region,
          timeoutMs: this.settings.limits.upstreamTimeoutMs,
          health: new BackendHealth(ejectAfter, ejectForMs, Date.now, () => this.onEject(id.slice(0, id.lastIndexOf("|")), region)),
          auth: this.authFor(endpoint),
          probe: { path: this.settings.health.probePath, timeoutMs: this.settings.health.probeIntervalMs },
        }),
    );
  }

  /** Backend `id`, created once per generation and shared by every route that reaches it. */
  private shared(id: string, create: () => Backend): Backend {
    let backend = this.backends.get(id);
    if (!backend) {
      backend = create();
      this.backends.set(id, backend);
    }
    return backend;
  }
}

/** An asynchronous route's queues: one per target (function, or model version), each its entry's. */
function compileAsync(
  key: string,
  route: CompiledRoute,
  settings: AsyncSpec,
  queued: Map<string, AsyncEntry>,
  queueFor: QueueFor,
): CompiledAsync {
  const entries = new Map<string, QueuedEntry>();
  for (const [targetKey, target] of route.targets) {
    const entry = queued.get(asyncEntryKey(target.kind, target.entry))!;
    const queue = queueFor(entry);
    if (!queue) throw new Error(`asynchronous route ${key} has no queue for ${target.kind} ${target.entry}`);
    entries.set(targetKey, {
      kind: target.kind,
      entry: target.entry,
      region: entry.region,
      tag: entryTag(target.kind, target.entry),
      queue,
    });
  }
  return {
    settings,
    tag: routeTag(key),
    retentionMs: toMilliseconds(settings.retention),
    entries,
    byTag: new Map([...entries.values()].map((entry) => [entry.tag, entry])),
  };
}
