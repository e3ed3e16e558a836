import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { OFFLINE_GATEWAY_NETWORK } from "../../../../providers/alicloud/describe";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import example from "../../../../examples/support-desk/app";
import { publicJwks } from "../../../../providers/shared/jwks";
import { AlicloudApp, type AlicloudAppArgs } from "../../../../providers/alicloud/app";
import { derivedSecret } from "../../../../providers/alicloud/secrets";
import { parseAckSettings } from "../../../../providers/alicloud/ack-settings";
import { planUnderMocks, type PlannedResource } from "../../../../providers/plan";
import { parseTracingSettings } from "../../../../providers/shared/tracing";
import { validate, type SpecV1 } from "../../../../sdk/spec";
import { evaluatePolicies, toPolicyResources } from "../../../../policy/runner";

/** The Alibaba resource types only ACK pools create (app.test.ts adds them to the example's when checking the README). */
export const ACK_TYPES = ["alicloud:cs/managedKubernetes:ManagedKubernetes", "alicloud:cs/nodePool:NodePool"];

const placeholderKey = readFileSync(join(__dirname, "../../../../providers/alicloud/offline-plan-key.pem"), "utf8");
const VSWITCHES = { vswitchIds: ["vsw-gw8a1b2c3d", "vsw-gw8e4f5a6b"] };

/** The example with its T4 pool on ACK instead of FC GPU functions. */
function onAck(change: (spec: SpecV1) => void = () => {}): SpecV1 {
  const spec = example.toSpec({ target: "alicloud" });
  spec.gpuPools["inference-t4"].platform = "kubernetes";
  // Spot on ACK (the example's pool is on-demand, since its AWS edge is a Wavelength Zone).
  spec.gpuPools["inference-t4"].capacity = "spot";
  change(spec);
  return spec;
}

function args(spec: SpecV1, ack: AlicloudAppArgs["ack"]): AlicloudAppArgs {
  return {
    spec,
    root: example.root,
    runtimeImage: "registry.{region}.aliyuncs.com/cloudloom/runtime:0.1.0",
    jwtPrivateKey: placeholderKey,
    gatewayNetwork: { central: OFFLINE_GATEWAY_NETWORK },
    secrets: { names: ["crm-token"], values: { "crm-token": "offline" } },
    ack,
  };
}

const parsed = (json: object, spec = onAck()) => parseAckSettings(JSON.stringify(json), spec);

describe("Alibaba Cloud: GPU pools that ask for Kubernetes run on ACK (under mocks)", () => {
  let resources: PlannedResource[];
  let endpoints: any;
  const all = (type: string) => resources.filter((r) => r.type === type);
  const only = (type: string, name: string): any => {
    const found = all(type).filter((r) => r.name === name);
    assert.equal(found.length, 1, `one ${type} ${name}`);
    return found[0].inputs;
  };

  before(async () => {
    const ack = parsed({ central: VSWITCHES, "edge-berlin": { ...VSWITCHES, clusterId: "c8d1e2f3a4b5c6d7e" } });
    ({ resources, result: endpoints } = await planUnderMocks(() => new AlicloudApp("support-desk", args(onAck(), ack)).endpoints));
  });

  it("creates exactly the ACK types the README adds to the example's", () => {
    const example = new Set(resources.filter((r) => r.type.startsWith("alicloud:")).map((r) => r.type));
    for (const type of ACK_TYPES) assert.ok(example.has(type), type);
  });

  it("creates a managed ACK Pro cluster where none is given, and reuses the user's cluster where one is", () => {
    const clusters = all("alicloud:cs/managedKubernetes:ManagedKubernetes");
    assert.deepEqual(
      clusters.map((c) => c.name),
      ["support-desk-central-ack"],
    );
    const cluster = clusters[0].inputs as any;
    assert.deepEqual(
      [cluster.clusterSpec, cluster.vswitchIds, cluster.podCidr, cluster.serviceCidr, cluster.tags["cloudloom.dev/app"]],
      ["ack.pro.small", VSWITCHES.vswitchIds, "172.20.0.0/16", "172.21.0.0/20", "support-desk"],
    );
    assert.equal(only("alicloud:cs/nodePool:NodePool", "support-desk-inference-t4-edge-berlin").clusterId, "c8d1e2f3a4b5c6d7e");
    assert.equal(only("alicloud:cs/nodePool:NodePool", "support-desk-inference-t4-central").clusterId, "support-desk-central-ack-id");
  });

  it("gives each pool an ecs.gn* node pool: the T4 type, min..max autoscaling, the GPU taint and label, spot", () => {
    const pool = only("alicloud:cs/nodePool:NodePool", "support-desk-inference-t4-central");
    assert.deepEqual(pool.instanceTypes, ["ecs.gn6i-c4g1.xlarge"]);
    assert.deepEqual(pool.scalingConfig, { enable: true, minSize: 0, maxSize: 4 });
    assert.deepEqual(pool.taints, [{ key: "nvidia.com/gpu", value: "present", effect: "NoSchedule" }]);
    assert.deepEqual(pool.labels, [
      { key: "aliyun.accelerator/nvidia_name", value: "Tesla-T4" },
      { key: "cloudloom.dev/pool", value: "inference-t4" },
    ]);
    assert.equal(pool.spotStrategy, "SpotAsPriceGo");
    assert.equal(pool.ramRoleName, "support-desk-central-gpu-nodes");
    assert.equal(pool.tags["cloudloom.dev/kind"], "gpu-pool");
  });

  it("lets the GPU nodes' RAM role read this region's model artifacts and nothing else", () => {
    const role = only("alicloud:ram/role:Role", "support-desk-central-gpu-nodes-role");
    assert.deepEqual(JSON.parse(role.assumeRolePolicyDocument).Statement[0].Principal, { Service: ["ecs.aliyuncs.com"] });
    const read = JSON.parse(only("alicloud:ram/policy:Policy", "support-desk-central-gpu-nodes-read").policyDocument);
    assert.deepEqual(read.Statement, [
      { Effect: "Allow", Action: ["oss:GetObject"], Resource: ["acs:oss:*:*:support-desk-central-artifacts-offline/intent/1/*"] },
      { Effect: "Allow", Action: ["oss:ListObjects"], Resource: ["acs:oss:*:*:support-desk-central-artifacts-offline"] },
    ]);
  });

  it("places the model through the Kubernetes module, on a provider built from cs.getClusterCredential", () => {
    const provider = all("pulumi:providers:kubernetes").find((p) => p.name === "support-desk-central-ack")!;
    assert.match(JSON.stringify(provider.inputs), /support-desk-central-ack-id\.offline/, "the kubeconfig of the cluster's credential");
    const deployment = only("kubernetes:apps/v1:Deployment", "support-desk-central-ack-intent-v1-central") as any;
    const pod = deployment.spec.template.spec;
    assert.deepEqual(pod.tolerations.at(-1), { key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" });
    assert.deepEqual(pod.nodeSelector, { "aliyun.accelerator/nvidia_name": "Tesla-T4" });
    assert.equal(pod.containers[0].resources.limits["nvidia.com/gpu"], "1");
    const fetch = pod.initContainers[0];
    assert.match(fetch.command[2], /^ossutil cp -e "\$OSS_ENDPOINT" --mode EcsRamRole --ecs-role-name "\$OSS_ROLE"/);
    assert.match(fetch.command[2], /sha256sum -c -$/);
    const env = Object.fromEntries(fetch.env.map((e: { name: string; value: string }) => [e.name, e.value]));
    assert.deepEqual(env, {
      ARTIFACT_URL: "oss://support-desk-central-artifacts-offline/intent/1/model.onnx",
      ARTIFACT_SHA256: example.toSpec().models["intent@1"].artifact.sha256,
      OSS_ENDPOINT: "oss-eu-central-1-internal.aliyuncs.com",
      OSS_ROLE: "support-desk-central-gpu-nodes",
      // A read-only root file system: scratch space is an emptyDir.
      HOME: "/var/tmp/cloudloom",
      TMPDIR: "/var/tmp/cloudloom",
    });
    assert.equal(all("kubernetes:keda.sh/v1alpha1:ScaledObject").length, 2, "scale-to-zero through KEDA, one per region");
  });

  it("wakes each ACK model from zero on the demand of every FC gateway, over its public HTTPS trigger", () => {
    const gatewayTrigger = only("alicloud:fc/v3Trigger:V3Trigger", "support-desk-gateway-central");
    assert.equal(gatewayTrigger.triggerType, "http", "the central gateway's trigger, whose URL KEDA reads");
    for (const region of ["central", "edge-berlin"]) {
      const scaled = only("kubernetes:keda.sh/v1alpha1:ScaledObject", `support-desk-${region}-ack-intent-v1-${region}`);
      const demand = scaled.spec.triggers.filter((t: { type: string }) => t.type === "metrics-api");
      assert.deepEqual(demand, [
        {
          type: "metrics-api",
          metadata: {
            url: `https://support-desk-gateway-central.eu-central-1.fcapp.run/metrics/demand?kind=model&entry=intent%401&region=${region}`,
            format: "json",
            valueLocation: "demand",
            targetValue: "1",
            activationTargetValue: "0",
            // The gateways' demand takes the metrics token: KEDA presents it from the cluster's Secret.
            authMode: "bearer",
          },
          authenticationRef: { name: `support-desk-${region}-ack-metrics-token` },
        },
      ]);
      assert.equal(scaled.spec.pollingInterval, 3, "a tenth of the default hold's 30 s wait");
      assert.equal(scaled.spec.minReplicaCount, 0);
    }
  });

  it("puts each model on a VPC-internal load balancer whose pods require the gateway's JWT for their own audience", () => {
    const name = "support-desk-central-ack-intent-v1-central";
    const service = only("kubernetes:core/v1:Service", name);
    assert.equal(service.spec.type, "LoadBalancer");
    assert.deepEqual(service.metadata.annotations, {
      "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type": "intranet",
      "cloudloom.dev/requires-auth": "jwt",
    });
    const env = only("kubernetes:apps/v1:Deployment", name).spec.template.spec.containers[0].env;
    assert.deepEqual(
      env.map((e: { name: string }) => e.name),
      ["CLOUDLOOM_JWT_JWKS", "CLOUDLOOM_JWT_ISSUER", "CLOUDLOOM_JWT_AUDIENCE", "TMPDIR", "HOME", "CLOUDLOOM_WORKLOAD"],
    );
    assert.deepEqual(JSON.parse(env[0].value), publicJwks(placeholderKey));
    assert.deepEqual([env[1].value, env[2].value], ["cloudloom", name]);
    assert.deepEqual(endpoints.models["intent@1"].central, { url: "http://192.0.2.10", jwt: { issuer: "cloudloom", audience: name } });
    assert.equal(all("alicloud:fc/v3Function:V3Function").filter((f) => f.name.includes("intent")).length, 0, "no FC model function");
  });

  it("passes every policy of the pack, with no violation at all", async () => {
    // The gateway's own trigger is anonymous by design; see gateway.test.ts (pending an exemption in anonymous-endpoints.ts).
    assert.deepEqual(
      (await evaluatePolicies(toPolicyResources(resources))).filter((v) => !v.resource.includes("-gateway-")),
      [],
    );
  });

  it("lets a Kubernetes pool use what FC cannot: several GPUs per node and an A100", async () => {
    const spec = onAck((s) => {
      s.gpuPools["inference-t4"].accelerator = "nvidia-a100";
      s.gpuPools["inference-t4"].gpusPerInstance = 4;
      s.gpuPools["inference-t4"].gpuMemory = "320 GB";
    });
    assert.deepEqual(validate(spec, { target: "alicloud" }).problems ?? [], []);
    const ack = parsed({ central: VSWITCHES, "edge-berlin": VSWITCHES }, spec);
    const plan = await planUnderMocks(() => new AlicloudApp("support-desk", args(spec, ack)).endpoints);
    const pool = plan.resources.find((r) => r.name === "support-desk-inference-t4-central")!.inputs as any;
    assert.deepEqual(pool.instanceTypes, ["ecs.gn7e-c16g1.16xlarge"]);
  });

  it("names the missing or malformed ACK setting", () => {
    assert.throws(() => parsed({ central: VSWITCHES }), /cloudloom:ack\.edge-berlin is required: region edge-berlin runs GPU pools on ACK/);
    assert.throws(() => parsed({ central: { vswitchIds: ["subnet-1"] } }), /cloudloom:ack\.central\.vswitchIds\.0 must be vSwitch ids/);
    assert.throws(
      () => parsed({ central: { ...VSWITCHES, clusterId: "my-cluster" } }),
      /cloudloom:ack\.central\.clusterId must be an ACK cluster id/,
    );
    assert.throws(() => parseAckSettings("{", onAck()), /cloudloom:ack is not an object/);
    assert.throws(
      () => new AlicloudApp("support-desk", args(onAck(), undefined)),
      (e: Error) => (e as { code?: string }).code === "CL_TARGET_CONFIG" && /cloudloom:ack\.central is required/.test(e.message),
    );
    const three = onAck((s) => (s.gpuPools["inference-t4"].gpusPerInstance = 3));
    assert.throws(
      () => new AlicloudApp("support-desk", args(three, parsed({ central: VSWITCHES, "edge-berlin": VSWITCHES }, three))),
      /gpuPools\.inference-t4: ecs\.gn6i has no instance with 3 GPUs; set gpusPerInstance to one of 1, 2, 4/,
    );
  });
});

describe("Alibaba Cloud: ACK model pods with tracing (under mocks)", () => {
  it("traces the model pods as on Kubernetes: the OTEL_* variables, the headers from a Secret, egress to the collector only", async () => {
    const tracing = parseTracingSettings(
      JSON.stringify({ endpoint: "https://otlp.example.net/v1/traces", collector: { cidrs: ["203.0.113.0/24"] } }),
      { names: ["x-api-key"], values: pulumi.secret(JSON.stringify({ "x-api-key": "collector-key" })) },
    );
    const ack = parsed({ central: VSWITCHES, "edge-berlin": VSWITCHES });
    const { resources } = await planUnderMocks(() => new AlicloudApp("support-desk", { ...args(onAck(), ack), tracing }).endpoints);
    const pods = resources.filter((r) => r.type === "kubernetes:apps/v1:Deployment") as any[];
    assert.equal(pods.length, 2, "intent@1 in central and edge-berlin");
    for (const pod of pods) {
      const env = pod.inputs.spec.template.spec.containers[0].env as any[];
      assert.equal(env.find((e) => e.name === "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")?.value, "https://otlp.example.net/v1/traces", pod.name);
      assert.deepEqual(env.find((e) => e.name === "OTEL_EXPORTER_OTLP_HEADERS")?.valueFrom, {
        secretKeyRef: { name: "support-desk-tracing", key: "headers" },
      });
    }
    const policies = resources.filter(
      (r) => r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy" && (r.inputs as any).metadata.name === "support-desk-tracing",
    ) as any[];
    assert.equal(policies.length, 2, "one per cluster");
    for (const policy of policies) {
      assert.deepEqual(policy.inputs.spec.podSelector.matchExpressions[0], {
        key: "cloudloom.dev/kind",
        operator: "In",
        values: ["model"],
      });
      assert.deepEqual(policy.inputs.spec.egress, [
        { to: [{ ipBlock: { cidr: "203.0.113.0/24" } }], ports: [{ protocol: "TCP", port: 443 }] },
      ]);
    }
  });
});

describe("Alibaba Cloud: the gateways' metrics token (under mocks)", () => {
  const ack = () => parsed({ central: VSWITCHES, "edge-berlin": VSWITCHES });
  const plan = async (extra: Partial<AlicloudAppArgs> = {}) =>
    (await planUnderMocks(() => new AlicloudApp("support-desk", { ...args(onAck(), ack()), ...extra }).endpoints)).resources;
  /** A Pulumi secret's value as the mocks record it (under `value`), else the value. */
  const revealed = (value: any) => (value && typeof value === "object" && "value" in value ? value.value : value);
  const only = (resources: PlannedResource[], type: string, name: string): any => {
    const found = resources.filter((r) => r.type === type && r.name === name);
    assert.equal(found.length, 1, `one ${type} ${name}`);
    return found[0].inputs;
  };

  it("derives one token from the JWT key for every region's KMS secret and every ACK cluster; the gateway gets only its secret's name", async () => {
    const resources = await plan();
    const token = derivedSecret(placeholderKey, "metrics:support-desk");
    assert.equal(revealed(only(resources, "alicloud:kms/secret:Secret", "support-desk-central-metrics-token").secretData), token);
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
      () => new AlicloudApp("support-desk", { ...args(onAck(), ack()), metricsToken: "short" }),
      /stack config cloudloom:metricsToken must be at least 16 characters; set it with: pulumi config set --secret cloudloom:metricsToken/,
    );
  });
});
