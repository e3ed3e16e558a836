import assert from "node:assert/strict";
import { GatewayConfigError, parseEndpoints, parseSettings } from "../../../gateway/config";
import { gatewaySpec } from "../../support/gateway-app";

/** An endpoint in the central region for every entry of a spec section. */
const endpointsOf = (entries: object) =>
  Object.fromEntries(Object.keys(entries).map((name) => [name, { central: "https://backend.example" }]));

describe("gateway configuration", () => {
  it("fills safe defaults", () => {
    const settings = parseSettings({});
    assert.equal(settings.trustProxyHops, 0);
    assert.equal(settings.limits.bodyBytes, 1_048_576);
    assert.equal(settings.locality.header, "x-cloudloom-locality");
  });

  it("names every bad field", () => {
    assert.throws(
      () =>
        parseSettings({
          trustProxyHops: -1,
          apiKeys: ["short"],
          redis: { url: "http://x" },
          limitz: {},
          locality: { cidrs: [{ cidr: "10.0.0.0/33", locality: "x" }] },
        }),
      (e: GatewayConfigError) =>
        e.code === "CL_GATEWAY_CONFIG" &&
        ["trustProxyHops", "apiKeys.0", "redis.url", "", "locality.cidrs.0.cidr"].every((path) =>
          e.problems.some((p) => p.path === path),
        ) &&
        /API keys must be at least 16 characters/.test(e.message),
    );
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
