/**
 * Hole 10: failed authentications are limited per client address. After
 * `limits.authFailures.perAddress` wrong keys (10) in a window, the address
 * gets 429 RATE_LIMITED with Retry-After for the rest of the window, even
 * with a valid key; other addresses are unaffected. The admin key likewise.
 * 127.0.0.1 is a trusted proxy here, so X-Forwarded-For picks the client.
 */
import assert from "node:assert/strict";
import type { Gateway } from "../../gateway/gateway";
import { gatewaySpec, KEY_A, post, startGateway } from "../support/gateway-app";
import { StubUpstream } from "../support/upstream";

const ADMIN_KEY = "admin-key-0123456789";
const from = (address: string) => ({ "x-forwarded-for": address });
const code = async (response: Response) => ((await response.json()) as { error?: { code: string } }).error?.code;

describe("failed authentications per client address (hole 10)", () => {
  let central: StubUpstream;
  let edge: StubUpstream;
  let gateway: { gateway: Gateway; base: string; close: () => Promise<void> };

  beforeEach(async () => {
    central = await new StubUpstream("central").start();
    edge = await new StubUpstream("edge").start();
    gateway = await startGateway(gatewaySpec(), central, edge, { trustedProxies: ["127.0.0.1"], adminKey: ADMIN_KEY });
  });
  afterEach(async () => {
    await gateway?.close();
    await central?.kill();
    await edge?.kill();
  });

  /** Asserts 10 UNAUTHORIZED then RATE_LIMITED with a Retry-After within the window. */
  async function assertLimited(responses: Response[]): Promise<void> {
    const codes = await Promise.all(responses.map(code));
    const unauthorized = codes.filter((c) => c === "UNAUTHORIZED").length;
    assert.equal(unauthorized, 10, `${unauthorized} of ${responses.length} wrong keys were tried`);
    assert.equal(codes.filter((c) => c === "RATE_LIMITED").length, responses.length - 10);
    for (const response of responses.filter((r) => r.status === 429)) {
      const retryAfter = Number(response.headers.get("retry-after"));
      assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    }
  }

  it("refuses a guessing address after 10 wrong API keys, even with a valid key, and leaves other addresses alone", async () => {
    const { base } = gateway;
    const guesses: Response[] = [];
    for (let i = 0; i < 30; i++)
      guesses.push(await post(base, "/echo", { i }, `wrong-key-${String(i).padStart(10, "0")}`, from("198.51.100.1")));
    await assertLimited(guesses);
    assert.deepEqual(
      guesses.slice(0, 10).map((r) => r.status),
      Array(10).fill(401),
    );

    const valid = await post(base, "/echo", { valid: 1 }, KEY_A, from("198.51.100.1"));
    assert.equal(valid.status, 429, "a blocked address is refused before its key is checked, so a right guess reveals nothing");
    assert.equal(await code(valid), "RATE_LIMITED");
    assert.equal((await post(base, "/open", {}, undefined, from("198.51.100.1"))).status, 200, "routes without auth are not affected");

    assert.equal((await post(base, "/echo", { other: 1 }, KEY_A, from("198.51.100.2"))).status, 200);
    assert.equal((await post(base, "/echo", { other: 2 }, "wrong-key-0123456789", from("198.51.100.2"))).status, 401);
    assert.equal((await post(base, "/echo", { direct: 1 }, KEY_A)).status, 200, "the proxy's own address is another client");
  });

  it("counts wrong keys sent in parallel exactly", async () => {
    const guesses = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        post(gateway.base, "/echo", { i }, `wrong-key-${String(i).padStart(10, "0")}`, from("198.51.100.3")),
      ),
    );
    await assertLimited(guesses);
  });

  it("does not count requests that present no key", async () => {
    for (let i = 0; i < 20; i++) assert.equal((await post(gateway.base, "/echo", { i }, undefined, from("198.51.100.4"))).status, 401);
    assert.equal((await post(gateway.base, "/echo", {}, KEY_A, from("198.51.100.4"))).status, 200);
  });

  it("limits wrong admin keys the same way", async () => {
    const reload = (key: string, address: string) =>
      fetch(`${gateway.base}/admin/reload`, { method: "POST", headers: { "x-admin-key": key, ...from(address) } });
    const guesses: Response[] = [];
    for (let i = 0; i < 30; i++) guesses.push(await reload(`wrong-admin-${String(i).padStart(10, "0")}`, "198.51.100.5"));
    await assertLimited(guesses);

    const right = await reload(ADMIN_KEY, "198.51.100.5");
    assert.equal(right.status, 429);
    assert.equal(await code(right), "RATE_LIMITED");
    // This gateway has no reload source: an admitted request gets past the key check to a failed reload (500, fixed text).
    const other = await reload(ADMIN_KEY, "198.51.100.6");
    assert.equal(other.status, 500);
    assert.equal(await code(other), "INTERNAL");
  });
});
