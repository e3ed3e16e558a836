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
          },
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
    });
    assert.equal(spec.pollingInterval, 9);
  });

  it("adds none when the gateway runs outside the cluster (an EKS or ACK part of another target's app)", async () => {
    const resources = await plan(example.toSpec({ target: "kubernetes" }), { gateway: false });
    assert.deepEqual(metricsApi(scaledObject(resources, "support-desk-intent-v1-central")), []);
  });
});
