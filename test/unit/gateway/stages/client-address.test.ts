import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { clientAddress, clientAddressResolver } from "../../../../gateway/stages/client-address";
import { exchange, request as incoming } from "./exchange-fixture";

const request = (peer: string, xff?: string | string[]) =>
  ({ socket: { remoteAddress: peer }, headers: xff ? { "x-forwarded-for": xff } : {} }) as unknown as IncomingMessage;

describe("client address", () => {
  it("ignores X-Forwarded-For entirely when no proxy is trusted, or no hop is", () => {
    assert.equal(clientAddressResolver({ trustedProxies: [] })(request("198.51.100.7", "1.2.3.4")), "198.51.100.7");
    assert.equal(clientAddressResolver({ trustedProxies: ["10.0.0.0/8"], trustProxyHops: 0 })(request("10.0.0.1", "1.2.3.4")), "10.0.0.1");
  });

  it("ignores X-Forwarded-For from a peer that is not a trusted proxy", () => {
    const resolve = clientAddressResolver({ trustedProxies: ["10.0.0.0/8", "192.0.2.1"] });
    assert.equal(resolve(request("198.51.100.7", "1.2.3.4")), "198.51.100.7");
    assert.equal(
      resolve(request("198.51.100.7", "1.2.3.4, 10.0.0.1")),
      "198.51.100.7",
      "naming a trusted proxy in the header buys nothing",
    );
    assert.equal(resolve(request("192.0.2.2", "1.2.3.4")), "192.0.2.2");
  });

  it("takes the first untrusted address from the right, not what the client wrote before it", () => {
    const resolve = clientAddressResolver({ trustedProxies: ["10.0.0.0/8"] });
    assert.equal(resolve(request("10.0.0.1", "6.6.6.6, 203.0.113.5")), "203.0.113.5");
    assert.equal(resolve(request("10.0.0.1", "6.6.6.6, 203.0.113.5, 10.0.0.2")), "203.0.113.5");
    assert.equal(resolve(request("10.0.0.1", ["6.6.6.6", "203.0.113.5, 10.0.0.2"])), "203.0.113.5", "repeated headers are one list");
    assert.equal(resolve(request("10.0.0.1", "10.0.0.3, 10.0.0.2")), "10.0.0.3", "a chain of proxies only: the leftmost");
    assert.equal(resolve(request("10.0.0.1")), "10.0.0.1", "no header: the proxy itself");
    assert.equal(resolve(request("10.0.0.1", "not-an-address, 10.0.0.2")), "not-an-address", "garbage a proxy passed on is never trusted");
  });

  it("steps over at most trustProxyHops proxies", () => {
    const resolve = clientAddressResolver({ trustedProxies: ["10.0.0.0/8"], trustProxyHops: 1 });
    assert.equal(resolve(request("10.0.0.1", "203.0.113.5, 10.0.0.2")), "10.0.0.2");
    assert.equal(
      clientAddressResolver({ trustedProxies: ["10.0.0.0/8"], trustProxyHops: 2 })(request("10.0.0.1", "203.0.113.5, 10.0.0.2")),
      "203.0.113.5",
    );
  });

  it("matches IPv6 ranges and IPv4-mapped peers, and keys a mapped address as plain IPv4", () => {
    const resolve = clientAddressResolver({ trustedProxies: ["127.0.0.1", "2001:db8::/32"] });
    assert.equal(resolve(request("::ffff:127.0.0.1", "203.0.113.5")), "203.0.113.5");
    assert.equal(resolve(request("2001:db8::7", "2001:db8:1::1, ::ffff:203.0.113.6")), "203.0.113.6");
    assert.equal(clientAddressResolver({ trustedProxies: [] })(request("::ffff:198.51.100.7")), "198.51.100.7");
  });
});

describe("client address stage", () => {
  it("records the address the trusted proxies name", () => {
    const x = exchange(incoming({ peer: "10.0.0.1", headers: { "x-forwarded-for": "6.6.6.6, 203.0.113.5" } }));
    clientAddress({ trustedProxies: ["10.0.0.1"] }).run!(x);
    assert.equal(x.client, "203.0.113.5");
  });
});
