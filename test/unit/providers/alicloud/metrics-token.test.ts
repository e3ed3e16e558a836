/**
 * The gateways' metrics token on Alibaba Cloud (the example with its T4 pool
 * on ACK, under mocks, awaited real inputs): each region's FC gateway reads it
 * from a KMS secret of its region (by name, never the value), the ACK
 * clusters' KEDA presents the same token to every gateway's /metrics/demand,
 * and a token the gateway would refuse stops the program.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import example from "../../../../examples/support-desk/app";
import { AlicloudApp, type AlicloudAppArgs } from "../../../../providers/alicloud/app";
import { parseAckSettings } from "../../../../providers/alicloud/ack-settings";
import { OFFLINE_GATEWAY_NETWORK } from "../../../../providers/alicloud/describe";
import { derivedSecret } from "../../../../providers/alicloud/secrets";
import { planUnderMocks, type PlannedResource } from "../../../../providers/plan";
import type { SpecV1 } from "../../../../sdk/spec";

const placeholderKey = readFileSync(join(__dirname, "../../../../providers/alicloud/offline-plan-key.pem"), "utf8");
const VSWITCHES = { vswitchIds: ["vsw-gw8a1b2c3d", "vsw-gw8e4f5a6b"] };

function onAck(): SpecV1 {
  const spec = example.toSpec({ target: "alicloud" });
  spec.gpuPools["inference-t4"].platform = "kubernetes";
  spec.gpuPools["inference-t4"].capacity = "spot";
  return spec;
}

function args(extra: Partial<AlicloudAppArgs> = {}): AlicloudAppArgs {
  const spec = onAck();
  return {
    spec,
    root: example.root,
    runtimeImage: "registry.{region}.aliyuncs.com/cloudloom/runtime:0.1.0",
    jwtPrivateKey: placeholderKey,
    gatewayNetwork: { central: OFFLINE_GATEWAY_NETWORK },
    secrets: { names: ["crm-token"], values: { "crm-token": "offline" } },
    ack: parseAckSettings(JSON.stringify({ central: VSWITCHES, "edge-berlin": VSWITCHES }), spec),
    ...extra,
  };
}

/** A Pulumi secret's value as the mocks record it (under `value`), else the value. */
const revealed = (value: any) => (value && typeof value === "object" && "value" in value ? value.value : value);

async function plan(extra: Partial<AlicloudAppArgs> = {}): Promise<PlannedResource[]> {
  return (await planUnderMocks(() => new AlicloudApp("support-desk", args(extra)).endpoints)).resources;
}

const only = (resources: PlannedResource[], type: string, name: string): any => {
  const found = resources.filter((r) => r.type === type && r.name === name);
  assert.equal(found.length, 1, `one ${type} ${name}`);
  return found[0].inputs;
};

describe("Alibaba Cloud: the gateways' metrics token (under mocks)", () => {
  it("derives one token from the JWT key for every region's KMS secret and every ACK cluster, and the gateway gets only its secret's name", async () => {
    const resources = await plan();
    const token = derivedSecret(placeholderKey, "metrics:support-desk");
    const kms = only(resources, "alicloud:kms/secret:Secret", "support-desk-central-metrics-token");
    assert.equal(revealed(kms.secretData), token);
    const gateway = only(resources, "alicloud:fc/v3Function:V3Function", "support-desk-gateway-central");
    const env = revealed(gateway.environmentVariables);
    assert.equal(JSON.parse(env.CLOUDLOOM_KMS_SECRETS).CLOUDLOOM_METRICS_TOKEN, "support-desk-central-metrics-token");
    assert.equal(env.CLOUDLOOM_METRICS_TOKEN, undefined, "never the value");
    assert.ok(!JSON.stringify(gateway).includes(token), "the token appears nowhere in the function's inputs");
    for (const region of ["central", "edge-berlin"]) {
      const secret = only(resources, "kubernetes:core/v1:Secret", `support-desk-${region}-ack-metrics-token`);
      assert.equal(revealed(secret.stringData).token, token, `${region}'s cluster holds the gateways' token`);
      const authentication = only(
        resources,
        "kubernetes:keda.sh/v1alpha1:TriggerAuthentication",
        `support-desk-${region}-ack-metrics-token`,
      );
      assert.deepEqual(authentication.spec.secretTargetRef, [
        { parameter: "token", name: `support-desk-${region}-ack-metrics-token`, key: "token" },
      ]);
    }
  });

  it("takes cloudloom:metricsToken in every place instead when it is set", async () => {
    const token = "t".repeat(32);
    const resources = await plan({ metricsToken: token });
    assert.equal(revealed(only(resources, "alicloud:kms/secret:Secret", "support-desk-central-metrics-token").secretData), token);
    assert.equal(revealed(only(resources, "kubernetes:core/v1:Secret", "support-desk-central-ack-metrics-token").stringData).token, token);
  });

  it("refuses a configured token the gateway would refuse before creating anything, naming the setting and its fix", () => {
    assert.throws(
      () => new AlicloudApp("support-desk", args({ metricsToken: "short" })),
      /stack config cloudloom:metricsToken must be at least 16 characters; set it with: pulumi config set --secret cloudloom:metricsToken/,
    );
  });
});
