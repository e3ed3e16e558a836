import assert from "node:assert/strict";
import { ConcurrencyCap, concurrencyCap } from "../../../../gateway/stages/concurrency-cap";
import type { ServingError } from "../../../../runtime/contract";
import { exchange, request, route } from "./exchange-fixture";

const limited = (e: ServingError) => e.code === "CONCURRENCY_LIMIT" && e.status === 429 && e.headers["retry-after"] === "1";

describe("concurrency cap", () => {
  it("gives each key its own slots, refuses beyond the limit, and frees a slot on release", () => {
    const cap = new ConcurrencyCap(2);
    cap.acquire("a");
    cap.acquire("a");
    assert.throws(() => cap.acquire("a"), limited);
    cap.acquire("b");
    cap.release("a");
    cap.acquire("a");
    assert.throws(() => cap.acquire("a"), limited);
  });
});

describe("concurrency cap stage", () => {
  it("holds a slot per tenant, or per client address on public routes, until the request finishes", () => {
    const stage = concurrencyCap(1);
    const keyed = exchange(request(), route("POST /k"));
    keyed.record.tenant = "t-1";
    stage.run!(keyed);
    assert.equal(keyed.slot, "t-1");
    const sameTenant = exchange(request(), route("POST /k"));
    sameTenant.record.tenant = "t-1";
    assert.throws(() => stage.run!(sameTenant), limited);
    const anonymous = exchange(request(), route("POST /o"));
    anonymous.client = "198.51.100.7";
    stage.run!(anonymous);
    assert.equal(anonymous.slot, "198.51.100.7");

    stage.finish!(keyed);
    stage.run!(sameTenant);
    assert.equal(sameTenant.slot, "t-1");
  });

  it("releases nothing for a request that never got a slot", () => {
    const stage = concurrencyCap(1);
    const holder = exchange(request(), route("POST /k"));
    holder.client = "c";
    stage.run!(holder);
    const refused = exchange(request(), route("POST /k"));
    refused.client = "c";
    assert.throws(() => stage.run!(refused), limited);
    stage.finish!(refused);
    assert.throws(() => stage.run!(refused), limited, "the holder's slot is still taken");
  });
});
