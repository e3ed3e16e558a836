import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { requestId, requestIdOf } from "../../../../gateway/stages/request-id";
import { exchange, request } from "./exchange-fixture";

describe("request id", () => {
  it("keeps a well-formed caller id and replaces anything else", () => {
    const withId = (id?: string) => ({ headers: id === undefined ? {} : { "x-request-id": id } }) as unknown as IncomingMessage;
    assert.equal(requestIdOf(withId("trace-1234abcd")), "trace-1234abcd");
    for (const bad of [undefined, "short", "has spaces in it", "x".repeat(200), "<script>alert(1)</script>"]) {
      assert.match(requestIdOf(withId(bad)), /^[0-9a-f-]{36}$/);
    }
  });

  it("names the request in its record and in the response's x-request-id", () => {
    const x = exchange(request({ headers: { "x-request-id": "trace-1234abcd" } }));
    requestId().run!(x);
    assert.equal(x.record.id, "trace-1234abcd");
    assert.equal(x.res.getHeader("x-request-id"), "trace-1234abcd");
  });
});
