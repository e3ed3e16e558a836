import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import example from "../../../../examples/support-desk/app";
import { AlicloudApp, type AlicloudAppArgs } from "../../../../providers/alicloud/app";
import { derivedSecret, secretVersionId } from "../../../../providers/alicloud/secrets";
import { planUnderMocks, settle, type PlannedResource } from "../../../../providers/plan";
import { evaluatePolicies, toPolicyResources } from "../../../../policy/runner";
import { alicloudBucketLogging } from "../../../../policy/policies/alicloud-bucket-logging";
import { POLICIES } from "../../../../policy/policies";

const placeholderKey = readFileSync(join(__dirname, "../../../../providers/alicloud/offline-plan-key.pem"), "utf8");
const NETWORK = { vpcId: "vpc-1", vswitchIds: ["vsw-1"], securityGroupId: "sg-1", vpcCidr: "172.16.0.0/12", dnsLine: "default" };

function args(): AlicloudAppArgs {
  return {
    spec: example.toSpec({ target: "alicloud" }),
    root: example.root,
    runtimeImage: "registry.{region}.aliyuncs.com/cloudloom/runtime:0.1.0",
    jwtPrivateKey: placeholderKey,
    secrets: { names: ["crm-token"], values: { "crm-token": "offline" } },
    // Both regions run a gateway: each reads its own region's secret.
    gatewayNetwork: { central: NETWORK, "edge-berlin": { ...NETWORK, dnsLine: "cn_telecom" } },
  };
}

const byType = (resources: PlannedResource[], type: string) => resources.filter((r) => r.type === type);
const only = (resources: PlannedResource[], type: string, name: string): any => {
  const found = resources.filter((r) => r.type === type && r.name === name);
  assert.equal(found.length, 1, `one ${type} ${name}`);
  return found[0].inputs;
};
/** A secret input as the mocks record it: `{ 4dabf…: sig, value }`. */
const revealed = (value: any) => (value && typeof value === "object" && "value" in value ? value.value : value);

describe("Alibaba Cloud secrets in KMS Secrets Manager (under mocks)", () => {
  let resources: PlannedResource[];

  before(async () => {
    ({ resources } = await planUnderMocks(() => new AlicloudApp("support-desk", args()).gatewayUrl));
  });

  it("keeps the JWT private key and each declared secret in one KMS secret per region, as Pulumi secrets, versioned by a digest", async () => {
    const secrets = byType(resources, "alicloud:kms/secret:Secret");
    assert.deepEqual(
      secrets.map((s) => [s.name, (s.inputs as any).secretName, s.provider?.match(/pulumi:providers:alicloud::([^:]+)::/)?.[1]]).sort(),
      [
        ["support-desk-central-jwt-private-key", "support-desk-central-jwt-private-key", "support-desk-central"],
        ["support-desk-central-metrics-token", "support-desk-central-metrics-token", "support-desk-central"],
        ["support-desk-central-secret-crm-token", "support-desk-central-secret-crm-token", "support-desk-central"],
        ["support-desk-edge-berlin-jwt-private-key", "support-desk-edge-berlin-jwt-private-key", "support-desk-edge-berlin"],
        ["support-desk-edge-berlin-metrics-token", "support-desk-edge-berlin-metrics-token", "support-desk-edge-berlin"],
        ["support-desk-edge-berlin-secret-crm-token", "support-desk-edge-berlin-secret-crm-token", "support-desk-edge-berlin"],
      ],
    );
    // The metrics token is derived from the JWT key (no cloudloom:metricsToken here): one value in every region.
    const metricsToken = derivedSecret(placeholderKey, "metrics:support-desk");
    for (const secret of secrets) {
      const inputs = secret.inputs as any;
      const value = secret.name.endsWith("crm-token") ? "offline" : secret.name.endsWith("metrics-token") ? metricsToken : placeholderKey;
      assert.notEqual(revealed(inputs.secretData), inputs.secretData, "the secret's value is a Pulumi secret");
      assert.equal(revealed(inputs.secretData), value);
      assert.equal(inputs.versionId, await settle(secretVersionId(value)));
      assert.match(inputs.versionId, /^v-[0-9a-f]{16}$/);
    }
  });

  it("puts no JWT private key in any FC function's configuration: only the secret's name and region", () => {
    const functions = byType(resources, "alicloud:fc/v3Function:V3Function");
    assert.ok(functions.length >= 6);
    for (const fn of functions) {
      const env = revealed((fn.inputs as any).environmentVariables) ?? {};
      assert.equal(env.CLOUDLOOM_JWT_PRIVATE_KEY, undefined, fn.name);
      assert.ok(!JSON.stringify(fn.inputs).includes("PRIVATE KEY"), `${fn.name} carries no PEM anywhere in its inputs`);
      assert.equal(env.CRM_TOKEN, undefined, `${fn.name} carries no declared secret`);
    }
    const readers = functions.filter((fn) => revealed((fn.inputs as any).environmentVariables)?.CLOUDLOOM_JWT_PRIVATE_KEY_SECRET);
    assert.deepEqual(readers.map((fn) => fn.name).sort(), [
      "support-desk-fn-classify-central",
      "support-desk-fn-classify-edge-berlin",
      "support-desk-fn-reclassify-central",
      "support-desk-gateway-central",
      "support-desk-gateway-edge-berlin",
    ]);
    for (const fn of readers) {
      const region = fn.name.endsWith("edge-berlin") ? "edge-berlin" : "central";
      const env = revealed((fn.inputs as any).environmentVariables);
      assert.deepEqual(
        [env.CLOUDLOOM_JWT_PRIVATE_KEY_SECRET, env.CLOUDLOOM_ALICLOUD_REGION],
        [`support-desk-${region}-jwt-private-key`, "eu-central-1"],
        fn.name,
      );
    }
  });

  it("lets each reader's own role call kms:GetSecretValue on exactly its region's secrets it reads, and nothing else", () => {
    const arn = (name: string) => `acs:kms:eu-central-1:123456789012:secret/${name}`;
    for (const fnName of ["support-desk-fn-classify-central", "support-desk-gateway-edge-berlin"]) {
      const region = fnName.endsWith("edge-berlin") ? "edge-berlin" : "central";
      const fn = only(resources, "alicloud:fc/v3Function:V3Function", fnName);
      assert.equal(fn.role, `acs:ram::123456789012:role/${fnName}-role`);
      const policy = only(resources, "alicloud:ram/policy:Policy", `${fnName}-secrets`);
      const readable = fnName.includes("gateway")
        ? [arn(`support-desk-${region}-jwt-private-key`), arn(`support-desk-${region}-metrics-token`)]
        : [arn(`support-desk-${region}-jwt-private-key`), arn(`support-desk-${region}-secret-crm-token`)];
      assert.deepEqual(JSON.parse(policy.policyDocument), {
        Version: "1",
        Statement: [{ Effect: "Allow", Action: ["kms:GetSecretValue"], Resource: readable }],
      });
      const attachment = only(resources, "alicloud:ram/rolePolicyAttachment:RolePolicyAttachment", `${fnName}-secrets`);
      assert.deepEqual([attachment.roleName, attachment.policyName, attachment.policyType], [fnName, `${fnName}-secrets`, "Custom"]);
    }
    const fnRole = only(resources, "alicloud:ram/role:Role", "support-desk-fn-classify-central-role");
    assert.deepEqual(JSON.parse(fnRole.assumeRolePolicyDocument).Statement[0].Principal, { Service: ["fc.aliyuncs.com"] });
    const withoutModels = byType(resources, "alicloud:fc/v3Function:V3Function").filter(
      (fn) => fn.name.startsWith("support-desk-fn-") && !fn.name.includes("classify"),
    );
    for (const fn of withoutModels) assert.equal((fn.inputs as any).role, undefined, `${fn.name} calls no model: no role, no secret`);
  });

  it("logs every bucket's access to its region's log bucket, and passes every policy (bucket logging included)", async () => {
    const config = only(resources, "alicloud:oss/bucket:Bucket", "support-desk-gateway-edge-berlin-config");
    assert.deepEqual(config.logging, { targetBucket: "support-desk-edge-berlin-access-logs-offline", targetPrefix: "gateway-config/" });
    const violations = await evaluatePolicies(toPolicyResources(resources), {}, [...POLICIES, alicloudBucketLogging]);
    assert.deepEqual(
      // The gateway's own trigger is anonymous by design (gateway.test.ts).
      violations.filter((v) => v.policy !== "cloudloom-no-anonymous-endpoints").map((v) => `${v.policy}: ${v.message}`),
      [],
    );
  });
});
