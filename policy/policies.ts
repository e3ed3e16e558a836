/**
 * Every cloudloom policy, as plain objects. `policy/index.ts` wraps them in a
 * real PolicyPack for `pulumi preview --policy-pack policy`; the offline gate
 * (`cloudloom policy`) runs these very objects on the planned resources.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { alicloudBucketLogging } from "./policies/alicloud-bucket-logging";
import { alicloudPrivateRedis } from "./policies/alicloud-private-redis";
import { noAnonymousEndpoints } from "./policies/anonymous-endpoints";
import { awsAccessLogs } from "./policies/aws-access-logs";
import { awsFloorsEnd } from "./policies/aws-floors-end";
import { awsPrivateClusterEndpoint } from "./policies/aws-private-cluster";
import { awsPrivateRedis } from "./policies/aws-private-redis";
import { awsRedisEncrypted } from "./policies/aws-redis-encryption";
import { awsSupportedRuntimes } from "./policies/aws-supported-runtimes";
import { k8sNoReplicasUnderAutoscaler } from "./policies/k8s-autoscaled-replicas";
import { k8sDisruptionBudgets } from "./policies/k8s-disruption-budgets";
import { k8sNetworkPolicyCoverage } from "./policies/k8s-network-policy";
import { k8sRestrictedPods } from "./policies/k8s-pod-security";
import { gatewayMetricsToken } from "./policies/gateway-metrics-token";
import { gpuCostGuard } from "./policies/gpu-cost-guard";
import { gpuWorkloads } from "./policies/gpu-workloads";
import { cloudloomLabels } from "./policies/labels";
import { leastPrivilege } from "./policies/least-privilege";
import { noPlaintextSecrets } from "./policies/no-plaintext-secrets";
import { objectivesOnRoutes } from "./policies/objectives-on-routes";
import { privateArtifacts } from "./policies/private-artifacts";
import { redisPrivate } from "./policies/redis-private";
import { regionAllowlist } from "./policies/region-allowlist";
import { modelsPinned, publicRoutesRateLimited, scaleToZeroLatency } from "./policies/spec-rules";

/** The policies, in the order reports list them. */
export const POLICIES: StackValidationPolicy[] = [
  noAnonymousEndpoints,
  leastPrivilege,
  privateArtifacts,
  gpuCostGuard,
  gpuWorkloads,
  regionAllowlist,
  publicRoutesRateLimited,
  objectivesOnRoutes,
  modelsPinned,
  scaleToZeroLatency,
  cloudloomLabels,
  awsPrivateRedis,
  awsRedisEncrypted,
  alicloudPrivateRedis,
  redisPrivate,
  k8sRestrictedPods,
  k8sNetworkPolicyCoverage,
  k8sDisruptionBudgets,
  k8sNoReplicasUnderAutoscaler,
  awsFloorsEnd,
  awsSupportedRuntimes,
  awsAccessLogs,
  awsPrivateClusterEndpoint,
  noPlaintextSecrets,
  alicloudBucketLogging,
  gatewayMetricsToken,
];
