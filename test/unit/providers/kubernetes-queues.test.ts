import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import example from "../../../examples/support-desk/app";
import { KubernetesApp, type KubernetesAppArgs } from "../../../providers/kubernetes/app";
import { toManifests } from "../../../providers/kubernetes/render";
import { planUnderMocks, type PlannedResource } from "../../../providers/plan";
import type { SpecV1 } from "../../../sdk";

const ARTIFACTS = "https://models.example.com";
const SCALED_OBJECT = "kubernetes:keda.sh/v1alpha1:ScaledObject";
const TRIGGER_AUTH = "kubernetes:keda.sh/v1alpha1:TriggerAuthentication";
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const SECRET = "kubernetes:core/v1:Secret";

const ASYNC = {
  retries: 4,
  backoff: { strategy: "exponential" as const, delay: "2 seconds" as const },
  timeout: "10 seconds" as const,
  deadLetter: true,
  retention: "1 day" as const,
};

/**
 * The example with asynchronous work: a backlog route queueing the classify
 * function (which its synchronous route also calls), a batch function no
 * synchronous route or policy covers, and the intent model queued for batch inference.
 */
function queuedSpec(): SpecV1 {
  const spec = structuredClone(example.toSpec({ target: "kubernetes" }));
  spec.routes["POST /v1/backlog"] = { target: { kind: "function", name: "classify" }, auth: "api-key", async: ASYNC };
  spec.functions.batch = { ...spec.functions.classify, scaling: undefined, regions: ["central"], concurrency: 3 };
  delete spec.functions.batch.scaling;
  spec.routes["POST /v1/batch"] = { target: { kind: "function", name: "batch" }, auth: "api-key", async: ASYNC };
  spec.routes["POST /v1/models/intent/batch"] = {
    target: { kind: "model", name: "intent", weights: { "1": 100 }, strategy: "single", sticky: false },
    auth: "api-key",
    async: { ...ASYNC, timeout: "1 minute" },
  };
  return spec;
}

async function plan(spec: SpecV1, extra: Partial<KubernetesAppArgs> = {}) {
  return planUnderMocks(() => new KubernetesApp(spec.app, { spec, artifactBaseUrl: ARTIFACTS, ...extra }).endpoints);
}

function find(resources: PlannedResource[], type: string, name: string): any {
  const found = resources.find((r) => r.type === type && r.name === name);
  assert.ok(found, `no ${type} named ${name}; have:\n${resources.map((r) => `${r.type} ${r.name}`).join("\n")}`);
  return found.inputs;
}

const env = (deployment: any): any[] => deployment.spec.template.spec.containers[0].env ?? [];
const redisTriggers = (scaled: any) => scaled.spec.triggers.filter((t: any) => t.type === "redis");

describe("Kubernetes: asynchronous entries queue in BullMQ on the app's Redis, worked by their own pods, scaled by KEDA", () => {
  let resources: PlannedResource[];
  let endpoints: any;

  before(async () => {
    ({ resources, result: endpoints } = await plan(queuedSpec()));
  });

  it("gives the home region's pods of each queued entry the Redis URL, its password from the Redis Secret", () => {
    for (const name of ["support-desk-fn-classify-central", "support-desk-fn-batch-central", "support-desk-intent-v1-central"]) {
      const variables = env(find(resources, DEPLOYMENT, name));
      assert.deepEqual(
        variables.find((v) => v.name === "CLOUDLOOM_REDIS_PASSWORD"),
        { name: "CLOUDLOOM_REDIS_PASSWORD", valueFrom: { secretKeyRef: { name: "support-desk-redis", key: "password" } } },
        name,
      );
      assert.equal(
        variables.find((v) => v.name === "CLOUDLOOM_REDIS_URL").value,
        "redis://:$(CLOUDLOOM_REDIS_PASSWORD)@support-desk-redis.support-desk.svc.cluster.local:6379",
      );
    }
    // Other regions' pods serve synchronous calls only.
    for (const name of ["support-desk-fn-classify-edge-berlin", "support-desk-intent-v1-edge-berlin"])
      assert.equal(
        env(find(resources, DEPLOYMENT, name)).find((v) => v.name === "CLOUDLOOM_REDIS_URL"),
        undefined,
        name,
      );
  });

  it("scales the workers on their queue's waiting and running jobs, with KEDA authenticating from the Secret", () => {
    const scaled = find(resources, SCALED_OBJECT, "support-desk-fn-classify-central");
    assert.deepEqual(redisTriggers(scaled), [
      {
        type: "redis",
        metadata: {
          address: "support-desk-redis.support-desk.svc.cluster.local:6379",
          listName: "cl:support-desk.function.classify:wait",
          listLength: "50",
          activationListLength: "0",
          enableTLS: "false",
          databaseIndex: "0",
        },
        authenticationRef: { name: "support-desk-queues" },
      },
      {
        type: "redis",
        metadata: {
          address: "support-desk-redis.support-desk.svc.cluster.local:6379",
          listName: "cl:support-desk.function.classify:active",
          listLength: "50",
          activationListLength: "0",
          enableTLS: "false",
          databaseIndex: "0",
        },
        authenticationRef: { name: "support-desk-queues" },
      },
    ]);
    // Its own policy still applies (floors, the load trigger); the queue's triggers are added to them.
    assert.equal(scaled.spec.minReplicaCount, 1);
    assert.equal(scaled.spec.maxReplicaCount, 20);
    assert.ok(scaled.spec.triggers.some((t: any) => t.type === "cron"));
    assert.deepEqual(find(resources, TRIGGER_AUTH, "support-desk-queues").spec, {
      secretTargetRef: [{ parameter: "password", name: "support-desk-redis", key: "password" }],
    });
    // The edge's workload works no queue.
    assert.deepEqual(redisTriggers(find(resources, SCALED_OBJECT, "support-desk-fn-classify-edge-berlin")), []);
  });

  it("scales an entry nothing else calls to zero when idle, waiting out its longest retry backoff first", () => {
    const scaled = find(resources, SCALED_OBJECT, "support-desk-fn-batch-central");
    assert.equal(scaled.spec.minReplicaCount, 0);
    assert.equal(scaled.spec.maxReplicaCount, 10);
    // 2 s × 2^(4-1) = 16 s of backoff before the last retry, plus its 10 s attempt.
    assert.equal(scaled.spec.cooldownPeriod, 26);
    assert.deepEqual(
      redisTriggers(scaled).map((t: any) => [t.metadata.listName, t.metadata.listLength]),
      [
        ["cl:support-desk.function.batch:wait", "3"],
        ["cl:support-desk.function.batch:active", "3"],
      ],
    );
    const model = find(resources, SCALED_OBJECT, "support-desk-intent-v1-central");
    assert.deepEqual(
      redisTriggers(model).map((t: any) => [t.metadata.listName, t.metadata.listLength]),
      [
        ["cl:support-desk.model.intent@1:wait", "32"],
        ["cl:support-desk.model.intent@1:active", "32"],
      ],
    );
    assert.equal(model.spec.cooldownPeriod, 900, "the policy's 15-minute idle window is longer than the queue's need");
  });

  it("tells the gateway its queues are in its Redis", () => {
    assert.deepEqual(endpoints.queues, {
      "function:batch": { kind: "redis" },
      "function:classify": { kind: "redis" },
      "function:reclassify": { kind: "redis" },
      "model:intent@1": { kind: "redis" },
    });
  });

  it("lets the workers and KEDA's operator reach Redis, and nothing else new", () => {
    const redis = find(resources, POLICY, "support-desk-redis").spec;
    assert.deepEqual(redis.ingress[0].from, [
      {
        podSelector: {
          matchLabels: { "cloudloom.dev/app": "support-desk", "cloudloom.dev/kind": "gateway", "cloudloom.dev/name": "gateway" },
        },
      },
      { podSelector: { matchLabels: { "cloudloom.dev/app": "support-desk", "cloudloom.dev/kind": "function" } } },
      { podSelector: { matchLabels: { "cloudloom.dev/app": "support-desk", "cloudloom.dev/kind": "model" } } },
      { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "keda" } } },
    ]);
    const toRedis = {
      to: [{ podSelector: { matchLabels: { "cloudloom.dev/app": "support-desk", "app.kubernetes.io/name": "redis" } } }],
      ports: [{ protocol: "TCP", port: 6379 }],
    };
    assert.deepEqual(find(resources, POLICY, "support-desk-functions").spec.egress.at(-1), toRedis);
    assert.deepEqual(find(resources, POLICY, "support-desk-models").spec.egress.at(-1), toRedis);
  });

  it("renders ScaledObjects and the TriggerAuthentication that validate against KEDA's schemas", async () => {
    const { ScaledObject, TriggerAuthentication } = await import("@kubernetes-models/keda/keda.sh/v1alpha1");
    const keda = toManifests(resources).filter((m) => m.kind === "ScaledObject" || m.kind === "TriggerAuthentication");
    assert.ok(keda.some((m) => m.kind === "TriggerAuthentication"));
    for (const manifest of keda)
      new (manifest.kind === "ScaledObject" ? ScaledObject : TriggerAuthentication)(manifest as never).validate();
  });

  it("takes the user's Redis from stack config: its URL and password in a Secret, KEDA's address, TLS and database from it", async () => {
    const url = "rediss://worker:s3cret-pass@redis.example.com:6380/2";
    const { resources: planned } = await plan(queuedSpec(), { redisUrl: pulumi.secret(url) });
    // Pulumi captures a Secret's stringData as one secret value.
    const data = find(planned, SECRET, "support-desk-queues").stringData.value;
    assert.deepEqual(data, { "redis-url": url, password: "s3cret-pass" });
    const scaled = find(planned, SCALED_OBJECT, "support-desk-fn-batch-central");
    assert.deepEqual(
      redisTriggers(scaled).map((t: any) => [t.metadata.address, t.metadata.enableTLS, t.metadata.databaseIndex]),
      [
        ["redis.example.com:6380", "true", "2"],
        ["redis.example.com:6380", "true", "2"],
      ],
    );
    assert.doesNotMatch(JSON.stringify(scaled), /s3cret/);
    assert.deepEqual(find(planned, TRIGGER_AUTH, "support-desk-queues").spec.secretTargetRef, [
      { parameter: "password", name: "support-desk-queues", key: "password" },
    ]);
    assert.deepEqual(
      env(find(planned, DEPLOYMENT, "support-desk-fn-batch-central")).find((v) => v.name === "CLOUDLOOM_REDIS_URL"),
      { name: "CLOUDLOOM_REDIS_URL", valueFrom: { secretKeyRef: { name: "support-desk-queues", key: "redis-url" } } },
    );
    assert.ok(!planned.some((r) => r.type === "kubernetes:apps/v1:StatefulSet"), "no in-cluster Redis with the user's");
  });
});
