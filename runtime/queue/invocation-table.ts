/**
 * The invocations of SQS-queued entries on AWS, in a DynamoDB table the
 * status endpoint reads: one item per invocation, keyed by its id, expiring
 * (the table's TTL on `expiresAt`) the retention after it was submitted and
 * again after it finished. The gateway puts it when it queues the job; the
 * Lambda adapter moves it through its states with conditional updates, so a
 * message SQS delivers twice runs at most once to a recorded result: only
 * the attempt that marked it running may settle it, and a settled
 * invocation is never marked running again.
 */
import { toMilliseconds, type AsyncSpec } from "../../sdk/spec";
import type { InvocationRecord, InvocationResult } from "../contract";
import { AwsCallError, awsEndpoint, awsJson } from "../auth/aws-json";
import type { CredentialSource } from "../auth/credentials";

/** Where the table is. */
export interface TableLocation {
  name: string;
  region: string;
  /** The DynamoDB endpoint; default the region's. */
  endpoint?: string;
}

/** DynamoDB attribute values of the item's fields. */
type Item = Record<string, { S?: string; N?: string }>;

/** The states an invocation settles in. */
type FinalState = Exclude<InvocationRecord["state"], "queued" | "running">;
/** An item's result or error, as JSON, bounded so the item stays far below DynamoDB's 400 KB. */
const MAX_RESULT_BYTES = 256 * 1024;

/** The table's client: what the gateway and the Lambda adapter do with an invocation. */
export class InvocationTable {
  private readonly url: URL;

  constructor(
    private readonly table: TableLocation,
    private readonly credentials: CredentialSource,
    private readonly fetcher?: typeof fetch,
  ) {
    this.url = table.endpoint ? new URL(table.endpoint) : awsEndpoint("dynamodb", table.region);
  }

  /** Records a submitted invocation as queued; rejects if its id exists (an id is never reused). */
  async put(
    record: Pick<InvocationRecord, "id" | "tenant" | "submittedAt">,
    route: string,
    retention: AsyncSpec["retention"],
  ): Promise<void> {
    await this.call("PutItem", {
      TableName: this.table.name,
      Item: {
        id: { S: record.id },
        tenant: { S: record.tenant },
        route: { S: route },
        state: { S: "queued" },
        attempts: { N: "0" },
        submittedAt: { N: String(record.submittedAt) },
        expiresAt: { N: String(expiresAt(record.submittedAt, retention)) },
      },
      ConditionExpression: "attribute_not_exists(id)",
    });
  }

  /** Forgets an invocation whose job could not be queued. */
  async remove(id: string): Promise<void> {
    await this.call("DeleteItem", { TableName: this.table.name, Key: { id: { S: id } } });
  }

  /** The invocation `id`, read consistently; undefined when the table has none. */
  async get(id: string): Promise<InvocationRecord | undefined> {
    const answer = await this.call<{ Item?: Item }>("GetItem", {
      TableName: this.table.name,
      Key: { id: { S: id } },
      ConsistentRead: true,
    });
    return answer.Item && recordOf(answer.Item);
  }

  /**
   * Marks attempt `attempt` running. False when the invocation is already
   * settled (or gone): a duplicate delivery, which must not run again.
   */
  async markRunning(id: string, attempt: number, at: number): Promise<boolean> {
    return this.conditional({
      Key: { id: { S: id } },
      UpdateExpression: "SET #state = :running, attempts = :attempt, startedAt = :at",
      ConditionExpression: "attribute_exists(id) AND NOT #state IN (:succeeded, :failed, :dead)",
      ExpressionAttributeNames: { "#state": "state" },
      ExpressionAttributeValues: {
        ":running": { S: "running" },
        ":attempt": { N: String(attempt) },
        ":at": { N: String(at) },
        ...finalValues(),
      },
    });
  }

  /** Puts a failed attempt back to queued with its error, for a retry. False when another attempt took the invocation over. */
  async retryLater(id: string, attempt: number, error: NonNullable<InvocationRecord["error"]>): Promise<boolean> {
    return this.conditional({
      Key: { id: { S: id } },
      UpdateExpression: "SET #state = :queued, #error = :error",
      ConditionExpression: "attempts = :attempt AND #state = :running",
      ExpressionAttributeNames: { "#state": "state", "#error": "error" },
      ExpressionAttributeValues: {
        ":queued": { S: "queued" },
        ":running": { S: "running" },
        ":attempt": { N: String(attempt) },
        ":error": { S: JSON.stringify(error) },
      },
    });
  }

  /**
   * Settles attempt `attempt`: its final state with the result or the error.
   * False when that attempt no longer holds the invocation (a later delivery
   * did), so exactly one outcome is ever recorded.
   */
  async settle(
    id: string,
    attempt: number,
    outcome: { state: FinalState; result?: InvocationResult; error?: InvocationRecord["error"] },
    retention: AsyncSpec["retention"],
    at: number,
  ): Promise<boolean> {
    const detail =
      outcome.result !== undefined
        ? { name: "result", value: boundedJson(outcome.result) }
        : { name: "error", value: JSON.stringify(outcome.error) };
    return this.conditional({
      Key: { id: { S: id } },
      UpdateExpression: `SET #state = :state, finishedAt = :at, expiresAt = :expires, #detail = :detail${outcome.result !== undefined ? " REMOVE #error" : ""}`,
      ConditionExpression: "attempts = :attempt AND NOT #state IN (:succeeded, :failed, :dead)",
      ExpressionAttributeNames: {
        "#state": "state",
        "#detail": detail.name,
        ...(outcome.result !== undefined ? { "#error": "error" } : {}),
      },
      ExpressionAttributeValues: {
        ":state": { S: outcome.state },
        ":at": { N: String(at) },
        ":expires": { N: String(expiresAt(at, retention)) },
        ":detail": { S: detail.value },
        ":attempt": { N: String(attempt) },
        ...finalValues(),
      },
    });
  }

  private async conditional(update: Record<string, unknown>): Promise<boolean> {
    try {
      await this.call("UpdateItem", { TableName: this.table.name, ...update });
      return true;
    } catch (error) {
      if (error instanceof AwsCallError && error.type === "ConditionalCheckFailedException") return false;
      throw error;
    }
  }

  private async call<T = unknown>(operation: string, body: unknown): Promise<T> {
    return awsJson<T>({
      service: "dynamodb",
      region: this.table.region,
      url: this.url,
      target: `DynamoDB_20120810.${operation}`,
      contentType: "application/x-amz-json-1.0",
      body,
      credentials: await this.credentials.get(),
      fetch: this.fetcher,
    });
  }
}

const finalValues = () => ({ ":succeeded": { S: "succeeded" }, ":failed": { S: "failed" }, ":dead": { S: "dead-lettered" } });

/** The TTL (epoch seconds) of an item last written at `at`. */
const expiresAt = (at: number, retention: AsyncSpec["retention"]) => Math.ceil((at + toMilliseconds(retention)) / 1_000);

/** A result as stored: its JSON, or an error's when it is too large for the item. */
function boundedJson(result: InvocationResult): string {
  const json = JSON.stringify(result);
  if (Buffer.byteLength(json) <= MAX_RESULT_BYTES) return json;
  return JSON.stringify({
    status: result.status,
    body: { error: { code: "RESULT_TOO_LARGE", message: `the result is larger than ${MAX_RESULT_BYTES} bytes` } },
  });
}

function recordOf(item: Item): InvocationRecord {
  const number = (name: string) => (item[name]?.N === undefined ? undefined : Number(item[name].N));
  const json = (name: string) => (item[name]?.S === undefined ? undefined : JSON.parse(item[name].S!));
  return {
    id: item.id.S!,
    tenant: item.tenant?.S ?? "",
    state: item.state.S as InvocationRecord["state"],
    attempts: number("attempts") ?? 0,
    submittedAt: number("submittedAt") ?? 0,
    startedAt: number("startedAt"),
    finishedAt: number("finishedAt"),
    result: json("result"),
    error: json("error"),
  };
}
