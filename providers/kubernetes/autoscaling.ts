/**
 * Autoscalers from a scaling policy. A floor of one or more with no
 * schedule gets an autoscaling/v2 HPA; scale-to-zero or scheduled floors get
 * a KEDA ScaledObject (cron triggers for floors, a load trigger, and the
 * gateway's count of held and in-flight requests when the policy holds). The
 * two are never put on one workload.
 */
import { INFLIGHT_METRIC } from "../../runtime/contract";
import type * as input from "@pulumi/kubernetes/types/input";
import type * as pulumi from "@pulumi/pulumi";
import { holdOf, toSeconds, type HoldSpec, type ScalingPolicySpec } from "../../sdk/spec";
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

/** Where the app's gateways count a workload's held and in-flight requests, and how KEDA reads them. */
export interface GatewayDemand {
  /** Each gateway's DEMAND_PATH URL of the workload: the in-cluster one, or each gateway outside the cluster. */
  urls: readonly pulumi.Input<string>[];
  /** The TriggerAuthentication giving the triggers the gateways' metrics token (Bearer). */
  authentication: pulumi.Input<string>;
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

/** Requests per replica to hold: the policy's target concurrency, else one. */
function concurrencyTarget(policy: ScalingPolicySpec): string {
  return String(policy.targetConcurrency ?? 1);
}

/**
 * The trigger on the gateway's count of the workload's requests, held and in
 * flight (`demandUrl`, the gateway's DEMAND_PATH for this entry and region,
 * read with the metrics token as a Bearer token through `authentication`):
 * one held request activates a workload at zero, with no Prometheus in the
 * path, and the count scales it on like the in-flight gauge does.
 */
function demandTrigger(
  policy: ScalingPolicySpec,
  demandUrl: pulumi.Input<string>,
  authentication: pulumi.Input<string>,
): Record<string, unknown> {
  return {
    type: "metrics-api",
    metadata: {
      url: demandUrl,
      format: "json",
      valueLocation: "demand",
      targetValue: concurrencyTarget(policy),
      activationTargetValue: "0",
      authMode: "bearer",
    },
    authenticationRef: { name: authentication },
  };
}

/**
 * How often KEDA polls when the gateway holds requests for the workload: a
 * tenth of the hold's wait, between 1 and 30 seconds, so a request arriving
 * at zero is seen while it still waits (KEDA's default is 30 seconds).
 */
export function demandPollingSeconds(hold: HoldSpec): number {
  return Math.min(30, Math.max(1, Math.floor(toSeconds(hold.maxWait) / 10)));
}

/**
 * The KEDA ScaledObject spec for `deployment`. With `gatewayDemand` (where the
 * app's gateways count the workload's requests: the in-cluster one, or each
 * gateway outside the cluster) and a policy that holds requests, each
 * gateway's count of them is a trigger too, polled often enough to wake the
 * workload (KEDA activates it when any trigger is active); with `queue`, the
 * triggers of the queue its pods work.
 */
export function scaledObjectSpec(
  policy: ScalingPolicySpec,
  deployment: string,
  prometheusUrl: string,
  gatewayDemand?: GatewayDemand,
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
            threshold: concurrencyTarget(policy),
          },
        };
  const hold = holdOf(policy);
  const demand = hold && gatewayDemand && gatewayDemand.urls.length > 0 ? { hold, ...gatewayDemand } : undefined;
  const cooldown = policy.scaleToZero ? Math.round(toSeconds(policy.scaleToZero.idleWindow)) : 300;
  return {
    scaleTargetRef: { name: deployment },
    ...(demand ? { pollingInterval: demandPollingSeconds(demand.hold) } : {}),
    minReplicaCount: policy.scaleToZero ? 0 : policy.minInstances,
    maxReplicaCount: policy.maxInstances,
    cooldownPeriod: queue ? Math.max(cooldown, queue.cooldownSeconds) : cooldown,
    triggers: [
      ...cron,
      load,
      ...(demand ? demand.urls.map((url) => demandTrigger(policy, url, demand.authentication)) : []),
      ...(queue ? queueTriggers(queue) : []),
    ],
  };
}
