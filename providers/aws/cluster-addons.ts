/**
 * What a fresh EKS cluster needs before GPU model servers can run and scale
 * there: the NVIDIA device plugin (AL2023 NVIDIA AMIs do not ship it), KEDA
 * and a Prometheus (the model workloads' autoscalers), and the Cluster
 * Autoscaler (GPU node groups scale from zero), which gets its AWS
 * permissions through EKS Pod Identity, limited to this cluster's groups.
 */
import * as pulumi from "@pulumi/pulumi";
import { Addon, PodIdentityAssociation } from "@pulumi/aws/eks";
import { Role, RolePolicy } from "@pulumi/aws/iam";
import { entryLabels } from "../shared/labels";
import { pinnedRelease, workloadAutoscalers } from "../shared/pinned-charts";

const AUTOSCALER_ACCOUNT = "cluster-autoscaler";

/** The Cluster Autoscaler's permissions: reads, and resizing only the groups tagged with this cluster. */
export function autoscalerPolicy(clusterName: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Action: [
          "autoscaling:DescribeAutoScalingGroups",
          "autoscaling:DescribeAutoScalingInstances",
          "autoscaling:DescribeLaunchConfigurations",
          "autoscaling:DescribeScalingActivities",
          "ec2:DescribeImages",
          "ec2:DescribeInstanceTypes",
          "ec2:DescribeLaunchTemplateVersions",
          "ec2:GetInstanceTypesFromInstanceRequirements",
          "eks:DescribeNodegroup",
        ],
        // AWS offers no resource-level permissions for these reads.
        Resource: ["*"],
      },
      {
        Effect: "Allow",
        Action: ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
        Resource: ["*"],
        Condition: { StringEquals: { [`aws:ResourceTag/k8s.io/cluster-autoscaler/${clusterName}`]: "owned" } },
      },
    ],
  });
}

/** Inputs of a cluster's add-ons. */
export interface EksClusterAddonsArgs {
  app: string;
  clusterName: pulumi.Input<string>;
  /** The AWS region, for the Cluster Autoscaler. */
  region: string;
  /** Provider for the cluster's Kubernetes API. */
  kubernetes: pulumi.ProviderResource;
}

/** Device plugin, KEDA, Prometheus and Cluster Autoscaler on one cluster, typed `cloudloom:aws:ClusterAddons`. */
export class EksClusterAddons extends pulumi.ComponentResource {
  /** Resources the app's workloads must wait for. */
  readonly ready: pulumi.Resource[];

  constructor(name: string, args: EksClusterAddonsArgs, opts: pulumi.ComponentResourceOptions & { provider: pulumi.ProviderResource }) {
    super("cloudloom:aws:ClusterAddons", name, {}, opts);
    const aws = { parent: this, provider: opts.provider };
    const cluster = { parent: this, provider: args.kubernetes };
    const tags = entryLabels(args.app, "app", args.app);
    const agent = new Addon(`${name}-pod-identity`, { clusterName: args.clusterName, addonName: "eks-pod-identity-agent", tags }, aws);
    const role = new Role(
      `${name}-autoscaler`,
      {
        assumeRolePolicy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Principal: { Service: "pods.eks.amazonaws.com" }, Action: ["sts:AssumeRole", "sts:TagSession"] }],
        }),
        tags,
      },
      aws,
    );
    new RolePolicy(`${name}-autoscaler`, { role: role.id, policy: pulumi.output(args.clusterName).apply(autoscalerPolicy) }, aws);
    const association = new PodIdentityAssociation(
      `${name}-autoscaler`,
      { clusterName: args.clusterName, namespace: "kube-system", serviceAccount: AUTOSCALER_ACCOUNT, roleArn: role.arn, tags },
      { ...aws, dependsOn: [agent] },
    );
    const gpuNodes = { key: "k8s.amazonaws.com/accelerator", operator: "Exists" };
    this.ready = [
      pinnedRelease(
        name,
        "nvidiaDevicePlugin",
        "kube-system",
        {
          affinity: {
            nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [gpuNodes] }] } },
          },
          tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
        },
        cluster,
      ),
      ...workloadAutoscalers(name, cluster),
      pinnedRelease(
        name,
        "clusterAutoscaler",
        "kube-system",
        {
          autoDiscovery: { clusterName: args.clusterName },
          awsRegion: args.region,
          rbac: { serviceAccount: { create: true, name: AUTOSCALER_ACCOUNT } },
          extraArgs: { "balance-similar-node-groups": true, "skip-nodes-with-system-pods": false },
        },
        { ...cluster, dependsOn: [association] },
      ),
    ];
    this.registerOutputs({});
  }
}
