/**
 * Autoscalers from a scaling policy. A floor of one or more with no
 * schedule gets an autoscaling/v2 HPA; scale-to-zero or scheduled floors get
 * a KEDA ScaledObject (cron triggers for floors, a load trigger). The two are
 * never put on one workload.
 */
import { INFLIGHT_METRIC } from "../../runtime/contract";
import type * as input from "@pulumi/kubernetes/types/input";
import { toSeconds, type ScalingPolicySpec } from "../../sdk/spec";
import { endCron } from "../shared/cron";

/** The in-flight requests metric the runtime exports, used as the concurrency signal. */

/** Which autoscaler a policy needs. */
export function autoscalerKind(policy: ScalingPolicySpec): "hpa" | "keda" {
  return policy.scaleToZero || policy.schedules.length > 0 ? "keda" : "hpa";
}

/** The HPA spec for `deployment`. */
export function hpaSpec(policy: ScalingPolicySpec, deployment: string): input.autoscaling.v2.HorizontalPodAutoscalerSpec {
  const metric: input.autoscaling.v2.MetricSpec =
    policy.targetUtilization !== undefined
      ? {
          type: "Resource",
          resource: { name: "cpu", target: { type: "Utilization", averageUtilization: Math.round(policy.targetUtilization) } },
        }
      : {
          type: "Pods",
          pods: { metric: { name: INFLIGHT_METRIC }, target: { type: "AverageValue", averageValue: String(policy.targetConcurrency) } },
        };
  return {
    scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: deployment },
    minReplicas: Math.max(1, policy.minInstances),
    maxReplicas: policy.maxInstances,
    metrics: [metric],
  };
}

/** The KEDA ScaledObject spec for `deployment`. */
export function scaledObjectSpec(policy: ScalingPolicySpec, deployment: string, prometheusUrl: string): Record<string, unknown> {
  const cron = policy.schedules.map((schedule) => ({
    type: "cron",
    metadata: { timezone: schedule.timezone, start: schedule.cron, end: endCron(schedule), desiredReplicas: String(schedule.minInstances) },
  }));
  const load =
    policy.targetUtilization !== undefined && !policy.scaleToZero
      ? { type: "cpu", metricType: "Utilization", metadata: { value: String(Math.round(policy.targetUtilization)) } }
      : {
          type: "prometheus",
          metadata: {
            serverAddress: prometheusUrl,
            query: `sum(${INFLIGHT_METRIC}{deployment="${deployment}"})`,
            threshold: String(policy.targetConcurrency ?? 1),
          },
        };
  return {
    scaleTargetRef: { name: deployment },
    minReplicaCount: policy.scaleToZero ? 0 : policy.minInstances,
    maxReplicaCount: policy.maxInstances,
    cooldownPeriod: policy.scaleToZero ? Math.round(toSeconds(policy.scaleToZero.idleWindow)) : 300,
    triggers: [...cron, load],
  };
}
