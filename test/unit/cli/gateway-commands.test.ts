import assert from "node:assert/strict";
import { gatewayConfigCommand, gatewayUrlCommand } from "../../../cli/commands/gateway-config";
import { gatewaySettingsFrom, withHomeLocality } from "../../../cli/commands/serve";
import { parseSettings } from "../../../gateway/config";
import example from "../../../examples/support-desk/app";

/** Runs a command over `stackOutput` as standard input; returns its exit code and output. */
function run(command: typeof gatewayUrlCommand, stackOutput: string): { code: number; out: string; err: string } {
  let out = "";
  let err = "";
  const code = command({}, { out: (text) => (out += text), err: (text) => (err += text) }, () => stackOutput);
  return { code, out, err };
}

const outputs = {
  gatewayUrl: "https://api.example.com",
  endpoints: { functions: { classify: { central: "http://classify.internal" } }, models: {} },
};

describe("cloudloom gateway url and gateway config", () => {
  it("prints the stack's gateway URL", () => {
    assert.deepEqual(run(gatewayUrlCommand, JSON.stringify(outputs)), { code: 0, out: "https://api.example.com\n", err: "" });
  });

  it("says so in one line when the stack has no gateway URL, or its output is not JSON", () => {
    const missing = run(gatewayUrlCommand, JSON.stringify({ endpoints: outputs.endpoints }));
    assert.equal(missing.code, 1);
    assert.match(missing.err, /no "gatewayUrl"/);
    const broken = run(gatewayUrlCommand, "{not json");
    assert.equal(broken.code, 1);
    assert.match(broken.err, /not JSON/);
  });

  it("writes the endpoints map for a gateway run by hand", () => {
    const written = run(gatewayConfigCommand, JSON.stringify(outputs));
    assert.equal(written.code, 0);
    assert.deepEqual(JSON.parse(written.out), outputs.endpoints);
  });
});

describe("the gateway's settings in a deployed pod", () => {
  it("takes Redis's URL, password included, from CLOUDLOOM_REDIS_URL over the settings file", () => {
    const url = "redis://:s3cret-password@support-desk-redis.support-desk.svc.cluster.local:6379";
    assert.equal(gatewaySettingsFrom({}, { CLOUDLOOM_REDIS_URL: url }).redis?.url, url);
    assert.equal(gatewaySettingsFrom({}, {}).redis, undefined);
  });

  it("names the field, never the URL, when the URL is not a Redis URL", () => {
    assert.throws(
      () => gatewaySettingsFrom({}, { CLOUDLOOM_REDIS_URL: "http://:s3cret-password@host" }),
      (error: Error) => /redis\.url/.test(error.message) && !error.message.includes("s3cret"),
    );
  });
});

describe("a gateway deployed in a region", () => {
  const spec = example.toDraft();

  it("serves an edge region's clients from its own backends first: requests without a locality take the region's", () => {
    assert.equal(withHomeLocality(parseSettings({}), spec, "edge-berlin").locality.home, "de");
  });

  it("changes nothing in a central region, an unknown one, or where the settings file names a home", () => {
    assert.equal(withHomeLocality(parseSettings({}), spec, "central").locality.home, undefined);
    assert.equal(withHomeLocality(parseSettings({}), spec, "nowhere").locality.home, undefined);
    assert.equal(withHomeLocality(parseSettings({}), spec, undefined).locality.home, undefined);
    assert.equal(withHomeLocality(parseSettings({ locality: { home: "fr" } }), spec, "edge-berlin").locality.home, "fr");
  });
});
