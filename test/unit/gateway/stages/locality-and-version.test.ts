import assert from "node:assert/strict";
import { parseSettings } from "../../../../gateway/config";
import { compileSplit } from "../../../../gateway/routing/versions";
import { RetryBudget } from "../../../../gateway/routing/resilience";
import { localityAndVersion } from "../../../../gateway/stages/locality-and-version";
import { exchange, request, route, target } from "./exchange-fixture";

describe("locality and version stage", () => {
  const settings = parseSettings({}).locality;
  const none = async () => ({ status: 200, headers: {}, body: Buffer.alloc(0) });

  it("sends the version the route's split picks, and the client's locality and turn to the call", () => {
    const v2 = target(none, { namedBy: "split", version: "2" });
    const split = route("POST /m", {}, new Map([["2", v2]]), { split: compileSplit({ "2": 100 }, false) });
    const stage = localityAndVersion(settings, new RetryBudget(20));
    const first = exchange(request({ headers: { "x-cloudloom-locality": "de" } }), split);
    const second = exchange(request(), split);
    stage.run!(first);
    stage.run!(second);
    assert.equal(first.target, v2);
    assert.deepEqual([first.record.version, first.res.getHeader("x-cloudloom-version")], ["2", "2"]);
    assert.deepEqual([first.locality, second.locality], ["de", undefined]);
    assert.deepEqual([first.record.locality, first.record.localityBy, second.record.localityBy], ["de", "header", undefined]);
    assert.equal(second.turn, first.turn + 1);
  });

  it("names a function's models as its version", () => {
    const fn = target(none, { namedBy: "function", models: "intent@1,intent@2" });
    const x = exchange(request(), route("POST /f", {}, new Map([["-", fn]])));
    localityAndVersion(settings, new RetryBudget(20)).run!(x);
    assert.equal(x.res.getHeader("x-cloudloom-version"), "intent@1,intent@2");
  });

  it("records the version a backend named in its response, where the backend picks it", () => {
    const stage = localityAndVersion(settings, new RetryBudget(20));
    const x = exchange(request(), route("POST /m", {}, new Map([["-", target(none, { namedBy: "backend" })]])));
    stage.run!(x);
    assert.equal(x.res.getHeader("x-cloudloom-version"), undefined);
    x.res.setHeader("x-cloudloom-version", "7");
    stage.finish!(x);
    assert.equal(x.record.version, "7");
    const unanswered = exchange(request(), route("POST /m", {}, new Map([["-", target(none, { namedBy: "backend" })]])));
    stage.run!(unanswered);
    stage.finish!(unanswered);
    assert.equal(unanswered.record.version, "-");
  });

  it("every request it sees earns a share of retries", () => {
    const budget = new RetryBudget(50, 1);
    assert.equal(budget.spend(), true);
    assert.equal(budget.spend(), false);
    const stage = localityAndVersion(settings, budget);
    for (let i = 0; i < 2; i++) stage.run!(exchange(request(), route("POST /f", {}, new Map([["-", target(none)]]))));
    assert.equal(budget.spend(), true);
  });
});
