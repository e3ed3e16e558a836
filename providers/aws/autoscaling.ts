/** Application Auto Scaling target tracking, shared by Lambda and SageMaker. */
import type * as pulumi from "@pulumi/pulumi";
import { Policy as ScalingPolicy, type Target as ScalableTarget } from "@pulumi/aws/appautoscaling";

/** What a scalable target scales: its service, dimension and resource. */
export interface ScalableDimension {
  serviceNamespace: pulumi.Input<string>;
  scalableDimension: pulumi.Input<string>;
  resourceId: pulumi.Input<string>;
}

/**
 * Tracks `metric` at `value` on `target`, whose `dimension` a caller that
 * knows it passes as plain values (by default, the target's outputs).
 */
export function trackTarget(
  name: string,
  target: ScalableTarget,
  metric: string,
  value: number,
  opts: pulumi.CustomResourceOptions,
  dimension: ScalableDimension = target,
): ScalingPolicy {
  return new ScalingPolicy(
    `${name}-tracking`,
    {
      policyType: "TargetTrackingScaling",
      serviceNamespace: dimension.serviceNamespace,
      scalableDimension: dimension.scalableDimension,
      resourceId: dimension.resourceId,
      targetTrackingScalingPolicyConfiguration: { targetValue: value, predefinedMetricSpecification: { predefinedMetricType: metric } },
    },
    { ...opts, dependsOn: [target] },
  );
}
