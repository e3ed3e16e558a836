import assert from "node:assert/strict";
import { request } from "node:http";
import { gatewayRig, KEY_A } from "../support/gateway-app";

/** What the client got back, read whole. */
interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/**
 * POSTs `body` to the cached /echo route with exactly `headers` (and tenant A's key). node:http,
 * not fetch: fetch adds its own Accept-Encoding and decodes what comes back, which would hide
 * the very headers these attacks use.
 */
function send(base: string, path: string, headers: Record<string, string> = {}, body = '{"q":1}'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${base}${path}`,
      { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${KEY_A}`, ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

describe("response cache poisoning (issue hole 4)", () => {
  const rig = gatewayRig();

  for (const header of ["x-forwarded-host", "x-forwarded-proto", "forwarded", "x-cloudloom-locality"])
    it(`never replays what one client's ${header} made the backend write to a client without it`, async () => {
      // Like a framework building absolute links from the forwarding headers, without saying Vary.
      rig.central.behaviour = {
        status: 200,
        headers: {},
        delayMs: 0,
        body: (req) => ({ next: `https://${String(req.headers[header] ?? "rig.gateway.example")}/page/2` }),
      };
      const attacker = await send(rig.base, "/echo", { [header]: "evil.example" });
      const victim = await send(rig.base, "/echo");
      assert.equal(attacker.status, 200);
      assert.equal(victim.status, 200);
      assert.doesNotMatch(victim.text, /evil/, `the victim was served the attacker's ${header}`);
      assert.ok(
        rig.central.received.every((r) => r.headers[header] === undefined),
        `${header} reached the backend of a cached route, where the key cannot hold it`,
      );
    });

  it("keys on the backend's Vary: another Accept-Encoding is another entry", async () => {
    rig.central.behaviour = {
      status: 200,
      headers: { vary: "Accept-Encoding" },
      delayMs: 0,
      body: (req) => ({ encodedFor: req.headers["accept-encoding"] ?? "identity" }),
    };
    const gzip = await send(rig.base, "/echo", { "accept-encoding": "gzip" });
    const plain = await send(rig.base, "/echo");
    assert.deepEqual([gzip.headers["x-cache"], plain.headers["x-cache"]], ["MISS", "MISS"]);
    assert.deepEqual(JSON.parse(plain.text), { encodedFor: "identity" });
    assert.equal((await send(rig.base, "/echo", { "accept-encoding": "gzip" })).headers["x-cache"], "HIT");
    assert.equal(rig.central.received.length, 2);
  });

  it("keys on any other header the backend's Vary names", async () => {
    rig.central.behaviour = {
      status: 200,
      headers: { vary: "x-tier" },
      delayMs: 0,
      body: (req) => ({ tier: req.headers["x-tier"] ?? "free" }),
    };
    await send(rig.base, "/echo", { "x-tier": "gold" });
    const free = await send(rig.base, "/echo");
    assert.equal(free.headers["x-cache"], "MISS");
    assert.deepEqual(JSON.parse(free.text), { tier: "free" });
    const gold = await send(rig.base, "/echo", { "x-tier": "gold" });
    assert.deepEqual([gold.headers["x-cache"], JSON.parse(gold.text)], ["HIT", { tier: "gold" }]);
  });

  it("normalizes Accept-Encoding: equivalent lists share an entry, and the backend sees the canonical one", async () => {
    rig.central.behaviour = { status: 200, headers: { vary: "accept-encoding" }, delayMs: 0 };
    const first = await send(rig.base, "/echo", { "accept-encoding": "br;q=1.0, GZIP, x-unknown" });
    const second = await send(rig.base, "/echo", { "accept-encoding": "gzip,br" });
    assert.deepEqual([first.headers["x-cache"], second.headers["x-cache"]], ["MISS", "HIT"]);
    assert.equal(rig.central.received[0].headers["accept-encoding"], "br,gzip");
    const refused = await send(rig.base, "/echo", { "accept-encoding": "gzip;q=0, br" });
    assert.equal(refused.headers["x-cache"], "MISS", "gzip;q=0 refuses gzip: not the same set");
  });

  it("never replays an encoded response to a client that did not accept the encoding, even without Vary", async () => {
    rig.central.behaviour = { status: 200, headers: { "content-encoding": "gzip" }, delayMs: 0 };
    const gzip = await send(rig.base, "/echo", { "accept-encoding": "gzip" });
    const plain = await send(rig.base, "/echo", { "accept-encoding": "identity" });
    assert.equal(gzip.headers["content-encoding"], "gzip");
    assert.deepEqual([gzip.headers["x-cache"], plain.headers["x-cache"]], ["MISS", "MISS"]);
    assert.equal(rig.central.received.length, 2);
  });

  it("never stores a response that varies on * or on what the key cannot hold", async () => {
    for (const vary of ["*", "accept-language, *", "authorization", "host"]) {
      rig.central.behaviour = { status: 200, headers: { vary }, delayMs: 0 };
      const body = JSON.stringify({ vary });
      const first = await send(rig.base, "/echo", {}, body);
      const second = await send(rig.base, "/echo", {}, body);
      assert.deepEqual([first.headers["x-cache"], second.headers["x-cache"]], ["BYPASS", "BYPASS"], `Vary: ${vary}`);
    }
    assert.equal(rig.central.received.length, 8);
  });

  it("keys on the normalized query: ?lang=evil is not replayed without it, parameter order does not matter", async () => {
    const evil = await send(rig.base, "/echo?lang=evil");
    const clean = await send(rig.base, "/echo");
    assert.deepEqual([evil.headers["x-cache"], clean.headers["x-cache"]], ["MISS", "MISS"]);
    assert.equal((await send(rig.base, "/echo?b=2&a=1")).headers["x-cache"], "MISS");
    assert.equal((await send(rig.base, "/echo?a=1&b=2")).headers["x-cache"], "HIT");
    assert.equal((await send(rig.base, "/echo?a=2&a=1")).headers["x-cache"], "MISS", "repeated parameters keep their order");
  });

  it("coalesces concurrent misses but gives no waiter a variant its own headers do not select", async () => {
    let release!: () => void;
    rig.central.behaviour = {
      status: 200,
      headers: { vary: "x-tier" },
      delayMs: 0,
      hold: new Promise<void>((resolve) => (release = resolve)),
      body: (req) => ({ tier: req.headers["x-tier"] ?? "free" }),
    };
    const tiers = ["gold", "gold", "free", "silver", "gold", "free"];
    const pending = tiers.map((tier) => send(rig.base, "/echo", tier === "free" ? {} : { "x-tier": tier }));
    // Until the first response names its Vary, the requests share one key: one backend call.
    while (rig.central.received.length === 0) await new Promise((resolve) => setImmediate(resolve));
    release();
    const answers = await Promise.all(pending);
    answers.forEach((answer, i) => assert.deepEqual(JSON.parse(answer.text), { tier: tiers[i] }, `request ${i} (${tiers[i]})`));
    assert.ok(rig.central.received.length <= 3, `one backend call per variant at most, got ${rig.central.received.length}`);
  });
});
