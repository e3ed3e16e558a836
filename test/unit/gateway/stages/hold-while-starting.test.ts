import assert from "node:assert/strict";
import type { Backend, BufferedResponse } from "../../../../gateway/backends/backend";
import type { Exchange } from "../../../../gateway/exchange";
import { BackendHealth } from "../../../../gateway/routing/health";
import { TargetHold, type Demand } from "../../../../gateway/routing/hold";
import { holdWhileStarting } from "../../../../gateway/stages/hold-while-starting";
import { HELD_HEADER, ServingError } from "../../../../runtime/contract";
import { until } from "../../../support/until";
import { exchange, request, route, target } from "./exchange-fixture";

/** A backend that is cold until a test says it is up, counting how often the hold woke it. */
class StartingBackend implements Backend {
  readonly health = new BackendHealth(3, 10_000);
  cold = true;
  wakes = 0;
  constructor(readonly region: string) {}
  async call(): Promise<BufferedResponse> {
    return { status: 200, headers: {}, body: Buffer.from("{}") };
  }
  async wake(): Promise<void> {
    this.wakes++;
  }
  async close(): Promise<void> {}
}

/** A function target over `backends` (central, and an edge for locality "de") that holds `maxPending` for `maxWaitMs`. */
function holding(backends: StartingBackend[], maxPending = 10, maxWaitMs = 60_000) {
  const compiled = target(async () => ({ status: 200, headers: {}, body: Buffer.alloc(0) }));
  compiled.levels = {
    central: ["central"],
    edgesByLocality: new Map(backends.some((b) => b.region === "edge") ? [["de", ["edge"]]] : []),
  };
  compiled.backends = new Map(backends.map((b) => [b.region, b]));
  compiled.hold = new TargetHold("function", "fn", { maxPending, maxWaitMs }, backends, compiled.levels, 5);
  return { compiled, hold: compiled.hold };
}

/** An exchange to `compiled`, from `locality`. */
function to(compiled: ReturnType<typeof holding>["compiled"], locality?: string): Exchange {
  const x = exchange(request(), route("POST /x"));
  x.target = compiled;
  x.locality = locality;
  return x;
}

const total = (d: Demand) => d.pending + d.inFlight;
const refused = (code: string, retryAfter: string) => (error: unknown) =>
  error instanceof ServingError && error.code === code && error.status === 503 && error.headers["retry-after"] === retryAfter;

describe("hold while starting stage", () => {
  const stage = holdWhileStarting();

  it("lets a request to a ready target through at once (no promise), counting it in flight until it finishes", () => {
    const central = new StartingBackend("central");
    central.cold = false;
    const { compiled, hold } = holding([central]);
    const x = to(compiled);
    assert.equal(stage.run!(x), undefined);
    assert.equal(hold.demand.get("central")!.inFlight, 1);
    assert.equal(x.res.getHeader(HELD_HEADER), undefined);
    stage.finish!(x);
    assert.equal(total(hold.demand.get("central")!), 0);
  });

  it("passes requests to targets that do not hold, and counts nothing for them", () => {
    const x = to(target(async () => ({ status: 200, headers: {}, body: Buffer.alloc(0) })) as never);
    assert.equal(stage.run!(x), undefined);
    stage.finish!(x);
    assert.equal(x.demand, undefined);
  });

  it("holds requests while the target is cold, wakes it, and sends them all on once it is ready, saying how long they waited", async () => {
    const central = new StartingBackend("central");
    const { compiled, hold } = holding([central]);
    const xs = [to(compiled), to(compiled), to(compiled)];
    const held = xs.map((x) => stage.run!(x));
    assert.ok(held.every((p) => p instanceof Promise));
    assert.equal(hold.pending, 3);
    assert.deepEqual([hold.demand.get("central")!.pending, hold.demand.get("central")!.inFlight], [3, 0]);
    await until(() => central.wakes >= 2);
    central.cold = false;
    await Promise.all(held);
    for (const x of xs) assert.match(String(x.res.getHeader(HELD_HEADER)), /^\d+$/);
    assert.deepEqual([hold.demand.get("central")!.pending, hold.demand.get("central")!.inFlight], [0, 3]);
    for (const x of xs) stage.finish!(x);
    assert.equal(total(hold.demand.get("central")!), 0);
  });

  it("refuses a request at once with 503 HOLD_FULL and Retry-After while maxPending are held, without a held header", async () => {
    const central = new StartingBackend("central");
    const { compiled, hold } = holding([central], 2, 60_000);
    const held = [to(compiled), to(compiled)].map((x) => stage.run!(x));
    const extra = to(compiled);
    await assert.rejects(Promise.resolve(stage.run!(extra)), refused("HOLD_FULL", "6"));
    assert.equal(extra.res.getHeader(HELD_HEADER), undefined);
    assert.equal(hold.pending, 2);
    stage.finish!(extra);
    assert.equal(total(hold.demand.get("central")!), 2, "the refused request counts nowhere");
    central.cold = false;
    await Promise.all(held);
  });

  it("answers 503 HOLD_TIMEOUT with Retry-After once the wait has passed, saying how long it was held", async () => {
    const { compiled, hold } = holding([new StartingBackend("central")], 10, 40);
    const x = to(compiled);
    await assert.rejects(Promise.resolve(stage.run!(x)), refused("HOLD_TIMEOUT", "1"));
    assert.match(String(x.res.getHeader(HELD_HEADER)), /^\d+$/);
    stage.finish!(x);
    assert.equal(hold.pending, 0);
    assert.equal(total(hold.demand.get("central")!), 0);
  });

  it("frees the place of a client that goes away while held, so another request takes it", async () => {
    const central = new StartingBackend("central");
    const { compiled, hold } = holding([central], 1);
    const leaving = to(compiled);
    const held = Promise.resolve(stage.run!(leaving));
    leaving.res.emit("close");
    await assert.rejects(held, (e: unknown) => e instanceof ServingError && e.code === "CLIENT_CLOSED");
    assert.equal(hold.pending, 0);
    const next = to(compiled);
    const waiting = stage.run!(next);
    assert.equal(hold.pending, 1);
    central.cold = false;
    await waiting;
    assert.equal(leaving.res.listenerCount("close"), 0, "the hold leaves no listener behind");
  });

  it("counts each request toward the region it would go to with every backend ready: the edge of its locality, else central", async () => {
    const central = new StartingBackend("central");
    const edge = new StartingBackend("edge");
    const { compiled, hold } = holding([central, edge]);
    const held = [to(compiled, "de"), to(compiled, "de"), to(compiled)].map((x) => stage.run!(x));
    assert.equal(hold.demand.get("edge")!.pending, 2);
    assert.equal(hold.demand.get("central")!.pending, 1);
    central.cold = false;
    await Promise.all(held);
    assert.equal(hold.demand.get("edge")!.inFlight, 2, "a held request stays counted toward its region once it goes on");
  });

  it("wakes only the regions held requests would go to (a local target loads no instance nobody waits for)", async () => {
    const central = new StartingBackend("central");
    const edge = new StartingBackend("edge");
    const { compiled } = holding([central, edge]);
    const held = stage.run!(to(compiled, "de"));
    await until(() => edge.wakes >= 2);
    assert.equal(central.wakes, 0);
    edge.cold = false;
    await held;
  });

  it("treats an ejected backend as not ready, and one an active probe readmits as ready", async () => {
    const central = new StartingBackend("central");
    central.cold = false;
    central.health.eject();
    const { compiled, hold } = holding([central]);
    assert.equal(hold.ready, false);
    const held = stage.run!(to(compiled));
    central.health.probed(true);
    await held;
    assert.equal(hold.ready, true);
  });

  describe("shared (a cache miss's backend call, which coalesced requests await)", () => {
    const shared = holdWhileStarting(true);

    it("waits on when the client that started it goes away, and goes on once the target is ready", async () => {
      const central = new StartingBackend("central");
      const { compiled, hold } = holding([central]);
      const x = to(compiled);
      const held = Promise.resolve(shared.run!(x));
      x.res.emit("close");
      await until(() => central.wakes >= 1);
      assert.equal(hold.pending, 1, "still held: others await this call");
      central.cold = false;
      await held;
      assert.deepEqual([hold.demand.get("central")!.pending, hold.demand.get("central")!.inFlight], [0, 1]);
      shared.finish!(x);
      assert.equal(total(hold.demand.get("central")!), 0);
    });

    it("counts a call once when the cache loads twice for one request (another variant came back)", () => {
      const central = new StartingBackend("central");
      central.cold = false;
      const { compiled, hold } = holding([central]);
      const x = to(compiled);
      assert.equal(shared.run!(x), undefined);
      assert.equal(shared.run!(x), undefined);
      assert.equal(hold.demand.get("central")!.inFlight, 1);
      stage.finish!(x);
      assert.equal(total(hold.demand.get("central")!), 0, "the pipeline's own stage releases it");
    });
  });
});
