/**
 * Hole 9: X-Forwarded-For is honoured only from peers inside `trustedProxies`.
 * Every test connection comes from 127.0.0.1, so "a client reaching the
 * gateway directly" is a gateway that does not list 127.0.0.1, and "behind a
 * trusted proxy" one that does. /by-ip allows 2 requests per minute per client address.
 */
import assert from "node:assert/strict";
import { GatewayConfigError, parseSettings } from "../../gateway/config";
import type { Gateway } from "../../gateway/gateway";
import { gatewaySpec, post, startGateway } from "../support/gateway-app";
import { StubUpstream } from "../support/upstream";

describe("X-Forwarded-For from untrusted peers (hole 9)", () => {
  let central: StubUpstream;
  let edge: StubUpstream;
  let gateway: { gateway: Gateway; base: string; close: () => Promise<void> } | undefined;

  beforeEach(async () => {
    central = await new StubUpstream("central").start();
    edge = await new StubUpstream("edge").start();
  });
  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
    await central?.kill();
    await edge?.kill();
  });

  /** Statuses of `count` requests to /by-ip, the i-th with the X-Forwarded-For `xff(i)`. */
  async function byIp(base: string, count: number, xff: (i: number) => string): Promise<number[]> {
    const statuses: number[] = [];
    for (let i = 0; i < count; i++) statuses.push((await post(base, "/by-ip", {}, undefined, { "x-forwarded-for": xff(i) })).status);
    return statuses;
  }
  const allowed = (statuses: number[]) => statuses.filter((s) => s === 200).length;

  it("limits a direct client by its socket address, whatever X-Forwarded-For it writes", async () => {
    gateway = await startGateway(gatewaySpec(), central, edge, { trustedProxies: ["10.0.0.0/8"] });
    const spoofed = await byIp(gateway.base, 40, (i) => `198.51.100.${i}`);
    assert.equal(allowed(spoofed), 2, `${allowed(spoofed)} of 40 spoofed requests were allowed`);
    // Writing a trusted proxy's address as the last hop buys nothing either: the peer itself is not trusted.
    const chained = await byIp(gateway.base, 10, (i) => `198.51.100.${100 + i}, 10.0.0.1`);
    assert.equal(allowed(chained), 0);
  });

  it("uses the client a trusted proxy names, and ignores what the client wrote before it", async () => {
    gateway = await startGateway(gatewaySpec(), central, edge, { trustedProxies: ["127.0.0.1"] });
    assert.deepEqual(await byIp(gateway.base, 3, () => "203.0.113.1"), [200, 200, 429]);
    assert.deepEqual(await byIp(gateway.base, 1, () => "203.0.113.2"), [200], "another client behind the proxy has its own budget");
    const rotated = await byIp(gateway.base, 10, (i) => `6.6.6.${i}, 203.0.113.3`);
    assert.equal(allowed(rotated), 2, "entries left of the proxy's own are the client's to write, so they do not count");
  });

  it("walks a chain of trusted proxies, by address and CIDR, to the first untrusted hop", async () => {
    gateway = await startGateway(gatewaySpec(), central, edge, { trustedProxies: ["127.0.0.1", "10.0.0.0/8"] });
    const chain = await byIp(gateway.base, 10, (i) => `6.6.6.${i}, 203.0.113.4, 10.1.2.${i}`);
    assert.equal(allowed(chain), 2, "the client is 203.0.113.4, whichever inner proxy relayed it");
    assert.deepEqual(await byIp(gateway.base, 1, () => "203.0.113.5, 10.9.9.9"), [200]);
  });

  it("refuses trustProxyHops without trustedProxies, naming the fix", () => {
    assert.throws(
      () => parseSettings({ trustProxyHops: 1 }),
      (e: GatewayConfigError) =>
        e.problems.some((p) => p.path === "trustProxyHops" && /trustedProxies/.test(p.message) && /10\.0\.0\.0\/8/.test(p.message)),
    );
    assert.throws(
      () => parseSettings({ trustedProxies: ["10.0.0.0/33", "proxy.internal"] }),
      (e: GatewayConfigError) =>
        e.problems.some((p) => p.path === "trustedProxies.0") && e.problems.some((p) => p.path === "trustedProxies.1"),
    );
  });
});
