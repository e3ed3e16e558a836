/** What the CLI shows of an AWS plan: its own resources' key inputs, and those of the Kubernetes module on EKS. */
import { KUBERNETES_KEY_INPUTS } from "../kubernetes/describe";
import type { PlannedResource } from "../plan";
import type { PlannedAlert, TargetDescription } from "../provider";
import { ANY_REGION } from "../shared/object-setting";

/** Where offline plans put the gateways of an app whose stack sets no networks: a VPC that does not exist. */
const OFFLINE_NETWORK = {
  vpcId: "vpc-00000000",
  subnetIds: ["subnet-0000000a", "subnet-0000000b"],
  publicSubnetIds: ["subnet-000000aa", "subnet-000000bb"],
  cidrBlock: "10.0.0.0/16",
};

interface PlannedAlarm {
  name: string;
  threshold: number;
  tags: Record<string, string>;
  metricQueries: Array<{ expression?: string; returnData?: boolean; metric?: { metricName: string; stat: string; period: number } }>;
}

/** Each CloudWatch alarm as an alert: `<expression or statistic> > <threshold> over <period> s`. */
export function alarmAlerts(resources: readonly PlannedResource[]): PlannedAlert[] {
  return resources
    .filter((r) => r.type === "aws:cloudwatch/metricAlarm:MetricAlarm")
    .map((r) => {
      const alarm = r.inputs as unknown as PlannedAlarm;
      const measure = alarm.metricQueries.find((q) => q.returnData)!;
      const period = alarm.metricQueries.find((q) => q.metric)!.metric!.period;
      const metrics = alarm.metricQueries.filter((q) => q.metric).map((q) => `${q.metric!.stat}(${q.metric!.metricName})`);
      const measured = measure.expression ? `${measure.expression} [${metrics.join(", ")}]` : metrics[0];
      return {
        name: alarm.name,
        severity: alarm.tags["cloudloom.dev/severity"],
        objective: alarm.tags["cloudloom.dev/objective"],
        condition: `${measured} > ${alarm.threshold} over ${period} s`,
      };
    });
}

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
  alerts: alarmAlerts,
};
