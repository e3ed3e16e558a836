import assert from "node:assert/strict";
import { alicloudDescription, OFFLINE_GATEWAY_NETWORK } from "../../../../providers/alicloud/describe";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { unzipSync } from "fflate";
import * as pulumi from "@pulumi/pulumi";
import { planApp, stackConfig, type Plan } from "../../../../cli/plan";
import { planUnderMocks } from "../../../../providers/plan";
import { runStack } from "../../../../stacks/program";
import { publicJwks } from "../../../../providers/shared/jwks";
import { toFcCron } from "../../../../providers/alicloud/cron";
import { App } from "../../../../sdk";
import example from "../../../../examples/support-desk/app";
import { ACK_TYPES } from "./ack.test";
import { GATEWAY_TYPES } from "./gateway.test";

const SECRET = "4dabf18193072939515e22adb298388d";
const only = (plan: Plan, type: string, name: string): any => {
  const found = plan.resources.filter((r) => r.type === type && r.name === name);
  assert.equal(found.length, 1, `one ${type} ${name}`);
  return found[0].inputs;
};
const byType = (plan: Plan, type: string) => plan.resources.filter((r) => r.type === type);
const placeholderKey = readFileSync(join(__dirname, "../../../../providers/alicloud/offline-plan-key.pem"), "utf8");

describe("Alibaba Cloud app (the example under mocks, from Pulumi.dev-alicloud.yaml)", () => {
  let plan: Plan;

  before(async () => {
    plan = await planApp("examples/support-desk", "alicloud", stackConfig("alicloud"));
  });

  it("creates exactly the documented resource types", () => {
    const readme = readFileSync(require.resolve("../../../../providers/alicloud/README.md"), "utf8");
    const documented = new Set([...readme.matchAll(/`(alicloud:[^`]+)`/g)].map((m) => m[1]));
    const created = new Set(plan.resources.filter((r) => r.custom && !r.type.startsWith("pulumi:providers:")).map((r) => r.type));
    // The ACK rows: created by the example with platform "kubernetes" (ack.test.ts).
    for (const type of ACK_TYPES) created.add(type);
    // The gateway's rows: Redis, and the custom domain and DNS records of cloudloom:dnsDomain (gateway.test.ts).
    for (const type of GATEWAY_TYPES) created.add(type);
    assert.deepEqual([...created].sort(), [...documented].sort());
  });

  it("gives each region one explicit provider, and every resource the provider of its own region", () => {
    assert.deepEqual(
      byType(plan, "pulumi:providers:alicloud").map((p) => [p.name, (p.inputs as any).region]),
      [
        ["support-desk-central", "eu-central-1"],
        ["support-desk-edge-berlin", "eu-central-1"],
      ],
    );
    for (const r of plan.resources.filter((r) => r.custom && r.type.startsWith("alicloud:"))) {
      const region = r.name.includes("edge-berlin") ? "edge-berlin" : "central";
      assert.match(r.provider ?? "", new RegExp(`pulumi:providers:alicloud::support-desk-${region}::`), `${r.type} ${r.name}`);
    }
  });

  it("runs each function on FC 3.0 from its bundled handler, sized from the spec", () => {
    const fn = only(plan, "alicloud:fc/v3Function:V3Function", "support-desk-fn-classify-central");
    assert.deepEqual(
      [fn.runtime, fn.handler, fn.memorySize, fn.cpu, fn.timeout, fn.instanceConcurrency],
      ["nodejs20", "index.handler", 512, 0.25, 10, 50],
    );
    const files = unzipSync(Buffer.from(fn.code.zipFile, "base64"));
    assert.deepEqual(Object.keys(files), ["index.js"]);
    const handler = Buffer.from(files["index.js"]).toString();
    assert.match(handler, /fcHandler/);
    assert.deepEqual(handler.match(/require\("[^"]+"\)/g), ['require("cloudloom-runtime")'], "the runtime comes from the layer");
    const layer = only(plan, "alicloud:fc/v3LayerVersion:V3LayerVersion", "support-desk-central-runtime");
    assert.deepEqual(layer.compatibleRuntimes, ["nodejs20"]);
    const runtime = unzipSync(Buffer.from(layer.code.zipFile, "base64"));
    assert.deepEqual(Object.keys(runtime), [
      "nodejs/node_modules/cloudloom-runtime/index.js",
      "nodejs/node_modules/cloudloom-runtime/tracing.js",
    ]);
    assert.match(Buffer.from(runtime["nodejs/node_modules/cloudloom-runtime/tracing.js"]).toString(), /invocationTracing/);
    assert.match(Buffer.from(runtime["nodejs/node_modules/cloudloom-runtime/index.js"]).toString(), /fcHandler/);
    assert.match(
      Buffer.from(runtime["nodejs/node_modules/cloudloom-runtime/index.js"]).toString(),
      /GetSecretValue/,
      "the layer reads the JWT key from KMS at cold start",
    );
    assert.deepEqual(fn.layers, ["acs:fc:eu-central-1:123456789012:layers/support-desk-central-runtime/versions/1"]);
    assert.ok(!(SECRET in fn.environmentVariables), "the environment holds no secret value: it needs no encryption");
    const env = fn.environmentVariables;
    assert.equal(env.CRM_TOKEN, undefined, "a declared secret is not in the configuration");
    assert.deepEqual(JSON.parse(env.CLOUDLOOM_KMS_SECRETS), { CRM_TOKEN: "support-desk-central-secret-crm-token" });
    assert.equal(env.LOG_LEVEL, "info");
    assert.equal(env.CLOUDLOOM_JWT_PRIVATE_KEY, undefined, "the function's configuration holds no JWT key");
    assert.deepEqual(
      [env.CLOUDLOOM_JWT_PRIVATE_KEY_SECRET, env.CLOUDLOOM_ALICLOUD_REGION],
      ["support-desk-central-jwt-private-key", "eu-central-1"],
      "the function mints its model calls' JWTs with the key it reads from KMS at cold start",
    );
    assert.deepEqual(JSON.parse(env.CLOUDLOOM_RUNTIME).models.intent.endpoint, {
      url: "https://support-desk-intent-v1-central.eu-central-1.fcapp.run",
      jwt: { issuer: "cloudloom", audience: "support-desk-intent-v1-central" },
    });
  });

  it("serves GPU models as FC GPU functions: the T4 type, 1,024 MB-multiple GPU memory, the runtime container on the OSS prefix", () => {
    const model = only(plan, "alicloud:fc/v3Function:V3Function", "support-desk-intent-v1-edge-berlin");
    assert.deepEqual(model.gpuConfig, { gpuType: "fc.gpu.tesla.1", gpuMemorySize: 16384 });
    assert.equal(model.gpuConfig.gpuMemorySize % 1024, 0);
    assert.equal(model.runtime, "custom-container");
    assert.equal(model.customContainerConfig.image, "registry.eu-central-1.aliyuncs.com/cloudloom/runtime:0.1.0");
    assert.deepEqual(model.customContainerConfig.commands.slice(0, 6), [
      "serve",
      "--spec",
      "/mnt/model/spec.json",
      "--only",
      "model:intent@1",
      "--region",
    ]);
    assert.deepEqual(model.ossMountConfig.mountPoints[0], {
      bucketName: "support-desk-edge-berlin-artifacts-offline",
      bucketPath: "/intent/1",
      endpoint: "oss-eu-central-1-internal.aliyuncs.com",
      mountDir: "/mnt/model",
      readOnly: true,
    });
    assert.equal(model.role, "acs:ram::123456789012:role/support-desk-intent-v1-edge-berlin-role");
    const read = JSON.parse(only(plan, "alicloud:ram/policy:Policy", "support-desk-intent-v1-edge-berlin-read").policyDocument);
    assert.deepEqual(read.Statement, [
      { Effect: "Allow", Action: ["oss:GetObject"], Resource: ["acs:oss:*:*:support-desk-edge-berlin-artifacts-offline/intent/1/*"] },
      { Effect: "Allow", Action: ["oss:ListObjects"], Resource: ["acs:oss:*:*:support-desk-edge-berlin-artifacts-offline"] },
    ]);
  });

  it("keeps artifacts in private, KMS-encrypted, versioned OSS buckets that log their access to the region's private log bucket", () => {
    const buckets = byType(plan, "alicloud:oss/bucket:Bucket");
    const logs = buckets.filter((bucket) => bucket.name.endsWith("-access-logs"));
    assert.deepEqual(
      logs.map((bucket) => bucket.name),
      ["support-desk-central-access-logs", "support-desk-edge-berlin-access-logs"],
    );
    for (const bucket of logs) {
      const inputs = bucket.inputs as any;
      assert.deepEqual([inputs.acl, inputs.serverSideEncryptionRule, inputs.logging], ["private", { sseAlgorithm: "AES256" }, undefined]);
    }
    for (const bucket of buckets.filter((bucket) => !logs.includes(bucket))) {
      const inputs = bucket.inputs as any;
      const region = bucket.name.includes("edge-berlin") ? "edge-berlin" : "central";
      assert.deepEqual(
        [inputs.acl, inputs.serverSideEncryptionRule, inputs.versioning],
        ["private", { sseAlgorithm: "KMS" }, { status: "Enabled" }],
      );
      assert.deepEqual(
        inputs.logging?.targetBucket,
        `support-desk-${region}-access-logs-offline`,
        `${bucket.name} logs to its region's log bucket`,
      );
    }
    const object = only(plan, "alicloud:oss/bucketObject:BucketObject", "support-desk-central-artifacts-intent-v1");
    assert.deepEqual([object.key, object.serverSideEncryption], ["intent/1/model.onnx", "KMS"]);
    assert.match(object.source, /examples\/support-desk\/model\/intent\.onnx$/);
  });

  it("never opens a backend's trigger anonymously: every HTTP trigger but the gateway's takes only JWTs signed by the gateway's key, on the live alias", () => {
    const triggers = byType(plan, "alicloud:fc/v3Trigger:V3Trigger").filter((t) => !t.name.includes("-gateway-"));
    assert.equal(triggers.length, 5);
    for (const trigger of triggers) {
      const inputs = trigger.inputs as any;
      const config = JSON.parse(inputs.triggerConfig);
      assert.equal(inputs.triggerType, "http");
      assert.equal(inputs.qualifier, "live");
      assert.equal(config.authType, "jwt");
      assert.deepEqual(JSON.parse(config.authConfig).jwks, publicJwks(placeholderKey));
      assert.deepEqual(JSON.parse(config.authConfig).tokenLookup, [{ type: "header", name: "Authorization", prefix: "Bearer " }]);
    }
    const alias = only(plan, "alicloud:fc/v3Alias:V3Alias", "support-desk-fn-classify-central");
    assert.deepEqual([alias.aliasName, alias.versionId], ["live", "1"]);
  });

  it("provisions functions from the policy: floor, target tracking, and scheduled floors in FC cron with the timezone", () => {
    const config = only(plan, "alicloud:fc/v3ProvisionConfig:V3ProvisionConfig", "support-desk-fn-classify-central");
    assert.deepEqual([config.qualifier, config.target, config.alwaysAllocateGpu], ["live", 1, false]);
    assert.deepEqual(config.targetTrackingPolicies, [
      { name: "concurrency", metricType: "ProvisionedConcurrencyUtilization", metricTarget: 0.7, minCapacity: 1, maxCapacity: 20 },
    ]);
    assert.deepEqual(config.scheduledActions, [
      { name: "floor-0", scheduleExpression: "cron(0 0 8 ? * MON-FRI)", target: 4, timeZone: "Europe/Berlin" },
      { name: "floor-0-end", scheduleExpression: "cron(0 0 9 ? * MON-FRI)", target: 1, timeZone: "Europe/Berlin" },
    ]);
    const model = only(plan, "alicloud:fc/v3ProvisionConfig:V3ProvisionConfig", "support-desk-intent-v1-central");
    assert.deepEqual([model.target, model.alwaysAllocateGpu], [0, false], "a scale-to-zero GPU model keeps no GPU allocated");
  });

  it("outputs the endpoints map with the JWT each endpoint needs", () => {
    assert.deepEqual(plan.endpoints.functions.classify["edge-berlin"], {
      url: "https://support-desk-fn-classify-edge-berlin.eu-central-1.fcapp.run",
      jwt: { issuer: "cloudloom", audience: "support-desk-fn-classify-edge-berlin" },
    });
  });
});

describe("Alibaba Cloud details", () => {
  it("converts cron to FC's six-field syntax with weekday names", () => {
    assert.equal(toFcCron("0 8 * * 1-5"), "cron(0 0 8 ? * MON-FRI)");
    assert.equal(toFcCron("30 6 1 * *"), "cron(0 30 6 1 * ?)");
    assert.equal(toFcCron("0 9 * * 0,6"), "cron(0 0 9 ? * SUN,SAT)");
    assert.throws(() => toFcCron("0 8 1 * 1"), /cannot combine/);
  });

  it("keeps GPUs allocated for a GPU model with a floor of at least one", async () => {
    const app = new App("warm-gpu", { root: example.root });
    const central = app.region("central", { kind: "central", placement: { alicloud: { region: "cn-hangzhou" } } });
    const pool = app.gpuPool("a10", { accelerator: "nvidia-a10", maxSize: 2, regions: [central] });
    const intent = example.toSpec().models["intent@1"];
    app.model("intent", {
      version: "1",
      artifact: intent.artifact,
      signature: intent.signature,
      pool,
      regions: [central],
      scaling: app.scalingPolicy("warm", { minInstances: 1, maxInstances: 3, targetConcurrency: 4 }),
    });
    const { AlicloudApp } = await import("../../../../providers/alicloud/app.js");
    const { planUnderMocks } = await import("../../../../providers/plan.js");
    const { resources } = await planUnderMocks(
      () =>
        new AlicloudApp("warm-gpu", {
          spec: app.toSpec({ target: "alicloud" }),
          root: example.root,
          runtimeImage: "registry.{region}.aliyuncs.com/x/runtime:1",
          jwtPrivateKey: placeholderKey,
          gatewayNetwork: { central: OFFLINE_GATEWAY_NETWORK },
        }).endpoints,
    );
    const config = resources.find((r) => r.type === "alicloud:fc/v3ProvisionConfig:V3ProvisionConfig")!.inputs as any;
    assert.deepEqual([config.target, config.alwaysAllocateGpu], [1, true]);
    const fn = resources.find((r) => r.type === "alicloud:fc/v3Function:V3Function")!.inputs as any;
    assert.deepEqual(fn.gpuConfig, { gpuType: "fc.gpu.ampere.1", gpuMemorySize: 24576 });
  });

  it("publishes a new version whenever a function's configuration changes, and only then", async () => {
    const { AlicloudApp } = await import("../../../../providers/alicloud/app.js");
    const { planUnderMocks } = await import("../../../../providers/plan.js");
    const revisions = async (change: (spec: ReturnType<typeof example.toSpec>) => void = () => {}) => {
      const spec = example.toSpec({ target: "alicloud" });
      change(spec);
      const { resources } = await planUnderMocks(
        () =>
          new AlicloudApp("support-desk", {
            spec,
            root: example.root,
            runtimeImage: "registry.{region}.aliyuncs.com/x/runtime:1",
            jwtPrivateKey: placeholderKey,
            gatewayNetwork: { central: OFFLINE_GATEWAY_NETWORK },
            secrets: { names: ["crm-token"], values: { "crm-token": "offline" } },
          }).endpoints,
      );
      return Object.fromEntries(
        resources
          .filter((r) => r.type === "alicloud:fc/v3FunctionVersion:V3FunctionVersion")
          .map((r) => [r.name, (r.inputs as { description: string }).description]),
      );
    };
    const first = await revisions();
    assert.match(first["support-desk-fn-classify-central"], /^cloudloom revision [0-9a-f]{16}$/);
    assert.deepEqual(await revisions(), first, "the same configuration keeps its version");
    const resized = await revisions((spec) => (spec.functions.classify.memory = "1024 MB"));
    assert.notEqual(resized["support-desk-fn-classify-central"], first["support-desk-fn-classify-central"]);
    assert.equal(resized["support-desk-intent-v1-central"], first["support-desk-intent-v1-central"], "the model did not change");
  });
});

describe("Alibaba Cloud stack config errors (typed, naming the key and the fix, before any resource)", () => {
  const refused = (pattern: RegExp) => (e: Error) => (e as { code?: string }).code === "CL_TARGET_CONFIG" && pattern.test(e.message);

  it("asks for the runtime image when the app has models", async () => {
    // An offline plan fills cloudloom:runtimeImage with a placeholder; the stack program itself refuses without one.
    const settings: Record<string, string> = { ...stackConfig("alicloud"), ...alicloudDescription.placeholders() };
    await assert.rejects(
      planUnderMocks(
        () =>
          runStack({
            target: "alicloud",
            app: "examples/support-desk",
            get: (key) => (key === "runtimeImage" ? undefined : settings[key]),
            getSecret: (key) => (settings[key] === undefined ? undefined : pulumi.secret(settings[key])),
            secretKeys: () => undefined,
          }).endpoints,
      ),
      refused(/cloudloom:runtimeImage is required/),
    );
  });

  it("names a declared secret with no value", async () => {
    await assert.rejects(
      planApp("examples/support-desk", "alicloud", { ...stackConfig("alicloud"), secrets: "{}" }),
      refused(/declare secret crm-token.*cloudloom:secrets.crm-token/),
    );
  });
});
