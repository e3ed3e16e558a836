import assert from "node:assert/strict";
import yaml from "js-yaml";
import example from "../../../examples/support-desk/app";
import { KubernetesApp } from "../../../providers/kubernetes/app";
import { toManifests, toYaml } from "../../../providers/kubernetes/render";
import { planUnderMocks } from "../../../providers/plan";

type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [k: string]: any;
};

/** The example's manifests as `plan --out` writes them, read back from the YAML. */
async function renderedExample(): Promise<Manifest[]> {
  const spec = example.toSpec({ target: "kubernetes" });
  const { resources } = await planUnderMocks(
    () => new KubernetesApp(spec.app, { spec, artifactBaseUrl: "https://models.example.com", secrets: { "crm-token": "t" } }).endpoints,
  );
  return yaml.loadAll(toYaml(toManifests(resources))).filter(Boolean) as Manifest[];
}

const WORKLOADS = ["Deployment", "StatefulSet"];
const containersOf = (m: Manifest): Array<[string, any]> => [
  ...(m.spec.template.spec.initContainers ?? []).map((c: any) => [`${m.metadata.name}/init/${c.name}`, c] as [string, any]),
  ...m.spec.template.spec.containers.map((c: any) => [`${m.metadata.name}/${c.name}`, c] as [string, any]),
];
const selects = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

describe("Kubernetes hardening, read back from the rendered YAML", () => {
  let manifests: Manifest[];
  let workloads: Manifest[];
  const of = (kind: string) => manifests.filter((m) => m.kind === kind);
  const policy = (name: string) => of("NetworkPolicy").find((m) => m.metadata.name === name)!;

  before(async () => {
    manifests = await renderedExample();
    workloads = manifests.filter((m) => WORKLOADS.includes(m.kind));
    assert.equal(workloads.length, 7);
  });

  it("runs every container, init containers included, under the restricted Pod Security Standard", () => {
    const checked = workloads.flatMap(containersOf);
    assert.equal(checked.length, 9, "6 Deployments + Redis, and 2 init containers");
    for (const [id, c] of checked) {
      const s = c.securityContext;
      assert.equal(s?.runAsNonRoot, true, id);
      assert.ok(Number.isInteger(s.runAsUser) && s.runAsUser > 0, `${id} runAsUser`);
      assert.ok(Number.isInteger(s.runAsGroup) && s.runAsGroup > 0, `${id} runAsGroup`);
      assert.equal(s.allowPrivilegeEscalation, false, id);
      assert.deepEqual(s.capabilities, { drop: ["ALL"] }, id);
      assert.deepEqual(s.seccompProfile, { type: "RuntimeDefault" }, id);
      assert.equal(s.readOnlyRootFilesystem, true, id);
    }
    for (const m of workloads) {
      const pod = m.spec.template.spec;
      assert.equal(pod.securityContext.runAsNonRoot, true, m.metadata.name);
      assert.deepEqual(pod.securityContext.seccompProfile, { type: "RuntimeDefault" }, m.metadata.name);
    }
  });

  it("runs the runtime as node (1000), Redis as redis (999), downloads as a non-root user, each writing only to its volumes", () => {
    for (const m of workloads) {
      const pod = m.spec.template.spec;
      const redis = m.kind === "StatefulSet";
      for (const c of pod.containers) assert.equal(c.securityContext.runAsUser, redis ? 999 : 1000, m.metadata.name);
      assert.equal(pod.securityContext.fsGroup, redis ? 999 : 1000);
      if (redis) {
        assert.deepEqual(pod.containers[0].volumeMounts, [{ name: "data", mountPath: "/data" }]);
        continue;
      }
      const scratch = pod.volumes.find((v: any) => v.name === "scratch");
      assert.deepEqual(scratch, { name: "scratch", emptyDir: { sizeLimit: "64Mi" } }, m.metadata.name);
      for (const [id, c] of containersOf(m)) {
        assert.ok(
          c.volumeMounts.some((v: any) => v.name === "scratch" && v.mountPath === "/var/tmp/cloudloom"),
          id,
        );
        assert.ok(
          c.env.some((e: any) => e.name === "TMPDIR" && e.value === "/var/tmp/cloudloom"),
          id,
        );
      }
      for (const init of pod.initContainers ?? []) assert.equal(init.securityContext.runAsUser, 65532);
    }
  });

  it("labels the namespace to enforce the restricted profile", () => {
    const [namespace] = of("Namespace");
    assert.equal(namespace.metadata.labels!["pod-security.kubernetes.io/enforce"], "restricted");
    for (const m of [...workloads, ...of("NetworkPolicy")]) assert.equal(m.metadata.namespace, namespace.metadata.name);
  });

  it("sets no replicas on a Deployment an HPA or ScaledObject owns", () => {
    const owned = [...of("HorizontalPodAutoscaler"), ...of("ScaledObject")].map((a) => a.spec.scaleTargetRef.name);
    assert.equal(owned.length, 6);
    for (const m of of("Deployment")) {
      assert.ok(owned.includes(m.metadata.name), `${m.metadata.name} is autoscaled`);
      assert.equal("replicas" in m.spec, false, m.metadata.name);
    }
  });

  it("mounts no service account token, and sets requests and limits on init containers and ephemeral storage where pods write", () => {
    for (const m of workloads) {
      assert.equal(m.spec.template.spec.automountServiceAccountToken, false, m.metadata.name);
      for (const [id, c] of containersOf(m)) {
        assert.ok(c.resources.requests["ephemeral-storage"] && c.resources.limits["ephemeral-storage"], `${id} ephemeral-storage`);
        assert.ok(c.resources.requests.memory && c.resources.limits.memory, `${id} memory`);
      }
      for (const init of m.spec.template.spec.initContainers ?? []) assert.ok(init.resources.requests.cpu && init.resources.limits.cpu);
    }
  });

  it("keeps a PodDisruptionBudget for every autoscaled workload, the gateway included, and spreads the gateway over nodes and zones", () => {
    const budgets = of("PodDisruptionBudget");
    assert.equal(budgets.length, 6);
    for (const m of of("Deployment")) {
      const labels = m.spec.template.metadata.labels;
      assert.ok(
        budgets.some((b) => b.spec.maxUnavailable === 1 && selects(b.spec.selector.matchLabels, labels)),
        `a budget for ${m.metadata.name}`,
      );
    }
    const gateway = of("Deployment").find((m) => m.metadata.name === "support-desk-gateway")!;
    const spread = gateway.spec.template.spec.topologySpreadConstraints;
    assert.deepEqual(
      spread.map((s: any) => s.topologyKey),
      ["kubernetes.io/hostname", "topology.kubernetes.io/zone"],
    );
    for (const s of spread) assert.ok(selects(s.labelSelector.matchLabels, gateway.spec.template.metadata.labels));
  });

  it("denies all traffic in the namespace, then allows exactly the app's flows", () => {
    assert.deepEqual(policy("support-desk-default-deny").spec, { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    const pods = (kind: string) => workloads.filter((m) => m.metadata.labels?.["cloudloom.dev/kind"] === kind && m.kind === "Deployment");
    const podsOf = (selector: Record<string, string>) =>
      workloads.filter((m) => selects(selector, m.spec.template.metadata.labels)).map((m) => m.metadata.name);
    const gw = policy("support-desk-gateway");
    assert.deepEqual(podsOf(gw.spec.podSelector.matchLabels), ["support-desk-gateway"]);
    assert.deepEqual(gw.spec.ingress[0], { ports: [{ port: 8080, protocol: "TCP" }] }, "clients from anywhere, on its port");
    assert.deepEqual(
      podsOf(gw.spec.egress[0].to[0].podSelector.matchLabels),
      pods("function").map((m) => m.metadata.name),
    );
    assert.deepEqual(
      podsOf(gw.spec.egress[0].to[1].podSelector.matchLabels),
      pods("model").map((m) => m.metadata.name),
    );
    assert.deepEqual(podsOf(gw.spec.egress[1].to[0].podSelector.matchLabels), ["support-desk-redis"]);
    const redis = policy("support-desk-redis");
    assert.deepEqual(podsOf(redis.spec.podSelector.matchLabels), ["support-desk-redis"]);
    assert.deepEqual(podsOf(redis.spec.ingress[0].from[0].podSelector.matchLabels), ["support-desk-gateway"]);
    assert.equal(redis.spec.egress, undefined);
    const fns = policy("support-desk-functions");
    assert.deepEqual(podsOf(fns.spec.ingress[0].from[0].podSelector.matchLabels), ["support-desk-gateway"]);
    assert.deepEqual(
      podsOf(fns.spec.egress[0].to[0].podSelector.matchLabels),
      pods("model").map((m) => m.metadata.name),
    );
    const models = policy("support-desk-models");
    assert.deepEqual(
      models.spec.ingress[0].from.map((p: any) => podsOf(p.podSelector.matchLabels)),
      [["support-desk-gateway"], pods("function").map((m) => m.metadata.name)],
    );
    assert.deepEqual(
      models.spec.egress,
      [
        {
          ports: [
            { port: 443, protocol: "TCP" },
            { port: 80, protocol: "TCP" },
          ],
        },
      ],
      "artifact downloads",
    );
    const dns = policy("support-desk-dns");
    assert.deepEqual(dns.spec.podSelector, {});
    assert.deepEqual(
      dns.spec.egress[0].ports.map((p: any) => `${p.protocol}/${p.port}`),
      ["UDP/53", "TCP/53"],
    );
    for (const name of ["support-desk-gateway", "support-desk-functions", "support-desk-models"])
      assert.deepEqual(
        policy(name).spec.ingress[1].from[0].namespaceSelector.matchLabels,
        { "kubernetes.io/metadata.name": "monitoring" },
        `${name} scraped by Prometheus`,
      );
    // Every workload is selected by a policy beyond default-deny and DNS.
    for (const m of workloads)
      assert.ok(
        of("NetworkPolicy").some(
          (p) =>
            Object.keys(p.spec.podSelector.matchLabels ?? {}).length &&
            selects(p.spec.podSelector.matchLabels, m.spec.template.metadata.labels),
        ),
        m.metadata.name,
      );
  });

  it("resolves every secretKeyRef and configMapKeyRef, and every ConfigMap volume, to an object and key in the output", () => {
    const data = (kind: string, ns: string, name: string): Record<string, unknown> | undefined => {
      const found = manifests.find((m) => m.kind === kind && m.metadata.name === name && (m.metadata.namespace ?? "default") === ns);
      return found && { ...(found.data ?? {}), ...(found.stringData ?? {}) };
    };
    let refs = 0;
    for (const m of workloads) {
      const ns = m.metadata.namespace ?? "default";
      for (const [id, c] of containersOf(m))
        for (const e of c.env ?? []) {
          const ref = e.valueFrom?.secretKeyRef ?? e.valueFrom?.configMapKeyRef;
          if (!ref) continue;
          refs++;
          const kind = e.valueFrom.secretKeyRef ? "Secret" : "ConfigMap";
          const object = data(kind, ns, ref.name);
          assert.ok(object, `${id} ${e.name}: no ${kind} ${ref.name}`);
          assert.ok(Object.hasOwn(object, ref.key), `${id} ${e.name}: ${kind} ${ref.name} has no key ${ref.key}`);
        }
      for (const v of m.spec.template.spec.volumes ?? [])
        if (v.configMap) assert.ok(data("ConfigMap", ns, v.configMap.name), `${m.metadata.name}: no ConfigMap ${v.configMap.name}`);
    }
    assert.ok(refs >= 5, `checked ${refs} references`);
  });
});
