import assert from "node:assert/strict";
import { GatewayConfigError, parseEndpoints, parseSettings } from "../../../gateway/config";
import { gatewaySpec } from "../../support/gateway-app";

/** An endpoint in the central region for every entry of a spec section. */
const endpointsOf = (entries: object) =>
  Object.fromEntries(Object.keys(entries).map((name) => [name, { central: "https://backend.example" }]));

describe("gateway configuration", () => {
  it("fills safe defaults", () => {
    const settings = parseSettings({});
    assert.deepEqual(settings.trustedProxies, []);
    assert.equal(settings.trustProxyHops, undefined);
    assert.equal(settings.limits.bodyBytes, 1_048_576);
    assert.deepEqual(settings.limits.authFailures, { perAddress: 10, windowSeconds: 60 });
    assert.equal(settings.locality.header, "x-cloudloom-locality");
    assert.equal(parseSettings({ redis: { url: "redis://10.0.0.5:6379" } }).redis?.commandTimeoutMs, 50);
  });

  it("takes proxies as addresses or ranges of either family, with an optional cap on hops", () => {
    const settings = parseSettings({ trustedProxies: ["10.0.0.0/8", "127.0.0.1", "2001:db8::/32", "::1"], trustProxyHops: 2 });
    assert.equal(settings.trustedProxies.length, 4);
    assert.equal(settings.trustProxyHops, 2);
  });

  it("names every bad field", () => {
    assert.throws(
      () =>
        parseSettings({
          trustProxyHops: -1,
          trustedProxies: ["10.0.0.0/8", "proxy.internal"],
          apiKeys: ["short"],
          redis: { url: "http://x", commandTimeoutMs: 0 },
          limits: { authFailures: { perAddress: 0 } },
          limitz: {},
          locality: { cidrs: [{ cidr: "10.0.0.0/33", locality: "x" }] },
        }),
      (e: GatewayConfigError) =>
        e.code === "CL_GATEWAY_CONFIG" &&
        [
          "trustProxyHops",
          "trustedProxies.1",
          "apiKeys.0",
          "redis.url",
          "redis.commandTimeoutMs",
          "limits.authFailures.perAddress",
          "",
          "locality.cidrs.0.cidr",
        ].every((path) => e.problems.some((p) => p.path === path)) &&
        /API keys must be at least 16 characters/.test(e.message),
    );
  });

  it("refuses trustProxyHops alone, which trusted X-Forwarded-For from any peer, naming trustedProxies as the fix", () => {
    assert.throws(
      () => parseSettings({ trustProxyHops: 1 }),
      (e: GatewayConfigError) =>
        e.problems.length === 1 &&
        e.problems[0].path === "trustProxyHops" &&
        /list their addresses or ranges in trustedProxies/.test(e.message),
    );
    assert.equal(parseSettings({ trustProxyHops: 0 }).trustProxyHops, 0, "trusting no hop needs no proxy list");
  });

  it("refuses an endpoints map that misses a routed function or model version", () => {
    const spec = gatewaySpec();
    assert.throws(
      () => parseEndpoints({ functions: {}, models: {} }, spec),
      (e: GatewayConfigError) => e.problems.some((p) => p.path === "functions.echo") && e.problems.some((p) => p.path === "models.m@2"),
    );
    assert.throws(() => parseEndpoints({ functions: { echo: { central: "not a url" } }, models: {} }, spec), /functions\.echo\.central/);
  });

  it("accepts a backend split for a model route, and names one for anything else", () => {
    const spec = gatewaySpec();
    const base = { functions: endpointsOf(spec.functions), models: endpointsOf(spec.models) };
    assert.deepEqual(parseEndpoints({ ...base, canaries: { "POST /model": { central: "https://alias.example" } } }, spec).canaries, {
      "POST /model": { central: "https://alias.example" },
    });
    assert.throws(
      () => parseEndpoints({ ...base, canaries: { "POST /echo": { central: "https://alias.example" } } }, spec),
      (e: GatewayConfigError) => e.problems.some((p) => p.path === "canaries.POST /echo" && /not a model route/.test(p.message)),
    );
  });
});
