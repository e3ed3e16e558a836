import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { apiKeyAuthenticator } from "../../../../gateway/pipeline/auth";
import { ServingError } from "../../../../runtime/errors";

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
