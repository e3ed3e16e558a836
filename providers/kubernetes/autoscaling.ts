/**
 * Autoscalers from a scaling policy. A floor of one or more with no
 * schedule gets an autoscaling/v2 HPA; scale-to-zero or scheduled floors get
 * a KEDA ScaledObject (cron triggers for floors, a load trigger). The two are
 * never put on one workload.
 */
import { INFLIGHT_METRIC } from "../../runtime/contract";
import type * as pulumi from "@pulumi/pulumi";
import type * as input from "@pulumi/kubernetes/types/input";
import { toSeconds, type ScalingPolicySpec } from "../../sdk/spec";
import { endCron } from "../shared/cron";

/** The in-flight requests metric the runtime exports, used as the concurrency signal. */

/** The queue a workload's pods work (queues.ts): what its KEDA redis triggers measure, and how they reach it. */
export interface QueueScaling {
  /** The BullMQ lists of waiting and running jobs. */
  lists: { wait: string; active: string };
  /** `host:port` of the Redis, whether it speaks TLS, and the database. */
  address: pulumi.Input<string>;
  enableTLS: pulumi.Input<string>;
  databaseIndex: pulumi.Input<string>;
  /** The TriggerAuthentication holding the Redis password. */
  authentication: pulumi.Input<string>;
  /** Jobs one pod runs at once: the list length per replica the triggers aim for. */
  jobsPerReplica: number;
  /** Seconds to wait after the queue empties before scaling to zero (covers the longest retry backoff). */
  cooldownSeconds: number;
  /** Pods kept without a scaling policy: 1 when synchronous calls reach them too, else 0. */
  floor: number;
}

/** Which autoscaler a policy needs; a workload working a queue always gets KEDA (its queue triggers). */
export function autoscalerKind(policy: ScalingPolicySpec, queue?: QueueScaling): "hpa" | "keda" {
  return queue || policy.scaleToZero || policy.schedules.length > 0 ? "keda" : "hpa";
}

/** The most pods cloudloom gives a queue's workers that declare no scaling policy. */
export const QUEUE_WORKERS_MAX = 10;

/** The policy of a queue's workers that declare none: from their floor (0 scales to zero) up to QUEUE_WORKERS_MAX, a job per slot. */
export function queueWorkerPolicy(queue: QueueScaling): ScalingPolicySpec {
  return {
    minInstances: queue.floor,
    maxInstances: QUEUE_WORKERS_MAX,
    targetConcurrency: queue.jobsPerReplica,
    ...(queue.floor === 0 ? { scaleToZero: { idleWindow: `${queue.cooldownSeconds} seconds` as const } } : {}),
    schedules: [],
  };
}

/** KEDA redis list triggers on a queue's waiting and running jobs: any job wakes a worker, and pods follow the backlog. */
function queueTriggers(queue: QueueScaling): Array<Record<string, unknown>> {
  return [queue.lists.wait, queue.lists.active].map((listName) => ({
    type: "redis",
    metadata: {
      address: queue.address,
      listName,
      listLength: String(queue.jobsPerReplica),
      activationListLength: "0",
      enableTLS: queue.enableTLS,
      databaseIndex: queue.databaseIndex,
    },
    authenticationRef: { name: queue.authentication },
  }));
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

/** The KEDA ScaledObject spec for `deployment` (with the triggers of the queue its pods work, if any). */
export function scaledObjectSpec(
  policy: ScalingPolicySpec,
  deployment: string,
  prometheusUrl: string,
  queue?: QueueScaling,
): Record<string, unknown> {
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
  const cooldown = policy.scaleToZero ? Math.round(toSeconds(policy.scaleToZero.idleWindow)) : 300;
  return {
    scaleTargetRef: { name: deployment },
    minReplicaCount: policy.scaleToZero ? 0 : policy.minInstances,
    maxReplicaCount: policy.maxInstances,
    cooldownPeriod: queue ? Math.max(cooldown, queue.cooldownSeconds) : cooldown,
    triggers: [...cron, load, ...(queue ? queueTriggers(queue) : [])],
  };
}
