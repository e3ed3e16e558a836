import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { apiKeyAuthenticator, authenticate } from "../../../../gateway/stages/authenticate";
import { ServingError } from "../../../../runtime/contract";
import { exchange, request, route } from "./exchange-fixture";

const withHeaders = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

describe("API-key auth", () => {
  const authenticate = apiKeyAuthenticator(["first-key-0123456789", "second-key-0123456789"]);

  it("maps each valid key to a stable tenant id that does not reveal the key", () => {
    const a = authenticate(withHeaders({ authorization: "Bearer first-key-0123456789" }));
    const b = authenticate(withHeaders({ "x-api-key": "second-key-0123456789" }));
    assert.match(a, /^t-[0-9a-f]{12}$/);
    assert.notEqual(a, b);
    assert.equal(authenticate(withHeaders({ "x-api-key": "first-key-0123456789" })), a);
    assert.ok(!a.includes("first"));
  });

  it("refuses missing and wrong keys with UNAUTHORIZED", () => {
    for (const headers of [
      {} as Record<string, string>,
      { authorization: "Bearer nope" },
      { authorization: "Basic Zm9v" },
      { "x-api-key": "first-key-012345678" },
    ]) {
      assert.throws(
        () => authenticate(withHeaders(headers)),
        (e: ServingError) => e.code === "UNAUTHORIZED" && e.status === 401,
      );
    }
  });
});

describe("authenticate stage", () => {
  const stage = authenticate(["first-key-0123456789"]);

  it("names the tenant on api-key routes and leaves other routes' callers public", () => {
    const keyed = exchange(request({ headers: { authorization: "Bearer first-key-0123456789" } }), route("POST /k", { auth: "api-key" }));
    stage.run!(keyed);
    assert.match(keyed.record.tenant, /^t-[0-9a-f]{12}$/);
    const open = exchange(request({ headers: { authorization: "Bearer first-key-0123456789" } }), route("POST /o", { auth: "none" }));
    stage.run!(open);
    assert.equal(open.record.tenant, "public");
  });

  it("refuses an api-key route without a valid key", () => {
    assert.throws(
      () => stage.run!(exchange(request(), route("POST /k", { auth: "api-key" }))),
      (e: ServingError) => e.code === "UNAUTHORIZED",
    );
  });
});
