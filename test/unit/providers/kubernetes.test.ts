import assert from "node:assert/strict";
import { App, SpecError, type SpecV1 } from "../../../sdk";
import example from "../../../examples/support-desk/app";
import { KubernetesApp, type KubernetesAppArgs } from "../../../providers/kubernetes/app";
import { toManifests, toYaml, type Manifest } from "../../../providers/kubernetes/render";
import { planUnderMocks, type PlannedResource } from "../../../providers/plan";
import { REQUIRED_LABELS } from "../../../providers/shared/labels";

const ARTIFACTS = "https://models.example.com";

async function plan(spec: SpecV1, extra: Partial<KubernetesAppArgs> = {}) {
  return planUnderMocks(() => new KubernetesApp(spec.app, { spec, artifactBaseUrl: ARTIFACTS, ...extra }).endpoints);
}

function find(resources: PlannedResource[], type: string, name: string): any {
  const found = resources.find((r) => r.type === type && r.name === name);
  assert.ok(found, `no ${type} named ${name}; have:\n${resources.map((r) => `${r.type} ${r.name}`).join("\n")}`);
  return found.inputs;
}

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const SCALED_OBJECT = "kubernetes:keda.sh/v1alpha1:ScaledObject";

describe("Kubernetes provider", () => {
  const spec = example.toSpec({ target: "kubernetes" });
  let resources: PlannedResource[];
  let endpoints: any;

  before(async () => {
    ({ resources, result: endpoints } = await plan(spec));
  });

  it("creates the expected resources for the example app, typed cloudloom:kubernetes:<Kind>", () => {
    const listed = resources.map((r) => `${r.type} ${r.name}`).sort();
    assert.deepEqual(listed, [
      "cloudloom:kubernetes:Alerts support-desk-alerts",
      "cloudloom:kubernetes:App support-desk",
      "cloudloom:kubernetes:Function support-desk-fn-classify-central",
      "cloudloom:kubernetes:Function support-desk-fn-classify-edge-berlin",
      "cloudloom:kubernetes:Function support-desk-fn-reclassify-central",
      "cloudloom:kubernetes:Gateway support-desk-gateway",
      "cloudloom:kubernetes:Model support-desk-intent-v1-central",
      "cloudloom:kubernetes:Model support-desk-intent-v1-edge-berlin",
      "cloudloom:kubernetes:Redis support-desk-redis",
      "kubernetes:apps/v1:Deployment support-desk-fn-classify-central",
      "kubernetes:apps/v1:Deployment support-desk-fn-classify-edge-berlin",
      "kubernetes:apps/v1:Deployment support-desk-fn-reclassify-central",
      "kubernetes:apps/v1:Deployment support-desk-gateway",
      "kubernetes:apps/v1:Deployment support-desk-intent-v1-central",
      "kubernetes:apps/v1:Deployment support-desk-intent-v1-edge-berlin",
      "kubernetes:apps/v1:StatefulSet support-desk-redis",
      "kubernetes:autoscaling/v2:HorizontalPodAutoscaler support-desk-gateway",
      "kubernetes:core/v1:ConfigMap support-desk-gateway",
      "kubernetes:core/v1:ConfigMap support-desk-spec",
      "kubernetes:core/v1:Namespace support-desk-ns",
      "kubernetes:core/v1:Secret support-desk-demand-token",
      "kubernetes:core/v1:Secret support-desk-gateway-keys",
      "kubernetes:core/v1:Secret support-desk-metrics-token",
      "kubernetes:core/v1:Secret support-desk-redis",
      "kubernetes:core/v1:Service support-desk-fn-classify-central",
      "kubernetes:core/v1:Service support-desk-fn-classify-edge-berlin",
      "kubernetes:core/v1:Service support-desk-fn-reclassify-central",
      "kubernetes:core/v1:Service support-desk-gateway",
      "kubernetes:core/v1:Service support-desk-intent-v1-central",
      "kubernetes:core/v1:Service support-desk-intent-v1-edge-berlin",
      "kubernetes:core/v1:Service support-desk-redis",
      "kubernetes:keda.sh/v1alpha1:ScaledObject support-desk-fn-classify-central",
      "kubernetes:keda.sh/v1alpha1:ScaledObject support-desk-fn-classify-edge-berlin",
      "kubernetes:keda.sh/v1alpha1:ScaledObject support-desk-fn-reclassify-central",
      "kubernetes:keda.sh/v1alpha1:ScaledObject support-desk-intent-v1-central",
      "kubernetes:keda.sh/v1alpha1:ScaledObject support-desk-intent-v1-edge-berlin",
      "kubernetes:keda.sh/v1alpha1:TriggerAuthentication support-desk-metrics-token",
      "kubernetes:keda.sh/v1alpha1:TriggerAuthentication support-desk-queues",
      "kubernetes:monitoring.coreos.com/v1:PrometheusRule support-desk-alerts-objectives",
      "kubernetes:monitoring.coreos.com/v1:ServiceMonitor support-desk-alerts-gateway",
      "kubernetes:monitoring.coreos.com/v1:ServiceMonitor support-desk-alerts-runtime",
      "kubernetes:networking.k8s.io/v1:NetworkPolicy support-desk-default-deny",
      "kubernetes:networking.k8s.io/v1:NetworkPolicy support-desk-dns",
      "kubernetes:networking.k8s.io/v1:NetworkPolicy support-desk-functions",
      "kubernetes:networking.k8s.io/v1:NetworkPolicy support-desk-gateway",
      "kubernetes:networking.k8s.io/v1:NetworkPolicy support-desk-models",
      "kubernetes:networking.k8s.io/v1:NetworkPolicy support-desk-redis",
      "kubernetes:policy/v1:PodDisruptionBudget support-desk-fn-classify-central",
      "kubernetes:policy/v1:PodDisruptionBudget support-desk-fn-classify-edge-berlin",
      "kubernetes:policy/v1:PodDisruptionBudget support-desk-fn-reclassify-central",
      "kubernetes:policy/v1:PodDisruptionBudget support-desk-gateway",
      "kubernetes:policy/v1:PodDisruptionBudget support-desk-intent-v1-central",
      "kubernetes:policy/v1:PodDisruptionBudget support-desk-intent-v1-edge-berlin",
    ]);
  });

  it("outputs every endpoint per region, in the gateway's endpoints-map shape", () => {
    assert.deepEqual(endpoints, {
      functions: {
        classify: {
          central: "http://support-desk-fn-classify-central.support-desk.svc.cluster.local",
          "edge-berlin": "http://support-desk-fn-classify-edge-berlin.support-desk.svc.cluster.local",
        },
        reclassify: { central: "http://support-desk-fn-reclassify-central.support-desk.svc.cluster.local" },
      },
      models: {
        "intent@1": {
          central: "http://support-desk-intent-v1-central.support-desk.svc.cluster.local",
          "edge-berlin": "http://support-desk-intent-v1-edge-berlin.support-desk.svc.cluster.local",
        },
      },
      // The asynchronous backlog route queues in the gateway's Redis.
      queues: { "function:reclassify": { kind: "redis" } },
    });
  });

  it("puts GPU models on the pool: accelerator selector, nvidia.com/gpu toleration and limit", () => {
    const pod = find(resources, DEPLOYMENT, "support-desk-intent-v1-central").spec.template.spec;
    assert.deepEqual(pod.nodeSelector, { "cloud.google.com/gke-accelerator": "nvidia-tesla-t4" });
    assert.deepEqual(pod.tolerations, [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }]);
    assert.equal(pod.containers[0].resources.limits["nvidia.com/gpu"], "1");
  });

  it("fetches the artifact in an init container and checks its sha256", () => {
    const pod = find(resources, DEPLOYMENT, "support-desk-intent-v1-central").spec.template.spec;
    const init = pod.initContainers[0];
    assert.deepEqual(init.env.slice(0, 2), [
      { name: "ARTIFACT_URL", value: `${ARTIFACTS}/intent/1/model.onnx` },
      { name: "ARTIFACT_SHA256", value: spec.models["intent@1"].artifact.sha256 },
    ]);
    assert.match(init.command[2], /sha256sum -c -/);
    assert.deepEqual(pod.containers[0].args.slice(4, 7), ["model:intent@1", "--region", "central"]);
    assert.deepEqual(pod.containers[0].args.slice(-2), ["--artifact", "/models/model.onnx"]);
    assert.deepEqual(pod.volumes, [
      { name: "model", emptyDir: { sizeLimit: "2Gi" } },
      { name: "spec", configMap: { name: "support-desk-spec" } },
      { name: "scratch", emptyDir: { sizeLimit: "64Mi" } },
    ]);
  });

  it("pins each region's workloads with node affinity, and tolerates edge taints", () => {
    const central = find(resources, DEPLOYMENT, "support-desk-fn-classify-central").spec.template.spec;
    const edge = find(resources, DEPLOYMENT, "support-desk-fn-classify-edge-berlin").spec.template.spec;
    const terms = (pod: any) =>
      pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions;
    assert.deepEqual(terms(central), [{ key: "topology.kubernetes.io/region", operator: "In", values: ["eu-west-1"] }]);
    assert.deepEqual(terms(edge), [
      { key: "cloudloom.dev/edge", operator: "In", values: ["berlin"] },
      { key: "topology.kubernetes.io/region", operator: "In", values: ["eu-central-1"] },
    ]);
    assert.deepEqual(edge.tolerations, [{ key: "cloudloom.dev/edge", operator: "Exists", effect: "NoSchedule" }]);
    assert.deepEqual(central.tolerations, []);
  });

  it("sizes functions from declared memory and references secrets, never their values", () => {
    const container = find(resources, DEPLOYMENT, "support-desk-fn-classify-central").spec.template.spec.containers[0];
    assert.deepEqual(container.resources, {
      requests: { memory: "512Mi", cpu: "289m", "ephemeral-storage": "64Mi" },
      limits: { memory: "512Mi", "ephemeral-storage": "256Mi" },
    });
    assert.deepEqual(container.env.slice(0, 2), [
      { name: "CRM_TOKEN", valueFrom: { secretKeyRef: { name: "support-desk-secrets", key: "crm-token" } } },
      { name: "LOG_LEVEL", value: "info" },
    ]);
    assert.deepEqual(container.livenessProbe.httpGet, { path: "/healthz", port: 8080 });
    assert.deepEqual(container.args, [
      "serve",
      "--spec",
      "/etc/cloudloom/spec.json",
      "--only",
      "function:classify",
      "--region",
      "central",
      "--host",
      "0.0.0.0",
      "--port",
      "8080",
      "--root",
      "/app",
      "--model-url",
      "intent@1=http://support-desk-intent-v1-central.support-desk.svc.cluster.local",
    ]);
    assert.deepEqual(container.readinessProbe.httpGet, { path: "/readyz", port: 8080 });
  });

  it("turns scheduled floors into KEDA cron triggers and scale-to-zero into minReplicaCount 0", () => {
    const fn = find(resources, SCALED_OBJECT, "support-desk-fn-classify-central");
    assert.equal(fn.apiVersion, "keda.sh/v1alpha1");
    assert.deepEqual(fn.spec.triggers[0], {
      type: "cron",
      metadata: { timezone: "Europe/Berlin", start: "0 8 * * 1-5", end: "0 9 * * 1-5", desiredReplicas: "4" },
    });
    assert.equal(fn.spec.minReplicaCount, 1);
    assert.equal(fn.spec.maxReplicaCount, 20);
    assert.equal(fn.spec.triggers[1].type, "prometheus");
    assert.equal(fn.spec.triggers[1].metadata.threshold, "8");
    const model = find(resources, SCALED_OBJECT, "support-desk-intent-v1-central");
    assert.equal(model.spec.minReplicaCount, 0);
    assert.equal(model.spec.maxReplicaCount, 8);
    assert.equal(model.spec.cooldownPeriod, 900);
    assert.equal(find(resources, DEPLOYMENT, "support-desk-intent-v1-central").spec.replicas, undefined, "KEDA owns the replicas");
  });

  it("uses an HPA (never with KEDA) and a PodDisruptionBudget for a floor of two with no schedule", async () => {
    const app = new App("steady", { root: example.root });
    const r = app.region("central", { kind: "central", placement: { kubernetes: { labels: { zone: "a" } } } });
    const p = app.scalingPolicy("p", { minInstances: 2, maxInstances: 9, targetUtilization: 65 });
    app.function("f", { handler: "f.ts", regions: [r], scaling: p });
    const { resources: planned } = await plan(app.toSpec({ target: "kubernetes", root: undefined }));
    const hpa = find(planned, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "steady-fn-f-central");
    assert.deepEqual(hpa.spec, {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "steady-fn-f-central" },
      minReplicas: 2,
      maxReplicas: 9,
      metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 65 } } }],
    });
    assert.equal(find(planned, "kubernetes:policy/v1:PodDisruptionBudget", "steady-fn-f-central").spec.maxUnavailable, 1);
    assert.ok(!planned.some((r) => r.type === SCALED_OBJECT && r.name === "steady-fn-f-central"));
  });

  it("labels every Kubernetes resource back to its spec entry", () => {
    for (const manifest of toManifests(resources)) {
      for (const key of REQUIRED_LABELS)
        assert.ok(manifest.metadata.labels?.[key], `${manifest.kind} ${manifest.metadata.name} lacks ${key}`);
    }
  });

  it("renders manifests that validate against the Kubernetes, KEDA and Prometheus Operator schemas", async () => {
    const models: Record<string, any> = {
      Namespace: (await import("kubernetes-models/v1")).Namespace,
      Secret: (await import("kubernetes-models/v1")).Secret,
      ConfigMap: (await import("kubernetes-models/v1")).ConfigMap,
      Service: (await import("kubernetes-models/v1")).Service,
      Deployment: (await import("kubernetes-models/apps/v1")).Deployment,
      StatefulSet: (await import("kubernetes-models/apps/v1")).StatefulSet,
      HorizontalPodAutoscaler: (await import("kubernetes-models/autoscaling/v2")).HorizontalPodAutoscaler,
      PodDisruptionBudget: (await import("kubernetes-models/policy/v1")).PodDisruptionBudget,
      NetworkPolicy: (await import("kubernetes-models/networking.k8s.io/v1")).NetworkPolicy,
      ScaledObject: (await import("@kubernetes-models/keda/keda.sh/v1alpha1")).ScaledObject,
      PrometheusRule: (await import("@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1")).PrometheusRule,
      ServiceMonitor: (await import("@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1")).ServiceMonitor,
      TriggerAuthentication: (await import("@kubernetes-models/keda/keda.sh/v1alpha1")).TriggerAuthentication,
    };
    const manifests: Manifest[] = toManifests(resources);
    assert.equal(manifests.length, 44);
    for (const manifest of manifests) {
      const Model = models[manifest.kind];
      assert.ok(Model, `no schema for ${manifest.kind}`);
      new Model(manifest).validate();
    }
    const yaml = toYaml(manifests);
    assert.equal(yaml.split("---\n").length, 44);
    assert.match(yaml.split("---\n")[0], /kind: Namespace/);
    assert.match(yaml, /api-keys: '<fill in: cloudloom:apiKeys[^']*>'\n/, "secret values are never rendered, only marked placeholders");
  });

  it("renders the same manifests on every run", async () => {
    const again = await plan(spec);
    assert.equal(toYaml(toManifests(again.resources)), toYaml(toManifests(resources)));
  });

  it("changes only that function's resources (and the spec it is configured with) when one function changes", async () => {
    const changed = structuredClone(spec);
    changed.functions.classify.memory = "1 GB";
    const after = (await plan(changed)).resources;
    const key = (r: PlannedResource) => `${r.type} ${r.name}`;
    const before = new Map(resources.map((r) => [key(r), JSON.stringify(r.inputs)]));
    const diff = after
      .filter((r) => before.get(key(r)) !== JSON.stringify(r.inputs))
      .map(key)
      .sort();
    assert.deepEqual(diff, [
      "cloudloom:kubernetes:App support-desk",
      "kubernetes:apps/v1:Deployment support-desk-fn-classify-central",
      "kubernetes:apps/v1:Deployment support-desk-fn-classify-edge-berlin",
      "kubernetes:core/v1:ConfigMap support-desk-gateway",
      "kubernetes:core/v1:ConfigMap support-desk-spec",
      // Each program run generates another demand token, metrics token and Redis password; ignoreChanges keeps the first in the cluster.
      "kubernetes:core/v1:Secret support-desk-demand-token",
      "kubernetes:core/v1:Secret support-desk-metrics-token",
      "kubernetes:core/v1:Secret support-desk-redis",
    ]);
    assert.deepEqual(after.map(key).sort(), [...before.keys()].sort(), "no resource was added, removed or renamed");
  });

  it("refuses bad placement or an unmappable accelerator before creating any resource", async () => {
    const noPlacement = structuredClone(spec);
    delete noPlacement.regions["edge-berlin"].placement.kubernetes;
    let planned: PlannedResource[] | undefined;
    await assert.rejects(
      planUnderMocks(() => new KubernetesApp("x", { spec: noPlacement, artifactBaseUrl: ARTIFACTS }).endpoints).then(
        (r) => (planned = r.resources),
      ),
      (error: SpecError) =>
        error instanceof SpecError &&
        error.problems.some((p) => p.code === "CL_PLACEMENT_MISSING" && p.path === "regions.edge-berlin.placement.kubernetes"),
    );
    assert.equal(planned, undefined);
    const l4 = structuredClone(spec);
    l4.gpuPools["inference-t4"].accelerator = "nvidia-l4";
    await assert.rejects(plan(l4, { acceleratorLabels: "ack" }), /has no value for nvidia-l4/);
  });
});

describe("providers/kubernetes/README.md", () => {
  it("lists only resource types the provider really creates, and all of them", async () => {
    const { readFileSync } = await import("node:fs");
    const readme = readFileSync(require.resolve("../../../providers/kubernetes/README.md"), "utf8");
    const documented = new Set([...readme.matchAll(/`(kubernetes:[^`]+)`/g)].map((m) => m[1]));
    const app = new App("both", { root: example.root });
    const r = app.region("central", { kind: "central", placement: { kubernetes: { labels: { zone: "a" } } } });
    app.function("hpa", {
      handler: "f.ts",
      regions: [r],
      scaling: app.scalingPolicy("p", { minInstances: 2, maxInstances: 3, targetConcurrency: 5 }),
    });
    const planned = [
      ...(await plan(example.toSpec({ target: "kubernetes" }))).resources,
      ...(await plan(app.toSpec({ target: "kubernetes", root: undefined }), { gatewayExposure: "ingress", gatewayHost: "api.example.com" }))
        .resources,
    ];
    const created = new Set(planned.filter((p) => p.custom).map((p) => p.type));
    assert.deepEqual([...documented].sort(), [...created].sort());
  });
});
