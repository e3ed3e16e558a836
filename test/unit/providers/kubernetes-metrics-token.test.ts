/**
 * The gateway's metrics token on Kubernetes (Pulumi mocks, awaited real
 * inputs): one Secret, which the gateway reads, KEDA's metrics-api triggers
 * present through a TriggerAuthentication, and Prometheus's ServiceMonitor
 * presents as a Bearer token; never a value in a resource's plain input.
 */
import assert from "node:assert/strict";
import example from "../../../examples/support-desk/app";
import { KubernetesApp, type KubernetesAppArgs } from "../../../providers/kubernetes/app";
import { planUnderMocks, type PlannedResource } from "../../../providers/plan";
import type { SpecV1 } from "../../../sdk";

const SECRET = "kubernetes:core/v1:Secret";
const TRIGGER_AUTHENTICATION = "kubernetes:keda.sh/v1alpha1:TriggerAuthentication";
const SCALED_OBJECT = "kubernetes:keda.sh/v1alpha1:ScaledObject";
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor";

async function plan(spec: SpecV1, extra: Partial<KubernetesAppArgs> = {}): Promise<PlannedResource[]> {
  const { resources } = await planUnderMocks(
    () => new KubernetesApp(spec.app, { spec, artifactBaseUrl: "https://models.example.com", ...extra }).endpoints,
  );
  return resources;
}

const ofType = (resources: PlannedResource[], type: string) => resources.filter((r) => r.type === type).map((r) => r.inputs as any);
/** A Pulumi secret's value as the mocks record it (under `value`), else the value. */
const revealed = (value: any) => (value && typeof value === "object" && "value" in value ? value.value : value);
type Trigger = { type: string; metadata: Record<string, unknown>; authenticationRef?: { name: string } };
const demandTriggers = (resources: PlannedResource[]): Trigger[] =>
  ofType(resources, SCALED_OBJECT).flatMap((o) => (o.spec.triggers as Trigger[]).filter((t) => t.type === "metrics-api"));

describe("Kubernetes provider: the gateway's metrics take the metrics token", () => {
  const spec = example.toSpec({ target: "kubernetes" });
  let resources: PlannedResource[];

  before(async () => {
    resources = await plan(spec);
  });

  it("keeps one generated token in the Secret <app>-metrics-token", () => {
    const secrets = ofType(resources, SECRET).filter((s) => s.metadata.name === "support-desk-metrics-token");
    assert.equal(secrets.length, 1);
    assert.equal(secrets[0].metadata.namespace, "support-desk");
    assert.match(revealed(secrets[0].stringData).token, /^[0-9a-f]{48}$/);
  });

  it("gives the gateway the token from that Secret, never as a value", () => {
    const [gateway] = ofType(resources, DEPLOYMENT).filter((d) => d.metadata.name === "support-desk-gateway");
    const env: Array<{ name: string; value?: string; valueFrom?: object }> = gateway.spec.template.spec.containers[0].env;
    const token = env.filter((e) => e.name === "CLOUDLOOM_METRICS_TOKEN");
    assert.deepEqual(token, [
      { name: "CLOUDLOOM_METRICS_TOKEN", valueFrom: { secretKeyRef: { name: "support-desk-metrics-token", key: "token" } } },
    ]);
    const secretValue = revealed(ofType(resources, SECRET).find((s) => s.metadata.name === "support-desk-metrics-token").stringData).token;
    for (const deployment of ofType(resources, DEPLOYMENT))
      assert.doesNotMatch(JSON.stringify(deployment), new RegExp(secretValue), `${deployment.metadata.name} carries no token value`);
  });

  it("has KEDA present it on every trigger that reads the gateway's demand, through a TriggerAuthentication of that Secret", () => {
    assert.deepEqual(
      ofType(resources, TRIGGER_AUTHENTICATION)
        .filter((a) => a.metadata.name === "support-desk-metrics-token")
        .map((a) => [a.metadata.namespace, a.spec]),
      [["support-desk", { secretTargetRef: [{ parameter: "token", name: "support-desk-metrics-token", key: "token" }] }]],
    );
    const triggers = demandTriggers(resources);
    assert.ok(triggers.length >= 2, "the example's held model has a demand trigger per region");
    for (const trigger of triggers) {
      assert.equal(trigger.metadata.authMode, "bearer");
      assert.deepEqual(trigger.authenticationRef, { name: "support-desk-metrics-token" });
    }
  });

  it("has Prometheus present it when scraping the gateway, and only there", () => {
    const monitors = Object.fromEntries(ofType(resources, MONITOR).map((m) => [m.metadata.name, m.spec.endpoints]));
    assert.deepEqual(monitors["support-desk-gateway"][0].authorization, {
      type: "Bearer",
      credentials: { name: "support-desk-metrics-token", key: "token" },
    });
    assert.equal(
      monitors["support-desk-runtime"][0].authorization,
      undefined,
      "runtime pods' /metrics is inside the cluster's network policy",
    );
  });

  it("takes cloudloom:metricsToken as the token when it is set, and refuses one the gateway would refuse", async () => {
    const configured = await plan(spec, { metricsToken: "m".repeat(24) });
    const [secret] = ofType(configured, SECRET).filter((s) => s.metadata.name === "support-desk-metrics-token");
    assert.equal(revealed(secret.stringData).token, "m".repeat(24));
    await assert.rejects(plan(spec, { metricsToken: "short" }), /cloudloom:metricsToken must be at least 16 characters/);
  });

  it("keeps the token of the gateways outside the cluster (an EKS or ACK part) and presents it to each of them", async () => {
    const external = await plan(spec, {
      gateway: false,
      externalGateways: ["https://gw-a.example.com", "https://gw-b.example.com/"],
      metricsToken: "e".repeat(32),
    });
    const [secret] = ofType(external, SECRET).filter((s) => s.metadata.name === "support-desk-metrics-token");
    assert.equal(revealed(secret.stringData).token, "e".repeat(32));
    const triggers = demandTriggers(external);
    assert.deepEqual([...new Set(triggers.map((t) => String(t.metadata.url).split("/metrics")[0]))].sort(), [
      "https://gw-a.example.com",
      "https://gw-b.example.com",
    ]);
    for (const trigger of triggers) {
      assert.equal(trigger.metadata.authMode, "bearer");
      assert.deepEqual(trigger.authenticationRef, { name: "support-desk-metrics-token" });
    }
    assert.deepEqual(
      ofType(external, MONITOR).filter((m) => m.metadata.name === "support-desk-gateway"),
      [],
      "no gateway to scrape here",
    );
  });

  it("refuses external gateways without their token, which their demand endpoint requires", async () => {
    await assert.rejects(
      plan(spec, { gateway: false, externalGateways: ["https://gw.example.com"] }),
      /\[metricsToken\] is required with \[externalGateways\]/,
    );
  });

  it("creates no token Secret or TriggerAuthentication for a part with no gateway to read", async () => {
    const none = await plan(spec, { gateway: false });
    assert.equal(ofType(none, SECRET).filter((s) => s.metadata.name === "support-desk-metrics-token").length, 0);
    assert.equal(ofType(none, TRIGGER_AUTHENTICATION).filter((a) => a.metadata.name === "support-desk-metrics-token").length, 0);
  });
});
