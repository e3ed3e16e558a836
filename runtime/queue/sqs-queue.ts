/**
 * Asynchronous entries on AWS, as the gateway sees them: an SQS queue per
 * entry, worked by its Lambda function through an event source mapping, and
 * the invocations' state in a DynamoDB table (invocation-table.ts). A
 * submission records the invocation as queued, then sends the job; if the
 * send fails, the record is removed again, so nothing is half-queued. Every
 * call is SigV4-signed with the gateway's own credentials (its ECS task role
 * may send to exactly these queues and use exactly these tables).
 */
import type { AsyncSpec } from "../../sdk/spec";
import {
  queueUnavailable,
  ServingError,
  SQS_MAX_MESSAGE_BYTES,
  type AsyncJob,
  type InvocationQueue,
  type InvocationRecord,
} from "../contract";
import { awsEndpoint, awsJson } from "../auth/aws-json";
import type { CredentialSource } from "../auth/credentials";
import { InvocationTable, type TableLocation } from "./invocation-table";

/** Where an entry's queue and table are. */
export interface SqsLocation {
  queueUrl: string;
  region: string;
  table: TableLocation;
  /** The SQS endpoint; default the region's. */
  sqsEndpoint?: string;
}

/** One entry's SQS queue and its invocation table. */
export class SqsQueue implements InvocationQueue {
  readonly durable = true;
  private readonly table: InvocationTable;
  private readonly sqs: URL;

  constructor(
    private readonly location: SqsLocation,
    private readonly settings: AsyncSpec,
    private readonly credentials: CredentialSource,
    private readonly fetcher?: typeof fetch,
  ) {
    this.table = new InvocationTable(location.table, credentials, fetcher);
    this.sqs = location.sqsEndpoint ? new URL(location.sqsEndpoint) : awsEndpoint("sqs", location.region);
  }

  async submit(job: AsyncJob): Promise<void> {
    const message = JSON.stringify(job);
    if (Buffer.byteLength(message) > SQS_MAX_MESSAGE_BYTES)
      throw new ServingError(
        "PAYLOAD_TOO_LARGE",
        `an asynchronous job on AWS carries at most ${SQS_MAX_MESSAGE_BYTES} bytes (the body base64-encoded, with its headers); send a smaller body, or a reference to it`,
      );
    try {
      await this.table.put(job, job.route, this.settings.retention);
    } catch (error) {
      throw queueUnavailable(error);
    }
    try {
      await awsJson({
        service: "sqs",
        region: this.location.region,
        url: this.sqs,
        target: "AmazonSQS.SendMessage",
        contentType: "application/x-amz-json-1.0",
        body: { QueueUrl: this.location.queueUrl, MessageBody: message },
        credentials: await this.credentials.get(),
        fetch: this.fetcher,
      });
    } catch (error) {
      await this.table.remove(job.id).catch(() => undefined);
      throw queueUnavailable(error);
    }
  }

  async read(id: string): Promise<InvocationRecord | undefined> {
    try {
      return await this.table.get(id);
    } catch (error) {
      throw queueUnavailable(error);
    }
  }
}
