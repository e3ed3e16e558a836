import assert from "node:assert/strict";
import { OFFLINE_GATEWAY_NETWORK } from "../../../../providers/alicloud/describe";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import example from "../../../../examples/support-desk/app";
import { AlicloudApp } from "../../../../providers/alicloud/app";
import { planUnderMocks, type PlannedResource } from "../../../../providers/plan";
import { evaluatePolicies, toPolicyResources } from "../../../../policy/runner";
import { App, fcCanaries, type SpecV1 } from "../../../../sdk";

const placeholderKey = readFileSync(join(__dirname, "../../../../providers/alicloud/offline-plan-key.pem"), "utf8");
const intent = example.toSpec().models["intent@1"];

/** Two versions of the intent model on a T4 pool, split by a route (sticky or not); `v2Memory` makes version 2 unlike version 1. */
function canaryApp(options: { sticky?: boolean; v2Memory?: `${number} MB` } = {}): SpecV1 {
  const app = new App("canary-desk", { root: example.root });
  const central = app.region("central", { kind: "central", placement: { alicloud: { region: "eu-central-1" } } });
  const pool = app.gpuPool("t4", { accelerator: "nvidia-t4", maxSize: 4, regions: [central] });
  const scaling = app.scalingPolicy("warm", { minInstances: 1, maxInstances: 4, targetConcurrency: 8 });
  const version = (v: string, memory?: `${number} MB`) =>
    app.model("intent", { version: v, artifact: intent.artifact, signature: intent.signature, pool, scaling, memory, regions: [central] });
  const v1 = version("1");
  const v2 = version("2", options.v2Memory);
  app.route("POST /v1/intent", {
    rateLimit: { requests: 50, per: "1 second" },
    target: {
      strategy: "canary",
      sticky: options.sticky,
      versions: [
        { model: v1, weight: 90 },
        { model: v2, weight: 10 },
      ],
    },
  });
  return app.toSpec({ target: "alicloud" });
}

async function plan(spec: SpecV1): Promise<{ resources: PlannedResource[]; endpoints: any }> {
  const { resources, result } = await planUnderMocks(
    () =>
      new AlicloudApp("canary-desk", {
        spec,
        root: example.root,
        runtimeImage: "registry.{region}.aliyuncs.com/cloudloom/runtime:0.1.0",
        jwtPrivateKey: placeholderKey,
        gatewayNetwork: { central: OFFLINE_GATEWAY_NETWORK },
      }).endpoints,
  );
  return { resources, endpoints: result };
}

describe("Alibaba Cloud: a canary between model versions is an FC alias with the route's weights (under mocks)", () => {
  let resources: PlannedResource[];
  let endpoints: any;
  // The model's resources; the central region's gateway (gateway.test.ts) is left out.
  const all = (type: string) =>
    resources.filter((r) => r.type === type && !r.name.includes("-gateway-")).map((r) => ({ name: r.name, ...(r.inputs as any) }));

  before(async () => ({ resources, endpoints } = await plan(canaryApp())));

  it("serves both versions from one FC function that mounts the model's prefix and serves the version its environment names", () => {
    const functions = all("alicloud:fc/v3Function:V3Function");
    assert.deepEqual(
      functions.map((f) => f.name),
      ["canary-desk-intent-central"],
    );
    const fn = functions[0];
    const commands: string[] = fn.customContainerConfig.commands;
    const option = (flag: string) => commands[commands.indexOf(flag) + 1];
    assert.equal(commands[0], "serve");
    assert.equal(option("--spec"), "/mnt/model/{version}/spec.json");
    assert.equal(option("--only"), "model:intent@{version}");
    assert.equal(option("--region"), "central");
    assert.equal(option("--artifact"), "/mnt/model/{version}/model.onnx");
    assert.equal(fn.ossMountConfig.mountPoints[0].bucketPath, "/intent");
    assert.deepEqual(fn.environmentVariables, { CLOUDLOOM_MODEL_VERSION: "2" });
    assert.deepEqual(fn.gpuConfig, { gpuType: "fc.gpu.tesla.1", gpuMemorySize: 16384 });
  });

  it("publishes one FC version per model version, each with its model version in its environment", () => {
    const publishes = all("pulumi-nodejs:dynamic:Resource");
    assert.deepEqual(
      publishes.map((p) => [p.name, p.functionName, p.environment, p.endpoint]),
      [
        [
          "canary-desk-intent-central-v1",
          "canary-desk-intent-central",
          { CLOUDLOOM_MODEL_VERSION: "1" },
          "123456789012.eu-central-1.fc.aliyuncs.com",
        ],
        [
          "canary-desk-intent-central-v2",
          "canary-desk-intent-central",
          { CLOUDLOOM_MODEL_VERSION: "2" },
          "123456789012.eu-central-1.fc.aliyuncs.com",
        ],
      ],
    );
    assert.match(publishes[0].description, /^cloudloom intent@1 revision [0-9a-f]{16}$/);
  });

  it("gives the route an alias whose weights equal the spec's canary weights", () => {
    const route = canaryApp().routes["POST /v1/intent"].target as { weights: Record<string, number> };
    const [alias] = all("alicloud:fc/v3Alias:V3Alias");
    assert.deepEqual([alias.aliasName, alias.versionId, alias.additionalVersionWeight], ["route-post-v1-intent", "1", { "2": 0.1 }]);
    assert.equal(route.weights["1"] / 100, 1 - alias.additionalVersionWeight["2"]);
    assert.equal(route.weights["2"] / 100, alias.additionalVersionWeight["2"]);
    const provision = all("alicloud:fc/v3ProvisionConfig:V3ProvisionConfig");
    assert.deepEqual(
      provision.map((p) => [p.qualifier, p.target, p.alwaysAllocateGpu]),
      [["route-post-v1-intent", 1, true]],
    );
  });

  it("reaches every version and the route's split only with the gateway's JWT, and maps them for the gateway", () => {
    const triggers = all("alicloud:fc/v3Trigger:V3Trigger");
    assert.deepEqual(
      triggers.map((t) => [t.triggerName, t.qualifier, JSON.parse(t.triggerConfig).authType]),
      [
        ["http-v1", "1", "jwt"],
        ["http-v2", "2", "jwt"],
        ["http-route-post-v1-intent", "route-post-v1-intent", "jwt"],
      ],
    );
    assert.deepEqual(endpoints.models["intent@2"].central, {
      url: "https://canary-desk-intent-central-v2.eu-central-1.fcapp.run",
      jwt: { issuer: "cloudloom", audience: "canary-desk-intent-central-v2" },
    });
    assert.deepEqual(endpoints.canaries["POST /v1/intent"].central, {
      url: "https://canary-desk-intent-central-route-post-v1-intent.eu-central-1.fcapp.run",
      jwt: { issuer: "cloudloom", audience: "canary-desk-intent-central-route-post-v1-intent" },
    });
  });

  it("passes every policy of the pack", async () => {
    // The gateway's own trigger is anonymous by design; see gateway.test.ts (pending an exemption in anonymous-endpoints.ts).
    assert.deepEqual(
      (await evaluatePolicies(toPolicyResources(resources))).filter((v) => !v.resource.includes("-gateway-")),
      [],
    );
  });

  it("leaves sticky splits, and versions unlike each other, to the gateway: a function per version, no alias split", async () => {
    for (const spec of [canaryApp({ sticky: true }), canaryApp({ v2Memory: "8192 MB" })]) {
      assert.deepEqual(fcCanaries(spec), []);
      const { resources: planned, endpoints: map } = await plan(spec);
      const names = planned
        .filter((r) => r.type === "alicloud:fc/v3Function:V3Function" && !r.name.includes("-gateway-"))
        .map((r) => r.name);
      assert.deepEqual(names, ["canary-desk-intent-v1-central", "canary-desk-intent-v2-central"]);
      assert.equal(map.canaries, undefined);
    }
  });
});
