import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { clientAddress, clientAddressResolver } from "../../../../gateway/stages/client-address";
import { exchange, request as incoming } from "./exchange-fixture";

const request = (peer: string, xff?: string) =>
  ({ socket: { remoteAddress: peer }, headers: xff ? { "x-forwarded-for": xff } : {} }) as unknown as IncomingMessage;

describe("client address", () => {
  it("ignores X-Forwarded-For entirely when no proxy is trusted", () => {
    assert.equal(clientAddressResolver(0)(request("198.51.100.7", "1.2.3.4")), "198.51.100.7");
  });

  it("takes the entry the trusted proxies appended, not what the client wrote before it", () => {
    const resolve = clientAddressResolver(1);
    assert.equal(resolve(request("10.0.0.1", "6.6.6.6, 203.0.113.5")), "203.0.113.5");
    assert.equal(resolve(request("10.0.0.1", "203.0.113.5")), "203.0.113.5");
    assert.equal(clientAddressResolver(2)(request("10.0.0.1", "6.6.6.6, 203.0.113.5, 10.0.0.2")), "203.0.113.5");
  });
});

describe("client address stage", () => {
  it("records the address the trusted proxies name", () => {
    const x = exchange(incoming({ peer: "10.0.0.1", headers: { "x-forwarded-for": "6.6.6.6, 203.0.113.5" } }));
    clientAddress(1).run!(x);
    assert.equal(x.client, "203.0.113.5");
  });
});
