/** What the CLI shows of an AWS plan: its own resources' key inputs, and those of the Kubernetes module on EKS. */
import { KUBERNETES_KEY_INPUTS } from "../kubernetes/describe";
import type { TargetDescription } from "../provider";

/** The AWS target's description. It needs no placeholders: every required setting has an offline default. */
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
  placeholders: () => ({}),
};
