import assert from "node:assert/strict";
import type { StackValidationPolicy } from "@pulumi/policy";
import example from "../../../examples/support-desk/app";
import { planApp } from "../../../cli/plan";
import { k8sNoReplicasUnderAutoscaler } from "../../../policy/policies/k8s-autoscaled-replicas";
import { k8sDisruptionBudgets } from "../../../policy/policies/k8s-disruption-budgets";
import { k8sNetworkPolicyCoverage } from "../../../policy/policies/k8s-network-policy";
import { k8sRestrictedPods } from "../../../policy/policies/k8s-pod-security";
import type { PlannedPolicyResource } from "../../../policy/resources";
import { evaluatePolicies, toPolicyResources } from "../../../policy/runner";

const r = (type: string, name: string, props: Record<string, any>): PlannedPolicyResource => ({
  type,
  name,
  urn: `${type}::${name}`,
  props,
});
const K8S_POLICIES = [k8sRestrictedPods, k8sNetworkPolicyCoverage, k8sDisruptionBudgets, k8sNoReplicasUnderAutoscaler];

async function messages(policy: StackValidationPolicy, resources: PlannedPolicyResource[]): Promise<string[]> {
  return (await evaluatePolicies(resources, {}, [policy])).map((v) => v.message);
}

const restricted = {
  runAsNonRoot: true,
  runAsUser: 1000,
  runAsGroup: 1000,
  allowPrivilegeEscalation: false,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
  readOnlyRootFilesystem: true,
};
const labels = { app: "a" };
const deployment = (spec: Record<string, any>, pod: Record<string, any> = {}) =>
  r("kubernetes:apps/v1:Deployment", "d", {
    metadata: { name: "d", namespace: "ns" },
    spec: { ...spec, template: { metadata: { labels }, spec: { containers: [{ name: "c", securityContext: restricted }], ...pod } } },
  });
const hpa = r("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "d", {
  metadata: { name: "d", namespace: "ns" },
  spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "d" }, minReplicas: 1, maxReplicas: 3 },
});

describe("Kubernetes policies, each with a passing and a failing resource", () => {
  it("restricted pod security: every container and init container", async () => {
    assert.deepEqual(await messages(k8sRestrictedPods, [deployment({})]), []);
    const init = { name: "fetch", securityContext: { ...restricted, runAsUser: 0, readOnlyRootFilesystem: undefined } };
    assert.deepEqual(await messages(k8sRestrictedPods, [deployment({}, { initContainers: [init] })]), [
      "Deployment d: initContainers fetch is not restricted; set securityContext a non-root numeric runAsUser, readOnlyRootFilesystem: true",
    ]);
    const bare = r("kubernetes:apps/v1:StatefulSet", "s", { spec: { template: { spec: { containers: [{ name: "redis" }] } } } });
    assert.equal((await messages(k8sRestrictedPods, [bare])).length, 1);
  });

  it("NetworkPolicy coverage: a namespace with workloads has a default-deny", async () => {
    const deny = r("kubernetes:networking.k8s.io/v1:NetworkPolicy", "deny", {
      metadata: { namespace: "ns" },
      spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    });
    assert.deepEqual(await messages(k8sNetworkPolicyCoverage, [deny, deployment({})]), []);
    const ingressOnly = { ...deny, props: { ...deny.props, spec: { podSelector: {}, policyTypes: ["Ingress"] } } };
    assert.deepEqual(await messages(k8sNetworkPolicyCoverage, [ingressOnly, deployment({})]), [
      "Deployment d runs in namespace ns, which has no default-deny NetworkPolicy; add one (podSelector: {}, policyTypes: [Ingress, Egress]) and allow the flows it needs",
    ]);
  });

  it("PDB coverage: an autoscaled Deployment, or one of 2+ replicas, has a budget selecting its pods", async () => {
    const pdb = r("kubernetes:policy/v1:PodDisruptionBudget", "d", {
      metadata: { namespace: "ns" },
      spec: { maxUnavailable: 1, selector: { matchLabels: labels } },
    });
    assert.deepEqual(await messages(k8sDisruptionBudgets, [deployment({}), hpa, pdb]), []);
    assert.deepEqual(
      await messages(k8sDisruptionBudgets, [deployment({ replicas: 1 })]),
      [],
      "one replica, not autoscaled: no budget needed",
    );
    const fix =
      "Deployment d is autoscaled or keeps 2+ replicas but no PodDisruptionBudget selects its pods; add one with maxUnavailable: 1";
    assert.deepEqual(await messages(k8sDisruptionBudgets, [deployment({}), hpa]), [fix]);
    assert.deepEqual(await messages(k8sDisruptionBudgets, [deployment({ replicas: 3 })]), [fix]);
  });

  it("no replicas under an autoscaler (HPA or ScaledObject)", async () => {
    assert.deepEqual(await messages(k8sNoReplicasUnderAutoscaler, [deployment({}), hpa]), []);
    assert.deepEqual(
      await messages(k8sNoReplicasUnderAutoscaler, [deployment({ replicas: 2 })]),
      [],
      "no autoscaler: replicas are the program's",
    );
    const keda = r("kubernetes:keda.sh/v1alpha1:ScaledObject", "d", {
      metadata: { namespace: "ns" },
      spec: { scaleTargetRef: { name: "d" } },
    });
    assert.deepEqual(await messages(k8sNoReplicasUnderAutoscaler, [deployment({ replicas: 0 }), keda]), [
      "Deployment d sets replicas: 0 but an autoscaler owns its replicas; remove the field",
    ]);
  });

  it("passes the example's kubernetes plan on every one of them", async () => {
    const planned = await planApp(`${example.root}`, "kubernetes");
    const violations = await evaluatePolicies(toPolicyResources(planned.resources), {}, K8S_POLICIES);
    assert.deepEqual(
      violations.map((v) => v.message),
      [],
    );
  });
});
