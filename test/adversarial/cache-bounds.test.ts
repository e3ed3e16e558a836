import assert from "node:assert/strict";
import { ResponseCache, type StoredResponse } from "../../gateway/response-cache";
import { gatewayRig, KEY_A } from "../support/gateway-app";

const MiB = 1024 * 1024;

/** A body just under the gateway's 1 MiB limit: `open` then `close`, nested as deep as the bytes allow. */
function nested(open: string, close: string): string {
  const depth = Math.floor((MiB - 16) / (open.length + close.length));
  return `${open.repeat(depth)}1${close.repeat(depth)}`;
}

function postRaw(base: string, path: string, body: string): Promise<Response> {
  return fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${KEY_A}` },
    body,
  });
}

describe("what a cached request may cost the gateway (issue hole 12)", () => {
  const rig = gatewayRig();

  it("refuses 1 MB of deeply nested JSON with INVALID_INPUT before building a key, and /healthz answers meanwhile", async () => {
    const bodies = [nested("[", "]"), nested('{"a":', "}"), nested("[", "]"), nested('{"a":', "}"), nested("[", "]")];
    const attacks = bodies.map((body) => postRaw(rig.base, "/echo", body));
    const health = await fetch(`${rig.base}/healthz`);
    assert.equal(health.status, 200);
    for (const res of await Promise.all(attacks)) {
      assert.equal(res.status, 400);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, "INVALID_INPUT");
    }
    assert.equal(rig.central.received.length, 0, "nothing that deep reaches the backend");
    // Nesting within the bound, and deep-looking text inside strings, still pass.
    const shallow = await postRaw(rig.base, "/echo", JSON.stringify({ a: [[[{ b: [[1]] }]]], text: "[[[[".repeat(1000) }));
    assert.equal(shallow.status, 200);
  });
});

/** A storable response with a body of `bytes` bytes. */
function response(bytes: number): StoredResponse {
  return {
    status: 200,
    headers: { "content-type": "application/octet-stream" },
    body: Buffer.alloc(bytes, 1),
    storedAt: Date.now(),
    storable: true,
    maxTtlMs: Number.POSITIVE_INFINITY,
    vary: [],
  };
}

describe("the response cache's byte bound (issue hole 12)", () => {
  const request = (primary: string) => ({ primary, declared: [], headers: {} });

  it("holds the total under the bound however many entries go in, evicting the least recently used", async () => {
    const responses = new ResponseCache(10_000, undefined, 64 * 1024);
    for (let i = 0; i < 200; i++) await responses.get(request(`k${i}`), 60_000, async () => response(2_000));
    const { entries, bytes } = responses.usage();
    assert.ok(bytes <= 64 * 1024, `${bytes} bytes held`);
    assert.ok(entries > 0 && entries < 200, `${entries} entries held`);
    let loads = 0;
    await responses.get(request("k199"), 60_000, async () => (loads++, response(2_000)));
    await responses.get(request("k0"), 60_000, async () => (loads++, response(2_000)));
    assert.equal(loads, 1, "the newest entry is still there; the oldest was evicted");
  });

  it("never stores an entry larger than its share of the bound, and evicts nothing for it", async () => {
    const responses = new ResponseCache(10_000, undefined, 64 * 1024);
    await responses.get(request("small"), 60_000, async () => response(1_000));
    for (const size of [9_000, 64 * 1024, 4 * MiB]) {
      let loads = 0;
      const first = await responses.get(request(`big-${size}`), 60_000, async () => (loads++, response(size)));
      await responses.get(request(`big-${size}`), 60_000, async () => (loads++, response(size)));
      assert.equal(first.outcome, "BYPASS");
      assert.equal(loads, 2, `an entry of ${size} bytes was stored`);
    }
    assert.equal((await responses.get(request("small"), 60_000, async () => response(1_000))).outcome, "HIT");
    assert.ok(responses.usage().bytes <= 64 * 1024);
  });
});
