import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import example from "../../../../examples/support-desk/app";
import { AlicloudApp, type AlicloudAppArgs } from "../../../../providers/alicloud/app";
import { derivedRedisPassword, GATEWAY_REVISION_ENV } from "../../../../providers/alicloud/gateway";
import { parseGatewayNetwork } from "../../../../providers/alicloud/gateway-settings";
import { planUnderMocks, type PlannedResource } from "../../../../providers/plan";
import { evaluatePolicies, toPolicyResources } from "../../../../policy/runner";

/** The Alibaba types only the gateway creates (app.test.ts adds them to the example's when checking the README). */
export const GATEWAY_TYPES = [
  "alicloud:kvstore/instance:Instance",
  "alicloud:fc/v3CustomDomain:V3CustomDomain",
  "alicloud:dns/alidnsRecord:AlidnsRecord",
];

const placeholderKey = readFileSync(join(__dirname, "../../../../providers/alicloud/offline-plan-key.pem"), "utf8");
const CENTRAL = {
  vpcId: "vpc-gw5a1b2c3d",
  vswitchIds: ["vsw-gw8a1b2c3d", "vsw-gw8e4f5a6b"],
  securityGroupId: "sg-gw4d5e6f",
  vpcCidr: "172.16.0.0/12",
};
const EDGE = { ...CENTRAL, vswitchIds: ["vsw-gwedge1"], dnsLine: "os_euro" };

function args(extra: Partial<AlicloudAppArgs> = {}): AlicloudAppArgs {
  return {
    spec: example.toSpec({ target: "alicloud" }),
    root: example.root,
    runtimeImage: "registry.{region}.aliyuncs.com/cloudloom/runtime:0.1.0",
    jwtPrivateKey: placeholderKey,
    secrets: { names: ["crm-token"], values: { "crm-token": "offline" } },
    gatewayNetwork: { central: CENTRAL },
    ...extra,
  };
}

async function plan(extra: Partial<AlicloudAppArgs> = {}): Promise<{ resources: PlannedResource[]; url: string }> {
  const { result, resources } = await planUnderMocks(() => new AlicloudApp("support-desk", args(extra)).gatewayUrl);
  return { resources, url: result };
}

const only = (resources: PlannedResource[], type: string, name: string): any => {
  const found = resources.filter((r) => r.type === type && r.name === name);
  assert.equal(found.length, 1, `one ${type} ${name}`);
  return found[0].inputs;
};
/** A secret input as the mocks record it: `{ 4dabf…: sig, value }`. */
const revealed = (value: any) => (value && typeof value === "object" && "value" in value ? value.value : value);

describe("Alibaba Cloud gateway (under mocks)", () => {
  let resources: PlannedResource[];
  let url: string;

  before(async () => {
    ({ resources, url } = await plan());
  });

  it("runs the gateway in each central region as an FC custom-container function of the runtime image, in the VPC", () => {
    const fn = only(resources, "alicloud:fc/v3Function:V3Function", "support-desk-gateway-central");
    assert.equal(fn.runtime, "custom-container");
    assert.equal(fn.customContainerConfig.image, "registry.eu-central-1.aliyuncs.com/cloudloom/runtime:0.1.0");
    assert.deepEqual(fn.customContainerConfig.entrypoints, ["node", "/opt/cloudloom/cli/bin.js"]);
    const commands: string[] = fn.customContainerConfig.commands;
    assert.deepEqual(commands.slice(0, 5), ["serve", "--spec", "/mnt/gateway/spec.json", "--endpoints", "/mnt/gateway/endpoints.json"]);
    assert.deepEqual(commands.slice(-2), ["--config", "/mnt/gateway/config.json"]);
    assert.equal(fn.customContainerConfig.port, 8080);
    assert.equal(fn.instanceConcurrency, 100);
    assert.deepEqual(fn.vpcConfig, {
      vpcId: "vpc-gw5a1b2c3d",
      vswitchIds: ["vsw-gw8a1b2c3d", "vsw-gw8e4f5a6b"],
      securityGroupId: "sg-gw4d5e6f",
    });
    assert.deepEqual(fn.ossMountConfig.mountPoints, [
      {
        bucketName: "support-desk-gateway-central-config-offline",
        bucketPath: "/",
        endpoint: "oss-eu-central-1-internal.aliyuncs.com",
        mountDir: "/mnt/gateway",
        readOnly: true,
      },
    ]);
    assert.equal(fn.role, "acs:ram::123456789012:role/support-desk-gateway-central-role");
    assert.equal(
      resources.filter((r) => r.type === "alicloud:fc/v3Function:V3Function" && r.name.includes("gateway")).length,
      1,
      "the edge region declares no gateway",
    );
  });

  it("gives the gateway the name of the region's KMS secret holding the JWT key, never the key, with a revision of its files", () => {
    const fn = only(resources, "alicloud:fc/v3Function:V3Function", "support-desk-gateway-central");
    const env = revealed(fn.environmentVariables);
    assert.notEqual(env, fn.environmentVariables, "the environment is a Pulumi secret (it may hold API keys)");
    assert.deepEqual(Object.keys(env).sort(), [
      "CLOUDLOOM_ALICLOUD_REGION",
      "CLOUDLOOM_GATEWAY_REVISION",
      "CLOUDLOOM_JWT_PRIVATE_KEY_SECRET",
      "CLOUDLOOM_KMS_SECRETS",
      "CLOUDLOOM_REGION",
    ]);
    // The metrics token, like the JWT key, by the name of its KMS secret: the trigger is public.
    assert.deepEqual(JSON.parse(env.CLOUDLOOM_KMS_SECRETS), { CLOUDLOOM_METRICS_TOKEN: "support-desk-central-metrics-token" });
    assert.equal(env.CLOUDLOOM_REGION, "central", "the gateway knows its own region, to serve its clients from it first");
    assert.equal(env.CLOUDLOOM_JWT_PRIVATE_KEY_SECRET, "support-desk-central-jwt-private-key");
    assert.equal(env.CLOUDLOOM_ALICLOUD_REGION, "eu-central-1");
    assert.ok(!JSON.stringify(env).includes("PRIVATE KEY-----"), "no PEM in the configuration");
    assert.match(env[GATEWAY_REVISION_ENV], /^[0-9a-f]{16}$/);
  });

  it("writes the spec, the stack's endpoints map and the Redis settings to a private, KMS-encrypted bucket the gateway alone reads", async () => {
    const bucket = only(resources, "alicloud:oss/bucket:Bucket", "support-desk-gateway-central-config");
    assert.deepEqual([bucket.acl, bucket.serverSideEncryptionRule], ["private", { sseAlgorithm: "KMS" }]);
    const spec = only(resources, "alicloud:oss/bucketObject:BucketObject", "support-desk-gateway-central-spec");
    assert.equal(JSON.parse(spec.content).app, "support-desk");
    const endpoints = JSON.parse(
      only(resources, "alicloud:oss/bucketObject:BucketObject", "support-desk-gateway-central-endpoints").content,
    );
    assert.equal(endpoints.functions.classify.central.url, "https://support-desk-fn-classify-central.eu-central-1.fcapp.run");
    const config = only(resources, "alicloud:oss/bucketObject:BucketObject", "support-desk-gateway-central-config");
    assert.notEqual(revealed(config.content), config.content, "the settings hold the Redis password: a secret");
    const password = derivedRedisPassword(placeholderKey, "support-desk/central");
    assert.match(JSON.parse(revealed(config.content)).redis.url, new RegExp(`^rediss://:${password}@.*:6379$`));
    const read = JSON.parse(only(resources, "alicloud:ram/policy:Policy", "support-desk-gateway-central-read").policyDocument);
    assert.deepEqual(read.Statement[0].Resource, ["acs:oss:*:*:support-desk-gateway-central-config-offline/*"]);
  });

  it("publishes the gateway behind live, opens it anonymously (it checks API keys itself) and keeps one instance provisioned", () => {
    const trigger = only(resources, "alicloud:fc/v3Trigger:V3Trigger", "support-desk-gateway-central");
    assert.deepEqual([trigger.triggerType, trigger.qualifier], ["http", "live"]);
    assert.equal(JSON.parse(trigger.triggerConfig).authType, "anonymous");
    const alias = only(resources, "alicloud:fc/v3Alias:V3Alias", "support-desk-gateway-central");
    assert.equal(alias.aliasName, "live");
    const provisioned = only(resources, "alicloud:fc/v3ProvisionConfig:V3ProvisionConfig", "support-desk-gateway-central");
    assert.deepEqual([provisioned.qualifier, provisioned.target], ["live", 1]);
    assert.equal(url, "https://support-desk-gateway-central.eu-central-1.fcapp.run", "gatewayUrl is the central trigger without DNS");
  });

  it("gives each gateway a Tair (Redis) instance in the VPC: the VPC's CIDR only, TLS, a secret password, no public address", () => {
    const redis = only(resources, "alicloud:kvstore/instance:Instance", "support-desk-gateway-central-redis");
    assert.deepEqual(
      [redis.instanceType, redis.vswitchId, redis.securityIps, redis.sslEnable, redis.vpcAuthMode, redis.enablePublic],
      ["Redis", "vsw-gw8a1b2c3d", ["172.16.0.0/12"], "Enable", "Open", undefined],
    );
    assert.notEqual(revealed(redis.password), redis.password, "the password is a Pulumi secret");
    assert.equal(revealed(redis.password), derivedRedisPassword(placeholderKey, "support-desk/central"));
    assert.match(revealed(redis.password), /^(?=.*[A-Z])(?=.*[a-z0-9])(?=.*-).{8,32}$/);
    assert.equal(resources.filter((r) => r.type === "alicloud:kvstore/connection:Connection").length, 0);
  });

  it("uses cloudloom:redisPassword when set", async () => {
    const { resources: set } = await plan({ redisPassword: pulumi.secret("Chosen-Passw0rd") });
    const redis = only(set, "alicloud:kvstore/instance:Instance", "support-desk-gateway-central-redis");
    assert.equal(revealed(redis.password), "Chosen-Passw0rd");
  });

  it("with cloudloom:dnsDomain, sends each client to its nearest gateway: a custom domain and a CNAME per region, on its DNS line", async () => {
    const { resources: dns, url: dnsUrl } = await plan({
      gatewayNetwork: { central: CENTRAL, "edge-berlin": EDGE },
      dnsDomain: "example.com",
      dnsCertificateId: "12345",
      apiKeys: pulumi.secret(["k".repeat(20)]),
    });
    assert.equal(dnsUrl, "https://api.example.com");
    const records = dns.filter((r) => r.type === "alicloud:dns/alidnsRecord:AlidnsRecord").map((r) => r.inputs as any);
    assert.deepEqual(
      records.map((r) => [r.domainName, r.rr, r.type, r.line, r.value]),
      [
        ["example.com", "api", "CNAME", "default", "123456789012.eu-central-1.fc.aliyuncs.com"],
        ["example.com", "api", "CNAME", "os_euro", "123456789012.eu-central-1.fc.aliyuncs.com"],
      ],
    );
    const domain = only(dns, "alicloud:fc/v3CustomDomain:V3CustomDomain", "support-desk-gateway-edge-berlin");
    assert.deepEqual([domain.customDomainName, domain.protocol, domain.certificateId], ["api.example.com", "HTTPS", "12345"]);
    assert.deepEqual(domain.routeConfig.routes[0].functionName, "support-desk-gateway-edge-berlin");
    assert.equal(domain.routeConfig.routes[0].qualifier, "live");
    const env = revealed(only(dns, "alicloud:fc/v3Function:V3Function", "support-desk-gateway-edge-berlin").environmentVariables);
    // The API keys, like the JWT key, are in KMS: the gateway gets the secret's name and reads it at start.
    assert.equal(env.CLOUDLOOM_API_KEYS, undefined, "no API key in the function's configuration");
    assert.deepEqual(JSON.parse(env.CLOUDLOOM_KMS_SECRETS), {
      CLOUDLOOM_API_KEYS: "support-desk-edge-berlin-api-keys",
      CLOUDLOOM_METRICS_TOKEN: "support-desk-edge-berlin-metrics-token",
    });
    assert.equal(revealed(only(dns, "alicloud:kms/secret:Secret", "support-desk-edge-berlin-api-keys").secretData), "k".repeat(20));
    const read = only(dns, "alicloud:ram/policy:Policy", "support-desk-gateway-edge-berlin-secrets");
    assert.match(JSON.stringify(read.policyDocument), /secret\/support-desk-edge-berlin-api-keys/);
  });

  it("passes every policy but the one for backends, which must exempt the gateway's own trigger", async () => {
    const violations = await evaluatePolicies(toPolicyResources(resources));
    assert.deepEqual(
      violations.filter((v) => v.policy !== "cloudloom-no-anonymous-endpoints").map((v) => `${v.policy}: ${v.message}`),
      [],
    );
  });
});

describe("Alibaba Cloud gateway settings (typed errors naming the key)", () => {
  const spec = example.toSpec({ target: "alicloud" });
  const refused = (pattern: RegExp) => (e: Error) => (e as { code?: string }).code === "CL_TARGET_CONFIG" && pattern.test(e.message);

  it("requires the network of every central region", () => {
    assert.throws(() => parseGatewayNetwork(undefined, spec), refused(/cloudloom:gatewayNetwork\.central is required/));
    assert.throws(() => new AlicloudApp("x", args({ gatewayNetwork: {} })), refused(/gatewayNetwork\.central is required/));
  });

  it("refuses malformed ids, a whitelist of every address, and unknown regions", () => {
    assert.throws(
      () => parseGatewayNetwork(JSON.stringify({ central: { ...CENTRAL, vpcId: "v1" } }), spec),
      refused(/central\.vpcId must be a VPC id/),
    );
    assert.throws(
      () => parseGatewayNetwork(JSON.stringify({ central: { ...CENTRAL, vpcCidr: "0.0.0.0/0" } }), spec),
      refused(/not every address/),
    );
    assert.throws(() => parseGatewayNetwork(JSON.stringify({ central: CENTRAL, mars: CENTRAL }), spec), refused(/mars names no region/));
    assert.deepEqual(parseGatewayNetwork(JSON.stringify({ central: CENTRAL }), spec), { central: CENTRAL });
  });

  it("asks for a DNS line for a second gateway region when DNS is configured", () => {
    assert.throws(
      () => new AlicloudApp("x", args({ gatewayNetwork: { central: CENTRAL, "edge-berlin": CENTRAL }, dnsDomain: "example.com" })),
      refused(/gatewayNetwork\.edge-berlin\.dnsLine is required/),
    );
  });
});
