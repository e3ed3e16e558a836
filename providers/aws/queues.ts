/**
 * Asynchronous functions and model versions on AWS. Each gets, in its home
 * region, an SQS queue (encrypted, retention from the entry's `retention`, a
 * visibility timeout of six times its Lambda function's timeout, as AWS
 * advises) and, with a dead letter, a dead-letter queue its redrive policy
 * moves a job to after `retries + 1` receives (redrive allowed from exactly
 * that queue). The invocations' state lives in one DynamoDB table per region
 * (on-demand, encrypted, TTL on `expiresAt`), which the Lambda adapter writes
 * and the gateway's status endpoint reads. A function's queue is worked by
 * the function itself (function.ts), a model version's by its job worker
 * (model-jobs.ts), each through an event source mapping (mapQueue); the
 * gateway step lets the gateway send to every queue and use its table.
 */
import * as pulumi from "@pulumi/pulumi";
import { Table } from "@pulumi/aws/dynamodb";
import { EventSourceMapping } from "@pulumi/aws/lambda";
import { Queue, RedriveAllowPolicy } from "@pulumi/aws/sqs";
import {
  asyncEntries,
  asyncEntryKey,
  awsModelWorkerTimeoutSeconds,
  toSeconds,
  type AsyncEntry,
  type ScalingPolicySpec,
  type SpecV1,
} from "../../sdk/spec";
import { SQS_MAX_MESSAGE_BYTES } from "../../runtime/contract";
import { entryLabels } from "../shared/labels";
import { modelPart, resourceName } from "../shared/naming";
import { oncePerRegion } from "../shared/once-per-region";
import type { AwsContext, PlacedQueue } from "./context";

/** How long a dead-letter queue keeps a job: SQS's longest, so an operator has two weeks to look. */
const DEAD_LETTER_RETENTION_SECONDS = 1_209_600;

/** The longest visibility timeout SQS allows. */
const MAX_VISIBILITY_SECONDS = 43_200;

/** The queue's visibility timeout: six times the function's timeout (AWS's advice for Lambda event sources). */
export function visibilityTimeoutSeconds(functionTimeoutSeconds: number): number {
  return Math.min(MAX_VISIBILITY_SECONDS, 6 * Math.ceil(functionTimeoutSeconds));
}

/** The redrive policy of an entry's queue: to its dead-letter queue after the first attempt and every retry. */
export function redrivePolicy(deadLetterArn: string, entry: AsyncEntry): string {
  return JSON.stringify({ deadLetterTargetArn: deadLetterArn, maxReceiveCount: entry.settings.retries + 1 });
}

/** The timeout (seconds) of the Lambda function that works `entry`'s queue: the function's own, or its model job worker's. */
export function workerTimeoutSeconds(spec: SpecV1, entry: AsyncEntry): number {
  return entry.kind === "function"
    ? toSeconds(spec.functions[entry.name].timeout)
    : awsModelWorkerTimeoutSeconds(toSeconds(entry.settings.timeout));
}

/** The queue's name part and labels: a function's name, or `mq-<model>-v<version>` for a model version. */
function queueIdentity(spec: SpecV1, entry: AsyncEntry): { part: string[]; tags: Record<string, string> } {
  if (entry.kind === "function") return { part: ["q", entry.name], tags: entryLabels(spec.app, "function", entry.name) };
  const model = spec.models[entry.name];
  return {
    part: ["mq", modelPart(model.name, model.version)],
    tags: entryLabels(spec.app, "model", model.name, { "cloudloom.dev/version": model.version }),
  };
}

/** The queues step: a queue (and dead-letter queue) per asynchronous function or model version, and a table per region that has any. */
export function placeQueues(context: AwsContext): void {
  const { spec, name, parent } = context;
  const table = oncePerRegion((region) => {
    const tableName = resourceName(name, region, "invocations");
    return new Table(
      tableName,
      {
        name: tableName,
        hashKey: "id",
        attributes: [{ name: "id", type: "S" }],
        billingMode: "PAY_PER_REQUEST",
        ttl: { attributeName: "expiresAt", enabled: true },
        serverSideEncryption: { enabled: true },
        tags: entryLabels(spec.app, "app", "invocations"),
      },
      { parent, provider: context.regions.get(region)!.provider },
    );
  });
  for (const [key, entry] of asyncEntries(spec)) {
    const { provider, awsRegion } = context.regions.get(entry.region)!;
    const child = { parent, provider };
    const { part, tags } = queueIdentity(spec, entry);
    const queueName = resourceName(name, ...part, entry.region);
    const deadLetter = entry.settings.deadLetter
      ? new Queue(
          `${queueName}-dlq`,
          { name: `${queueName}-dlq`, messageRetentionSeconds: DEAD_LETTER_RETENTION_SECONDS, sqsManagedSseEnabled: true, tags },
          child,
        )
      : undefined;
    const queue = new Queue(
      queueName,
      {
        name: queueName,
        messageRetentionSeconds: Math.round(toSeconds(entry.settings.retention)),
        visibilityTimeoutSeconds: visibilityTimeoutSeconds(workerTimeoutSeconds(spec, entry)),
        maxMessageSize: SQS_MAX_MESSAGE_BYTES,
        sqsManagedSseEnabled: true,
        redrivePolicy: deadLetter?.arn.apply((arn) => redrivePolicy(arn, entry)),
        tags,
      },
      child,
    );
    if (deadLetter)
      new RedriveAllowPolicy(
        `${queueName}-dlq`,
        {
          queueUrl: deadLetter.url,
          redriveAllowPolicy: queue.arn.apply((arn) => JSON.stringify({ redrivePermission: "byQueue", sourceQueueArns: [arn] })),
        },
        child,
      );
    const invocations = table(entry.region);
    context.queues.set(asyncEntryKey(entry.kind, entry.name), {
      region: entry.region,
      queueArn: queue.arn,
      queueUrl: queue.url,
      tableArn: invocations.arn,
      tableName: invocations.name,
    });
    (context.endpoints.queues ??= {})[key] = pulumi
      .all([queue.url, invocations.name])
      .apply(([queueUrl, tableName]) => ({ kind: "sqs" as const, queueUrl, region: awsRegion, table: tableName }));
  }
}

/** Jobs in one batch: as many as one instance takes at once (`perInstance`), at most SQS's 10. */
export function queueBatchSize(perInstance: number): number {
  return Math.max(1, Math.min(10, perInstance));
}

/** The event source mapping's maximum concurrency: the policy's instances, within what Lambda accepts (2 to 1,000). */
export function maximumConcurrency(policy: ScalingPolicySpec): number {
  return Math.max(2, Math.min(1_000, policy.maxInstances));
}

/**
 * The event source mapping that delivers `queue`'s batches to the Lambda
 * function `functionArn` (its `live` alias): `batchSize` jobs at a time,
 * with partial batch responses, and at most the scaling policy's maximum at
 * once when there is one.
 */
export function mapQueue(
  name: string,
  queue: PlacedQueue,
  functionArn: pulumi.Input<string>,
  batchSize: number,
  scaling: ScalingPolicySpec | undefined,
  tags: Record<string, string>,
  opts: pulumi.CustomResourceOptions,
): EventSourceMapping {
  return new EventSourceMapping(
    `${name}-queue`,
    {
      eventSourceArn: queue.queueArn,
      functionName: functionArn,
      batchSize,
      functionResponseTypes: ["ReportBatchItemFailures"],
      scalingConfig: scaling ? { maximumConcurrency: maximumConcurrency(scaling) } : undefined,
      tags,
    },
    opts,
  );
}
