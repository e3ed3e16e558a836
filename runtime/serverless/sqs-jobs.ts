/**
 * Asynchronous jobs inside AWS Lambda: the batches an SQS event source
 * mapping delivers. Each record is one attempt of one job (its
 * ApproximateReceiveCount is the attempt's number), run with the entry's
 * attempt timeout and recorded in the invocation table the status endpoint
 * reads. The batch's answer lists the records that failed
 * (`ReportBatchItemFailures`), so SQS deletes only the others:
 *
 * - an answer below 500 settles the invocation (`succeeded`, or `failed`
 *   with a 4xx result) and its message is deleted;
 * - a failed attempt with retries left goes back to `queued` and its message
 *   stays invisible for the entry's backoff (ChangeMessageVisibility), then
 *   is received again;
 * - the last failed attempt settles `dead-lettered` and its message is left
 *   for SQS's redrive policy (maxReceiveCount = retries + 1) to move to the
 *   dead-letter queue; without a dead letter it settles `failed` and its
 *   message is deleted;
 * - a message SQS delivers again after its invocation settled (SQS delivers
 *   at least once) is deleted without running: the table refuses to mark a
 *   settled invocation running.
 */
import { retryDelayMs, toMilliseconds, type AsyncSpec } from "../../sdk/spec";
import type { AsyncJob, InvocationResult } from "../contract";
import { awsEndpoint, awsJson } from "../auth/aws-json";
import type { CredentialSource } from "../auth/credentials";
import { AttemptFailure, withinTimeout } from "../queue/attempt";
import type { InvocationTable } from "../queue/invocation-table";
import { answeredState, exhaustedState } from "../queue/states";

/** One SQS message as an event source mapping delivers it (the fields read). */
export interface SqsRecord {
  messageId: string;
  receiptHandle: string;
  body: string;
  attributes: { ApproximateReceiveCount: string };
  eventSource: string;
  eventSourceARN: string;
}

/** A batch from an SQS event source mapping. */
export interface SqsEvent {
  Records: SqsRecord[];
}

/** The partial batch response: the records SQS should keep. */
export interface SqsBatchResponse {
  batchItemFailures: Array<{ itemIdentifier: string }>;
}

/** True for a batch an SQS event source mapping delivered. */
export function isSqsEvent(event: unknown): event is SqsEvent {
  const records = (event as { Records?: unknown } | null)?.Records;
  return Array.isArray(records) && records.length > 0 && (records[0] as SqsRecord)?.eventSource === "aws:sqs";
}

/** The longest a message can stay invisible: the longest backoff SQS can carry. */
const MAX_VISIBILITY_SECONDS = 43_200;

/** The queue URL of an SQS queue ARN (`arn:aws:sqs:<region>:<account>:<name>`). */
export function queueUrlOf(arn: string): string {
  const [, partition, , region, account, name] = arn.split(":");
  return `https://sqs.${region}.amazonaws.com${partition === "aws-cn" ? ".cn" : ""}/${account}/${name}`;
}

/** What working a batch needs. */
export interface SqsJobsOptions {
  settings: AsyncSpec;
  table: InvocationTable;
  credentials: CredentialSource;
  /** The SQS endpoint; default the record's region's. */
  sqsEndpoint?: string;
  fetch?: typeof fetch;
  /** Writes one JSON log line. */
  log: (entry: Record<string, unknown>) => void;
}

/** The handler of SQS batches: each record's job run by `run`, and recorded. */
export function sqsJobs(
  run: (job: AsyncJob) => Promise<InvocationResult>,
  options: SqsJobsOptions,
): (event: SqsEvent) => Promise<SqsBatchResponse> {
  const { settings, table, log } = options;
  const timeoutMs = toMilliseconds(settings.timeout);
  const retentionMs = toMilliseconds(settings.retention);

  /** Hides a message for the backoff before its next attempt. */
  const backOff = async (record: SqsRecord, attempt: number) => {
    const region = record.eventSourceARN.split(":")[3];
    await awsJson({
      service: "sqs",
      region,
      url: options.sqsEndpoint ? new URL(options.sqsEndpoint) : awsEndpoint("sqs", region),
      target: "AmazonSQS.ChangeMessageVisibility",
      contentType: "application/x-amz-json-1.0",
      body: {
        QueueUrl: queueUrlOf(record.eventSourceARN),
        ReceiptHandle: record.receiptHandle,
        VisibilityTimeout: Math.min(MAX_VISIBILITY_SECONDS, Math.ceil(retryDelayMs(settings, attempt) / 1_000)),
      },
      credentials: await options.credentials.get(),
      fetch: options.fetch,
    });
  };

  /** Works one record; true when SQS should keep its message (to retry it, or to dead-letter it). */
  const work = async (record: SqsRecord): Promise<boolean> => {
    let job: AsyncJob;
    try {
      job = JSON.parse(record.body) as AsyncJob;
      if (typeof job?.id !== "string" || typeof job.submittedAt !== "number") throw new Error("not a cloudloom job");
    } catch (error) {
      // Not a job of ours: nothing to record or retry, so it is dropped (and said so).
      log({ level: "error", message: `dropped SQS message ${record.messageId}: ${(error as Error).message}` });
      return false;
    }
    const attempt = Number(record.attributes.ApproximateReceiveCount) || 1;
    const now = Date.now();
    if (now - job.submittedAt > retentionMs) {
      const error = { code: "INVOCATION_EXPIRED", message: `the job waited longer than its retention (${settings.retention})` };
      await table.markRunning(job.id, attempt, now);
      await table.settle(job.id, attempt, { state: exhaustedState(settings), error }, settings.retention, now);
      return false;
    }
    if (!(await table.markRunning(job.id, attempt, now))) {
      log({ level: "warn", invocation: job.id, message: "delivered again after it settled; not run twice" });
      return false;
    }
    let failure: AttemptFailure;
    try {
      const result = await withinTimeout(run(job), timeoutMs);
      if (result.status < 500) {
        await table.settle(job.id, attempt, { state: answeredState(result.status), result }, settings.retention, Date.now());
        return false;
      }
      failure = new AttemptFailure("FUNCTION_FAILED", `the function answered ${result.status}; see its logs for invocation ${job.id}`);
    } catch (error) {
      failure = AttemptFailure.of(error);
    }
    const error = { code: failure.code, message: failure.message };
    const final = attempt > settings.retries;
    log({
      level: final ? "error" : "warn",
      invocation: job.id,
      attempt,
      code: failure.code,
      message: (failure.cause as Error)?.message ?? failure.message,
    });
    if (!final) {
      await table.retryLater(job.id, attempt, error);
      await backOff(record, attempt);
      return true;
    }
    await table.settle(job.id, attempt, { state: exhaustedState(settings), error }, settings.retention, Date.now());
    // Dead-lettered: SQS's redrive moves the message to the dead-letter queue at its next receive.
    return settings.deadLetter;
  };

  return async (event) => {
    const kept = await Promise.all(
      event.Records.map(async (record) => {
        try {
          return await work(record);
        } catch (error) {
          // The table or SQS failed us: keep the message; SQS delivers it again after its visibility timeout.
          log({ level: "error", message: `SQS message ${record.messageId} kept for another attempt: ${(error as Error).message}` });
          return true;
        }
      }),
    );
    return { batchItemFailures: event.Records.filter((_, i) => kept[i]).map((record) => ({ itemIdentifier: record.messageId })) };
  };
}
