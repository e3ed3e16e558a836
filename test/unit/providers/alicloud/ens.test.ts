import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import * as pulumi from "@pulumi/pulumi";
import example from "../../../../examples/support-desk/app";
import { AlicloudApp, type AlicloudAppArgs } from "../../../../providers/alicloud/app";
import { OFFLINE_GATEWAY_NETWORK } from "../../../../providers/alicloud/describe";
import { parseEnsSettings } from "../../../../providers/alicloud/ens-settings";
import { ensUserData, ENS_USER_DATA_LIMIT } from "../../../../providers/alicloud/ens-user-data";
import { planUnderMocks, type PlannedResource } from "../../../../providers/plan";
import { TargetConfigError } from "../../../../providers/shared/config-error";
import { parseTracingSettings } from "../../../../providers/shared/tracing";
import { JWT_ENV, RUNTIME_ENV } from "../../../../runtime/contract";
import type { SpecV1 } from "../../../../sdk/spec";

const placeholderKey = readFileSync(join(__dirname, "../../../../providers/alicloud/offline-plan-key.pem"), "utf8");
const ENS_OFFERS = { instanceTypes: ["ens.sn1.medium", "ens.gn6i.c8g1.2xlarge"], spot: true, serverless: false };
const SHA = "6ec1d4279a14ab286bdbc97eba2d7217ad8f56e50a7986f807bd8cbff9e1c344";

/** The example with its Berlin edge on an ENS node that sells T4 GPUs, its pool on Spot. */
function onEns(): SpecV1 {
  const spec = example.toSpec({ target: "alicloud" });
  spec.regions["edge-berlin"].placement.alicloud = { region: "eu-central-1", ensRegion: "cn-dalian-unicom", offers: ENS_OFFERS };
  spec.gpuPools["inference-t4"].capacity = "spot";
  return spec;
}

function args(spec: SpecV1): AlicloudAppArgs {
  return {
    spec,
    root: example.root,
    runtimeImage: "registry.{region}.aliyuncs.com/cloudloom/runtime:0.1.0",
    functionImage: "registry.{region}.aliyuncs.com/cloudloom/support-desk:0.1.0",
    jwtPrivateKey: placeholderKey,
    gatewayNetwork: { central: OFFLINE_GATEWAY_NETWORK },
    secrets: { names: ["crm-token"], values: { "crm-token": "offline" } },
    ens: parseEnsSettings(JSON.stringify({ "edge-berlin": { imageId: "m-5si16wo6simkt267p8b7h" } }), spec),
  };
}

/** The files a boot script writes (gzip + base64 heredocs), by path. */
function bootFiles(script: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const match of script.matchAll(/base64 -d <<'EOF' \| gunzip > '([^']+)'\n([A-Za-z0-9+/=]+)\nEOF/g))
    files.set(match[1], gunzipSync(Buffer.from(match[2], "base64")).toString());
  return files;
}

describe("Alibaba Cloud: a region on an ENS node runs on ENS instances (under mocks)", () => {
  let resources: PlannedResource[];
  const all = (type: string) => resources.filter((r) => r.type === type);
  const instance = (suffix: string): any => {
    const found = all("alicloud:ens/instance:Instance").filter((r) => r.name === `support-desk-edge-berlin-${suffix}`);
    assert.equal(found.length, 1, suffix);
    return found[0].inputs;
  };
  // userData holds the access key, so the plan records it as a secret.
  const userData = (suffix: string): string => instance(suffix).userData.value;
  const script = (suffix: string) => Buffer.from(userData(suffix), "base64").toString();

  before(async () => {
    ({ resources } = await planUnderMocks(() => new AlicloudApp("support-desk", args(onEns())).endpoints));
  });

  it("creates the ENS network, vSwitch and security groups that open only the gateway's port to the internet", () => {
    const [network] = all("alicloud:ens/network:Network").map((r) => r.inputs as any);
    assert.equal(network.ensRegionId, "cn-dalian-unicom");
    assert.equal(network.cidrBlock, "10.0.0.0/16");
    const [vswitch] = all("alicloud:ens/vswitch:Vswitch").map((r) => r.inputs as any);
    assert.deepEqual([vswitch.ensRegionId, vswitch.cidrBlock], ["cn-dalian-unicom", "10.0.0.0/24"]);
    const groups = Object.fromEntries(all("alicloud:ens/securityGroup:SecurityGroup").map((r) => [r.name, (r.inputs as any).permissions]));
    assert.deepEqual(
      groups["support-desk-edge-berlin-ens-gateway"].map((p: any) => [p.direction, p.ipProtocol, p.portRange, p.sourceCidrIp, p.policy]),
      [["ingress", "TCP", "8080/8080", "0.0.0.0/0", "Accept"]],
    );
    assert.deepEqual(
      groups["support-desk-edge-berlin-ens-runtime"].map((p: any) => [p.direction, p.portRange, p.sourceCidrIp]),
      [["ingress", "9000/9099", "10.0.0.0/16"]],
    );
  });

  it("creates a runtime, a GPU-pool and a gateway instance from the site's types, Pay-As-You-Go, Spot only for the Spot pool", () => {
    const types = all("alicloud:ens/instance:Instance").map((r) => {
      const i = r.inputs as any;
      return [r.name, i.instanceType, i.spotStrategy, i.privateIpAddress, i.publicIpIdentification];
    });
    assert.deepEqual(types.sort(), [
      ["support-desk-edge-berlin-gateway", "ens.sn1.medium", "NoSpot", "10.0.0.5", true],
      ["support-desk-edge-berlin-inference-t4", "ens.gn6i.c8g1.2xlarge", "SpotAsPriceGo", "10.0.0.20", true],
      ["support-desk-edge-berlin-runtime", "ens.sn1.medium", "NoSpot", "10.0.0.10", true],
    ]);
    for (const suffix of ["gateway", "inference-t4", "runtime"]) {
      const i = instance(suffix);
      assert.equal(i.imageId, "m-5si16wo6simkt267p8b7h");
      assert.equal(i.ensRegionId, "cn-dalian-unicom");
      assert.equal(i.scheduleAreaLevel, "Region");
      assert.equal(i.paymentType, "PayAsYouGo");
      assert.ok(userData(suffix).length <= ENS_USER_DATA_LIMIT, `${suffix} user data ${userData(suffix).length}`);
    }
    assert.equal(instance("gateway").securityId, "support-desk-edge-berlin-ens-gateway-id");
    assert.equal(instance("runtime").securityId, "support-desk-edge-berlin-ens-runtime-id");
  });

  it("runs nothing of the ENS region on Function Compute", () => {
    const fc = all("alicloud:fc/v3Function:V3Function").map((r) => r.name);
    assert.ok(fc.some((n) => n.endsWith("-central")));
    assert.deepEqual(
      fc.filter((n) => n.includes("edge-berlin")),
      [],
    );
  });

  it("boots the function container with the JWT check, its model's signed endpoint and its secret by KMS name", () => {
    const boot = script("runtime");
    const files = bootFiles(boot);
    const spec = JSON.parse(files.get("/opt/cloudloom/config/spec.json")!);
    assert.deepEqual(Object.keys(spec.functions), ["classify"]);
    assert.deepEqual(spec.regions["edge-berlin"].placement.alicloud.ensRegion, "cn-dalian-unicom");
    const env = files.get("/etc/cloudloom/support-desk-fn-classify-edge-berlin.env")!;
    assert.match(env, new RegExp(`^${JWT_ENV.jwks}=\\{"keys":\\[`, "m"));
    assert.match(env, new RegExp(`^${JWT_ENV.issuer}=cloudloom$`, "m"));
    assert.match(env, new RegExp(`^${JWT_ENV.audience}=support-desk-fn-classify-edge-berlin$`, "m"));
    assert.match(env, /^LOG_LEVEL=info$/m);
    assert.match(env, new RegExp(`^${RUNTIME_ENV.jwtPrivateKeySecret}=`, "m"));
    assert.match(env, new RegExp(`^${RUNTIME_ENV.kmsSecrets}=\\{"CRM_TOKEN":"`, "m"));
    assert.doesNotMatch(env, /offline/, "no secret value in the environment");
    assert.match(files.get("/etc/cloudloom/credentials.env")!, /^ALIBABA_CLOUD_ACCESS_KEY_ID=.+\nALIBABA_CLOUD_ACCESS_KEY_SECRET=.+\n$/);
    const run = boot.split("\n").find((line) => line.startsWith("docker run -d --name 'support-desk-fn-classify-edge-berlin'"))!;
    assert.match(run, /-p '10\.0\.0\.10:9000:8080'/);
    assert.match(run, /--read-only .*--cap-drop ALL/);
    assert.match(run, /'registry\.eu-central-1\.aliyuncs\.com\/cloudloom\/support-desk:0\.1\.0'/);
    assert.match(run, /'--only' 'function:classify' '--region' 'edge-berlin'/);
    assert.ok(
      run.includes(
        `'--model-url' 'intent@1={"url":"http://10.0.0.20:9001","jwt":{"issuer":"cloudloom","audience":"support-desk-intent-v1-edge-berlin"}}'`,
      ),
      run,
    );
  });

  it("fetches the model's artifact from OSS and checks its sha256 before starting it on the GPU", () => {
    const boot = script("inference-t4");
    const fetch = boot.split("\n").find((line) => line.startsWith("docker run --rm"))!;
    assert.match(fetch, /-e OSS_ENDPOINT='oss-eu-central-1\.aliyuncs\.com'/);
    assert.match(fetch, /-e ARTIFACT_URL='oss:\/\/.+\/intent\/1\/model\.onnx'/);
    assert.ok(fetch.includes(`-e ARTIFACT_SHA256='${SHA}'`));
    assert.match(fetch, /ossutil cp .* && echo "\$ARTIFACT_SHA256  \/models\/model\.onnx" \| sha256sum -c -/);
    const run = boot.split("\n").find((line) => line.startsWith("docker run -d"))!;
    assert.match(run, /--gpus all/);
    assert.match(run, /-p '10\.0\.0\.20:9001:8080'/);
    assert.match(run, /'--only' 'model:intent@1' .*'--artifact' '\/models\/model\.onnx'/);
    assert.ok(boot.indexOf("sha256sum -c -") < boot.indexOf("docker run -d"), "verified before it serves");
  });

  it("boots the region's gateway, homed there, in front of the region's containers on their fixed addresses", () => {
    const files = bootFiles(script("gateway"));
    assert.deepEqual(JSON.parse(files.get("/opt/cloudloom/config/config.json")!), { locality: { home: "edge-berlin" } });
    const endpoints = JSON.parse(files.get("/opt/cloudloom/config/endpoints.json")!);
    assert.deepEqual(endpoints.functions.classify["edge-berlin"], {
      url: "http://10.0.0.10:9000",
      jwt: { issuer: "cloudloom", audience: "support-desk-fn-classify-edge-berlin" },
    });
    assert.equal(endpoints.models["intent@1"]["edge-berlin"].url, "http://10.0.0.20:9001");
    const env = files.get("/etc/cloudloom/support-desk-gateway-edge-berlin.env")!;
    assert.match(env, new RegExp(`^${RUNTIME_ENV.region}=edge-berlin$`, "m"));
    assert.match(env, new RegExp(`^${RUNTIME_ENV.jwtPrivateKeySecret}=`, "m"));
    assert.doesNotMatch(env, /BEGIN (RSA )?PRIVATE KEY/);
    assert.match(
      script("gateway"),
      /-p '0\.0\.0\.0:8080:8080'.*'serve' '--spec' '\/config\/spec\.json' '--endpoints' '\/config\/endpoints\.json'/,
    );
  });

  it("gives the instances' RAM user read access to exactly the region's artifacts and secrets", () => {
    const policies = all("alicloud:ram/policy:Policy").filter((r) => r.name.startsWith("support-desk-edge-berlin-ens"));
    const documents = Object.fromEntries(policies.map((p) => [p.name, JSON.parse((p.inputs as any).policyDocument)]));
    assert.deepEqual(documents["support-desk-edge-berlin-ens-read"].Statement[0].Action, ["oss:GetObject"]);
    assert.match(documents["support-desk-edge-berlin-ens-read"].Statement[0].Resource[0], /\/intent\/1\/\*$/);
    assert.deepEqual(documents["support-desk-edge-berlin-ens-secrets"].Statement[0].Action, ["kms:GetSecretValue"]);
    assert.equal(all("alicloud:ram/accessKey:AccessKey").length, 1);
  });

  it("refuses, before anything is created, an ENS region without its image", () => {
    assert.throws(
      () => parseEnsSettings("{}", onEns()),
      (e: Error) => e instanceof TargetConfigError && /cloudloom:ens\.edge-berlin is required/.test(e.message),
    );
    assert.throws(
      () => parseEnsSettings(JSON.stringify({ "edge-berlin": { imageId: "m-1", vswitchCidrBlock: "192.168.0.0/24" } }), onEns()),
      /cloudloom:ens\.edge-berlin\.vswitchCidrBlock must lie inside cidrBlock/,
    );
  });

  it("refuses user data over ENS's 16 KB, naming the instance", () => {
    const boot = { files: { "/opt/x": "x" }, credentials: { accessKeyId: "a", accessKeySecret: "b" }, ossEndpoint: "e", containers: [] };
    assert.ok(ensUserData("small", boot).length < ENS_USER_DATA_LIMIT);
    // Random bytes do not compress: the script grows past the limit.
    const big = { ...boot, files: { "/opt/x": require("node:crypto").randomBytes(16_000).toString("hex") } };
    assert.throws(
      () => ensUserData("support-desk-edge-berlin-runtime", big),
      /support-desk-edge-berlin-runtime: its user data is \d+ bytes in base64, over ENS's 16384/,
    );
  });
});

describe("Alibaba Cloud: an ENS region's containers with tracing (under mocks)", () => {
  const KEY = "collector-key-never-inline";
  let resources: PlannedResource[];

  before(async () => {
    const tracing = parseTracingSettings(JSON.stringify({ endpoint: "https://otlp.example.net/v1/traces", sampleRatio: 0.1 }), {
      names: ["x-api-key"],
      values: pulumi.secret(JSON.stringify({ "x-api-key": KEY })),
    });
    ({ resources } = await planUnderMocks(() => new AlicloudApp("support-desk", { ...args(onEns()), tracing }).endpoints));
  });

  it("boots the function, model and gateway containers with the OTEL_* variables and the headers' KMS secret by name", () => {
    const instances = resources.filter((r) => r.type === "alicloud:ens/instance:Instance") as any[];
    const envFiles = new Map<string, string>();
    for (const instance of instances)
      for (const [path, content] of bootFiles(Buffer.from(instance.inputs.userData.value, "base64").toString()))
        if (path.endsWith(".env") && !path.endsWith("/credentials.env")) envFiles.set(path, content);
    assert.deepEqual([...envFiles.keys()].sort(), [
      "/etc/cloudloom/support-desk-fn-classify-edge-berlin.env",
      "/etc/cloudloom/support-desk-gateway-edge-berlin.env",
      "/etc/cloudloom/support-desk-intent-v1-edge-berlin.env",
    ]);
    for (const [path, env] of envFiles) {
      assert.match(env, /^OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=https:\/\/otlp\.example\.net\/v1\/traces$/m, path);
      assert.match(env, /^OTEL_TRACES_SAMPLER=parentbased_traceidratio$/m, path);
      assert.match(env, /^OTEL_TRACES_SAMPLER_ARG=0\.1$/m, path);
      assert.match(env, /^OTEL_RESOURCE_ATTRIBUTES=service\.namespace=support-desk$/m, path);
      const named = JSON.parse(/^CLOUDLOOM_KMS_SECRETS=(.*)$/m.exec(env)![1]);
      assert.equal(named.OTEL_EXPORTER_OTLP_HEADERS, "support-desk-edge-berlin-tracing-headers", path);
      assert.match(env, /^CLOUDLOOM_ALICLOUD_REGION=eu-central-1$/m, path);
      assert.ok(!env.includes(KEY) && !env.includes("OTEL_EXPORTER_OTLP_HEADERS="), `${path} holds no header value`);
    }
    // The function keeps its declared secret beside the headers.
    const fn = JSON.parse(
      /^CLOUDLOOM_KMS_SECRETS=(.*)$/m.exec(envFiles.get("/etc/cloudloom/support-desk-fn-classify-edge-berlin.env")!)![1],
    );
    assert.deepEqual(Object.keys(fn), ["CRM_TOKEN", "OTEL_EXPORTER_OTLP_HEADERS"]);
  });

  it("lets the region's RAM user read the headers' secret", () => {
    const policy = resources.find(
      (r) => r.type === "alicloud:ram/policy:Policy" && r.name === "support-desk-edge-berlin-ens-secrets",
    ) as any;
    assert.ok(
      JSON.parse(policy.inputs.policyDocument).Statement[0].Resource.some((r: string) =>
        r.endsWith("secret/support-desk-edge-berlin-tracing-headers"),
      ),
    );
  });
});
