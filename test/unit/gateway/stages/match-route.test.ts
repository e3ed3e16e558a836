import assert from "node:assert/strict";
import { IncomingMessage, ServerResponse } from "node:http";
import { Exchange } from "../../../../gateway/exchange";
import { matchRoute } from "../../../../gateway/stages/match-route";
import type { ServingError } from "../../../../runtime/contract";
import { request, route, table } from "./exchange-fixture";

describe("route match stage", () => {
  const echo = route("POST /echo");
  const stage = matchRoute(64);
  const over = (req: IncomingMessage) => new Exchange(req, new ServerResponse(req), table(echo));

  it("finds the route by method and path, ignoring the query", () => {
    const x = over(request({ url: "/echo?region=de" }));
    stage.run!(x);
    assert.equal(x.route, echo);
    assert.equal(x.record.route, "POST /echo");
  });

  it("answers 404 for an unknown path, 405 for another method on a known one, 414 for an over-long URL", () => {
    const codeOf = (req: IncomingMessage) => {
      try {
        stage.run!(over(req));
        return "matched";
      } catch (error) {
        return (error as ServingError).code;
      }
    };
    assert.equal(codeOf(request({ url: "/nowhere" })), "NOT_FOUND");
    assert.equal(codeOf(request({ method: "GET", url: "/echo" })), "METHOD_NOT_ALLOWED");
    assert.equal(codeOf(request({ url: `/echo?${"q".repeat(64)}` })), "URI_TOO_LONG");
  });
});
