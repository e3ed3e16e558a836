/**
 * Every cloudloom policy, as plain objects. `policy/index.ts` wraps them in a
 * real PolicyPack for `pulumi preview --policy-pack policy`; the offline gate
 * (`cloudloom policy`) runs these very objects on the planned resources.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { alicloudPrivateRedis } from "./policies/alicloud-private-redis";
import { noAnonymousEndpoints } from "./policies/anonymous-endpoints";
import { awsPrivateRedis } from "./policies/aws-private-redis";
import { awsRedisEncrypted } from "./policies/aws-redis-encryption";
import { gpuCostGuard } from "./policies/gpu-cost-guard";
import { gpuWorkloads } from "./policies/gpu-workloads";
import { cloudloomLabels } from "./policies/labels";
import { leastPrivilege } from "./policies/least-privilege";
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
  modelsPinned,
  scaleToZeroLatency,
  cloudloomLabels,
  awsPrivateRedis,
  awsRedisEncrypted,
  alicloudPrivateRedis,
  redisPrivate,
];
