/**
 * Calls a target's backend in the best region, with failover. A fast
 * failure (nothing reached the upstream) ejects the backend and, within the
 * retry budget, tries the next region; idempotent requests may also retry a
 * 5xx. Each (route, region) has a circuit breaker; while it is open, calls
 * to that region are refused at once and the next region is tried.
 *
 * As in Envoy's outlier detection, only gateway failures (resets, timeouts,
 * 502/503/504) count against a backend by default, so one client's bad input
 * cannot eject a function for everyone; and past `maxEjectionPercent` of a
 * target's regions ejected, ejection is ignored (panic routing) rather than
 * leaving the target with no backend at all.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { BrokenCircuitError } from "cockatiel";
import type { Backend, BackendRequest, BufferedResponse } from "./backends/backend";
import { FastFailure } from "./backends/backend";
import type { GatewaySettings } from "./config";
import type { GatewayMetrics } from "./metrics";
import { ServingError } from "../runtime/contract";
import type { CompiledRoute, CompiledTarget } from "./route-table";
import type { TargetHold } from "./routing/hold";
import { pickRegion } from "./routing/locality";
import { isBackendFault, RetryBudget, statusCounts, type EjectOn } from "./routing/resilience";
import type { BackendCallTrace, RequestTrace } from "./tracing";

const IDEMPOTENT = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS"]);

/** A 5xx, carried through the breaker as a failure but still answered. */
class UpstreamStatus extends Error {
  constructor(readonly response: BufferedResponse | number) {
    super("upstream answered 5xx");
  }
}

/** One call: the exchange is one. */
export interface Call {
  readonly route: CompiledRoute;
  readonly target: CompiledTarget;
  readonly locality: string | undefined;
  readonly turn: number;
  /** The request's spans, when the gateway traces. */
  readonly trace?: RequestTrace;
  /** Waits, held, until the target's hold finds it ready (see Exchange.holdUntilReady). */
  holdUntilReady(hold: TargetHold, watchClient: boolean): Promise<void>;
}

/** A call whose response may stream straight to the client. */
export interface StreamingCall extends Call {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** Called with the region about to stream, before any header is sent. */
  streamingFrom(region: string): void;
}

/** What every call of a gateway shares: the spill threshold, outlier detection, the retry budget, and where upstream errors are counted. */
export interface CallPolicy {
  readonly spillBelow: number;
  readonly ejectOn: EjectOn;
  readonly maxEjectionPercent: number;
  readonly budget: RetryBudget;
  onUpstreamError(call: Call, region: string, kind: string): void;
  /** The call moves on to another region after `region` failed. */
  onFailover(call: Call, region: string): void;
}

/** The call policy of a gateway with `settings`, counting upstream errors and failovers in `metrics`. */
export function callPolicy(settings: GatewaySettings, metrics: GatewayMetrics): CallPolicy {
  return {
    spillBelow: settings.health.spillBelow,
    ejectOn: settings.health.ejectOn,
    maxEjectionPercent: settings.health.maxEjectionPercent,
    budget: new RetryBudget(settings.retryBudgetPercent),
    onUpstreamError(call, region, kind) {
      metrics.upstreamErrors.labels(call.route.key, region, kind).inc();
    },
    onFailover(call, region) {
      metrics.failovers.labels(call.route.key, region).inc();
    },
  };
}

function choose(policy: CallPolicy, call: Call, excluded: ReadonlySet<string> | undefined): { region: string; backend: Backend } {
  // An open breaker is not skipped here: cockatiel refuses the call without touching the
  // upstream (BrokenCircuitError, then the next region), and lets a trial through once
  // halfOpenAfter has passed, which is how a recovered upstream closes it again.
  const backends = call.target.backends;
  let ejected = 0;
  for (const backend of backends.values()) if (!backend.health.healthy) ejected++;
  const panic = ejected * 100 > policy.maxEjectionPercent * backends.size;
  const region = pickRegion(
    call.target.levels,
    call.locality,
    (name) => !excluded?.has(name) && (panic || backends.get(name)!.health.healthy),
    policy.spillBelow,
    call.turn,
  );
  if (!region)
    throw new ServingError("NO_HEALTHY_BACKEND", `no healthy region can serve ${call.target.entry} right now`, { "retry-after": "1" });
  return { region, backend: call.target.backends.get(region)! };
}

/**
 * Calls the target until a region answers, failing over as the policy allows.
 * `shared` calls (a cache miss every coalesced request awaits) are not given
 * up when the client that started them goes away while held. A traced call
 * has a span, and each attempt one under it (see tracing.ts).
 */
function attempt<T>(
  policy: CallPolicy,
  call: Call,
  request: BackendRequest,
  run: (backend: Backend, request: BackendRequest) => Promise<T>,
  statusOf: (result: T) => number,
  shared: boolean,
): Promise<{ result: T; region: string }> {
  if (call.trace === undefined) return failOver(policy, call, request, run, statusOf, shared, undefined);
  const traced = call.trace.backendCall(call.target);
  return traced.settle(failOver(policy, call, request, run, statusOf, shared, traced));
}

async function failOver<T>(
  policy: CallPolicy,
  call: Call,
  request: BackendRequest,
  run: (backend: Backend, request: BackendRequest) => Promise<T>,
  statusOf: (result: T) => number,
  shared: boolean,
  traced: BackendCallTrace | undefined,
): Promise<{ result: T; region: string }> {
  const method = request.method;
  // Regions tried and failed, made on the first failure (most calls have none).
  let excluded: Set<string> | undefined;
  const hold = call.target.hold;
  for (;;) {
    // A refused connection (below) ejected the target's last ready backend: it is starting, or at zero.
    // The call waits within the target's hold, then every region may be tried again.
    if (hold !== undefined && !hold.ready) {
      await call.holdUntilReady(hold, !shared);
      excluded?.clear();
    }
    const { region, backend } = choose(policy, call, excluded);
    const breaker = call.target.breakers.get(region)!;
    const tried = traced?.attempt(region, request);
    try {
      const result = await breaker.execute(async () => {
        const value = await run(backend, tried ? tried.request : request);
        if (statusCounts(statusOf(value), policy.ejectOn)) throw new UpstreamStatus(value as never);
        return value;
      });
      tried?.answered(statusOf(result));
      // The backend answered: a 5xx that is not a gateway failure is the request's, not the backend's.
      backend.health.succeeded();
      if (statusOf(result) >= 500) {
        (excluded ??= new Set()).add(region);
        policy.onUpstreamError(call, region, "5xx");
        if (IDEMPOTENT.has(method) && typeof result !== "number" && policy.budget.spend()) {
          policy.onFailover(call, region);
          continue;
        }
      }
      return { result, region };
    } catch (error) {
      tried?.failed(error, error instanceof UpstreamStatus ? statusOf(error.response as T) : undefined);
      (excluded ??= new Set()).add(region);
      if (error instanceof UpstreamStatus) {
        backend.health.failed();
        policy.onUpstreamError(call, region, "5xx");
        if (IDEMPOTENT.has(method) && typeof error.response !== "number" && policy.budget.spend()) {
          policy.onFailover(call, region);
          continue;
        }
        return { result: error.response as T, region };
      }
      if (error instanceof BrokenCircuitError) {
        policy.onUpstreamError(call, region, "circuit-open");
        policy.onFailover(call, region);
        continue;
      }
      if (error instanceof FastFailure) {
        backend.health.eject();
        policy.onUpstreamError(call, region, "unreachable");
        // Waiting for a target that is starting spends no retry budget, and is no failover: the hold bounds it.
        if (hold !== undefined && !hold.ready) continue;
        if (policy.budget.spend()) {
          policy.onFailover(call, region);
          continue;
        }
        throw new ServingError("BAD_GATEWAY", "the upstream is unreachable");
      }
      if (!isBackendFault(error, policy.ejectOn)) throw error;
      backend.health.failed();
      policy.onUpstreamError(call, region, "error");
      if (error instanceof ServingError) throw error;
      throw new ServingError("GATEWAY_TIMEOUT", "the upstream did not answer in time");
    }
  }
}

/** Calls the target and buffers its response: a cache miss, which every request coalesced on it shares. */
export function invokeBuffered(
  policy: CallPolicy,
  call: Call,
  request: BackendRequest,
): Promise<{ result: BufferedResponse; region: string }> {
  return attempt(
    policy,
    call,
    request,
    (backend, sent) => backend.call(sent),
    (r) => r.status,
    true,
  );
}

/** Streams the target's response to the call's `res` when the backend can; otherwise buffers. */
export function invokeStreaming(
  policy: CallPolicy,
  call: StreamingCall,
  request: BackendRequest,
): Promise<{ result: number | BufferedResponse; region: string }> {
  return attempt<number | BufferedResponse>(
    policy,
    call,
    request,
    (backend, sent) => {
      if (!backend.stream) return backend.call(sent);
      call.streamingFrom(backend.region);
      return backend.stream(call.req, call.res, sent);
    },
    (r) => (typeof r === "number" ? r : r.status),
    false,
  );
}
