import assert from "node:assert/strict";
import { FastFailure, type BackendRequest, type BufferedResponse } from "../../../gateway/backends/backend";
import { invokeBuffered, type CallPolicy } from "../../../gateway/invoke";
import { TargetHold } from "../../../gateway/routing/hold";
import { createBreaker, RetryBudget } from "../../../gateway/routing/resilience";
import { ServingError } from "../../../runtime/contract";
import { until } from "../../support/until";
import { exchange, request, route, target } from "./stages/exchange-fixture";

/** No retry budget at all: whatever goes on after a refusal is the hold's doing. */
const policy: CallPolicy = {
  spillBelow: 0.7,
  ejectOn: "gateway-failures",
  maxEjectionPercent: 50,
  budget: new RetryBudget(0, 0),
  onUpstreamError: () => undefined,
  onFailover: () => undefined,
};

const refused = () => new FastFailure(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }));
const BODY: BackendRequest = { method: "POST", path: "/x", headers: {}, query: {}, body: Buffer.alloc(0), requestId: "r", tenant: "t" };

/** A target at zero (every call refused) until `up()`; its hold probes it by asking whether it is up yet. */
function startingTarget(holds: boolean) {
  let isUp = false;
  let calls = 0;
  const compiled = target(async (): Promise<BufferedResponse> => {
    calls++;
    if (!isUp) throw refused();
    return { status: 200, headers: {}, body: Buffer.from("ok") };
  });
  compiled.breakers.set("central", createBreaker(5, 60_000, "gateway-failures", holds));
  const backend = compiled.backend;
  backend.wake = async () => backend.health.probed(isUp);
  if (holds) compiled.hold = new TargetHold("function", "fn", { maxPending: 50, maxWaitMs: 60_000 }, [backend], compiled.levels, 5);
  return { compiled, up: () => (isUp = true), calls: () => calls };
}

function callTo(compiled: ReturnType<typeof startingTarget>["compiled"]) {
  const x = exchange(request(), route("POST /x"));
  x.target = compiled;
  return x;
}

describe("invoke: a call refused by a target that holds is held, not failed", () => {
  it("holds every call the backend refused (more than the breaker's threshold, with no retry budget) and completes each once it is up", async () => {
    const { compiled, up, calls } = startingTarget(true);
    const pending = Array.from({ length: 8 }, () => invokeBuffered(policy, callTo(compiled), BODY));
    await until(() => compiled.hold!.pending === 8);
    assert.equal(compiled.backend.health.healthy, false, "the refusal ejected the backend");
    const refusedCalls = calls();
    up();
    const results = await Promise.all(pending);
    assert.deepEqual(
      results.map((r) => r.result.status),
      Array(8).fill(200),
    );
    assert.equal(calls(), refusedCalls + 8, "each held call went on exactly once");
  });

  it("keeps a held cache miss going when the client that started it leaves, since coalesced requests share it", async () => {
    const { compiled, up } = startingTarget(true);
    const starter = callTo(compiled);
    const shared = invokeBuffered(policy, starter, BODY);
    await until(() => compiled.hold!.pending === 1);
    starter.res.emit("close");
    up();
    assert.equal((await shared).result.status, 200);
  });

  it("fails a refused call at once (502) for a target that does not hold, as before", async () => {
    const { compiled } = startingTarget(false);
    await assert.rejects(
      invokeBuffered(policy, callTo(compiled), BODY),
      (e: unknown) => e instanceof ServingError && e.code === "BAD_GATEWAY",
    );
  });
});
