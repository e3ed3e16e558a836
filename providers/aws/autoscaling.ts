/** Application Auto Scaling target tracking, shared by Lambda and SageMaker. */
import type * as pulumi from "@pulumi/pulumi";
import { Policy as ScalingPolicy, type Target as ScalableTarget } from "@pulumi/aws/appautoscaling";

/** Tracks `metric` at `value` on `target`. */
export function trackTarget(
  name: string,
  target: ScalableTarget,
  metric: string,
  value: number,
  opts: pulumi.CustomResourceOptions,
): ScalingPolicy {
  return new ScalingPolicy(
    `${name}-tracking`,
    {
      policyType: "TargetTrackingScaling",
      serviceNamespace: target.serviceNamespace,
      scalableDimension: target.scalableDimension,
      resourceId: target.resourceId,
      targetTrackingScalingPolicyConfiguration: { targetValue: value, predefinedMetricSpecification: { predefinedMetricType: metric } },
    },
    opts,
  );
}
