/**
 * FC functions' calls to a held GPU model on ACK count in its demand
 * (providers/alicloud/demand-token.ts): under mocks, each calling function
 * gets the gateway domain's report URL and the name of its region's KMS
 * secret holding the token, which its role may read; every gateway gets the
 * token the way it gets its API keys; the token is nowhere in plain text.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import example from "../../../../examples/support-desk/app";
import { AlicloudApp, type AlicloudAppArgs } from "../../../../providers/alicloud/app";
import { derivedSecret } from "../../../../providers/alicloud/secrets";
import { OFFLINE_GATEWAY_NETWORK, OFFLINE_PLAN_KEY_PATH } from "../../../../providers/alicloud/describe";
import { planUnderMocks, type PlannedResource } from "../../../../providers/plan";
import type { SpecV1 } from "../../../../sdk/spec";
import { plaintextOf } from "../../../support/plaintext";

const FUNCTION = "alicloud:fc/v3Function:V3Function";
const KMS = "alicloud:kms/secret:Secret";
const POLICY = "alicloud:ram/policy:Policy";
const placeholderKey = readFileSync(OFFLINE_PLAN_KEY_PATH, "utf8");
/** An ACK cluster's settings (the defaults parseAckSettings gives). */
const CLUSTER = { vswitchIds: ["vsw-gw8a1b2c3d", "vsw-gw8e4f5a6b"], podCidr: "172.20.0.0/16", serviceCidr: "172.21.0.0/20" };

/** The example with its T4 pool on ACK; `change` edits it further. */
function onAck(change: (spec: SpecV1) => void = () => {}): SpecV1 {
  const spec = example.toSpec({ target: "alicloud" });
  spec.gpuPools["inference-t4"].platform = "kubernetes";
  change(spec);
  return spec;
}

function argsFor(spec: SpecV1, extra: Partial<AlicloudAppArgs> = {}): AlicloudAppArgs {
  return {
    spec,
    root: example.root,
    runtimeImage: "registry.{region}.aliyuncs.com/cloudloom/runtime:0.1.0",
    jwtPrivateKey: placeholderKey,
    gatewayNetwork: { central: OFFLINE_GATEWAY_NETWORK },
    secrets: { names: ["crm-token"], values: { "crm-token": "offline" } },
    ack: { central: CLUSTER, "edge-berlin": CLUSTER },
    ...extra,
  };
}

const plan = async (args: AlicloudAppArgs): Promise<PlannedResource[]> =>
  (await planUnderMocks(() => new AlicloudApp("support-desk", args).endpoints)).resources;

const only = (resources: PlannedResource[], type: string, name: string): any => {
  const found = resources.filter((r) => r.type === type && r.name === name);
  assert.equal(found.length, 1, `one ${type} ${name}`);
  return found[0].inputs;
};
/** A function's environment; the gateway's is a Pulumi secret as a whole (it holds the Redis URL's password). */
const environmentOf = (resources: PlannedResource[], name: string): Record<string, string> => {
  const variables = only(resources, FUNCTION, name).environmentVariables;
  return variables.value ?? variables;
};
const readable = (resources: PlannedResource[], name: string): string[] =>
  JSON.parse(only(resources, POLICY, `${name}-secrets`).policyDocument).Statement[0].Resource;
const kmsResource = (secret: string) => `acs:kms:eu-central-1:123456789012:secret/${secret}`;
/** Gateways in both regions behind `api.support.example` (HTTPS on its certificate). */
const domain: Partial<AlicloudAppArgs> = {
  gatewayNetwork: { central: OFFLINE_GATEWAY_NETWORK, "edge-berlin": { ...OFFLINE_GATEWAY_NETWORK, dnsLine: "oversea" } },
  dnsDomain: "support.example",
  dnsCertificateId: "12345",
};

describe("Alibaba Cloud: FC functions' calls to a held ACK model count in its demand (under mocks)", function () {
  this.timeout(180_000);

  describe("a token derived from the JWT key, gateways in both regions behind a domain", () => {
    let resources: PlannedResource[];
    const token = derivedSecret(placeholderKey, "demand-token:support-desk");
    before(async () => {
      resources = await plan(argsFor(onAck(), domain));
    });

    it("keeps a 64-character token in a KMS secret per region, stable across runs (derived, never generated anew)", () => {
      assert.match(token, /^[0-9a-f]{64}$/);
      assert.equal(derivedSecret(placeholderKey, "demand-token:support-desk"), token);
      for (const region of ["central", "edge-berlin"]) {
        const secret = only(resources, KMS, `support-desk-${region}-demand-token`);
        assert.equal(secret.secretData.value, token);
      }
    });

    it("gives each calling function the gateway domain's report URL and the name of its region's token secret, which its role may read", () => {
      for (const [fn, region] of [
        ["support-desk-fn-classify-central", "central"],
        ["support-desk-fn-classify-edge-berlin", "edge-berlin"],
        ["support-desk-fn-reclassify-central", "central"],
      ]) {
        const env = environmentOf(resources, fn);
        assert.equal(env.CLOUDLOOM_DEMAND_REPORT_URL, "https://api.support.example/_cloudloom/demand", fn);
        assert.equal(env.CLOUDLOOM_DEMAND_TOKEN, undefined, "the configuration holds no token");
        assert.equal(JSON.parse(env.CLOUDLOOM_KMS_SECRETS).CLOUDLOOM_DEMAND_TOKEN, `support-desk-${region}-demand-token`);
        assert.equal(env.CLOUDLOOM_ALICLOUD_REGION, "eu-central-1");
        assert.ok(readable(resources, fn).includes(kmsResource(`support-desk-${region}-demand-token`)), `${fn} may read its token`);
        assert.deepEqual(JSON.parse(env.CLOUDLOOM_RUNTIME).models.intent.hold, { maxPending: 100, maxWaitMs: 30_000 });
      }
    });

    it("gives every gateway the token's secret of its region by name, as its API keys, and a role that may read it", () => {
      for (const region of ["central", "edge-berlin"]) {
        const gateway = `support-desk-gateway-${region}`;
        const env = environmentOf(resources, gateway);
        assert.equal(JSON.parse(env.CLOUDLOOM_KMS_SECRETS).CLOUDLOOM_DEMAND_TOKEN, `support-desk-${region}-demand-token`);
        assert.equal(env.CLOUDLOOM_DEMAND_TOKEN, undefined);
        assert.ok(readable(resources, gateway).includes(kmsResource(`support-desk-${region}-demand-token`)));
      }
    });

    it("has the token in no resource input outside a Pulumi secret", () => {
      assert.deepEqual(plaintextOf(resources, token), []);
      assert.ok(plaintextOf(resources, "/_cloudloom/demand").length >= 3, "the search sees the functions' plain variables");
    });
  });

  it("uses the configured cloudloom:demandToken, over HTTP when the domain has no certificate", async () => {
    const configured = "configured-demand-token-0123456789";
    const resources = await plan(
      argsFor(onAck(), { dnsDomain: "support.example", dnsRecord: "edge", demandToken: pulumi.secret(configured) }),
    );
    const url = "http://edge.support.example/_cloudloom/demand";
    assert.equal(environmentOf(resources, "support-desk-fn-classify-edge-berlin").CLOUDLOOM_DEMAND_REPORT_URL, url);
    assert.equal(only(resources, KMS, "support-desk-edge-berlin-demand-token").secretData.value, configured);
    assert.equal(only(resources, KMS, "support-desk-central-demand-token").secretData.value, configured);
    assert.deepEqual(plaintextOf(resources, configured), []);
  });

  it("refuses a configured token shorter than 16 characters, before any resource, saying how to set one", () => {
    assert.throws(
      () => new AlicloudApp("support-desk", argsFor(onAck(), { demandToken: "too-short" })),
      /stack config cloudloom:demandToken must be at least 16 characters; set it with: pulumi config set --secret cloudloom:demandToken/,
    );
  });

  it("adds nothing when the model runs on FC GPU functions or does not hold, or no domain reaches the gateways", async () => {
    const warm = onAck((spec) => {
      spec.models["intent@1"].scaling = "interactive";
    });
    for (const args of [
      argsFor(example.toSpec({ target: "alicloud" }), { ...domain, ack: undefined }),
      argsFor(warm, domain),
      argsFor(onAck()),
    ]) {
      const resources = await plan(args);
      assert.deepEqual(
        resources.filter((r) => r.name.includes("demand-token")).map((r) => r.name),
        [],
      );
      for (const fn of resources.filter((r) => r.type === FUNCTION)) {
        const variables = (fn.inputs as any).environmentVariables;
        assert.doesNotMatch(JSON.stringify(variables), /CLOUDLOOM_DEMAND/, fn.name);
      }
    }
  });

  it("keeps the gateway's own URL at the domain it already served", async () => {
    const { result } = await planUnderMocks(() => new AlicloudApp("support-desk", argsFor(onAck(), domain)).gatewayUrl);
    assert.equal(result, "https://api.support.example");
  });
});
