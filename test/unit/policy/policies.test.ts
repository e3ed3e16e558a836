import assert from "node:assert/strict";
import type { StackValidationPolicy } from "@pulumi/policy";
import example from "../../../examples/support-desk/app";
import { planApp } from "../../../cli/plan";
import { POLICIES } from "../../../policy/policies";
import { noAnonymousEndpoints } from "../../../policy/policies/anonymous-endpoints";
import { gpuCostGuard } from "../../../policy/policies/gpu-cost-guard";
import { gpuWorkloads } from "../../../policy/policies/gpu-workloads";
import { cloudloomLabels } from "../../../policy/policies/labels";
import { leastPrivilege } from "../../../policy/policies/least-privilege";
import { privateArtifacts } from "../../../policy/policies/private-artifacts";
import { regionAllowlist } from "../../../policy/policies/region-allowlist";
import { objectivesOnRoutes } from "../../../policy/policies/objectives-on-routes";
import { modelsPinned, publicRoutesRateLimited, scaleToZeroLatency } from "../../../policy/policies/spec-rules";
import type { PlannedPolicyResource } from "../../../policy/resources";
import { evaluatePolicies, toPolicyResources, type PolicyConfig } from "../../../policy/runner";
import { BAD_RESOURCES } from "../../fixtures/bad-stack";

const r = (type: string, name: string, props: Record<string, any>): PlannedPolicyResource => ({
  type,
  name,
  urn: `${type}::${name}`,
  props,
});
const labels = { "cloudloom.dev/app": "a", "cloudloom.dev/kind": "function", "cloudloom.dev/name": "f" };
const appWith = (spec: object) => r("cloudloom:kubernetes:App", "a", { spec: JSON.stringify(spec) });
const baseSpec = { gpuPools: {}, models: {}, routes: {}, regions: {}, scalingPolicies: {} };

async function messages(policy: StackValidationPolicy, resources: PlannedPolicyResource[], config: PolicyConfig = {}): Promise<string[]> {
  return (await evaluatePolicies(resources, config, [policy])).map((v) => v.message);
}

describe("policies, each with a passing and a failing resource", () => {
  it("no anonymous endpoints", async () => {
    assert.deepEqual(
      await messages(noAnonymousEndpoints, [r("aws:lambda/functionUrl:FunctionUrl", "u", { authorizationType: "AWS_IAM" })]),
      [],
    );
    assert.deepEqual(await messages(noAnonymousEndpoints, [r("aws:lambda/functionUrl:FunctionUrl", "u", { authorizationType: "NONE" })]), [
      "Function URL u has authorizationType NONE; set AWS_IAM (the gateway signs with SigV4)",
    ]);
    const modelLabels = { ...labels, "cloudloom.dev/kind": "model" };
    const nodePort = (annotations?: Record<string, string>) =>
      r("kubernetes:core/v1:Service", "m", { metadata: { labels: modelLabels, annotations }, spec: { type: "NodePort" } });
    assert.deepEqual(await messages(noAnonymousEndpoints, [nodePort({ "cloudloom.dev/fronted-by": "aws-apigateway-iam" })]), []);
    const fix = (type: string) =>
      `Service m exposes a model as ${type}; make it ClusterIP and reach it through the gateway, front its node port with an IAM-authenticated API and annotate cloudloom.dev/fronted-by, or make its pods require the gateway's JWT (CLOUDLOOM_JWT_JWKS) and annotate cloudloom.dev/requires-auth: jwt`;
    assert.deepEqual(await messages(noAnonymousEndpoints, [nodePort()]), [fix("NodePort")]);
    const loadBalanced = r("kubernetes:core/v1:Service", "m", {
      metadata: { name: "m", labels: modelLabels, annotations: { "cloudloom.dev/requires-auth": "jwt" } },
      spec: { type: "LoadBalancer" },
    });
    const pods = (env: Array<{ name: string; value: string }>) =>
      r("kubernetes:apps/v1:Deployment", "m", {
        metadata: { name: "m", labels: modelLabels },
        spec: { template: { spec: { containers: [{ name: "model-server", env }] } } },
      });
    assert.deepEqual(await messages(noAnonymousEndpoints, [loadBalanced, pods([{ name: "CLOUDLOOM_JWT_JWKS", value: "{}" }])]), []);
    assert.deepEqual(
      await messages(noAnonymousEndpoints, [loadBalanced, pods([])]),
      [fix("LoadBalancer")],
      "the annotation alone is not enough: the pods must require the JWT",
    );
  });

  it("least privilege", async () => {
    const doc = (Action: string, Resource: string) => JSON.stringify({ Statement: [{ Effect: "Allow", Action, Resource }] });
    assert.deepEqual(
      await messages(leastPrivilege, [r("aws:iam/rolePolicy:RolePolicy", "p", { policy: doc("s3:GetObject", "arn:aws:s3:::b/*") })]),
      [],
    );
    assert.deepEqual(await messages(leastPrivilege, [r("aws:iam/rolePolicy:RolePolicy", "p", { policy: doc("s3:*", "*") })]), [
      "iam/rolePolicy p allows s3:* on *; name the actions and the resources (ARNs) it needs",
    ]);
  });

  it("private, encrypted artifacts", async () => {
    assert.deepEqual(
      await messages(privateArtifacts, [
        r("alicloud:oss/bucket:Bucket", "b", { acl: "private", serverSideEncryptionRule: { sseAlgorithm: "KMS" } }),
      ]),
      [],
    );
    assert.deepEqual(
      await messages(privateArtifacts, [
        r("alicloud:oss/bucket:Bucket", "b", { acl: "public-read", serverSideEncryptionRule: { sseAlgorithm: "KMS" } }),
      ]),
      ['OSS bucket b has acl public-read; set acl "private"'],
    );
    const fetching = (url: string) =>
      r("kubernetes:apps/v1:Deployment", "m", {
        spec: { template: { spec: { initContainers: [{ env: [{ name: "ARTIFACT_URL", value: url }] }] } } },
      });
    assert.deepEqual(await messages(privateArtifacts, [fetching("s3://b/m/1/model.onnx"), fetching("https://m.example/m.onnx")]), []);
    assert.deepEqual(await messages(privateArtifacts, [fetching("http://m.example/m.onnx")]), [
      "Deployment m fetches its model over http; serve artifacts over https, or from a private s3:// or oss:// bucket",
    ]);
  });

  it("GPU cost guard, with its config defaults applied", async () => {
    const pool = (accelerator: string, maxSize: number) => appWith({ ...baseSpec, gpuPools: { p: { accelerator, maxSize } } });
    assert.deepEqual(await messages(gpuCostGuard, [pool("nvidia-t4", 16)]), []);
    assert.deepEqual(await messages(gpuCostGuard, [pool("nvidia-t4", 17)]), [
      "GPU pool p may grow to 17 nodes, above the limit of 16; lower maxSize or raise maxNodesPerPool in the policy config",
    ]);
    assert.deepEqual(await messages(gpuCostGuard, [pool("nvidia-t4", 17)], { "cloudloom-gpu-cost-guard": { maxNodesPerPool: 20 } }), []);
  });

  it("GPU workloads are schedulable and autoscaled", async () => {
    const deployment = (tolerations: object[]) =>
      r("kubernetes:apps/v1:Deployment", "m", {
        metadata: { name: "m" },
        spec: { template: { spec: { tolerations, containers: [{ resources: { limits: { "nvidia.com/gpu": "1" } } }] } } },
      });
    const hpa = r("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "m", { spec: { scaleTargetRef: { name: "m" } } });
    assert.deepEqual(await messages(gpuWorkloads, [deployment([{ key: "nvidia.com/gpu" }]), hpa]), []);
    assert.deepEqual(await messages(gpuWorkloads, [deployment([]), hpa]), [
      "GPU Deployment m does not tolerate the nvidia.com/gpu taint; add a toleration (operator Exists, effect NoSchedule)",
    ]);
  });

  it("region allowlist, off by default", async () => {
    const app = appWith({ ...baseSpec, regions: { central: { placement: { aws: { region: "us-east-1" } } } } });
    assert.deepEqual(await messages(regionAllowlist, [app]), []);
    assert.deepEqual(await messages(regionAllowlist, [app], { "cloudloom-region-allowlist": { allowedRegions: ["eu-west-1"] } }), [
      "region central is placed in us-east-1, which is not in allowedRegions (eu-west-1); move it or extend the allowlist",
    ]);
  });

  it("public routes are rate limited", async () => {
    assert.deepEqual(
      await messages(publicRoutesRateLimited, [appWith({ ...baseSpec, routes: { "POST /x": { rateLimit: { requests: 1 } } } })]),
      [],
    );
    assert.deepEqual(await messages(publicRoutesRateLimited, [appWith({ ...baseSpec, routes: { "POST /x": {} } })]), [
      "route POST /x has no rate limit; add rateLimit: { requests, per }",
    ]);
  });

  it("objectives on every route of a production stack, and only there", async () => {
    const spec = {
      ...baseSpec,
      functions: { watched: { objectives: [{ coldStartShare: "5%" }] }, quiet: {} },
      models: { "m@1": { objectives: [{ queueAge: "10 ms" }] }, "m@2": {} },
      routes: {
        "POST /own": { target: { kind: "function", name: "quiet" }, objectives: [{ errorRate: "1%" }] },
        "POST /by-function": { target: { kind: "function", name: "watched" } },
        "POST /unwatched": { target: { kind: "function", name: "quiet" } },
        "POST /one-version": { target: { kind: "model", name: "m", weights: { "1": 100 } } },
        "POST /half-watched-split": { target: { kind: "model", name: "m", weights: { "1": 90, "2": 10 } } },
      },
    };
    const production = { "cloudloom-objectives-on-routes": { production: true } };
    assert.deepEqual(await messages(objectivesOnRoutes, [appWith(spec)]), [], "not production by default");
    const violations = await evaluatePolicies([appWith(spec)], production, [objectivesOnRoutes]);
    assert.deepEqual(
      violations.map((v) => [v.level, v.path]),
      [
        ["mandatory", "routes.POST /unwatched"],
        ["mandatory", "routes.POST /half-watched-split"],
      ],
    );
    assert.match(
      violations[0].message,
      /^route POST \/unwatched has no objective, so nothing alerts when it fails; add objectives: \[\{ errorRate: "1%"/,
    );
  });

  it("treats a stack tagged environment: production as production", async () => {
    const reported: string[] = [];
    await objectivesOnRoutes.validateStack(
      {
        resources: [
          appWith({ ...baseSpec, functions: { f: {} }, routes: { "GET /x": { target: { kind: "function", name: "f" } } } }),
        ] as never,
        stackTags: new Map([["environment", "production"]]),
        getConfig: <T>() => ({ production: false }) as T,
      } as never,
      (message: string) => void reported.push(message),
    );
    assert.equal(reported.length, 1);
    assert.match(reported[0], /route GET \/x has no objective/);
  });

  it("models are pinned by sha256", async () => {
    assert.deepEqual(
      await messages(modelsPinned, [appWith({ ...baseSpec, models: { "m@1": { artifact: { sha256: "a".repeat(64) } } } })]),
      [],
    );
    assert.deepEqual(await messages(modelsPinned, [appWith({ ...baseSpec, models: { "m@1": { artifact: { sha256: "latest" } } } })]), [
      "model m@1 is not pinned: declare artifact.sha256",
    ]);
  });

  it("scale-to-zero against latency budgets", async () => {
    const spec = (coldStart: string) => ({
      ...baseSpec,
      regions: { edge: { latencyBudget: "50 ms" } },
      scalingPolicies: { z: { scaleToZero: { idleWindow: "1 minute" } } },
      models: { "m@1": { pool: "gpu", scaling: "z", coldStart, regions: ["edge"] } },
    });
    assert.deepEqual(await messages(scaleToZeroLatency, [appWith(spec("40 ms"))]), []);
    assert.deepEqual(await messages(scaleToZeroLatency, [appWith(spec("2 seconds"))]), [
      "GPU model m@1 scales to zero but its cold start (2 seconds) exceeds region edge's latency budget (50 ms); keep a floor of one (minInstances: 1, no scaleToZero) or use prewarm",
    ]);
  });

  it("cloudloom labels on every resource", async () => {
    assert.deepEqual(await messages(cloudloomLabels, [r("kubernetes:core/v1:Service", "s", { metadata: { labels } })]), []);
    assert.deepEqual(await messages(cloudloomLabels, [r("aws:s3/bucket:Bucket", "b", { tags: { "cloudloom.dev/app": "a" } })]), [
      "s3/bucket:Bucket b lacks cloudloom.dev/kind, cloudloom.dev/name; tag it with providers/shared/labels.ts entryLabels()",
    ]);
  });
});

describe("the policy pack on whole stacks", () => {
  it("passes the example app's plan on every target with no violation at all, as a production stack too", async () => {
    const plan = await planApp(`${example.root}`, "kubernetes");
    assert.deepEqual(await evaluatePolicies(toPolicyResources(plan.resources)), []);
    assert.deepEqual(
      await evaluatePolicies(toPolicyResources(plan.resources), { "cloudloom-objectives-on-routes": { production: true } }),
      [],
    );
  });

  it("fails every policy at least once on the deliberately bad stack and app", async () => {
    const plan = await planApp("test/fixtures/bad-policy-app.ts", "kubernetes");
    const violations = await evaluatePolicies([...toPolicyResources(plan.resources), ...BAD_RESOURCES], {
      "cloudloom-region-allowlist": { allowedRegions: ["us-east-1"] },
      "cloudloom-objectives-on-routes": { production: true },
    });
    const failed = new Set(violations.map((v) => v.policy));
    assert.deepEqual(
      POLICIES.map((p) => p.name).filter((name) => !failed.has(name)),
      [],
    );
  });
});
