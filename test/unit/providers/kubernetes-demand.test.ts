/**
 * The KEDA trigger on the gateway's count of held and in-flight requests, as
 * the Kubernetes provider creates it (Pulumi mocks, awaited real inputs).
 */
import assert from "node:assert/strict";
import { App, type SpecV1 } from "../../../sdk";
import example from "../../../examples/support-desk/app";
import { KubernetesApp, type KubernetesAppArgs } from "../../../providers/kubernetes/app";
import { planUnderMocks, type PlannedResource } from "../../../providers/plan";

const SCALED_OBJECT = "kubernetes:keda.sh/v1alpha1:ScaledObject";

async function plan(spec: SpecV1, extra: Partial<KubernetesAppArgs> = {}): Promise<PlannedResource[]> {
  const { resources } = await planUnderMocks(
    () => new KubernetesApp(spec.app, { spec, artifactBaseUrl: "https://models.example.com", ...extra }).endpoints,
  );
  return resources;
}

/** The ScaledObject spec of workload `name`. */
function scaledObject(
  resources: PlannedResource[],
  name: string,
): { pollingInterval?: number; triggers: Array<{ type: string; metadata: Record<string, unknown> }> } {
  const found = resources.find((r) => r.type === SCALED_OBJECT && r.name === name);
  assert.ok(found, `no ScaledObject ${name}`);
  return (found.inputs as { spec: never }).spec;
}

const metricsApi = (spec: ReturnType<typeof scaledObject>) => spec.triggers.filter((t) => t.type === "metrics-api");

describe("Kubernetes provider: waking a workload from zero on the gateway's held requests", () => {
  it("points a metrics-api trigger of each scale-to-zero model at the in-cluster gateway's demand for that version and region", async () => {
    const resources = await plan(example.toSpec({ target: "kubernetes" }));
    for (const region of ["central", "edge-berlin"]) {
      const spec = scaledObject(resources, `support-desk-intent-v1-${region}`);
      assert.deepEqual(metricsApi(spec), [
        {
          type: "metrics-api",
          metadata: {
            url: `http://support-desk-gateway.support-desk.svc.cluster.local/metrics/demand?kind=model&entry=intent%401&region=${region}`,
            format: "json",
            valueLocation: "demand",
            // The bursty policy scales on utilization: one request per replica for the request count.
            targetValue: "1",
            activationTargetValue: "0",
            // The gateway's metrics take the metrics token: KEDA sends it as a Bearer token.
            authMode: "bearer",
          },
          authenticationRef: { name: "support-desk-metrics-token" },
        },
      ]);
      // The default hold waits 30 s: KEDA looks every 3 s, so a held request is seen while it waits.
      assert.equal(spec.pollingInterval, 3);
      assert.equal(spec.triggers[0].type, "prometheus", "the pods' own in-flight gauge still scales it too");
    }
    const gateway = resources.find((r) => r.type === "kubernetes:core/v1:Service" && r.name === "support-desk-gateway");
    assert.equal(
      (gateway?.inputs as { metadata: { name: string } }).metadata.name,
      "support-desk-gateway",
      "the URL names the gateway's Service",
    );
  });

  it("adds no such trigger to a policy that never scales to zero and states no hold", async () => {
    const resources = await plan(example.toSpec({ target: "kubernetes" }));
    const fn = scaledObject(resources, "support-desk-fn-classify-central");
    assert.deepEqual(metricsApi(fn), []);
    assert.equal(fn.pollingInterval, undefined);
  });

  it("scales on the policy's target concurrency and polls at a tenth of its stated wait", async () => {
    const app = new App("held", { root: example.root });
    const central = app.region("central", { kind: "central", placement: { kubernetes: { labels: { zone: "a" } } } });
    const policy = app.scalingPolicy("zero", {
      maxInstances: 6,
      targetConcurrency: 4,
      scaleToZero: { idleWindow: "2 minutes" },
      hold: { maxPending: 50, maxWait: "90 seconds" },
    });
    app.function("f", { handler: "f.ts", regions: [central], scaling: policy });
    const spec = scaledObject(await plan(app.toSpec({ target: "kubernetes", root: undefined })), "held-fn-f-central");
    assert.deepEqual(metricsApi(spec)[0].metadata, {
      url: "http://held-gateway.held.svc.cluster.local/metrics/demand?kind=function&entry=f&region=central",
      format: "json",
      valueLocation: "demand",
      targetValue: "4",
      activationTargetValue: "0",
      authMode: "bearer",
    });
    assert.equal(spec.pollingInterval, 9);
  });

  it("adds none when the gateway runs outside the cluster (an EKS or ACK part of another target's app)", async () => {
    const resources = await plan(example.toSpec({ target: "kubernetes" }), { gateway: false });
    assert.deepEqual(metricsApi(scaledObject(resources, "support-desk-intent-v1-central")), []);
  });
});

describe("Kubernetes provider: function pods' calls to a model at zero count in its demand", () => {
  const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
  const SECRET = "kubernetes:core/v1:Secret";
  const POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
  type Env = Array<{ name: string; value?: string; valueFrom?: { secretKeyRef: { name: string; key: string } } }>;
  const envOf = (resources: PlannedResource[], name: string): Env => {
    const found = resources.find((r) => r.type === DEPLOYMENT && r.name === name);
    assert.ok(found, `no Deployment ${name}`);
    return (
      (found.inputs as { spec: { template: { spec: { containers: Array<{ env?: Env }> } } } }).spec.template.spec.containers[0].env ?? []
    );
  };
  const named = (env: Env, name: string) => env.find((e) => e.name === name);

  it("gives each function pod that calls a holding model the gateway's report URL and the token, and the gateway the same token", async () => {
    const resources = await plan(example.toSpec({ target: "kubernetes" }));
    const secrets = resources.filter((r) => r.type === SECRET && r.name === "support-desk-demand-token");
    assert.equal(secrets.length, 1, "one token Secret");
    // A Pulumi secret, as the mocks record it: its value under `value`.
    const secret = secrets[0].inputs as { metadata: { namespace: string }; stringData: { value: { token: string } } };
    assert.equal(secret.metadata.namespace, "support-desk");
    assert.match(secret.stringData.value.token, /^[0-9a-f]{48}$/);
    for (const fn of ["support-desk-fn-classify-central", "support-desk-fn-classify-edge-berlin"]) {
      const env = envOf(resources, fn);
      assert.deepEqual(named(env, "CLOUDLOOM_DEMAND_REPORT_URL"), {
        name: "CLOUDLOOM_DEMAND_REPORT_URL",
        value: "http://support-desk-gateway.support-desk.svc.cluster.local/_cloudloom/demand",
      });
      assert.deepEqual(named(env, "CLOUDLOOM_DEMAND_TOKEN"), {
        name: "CLOUDLOOM_DEMAND_TOKEN",
        valueFrom: { secretKeyRef: { name: "support-desk-demand-token", key: "token" } },
      });
    }
    assert.deepEqual(named(envOf(resources, "support-desk-gateway"), "CLOUDLOOM_DEMAND_TOKEN"), {
      name: "CLOUDLOOM_DEMAND_TOKEN",
      valueFrom: { secretKeyRef: { name: "support-desk-demand-token", key: "token" } },
    });
  });

  it("lets function pods reach the gateway's port, and the gateway takes them (its port is open to every pod)", async () => {
    const resources = await plan(example.toSpec({ target: "kubernetes" }));
    const policy = (name: string): any => resources.find((r) => r.type === POLICY && r.name === name)!.inputs;
    const egress = policy("support-desk-functions").spec.egress as Array<{
      to?: Array<{ podSelector: { matchLabels: Record<string, string> } }>;
    }>;
    const toGateway = egress.filter((rule) => rule.to?.[0]?.podSelector.matchLabels["cloudloom.dev/kind"] === "gateway");
    assert.deepEqual(toGateway, [
      {
        to: [
          {
            podSelector: {
              matchLabels: { "cloudloom.dev/app": "support-desk", "cloudloom.dev/kind": "gateway", "cloudloom.dev/name": "gateway" },
            },
          },
        ],
        ports: [{ protocol: "TCP", port: 8080 }],
      },
    ]);
    assert.deepEqual(policy("support-desk-gateway").spec.ingress[0], { ports: [{ protocol: "TCP", port: 8080 }] });
  });

  it("points a model only functions call at the gateway's demand too, which the reports fill", async () => {
    const app = new App("fn-only", { root: example.root });
    const central = app.region("central", { kind: "central", placement: { kubernetes: { labels: { zone: "a" } } } });
    const zero = app.scalingPolicy("zero", { maxInstances: 3, targetConcurrency: 2, scaleToZero: { idleWindow: "5 minutes" } });
    const draft = example.toDraft().models["intent@1"];
    const model = app.model("intent", {
      version: "1",
      artifact: draft.artifact,
      signature: draft.signature,
      regions: [central],
      scaling: zero,
    });
    const fn = app.function("caller", { handler: "functions/classify.ts", regions: [central], models: [model] });
    app.route("POST /call", { target: fn, auth: "none" });
    const resources = await plan(app.toSpec({ target: "kubernetes", root: undefined }));
    assert.equal(
      metricsApi(scaledObject(resources, "fn-only-intent-v1-central"))[0].metadata.url,
      "http://fn-only-gateway.fn-only.svc.cluster.local/metrics/demand?kind=model&entry=intent%401&region=central",
    );
    assert.ok(named(envOf(resources, "fn-only-fn-caller-central"), "CLOUDLOOM_DEMAND_REPORT_URL"));
  });

  it("reports nothing, and makes no token, when the gateway runs outside the cluster or no called model holds", async () => {
    const outside = await plan(example.toSpec({ target: "kubernetes" }), { gateway: false });
    assert.equal(outside.filter((r) => r.type === SECRET && r.name.endsWith("demand-token")).length, 0);
    assert.equal(named(envOf(outside, "support-desk-fn-classify-central"), "CLOUDLOOM_DEMAND_REPORT_URL"), undefined);
    const app = new App("steady", { root: example.root });
    const central = app.region("central", { kind: "central", placement: { kubernetes: { labels: { zone: "a" } } } });
    const always = app.scalingPolicy("always", { minInstances: 1, maxInstances: 3, targetConcurrency: 2 });
    const draft = example.toDraft().models["intent@1"];
    const model = app.model("intent", {
      version: "1",
      artifact: draft.artifact,
      signature: draft.signature,
      regions: [central],
      scaling: always,
    });
    app.function("caller", { handler: "functions/classify.ts", regions: [central], models: [model] });
    const steady = await plan(app.toSpec({ target: "kubernetes", root: undefined }));
    assert.equal(steady.filter((r) => r.type === SECRET && r.name.endsWith("demand-token")).length, 0);
    assert.equal(named(envOf(steady, "steady-fn-caller-central"), "CLOUDLOOM_DEMAND_TOKEN"), undefined);
  });

  it("takes cloudloom:demandToken as the token when it is set, and refuses one the gateway would refuse", async () => {
    const resources = await plan(example.toSpec({ target: "kubernetes" }), { demandToken: "t".repeat(24) });
    const secret = resources.find((r) => r.type === SECRET && r.name === "support-desk-demand-token")!.inputs as {
      stringData: { value: { token: string } };
    };
    assert.equal(secret.stringData.value.token, "t".repeat(24));
    await assert.rejects(
      plan(example.toSpec({ target: "kubernetes" }), { demandToken: "short" }),
      /cloudloom:demandToken must be at least 16/,
    );
  });
});
