/** What the CLI shows of a Kubernetes plan, the placeholder it plans with, and the manifests `plan --out` writes. */
import type { TargetDescription } from "../provider";
import { toManifests, toYaml } from "./render";

/** Key inputs of the Kubernetes resources, which the AWS (EKS) and Alibaba Cloud (ACK) plans contain too. */
export const KUBERNETES_KEY_INPUTS: TargetDescription["keyInputs"] = {
  "kubernetes:apps/v1:Deployment": [
    ["replicas", "spec.replicas"],
    ["image", "spec.template.spec.containers.0.image"],
    ["gpu", "spec.template.spec.containers.0.resources.limits.nvidia\\.com/gpu"],
    ["memory", "spec.template.spec.containers.0.resources.limits.memory"],
  ],
  "kubernetes:core/v1:Service": [["port", "spec.ports.0.port"]],
  "kubernetes:autoscaling/v2:HorizontalPodAutoscaler": [
    ["min", "spec.minReplicas"],
    ["max", "spec.maxReplicas"],
  ],
  "kubernetes:keda.sh/v1alpha1:ScaledObject": [
    ["min", "spec.minReplicaCount"],
    ["max", "spec.maxReplicaCount"],
    ["triggers", "spec.triggers"],
  ],
  "kubernetes:core/v1:Namespace": [["name", "metadata.name"]],
  "kubernetes:policy/v1:PodDisruptionBudget": [["maxUnavailable", "spec.maxUnavailable"]],
};

/** The Kubernetes target's description. */
export const kubernetesDescription: TargetDescription = {
  keyInputs: KUBERNETES_KEY_INPUTS,
  placeholders: () => ({ artifactBaseUrl: "https://artifacts.example.invalid" }),
  manifests: (resources) => toYaml(toManifests(resources)),
};
