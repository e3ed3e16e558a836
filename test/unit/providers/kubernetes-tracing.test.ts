import assert from "node:assert/strict";
import { planApp, stackConfig, type Plan } from "../../../cli/plan";

const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const ENDPOINT = "http://otel-collector.observability.svc:4318/v1/traces";
const TRACING = {
  endpoint: ENDPOINT,
  sampleRatio: 0.2,
  collector: { namespace: "observability", podLabels: { "app.kubernetes.io/name": "otel-collector" } },
};
const HEADERS = { "x-api-key": "collector-key-never-inline" };

const workloads = (plan: Plan) =>
  plan.resources.filter((r) => r.type === "kubernetes:apps/v1:Deployment" || r.type === "kubernetes:apps/v1:StatefulSet") as any[];
const kindOf = (r: any): string => r.inputs.metadata.labels["cloudloom.dev/kind"];
const envOf = (container: any): any[] => container.env ?? [];
const otel = (container: any) => envOf(container).filter((e: any) => e.name.startsWith("OTEL_"));

describe("tracing on Kubernetes (the example under mocks, with cloudloom:tracing set)", () => {
  let plan: Plan;

  before(async () => {
    plan = await planApp("examples/support-desk", "kubernetes", {
      ...stackConfig("kubernetes"),
      tracing: JSON.stringify(TRACING),
      tracingHeaders: JSON.stringify(HEADERS),
    });
  });

  it("gives every gateway, function and model container the OTEL_* variables, the headers by reference to the tracing Secret", () => {
    // Redis (a StatefulSet, labelled kind gateway) is not among them.
    const traced = workloads(plan).filter((r) => r.type.endsWith("Deployment"));
    assert.deepEqual(traced.map(kindOf).sort(), ["function", "function", "function", "gateway", "model", "model"]);
    for (const workload of traced)
      for (const container of workload.inputs.spec.template.spec.containers)
        assert.deepEqual(
          otel(container),
          [
            { name: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", value: ENDPOINT },
            { name: "OTEL_TRACES_SAMPLER", value: "parentbased_traceidratio" },
            { name: "OTEL_TRACES_SAMPLER_ARG", value: "0.2" },
            { name: "OTEL_RESOURCE_ATTRIBUTES", value: "service.namespace=support-desk" },
            { name: "OTEL_EXPORTER_OTLP_HEADERS", valueFrom: { secretKeyRef: { name: "support-desk-tracing", key: "headers" } } },
          ],
          `${workload.name}/${container.name}`,
        );
  });

  it("gives the artifact downloads (init containers) and Redis nothing of it", () => {
    for (const workload of workloads(plan)) {
      const pod = workload.inputs.spec.template.spec;
      for (const init of pod.initContainers ?? []) assert.deepEqual(otel(init), [], `${workload.name}/init/${init.name}`);
      if (workload.type.endsWith("StatefulSet")) for (const c of pod.containers) assert.deepEqual(otel(c), [], workload.name);
    }
  });

  it("keeps the headers in one Secret as a Pulumi secret, and never as a literal in any other resource", () => {
    const secret = plan.resources.find(
      (r) => r.type === "kubernetes:core/v1:Secret" && (r.inputs as any).metadata.name === "support-desk-tracing",
    ) as any;
    assert.ok(secret, "the tracing Secret");
    assert.equal(secret.inputs.metadata.namespace, "support-desk");
    assert.ok(SECRET_SIG in secret.inputs.stringData, "a Pulumi secret");
    assert.deepEqual(secret.inputs.stringData.value, { headers: "x-api-key=collector-key-never-inline" });
    assert.match(secret.inputs.metadata.annotations["cloudloom.dev/fill-in"], /cloudloom:tracingHeaders/);
    const elsewhere = plan.resources.filter((r) => r !== secret && JSON.stringify(r.inputs).includes("collector-key-never-inline"));
    assert.deepEqual(
      elsewhere.map((r) => `${r.type} ${r.name}`),
      [],
    );
  });

  it("lets exactly the traced pods reach the collector's port in its namespace, and nothing else", () => {
    const policy = plan.resources.find(
      (r) => r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy" && (r.inputs as any).metadata.name === "support-desk-tracing",
    ) as any;
    assert.ok(policy, "the tracing NetworkPolicy");
    assert.deepEqual(policy.inputs.spec, {
      podSelector: {
        matchLabels: { "cloudloom.dev/app": "support-desk" },
        matchExpressions: [
          { key: "cloudloom.dev/kind", operator: "In", values: ["gateway", "function", "model"] },
          { key: "cloudloom.dev/name", operator: "NotIn", values: ["redis"] },
        ],
      },
      policyTypes: ["Egress"],
      egress: [
        {
          to: [
            {
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "observability" } },
              podSelector: { matchLabels: { "app.kubernetes.io/name": "otel-collector" } },
            },
          ],
          ports: [{ protocol: "TCP", port: 4318 }],
        },
      ],
    });
    // Read against the pods' labels: it selects the traced pods, and Redis (labelled kind gateway) is not among them.
    const selector = policy.inputs.spec.podSelector;
    const selects = (labels: Record<string, string>) =>
      Object.entries(selector.matchLabels).every(([key, value]) => labels[key] === value) &&
      selector.matchExpressions.every((e: any) => (e.operator === "In") === e.values.includes(labels[e.key]));
    const selected = workloads(plan).filter((w) => selects(w.inputs.spec.template.metadata.labels));
    assert.deepEqual(
      selected.map((w) => w.name).sort(),
      workloads(plan)
        .filter((w) => w.type.endsWith("Deployment"))
        .map((w) => w.name)
        .sort(),
    );
    assert.ok(
      workloads(plan).some((w) => w.type.endsWith("StatefulSet")),
      "the example has its Redis",
    );
  });

  it("allows a collector outside the cluster at its CIDRs only", async () => {
    const external = await planApp("examples/support-desk", "kubernetes", {
      ...stackConfig("kubernetes"),
      tracing: JSON.stringify({ endpoint: "https://otlp.example.net/v1/traces", collector: { cidrs: ["203.0.113.0/24"] } }),
    });
    const policy = external.resources.find(
      (r) => (r.inputs as any).metadata?.name === "support-desk-tracing" && r.type.endsWith("NetworkPolicy"),
    ) as any;
    assert.deepEqual(policy.inputs.spec.egress, [
      { to: [{ ipBlock: { cidr: "203.0.113.0/24" } }], ports: [{ protocol: "TCP", port: 443 }] },
    ]);
    // Without headers there is no tracing Secret, and no container references one.
    assert.equal(
      external.resources.filter((r) => (r.inputs as any).metadata?.name === "support-desk-tracing" && r.type.endsWith("Secret")).length,
      0,
    );
    assert.ok(!JSON.stringify(external.resources).includes("OTEL_EXPORTER_OTLP_HEADERS"));
  });

  it("creates none of it without the setting", async () => {
    const plain = await planApp("examples/support-desk", "kubernetes", stackConfig("kubernetes"));
    assert.ok(!JSON.stringify(plain.resources).includes("OTEL_"), "no OTEL_* variable anywhere");
    assert.ok(
      !plain.resources.some((r) => (r.inputs as any).metadata?.name === "support-desk-tracing"),
      "no tracing Secret or NetworkPolicy",
    );
  });

  it("refuses tracing without collector peers, before any resource (the namespace denies all egress)", async () => {
    await assert.rejects(
      planApp("examples/support-desk", "kubernetes", { ...stackConfig("kubernetes"), tracing: JSON.stringify({ endpoint: ENDPOINT }) }),
      (error: Error & { code?: string }) =>
        error.code === "CL_TRACING_SETTING" && /cloudloom:tracing\.collector is required/.test(error.message),
    );
  });
});
