import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { parseSettings } from "../../../../gateway/config";
import { adminKeyCheck, apiKeyTenants, AuthFailures, authenticate } from "../../../../gateway/stages/authenticate";
import { ServingError } from "../../../../runtime/contract";
import { until } from "../../../support/until";
import { exchange, request, route } from "./exchange-fixture";

const KEY = "first-key-0123456789";
const rateLimited = (e: ServingError) => e.code === "RATE_LIMITED" && e.status === 429 && Number(e.headers["retry-after"]) >= 1;
const unauthorized = (e: ServingError) => e.code === "UNAUTHORIZED" && e.status === 401;
/** What a stage run comes to: "ok", or the refusal's code. */
const outcome = (run: () => void | Promise<void>) =>
  Promise.resolve()
    .then(run)
    .then(
      () => "ok",
      (e: ServingError) => e.code,
    );

describe("API-key lookup", () => {
  const tenantOf = apiKeyTenants([KEY, "second-key-0123456789"]);

  it("maps each valid key to a stable tenant id that does not reveal the key", () => {
    const a = tenantOf(KEY)!;
    const b = tenantOf("second-key-0123456789")!;
    assert.match(a, /^t-[0-9a-f]{12}$/);
    assert.notEqual(a, b);
    assert.equal(tenantOf(KEY), a);
    assert.ok(!a.includes("first"));
  });

  it("knows no other key", () => {
    for (const key of ["nope", "first-key-012345678", `${KEY} `]) assert.equal(tenantOf(key), undefined);
  });
});

describe("failed authentications", () => {
  it("refuses an address once its wrong keys pass the limit, with Retry-After, and no other address", async () => {
    const failures = new AuthFailures({ perAddress: 3, windowSeconds: 60 }, "test");
    for (let i = 0; i < 3; i++) {
      failures.admit("198.51.100.7");
      await failures.failed("198.51.100.7");
    }
    await assert.rejects(failures.failed("198.51.100.7"), rateLimited);
    assert.throws(() => failures.admit("198.51.100.7"), rateLimited);
    assert.throws(
      () => failures.admit("198.51.100.7"),
      (e: ServingError) => Number(e.headers["retry-after"]) <= 60,
    );
    failures.admit("198.51.100.8");
  });

  it("admits the address again once its window has passed", async () => {
    const failures = new AuthFailures({ perAddress: 1, windowSeconds: 1 }, "test");
    await failures.failed("198.51.100.7");
    await assert.rejects(failures.failed("198.51.100.7"), rateLimited);
    const blockedAt = Date.now();
    await until(() => {
      try {
        failures.admit("198.51.100.7");
        return true;
      } catch {
        return false;
      }
    }, 50);
    assert.ok(Date.now() - blockedAt >= 500, "the block lasts for the rest of the window");
    await failures.failed("198.51.100.7");
  });
});

describe("authenticate stage", () => {
  const keyed = (headers: Record<string, string> = {}, client = "198.51.100.7") => {
    const x = exchange(request({ headers }), route("POST /k", { auth: "api-key" }));
    x.client = client;
    return x;
  };

  it("names the tenant on api-key routes and leaves other routes' callers public", () => {
    const stage = authenticate([KEY], new AuthFailures({ perAddress: 10, windowSeconds: 60 }, "test"));
    const x = keyed({ authorization: `Bearer ${KEY}` });
    assert.equal(stage.run!(x), undefined, "a valid key is checked without waiting for anything");
    assert.match(x.record.tenant, /^t-[0-9a-f]{12}$/);
    const y = keyed({ "x-api-key": KEY });
    stage.run!(y);
    assert.equal(y.record.tenant, x.record.tenant);
    const open = exchange(request({ headers: { authorization: `Bearer ${KEY}` } }), route("POST /o", { auth: "none" }));
    stage.run!(open);
    assert.equal(open.record.tenant, "public");
  });

  it("refuses a missing key without counting it, and counts wrong keys against the client address", async () => {
    const stage = authenticate([KEY], new AuthFailures({ perAddress: 2, windowSeconds: 60 }, "test"));
    for (const headers of [{}, { authorization: "Basic Zm9v" }, { authorization: "Bearer " }] as Array<Record<string, string>>)
      assert.throws(() => stage.run!(keyed(headers)), unauthorized);
    const wrong = () => stage.run!(keyed({ authorization: "Bearer nope" }));
    assert.deepEqual([await outcome(wrong), await outcome(wrong), await outcome(wrong)], ["UNAUTHORIZED", "UNAUTHORIZED", "RATE_LIMITED"]);
    assert.throws(() => stage.run!(keyed({ authorization: `Bearer ${KEY}` })), rateLimited, "even a valid key, once blocked");
    assert.throws(() => stage.run!(keyed({})), rateLimited);
    stage.run!(keyed({ authorization: `Bearer ${KEY}` }, "198.51.100.8"));
  });
});

describe("admin key check", () => {
  const admin = (key: string | undefined, peer = "198.51.100.7", xff?: string) =>
    ({
      socket: { remoteAddress: peer },
      headers: { ...(key === undefined ? {} : { "x-admin-key": key }), ...(xff ? { "x-forwarded-for": xff } : {}) },
    }) as unknown as IncomingMessage;

  it("admits the admin key and refuses others, limiting wrong keys per client address under the proxy settings", async () => {
    const check = adminKeyCheck(
      parseSettings({ adminKey: "admin-key-0123456789", trustedProxies: ["10.0.0.0/8"], limits: { authFailures: { perAddress: 2 } } }),
    );
    await check(admin("admin-key-0123456789"));
    await assert.rejects(check(admin(undefined)), unauthorized);
    await assert.rejects(check(admin("wrong-key-0123456789")), unauthorized);
    await assert.rejects(check(admin("wrong-key-0123456789", "10.0.0.1", "198.51.100.7")), unauthorized, "the same client behind a proxy");
    await assert.rejects(check(admin("wrong-key-0123456789")), rateLimited);
    await assert.rejects(check(admin("admin-key-0123456789")), rateLimited);
    await check(admin("admin-key-0123456789", "10.0.0.1", "198.51.100.8"));
  });

  it("refuses every key when none is configured", async () => {
    await assert.rejects(adminKeyCheck(parseSettings({}))(admin("admin-key-0123456789")), unauthorized);
  });
});
