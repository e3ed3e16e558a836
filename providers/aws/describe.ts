/** What the CLI shows of an AWS plan: its own resources' key inputs, and those of the Kubernetes module on EKS. */
import { KUBERNETES_KEY_INPUTS } from "../kubernetes/describe";
import type { SpecV1 } from "../../sdk/spec";
import { noteEach, regionCount, type EntryNotes, type TargetDescription } from "../provider";
import { ANY_REGION } from "../shared/object-setting";
import { gpuInstanceType } from "./instance-types";

/** Where offline plans put the gateways of an app whose stack sets no networks: a VPC that does not exist. */
const OFFLINE_NETWORK = {
  vpcId: "vpc-00000000",
  subnetIds: ["subnet-0000000a", "subnet-0000000b"],
  publicSubnetIds: ["subnet-000000aa", "subnet-000000bb"],
  cidrBlock: "10.0.0.0/16",
};

/** The AWS target's description. */
export const awsDescription: TargetDescription = {
  keyInputs: {
    ...KUBERNETES_KEY_INPUTS,
    "aws:lambda/function:Function": [
      ["runtime", "runtime"],
      ["memory", "memorySize"],
      ["timeout", "timeout"],
    ],
    "aws:lambda/functionUrl:FunctionUrl": [["auth", "authorizationType"]],
    "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig": [["provisioned", "provisionedConcurrentExecutions"]],
    "aws:appautoscaling/target:Target": [
      ["min", "minCapacity"],
      ["max", "maxCapacity"],
    ],
    "aws:appautoscaling/scheduledAction:ScheduledAction": [
      ["schedule", "schedule"],
      ["timezone", "timezone"],
    ],
    "aws:eks/nodeGroup:NodeGroup": [
      ["instances", "instanceTypes"],
      ["min", "scalingConfig.minSize"],
      ["max", "scalingConfig.maxSize"],
      ["capacity", "capacityType"],
    ],
    "aws:apigatewayv2/route:Route": [
      ["route", "routeKey"],
      ["auth", "authorizationType"],
    ],
  },
  placeholders: () => ({ networks: JSON.stringify({ [ANY_REGION]: OFFLINE_NETWORK }) }),
  becomes: awsEntries,
};

/** What each entry becomes on AWS (the mapping table of providers/aws/README.md, per entry). */
function awsEntries(spec: SpecV1): EntryNotes {
  return {
    functions: noteEach(spec.functions, (fn) => `Lambda + Function URL ${regionCount(fn.regions)}`),
    models: noteEach(spec.models, (model) =>
      model.pool
        ? `EKS GPU pods on ${gpuInstanceType(spec.gpuPools[model.pool])} ${regionCount(model.regions)}`
        : `SageMaker Serverless endpoint ${regionCount(model.regions)}`,
    ),
    gpuPools: noteEach(spec.gpuPools, (pool) => `EKS node group, ${gpuInstanceType(pool)} ${pool.capacity} ${regionCount(pool.regions)}`),
    scalingPolicies: noteEach(
      spec.scalingPolicies,
      (policy) => `App Auto Scaling target tracking${policy.schedules.length ? ` + ${policy.schedules.length} scheduled floor(s)` : ""}`,
    ),
    regions: noteEach(spec.regions, ({ placement: { aws } }) =>
      aws
        ? `${aws.region}${aws.zone ? `, ${aws.zoneType === "wavelength" ? "Wavelength zone" : "Local Zone"} ${aws.zone}` : ""}`
        : "not placed on AWS",
    ),
  };
}
