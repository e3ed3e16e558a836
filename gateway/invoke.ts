/**
 * Calls a target's backend in the best region, with failover. A fast
 * failure (nothing reached the upstream) ejects the backend and, within the
 * retry budget, tries the next region; idempotent requests may also retry a
 * 5xx. Each (route, region) has a circuit breaker; while it is open, calls
 * to that region are refused at once and the next region is tried.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { BrokenCircuitError } from "cockatiel";
import type { Backend, BackendRequest, BufferedResponse } from "./backends/backend";
import { FastFailure } from "./backends/backend";
import { ServingError } from "../runtime/errors";
import type { CompiledTarget } from "./route-table";
import { pickRegion } from "./routing/locality";
import { isBackendFault, type RetryBudget } from "./routing/resilience";

const IDEMPOTENT = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS"]);

/** A 5xx, carried through the breaker as a failure but still answered. */
class UpstreamStatus extends Error {
  constructor(readonly response: BufferedResponse | number) {
    super("upstream answered 5xx");
  }
}

/** What the invoker needs from the gateway. */
export interface InvokeContext {
  target: CompiledTarget;
  locality: string | undefined;
  spillBelow: number;
  budget: RetryBudget;
  turn: number;
  onUpstreamError: (region: string, kind: string) => void;
}

function choose(ctx: InvokeContext, excluded: Set<string>): { region: string; backend: Backend } {
  // An open breaker is not skipped here: cockatiel refuses the call without touching the
  // upstream (BrokenCircuitError, then the next region), and lets a trial through once
  // halfOpenAfter has passed, which is how a recovered upstream closes it again.
  const usable = (region: string) => !excluded.has(region) && ctx.target.backends.get(region)!.health.healthy;
  const region = pickRegion(ctx.target.levels, ctx.locality, usable, ctx.spillBelow, ctx.turn);
  if (!region)
    throw new ServingError("NO_HEALTHY_BACKEND", `no healthy region can serve ${ctx.target.entry} right now`, { "retry-after": "1" });
  return { region, backend: ctx.target.backends.get(region)! };
}

async function attempt<T>(
  ctx: InvokeContext,
  method: string,
  run: (backend: Backend) => Promise<T>,
  statusOf: (result: T) => number,
): Promise<{ result: T; region: string }> {
  const excluded = new Set<string>();
  for (;;) {
    const { region, backend } = choose(ctx, excluded);
    const breaker = ctx.target.breakers.get(region)!;
    try {
      const result = await breaker.execute(async () => {
        const value = await run(backend);
        if (statusOf(value) >= 500) throw new UpstreamStatus(value as never);
        return value;
      });
      backend.health.succeeded();
      return { result, region };
    } catch (error) {
      excluded.add(region);
      if (error instanceof UpstreamStatus) {
        backend.health.failed();
        ctx.onUpstreamError(region, "5xx");
        if (IDEMPOTENT.has(method) && typeof error.response !== "number" && ctx.budget.spend()) continue;
        return { result: error.response as T, region };
      }
      if (error instanceof BrokenCircuitError) {
        ctx.onUpstreamError(region, "circuit-open");
        continue;
      }
      if (error instanceof FastFailure) {
        backend.health.eject();
        ctx.onUpstreamError(region, "unreachable");
        if (ctx.budget.spend()) continue;
        throw new ServingError("BAD_GATEWAY", "the upstream is unreachable");
      }
      if (!isBackendFault(error)) throw error;
      backend.health.failed();
      ctx.onUpstreamError(region, "error");
      if (error instanceof ServingError) throw error;
      throw new ServingError("GATEWAY_TIMEOUT", "the upstream did not answer in time");
    }
  }
}

/** Calls the target and buffers its response. */
export function invokeBuffered(ctx: InvokeContext, request: BackendRequest): Promise<{ result: BufferedResponse; region: string }> {
  return attempt(
    ctx,
    request.method,
    (backend) => backend.call(request),
    (r) => r.status,
  );
}

/** Streams the target's response to `res` when the backend can; otherwise buffers. */
export function invokeStreaming(
  ctx: InvokeContext,
  req: IncomingMessage,
  res: ServerResponse,
  request: BackendRequest,
  beforeHeaders: (region: string) => void,
): Promise<{ result: number | BufferedResponse; region: string }> {
  return attempt<number | BufferedResponse>(
    ctx,
    request.method,
    (backend) => {
      if (!backend.stream) return backend.call(request);
      beforeHeaders(backend.region);
      return backend.stream(req, res, request);
    },
    (r) => (typeof r === "number" ? r : r.status),
  );
}
