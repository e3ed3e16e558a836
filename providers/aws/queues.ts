/**
 * Asynchronous functions on AWS. Each gets, in its home region, an SQS queue
 * (encrypted, retention from the entry's `retention`, a visibility timeout of
 * six times the function's timeout, as AWS advises for Lambda) and, with a
 * dead letter, a dead-letter queue its redrive policy moves a job to after
 * `retries + 1` receives (redrive allowed from exactly that queue). The
 * invocations' state lives in one DynamoDB table per region (on-demand,
 * encrypted, TTL on `expiresAt`), which the Lambda adapter writes and the
 * gateway's status endpoint reads. The functions step maps each queue to its
 * function; the gateway step lets the gateway send to it and use the table.
 */
import * as pulumi from "@pulumi/pulumi";
import { Table } from "@pulumi/aws/dynamodb";
import { Queue, RedriveAllowPolicy } from "@pulumi/aws/sqs";
import { asyncEntries, toSeconds, type AsyncEntry } from "../../sdk/spec";
import { SQS_MAX_MESSAGE_BYTES } from "../../runtime/contract";
import { entryLabels } from "../shared/labels";
import { resourceName } from "../shared/naming";
import { oncePerRegion } from "../shared/once-per-region";
import type { AwsContext } from "./context";

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

/** The queues step: a queue (and dead-letter queue) per asynchronous function, and a table per region that has any. */
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
    // Validation (CL_ASYNC_TARGET) keeps model versions off AWS queues.
    if (entry.kind !== "function") continue;
    const fn = spec.functions[entry.name];
    const { provider, awsRegion } = context.regions.get(entry.region)!;
    const child = { parent, provider };
    const tags = entryLabels(spec.app, "function", entry.name);
    const queueName = resourceName(name, "q", entry.name, entry.region);
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
        visibilityTimeoutSeconds: visibilityTimeoutSeconds(toSeconds(fn.timeout)),
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
    context.queues.set(entry.name, {
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
