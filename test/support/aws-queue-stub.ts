/**
 * A stand-in for the DynamoDB table and SQS queue of an asynchronous entry on
 * AWS, on a loopback port: it checks every request's SigV4 signature (its
 * X-Amz-Target included) and keeps the state AWS would. DynamoDB's
 * PutItem/GetItem/DeleteItem/UpdateItem evaluate the expression grammar
 * cloudloom writes (SET and REMOVE; conditions joined by AND of
 * attribute_exists, attribute_not_exists, `a = :v` and `NOT a IN (:v, ...)`),
 * failing a condition with ConditionalCheckFailedException as DynamoDB does.
 * SQS keeps messages with receive counts and visibility; `receive()` hands a
 * batch out as an event source mapping would, and a message received more than
 * `maxReceiveCount` times moves to the dead-letter list (the redrive policy).
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import aws4 from "aws4";
import type { SqsBatchResponse, SqsEvent } from "../../runtime/serverless/sqs-jobs";
import { TEST_CREDENTIALS } from "./sigv4";

type Value = { S?: string; N?: string };
type Item = Record<string, Value>;

interface Message {
  messageId: string;
  body: string;
  receiveCount: number;
  visibleAt: number;
  receiptHandle: string;
}

const QUEUE_ARN = "arn:aws:sqs:eu-west-1:123456789012:shop-q-work";

/** The SQS queue and DynamoDB table of one entry, in memory behind one loopback server. */
export class AwsQueueStub {
  readonly items = new Map<string, Item>();
  readonly messages: Message[] = [];
  readonly deadLetters: Message[] = [];
  /** Every call: its X-Amz-Target and whether its signature was valid. */
  readonly calls: Array<{ target: string; signed: boolean }> = [];
  /** Answer every call (`all`), or SQS's only (`sqs`), with a 500: an outage. */
  failing: "all" | "sqs" | false = false;
  private server?: Server;
  url = "";

  constructor(readonly maxReceiveCount: number) {}

  /** The queue's URL, as the stack outputs it. */
  get queueUrl(): string {
    return "https://sqs.eu-west-1.amazonaws.com/123456789012/shop-q-work";
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString();
        const target = String(req.headers["x-amz-target"] ?? "");
        const signed = verify(req, body, target.startsWith("DynamoDB") ? "dynamodb" : "sqs");
        this.calls.push({ target, signed });
        const outage = this.failing === "all" || (this.failing === "sqs" && target.startsWith("AmazonSQS"));
        const [status, answer] = outage
          ? [500, { __type: "InternalFailure" }]
          : signed
            ? this.answer(target, JSON.parse(body))
            : [403, { __type: "InvalidSignatureException" }];
        res.writeHead(status, { "content-type": "application/x-amz-json-1.0" }).end(JSON.stringify(answer));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }

  /** A batch of up to `max` visible messages, as the event source mapping delivers it; redrives those over the receive limit. */
  receive(max = 10): SqsEvent {
    const now = Date.now();
    const batch: Message[] = [];
    for (const message of [...this.messages]) {
      if (batch.length >= max || message.visibleAt > now) continue;
      if (message.receiveCount >= this.maxReceiveCount) {
        this.messages.splice(this.messages.indexOf(message), 1);
        this.deadLetters.push(message);
        continue;
      }
      message.receiveCount++;
      message.receiptHandle = randomUUID();
      // The mapping's visibility timeout: hidden while the function works it.
      message.visibleAt = now + 60_000;
      batch.push(message);
    }
    return {
      Records: batch.map((m) => ({
        messageId: m.messageId,
        receiptHandle: m.receiptHandle,
        body: m.body,
        attributes: { ApproximateReceiveCount: String(m.receiveCount) },
        eventSource: "aws:sqs",
        eventSourceARN: QUEUE_ARN,
      })),
    };
  }

  /** Applies a partial batch response: the batch's other messages are deleted; the failures become visible unless hidden for a backoff. */
  settle(event: SqsEvent, response: SqsBatchResponse): void {
    const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
    for (const record of event.Records) {
      const index = this.messages.findIndex((m) => m.messageId === record.messageId);
      if (index < 0) continue;
      if (!failed.has(record.messageId)) this.messages.splice(index, 1);
      else if (this.messages[index].visibleAt - Date.now() > 30_000) this.messages[index].visibleAt = Date.now();
    }
  }

  private answer(target: string, body: any): [number, unknown] {
    const operation = target.split(".")[1];
    switch (operation) {
      case "SendMessage":
        if (body.QueueUrl !== this.queueUrl) return [400, { __type: "com.amazonaws.sqs#QueueDoesNotExist" }];
        this.messages.push({ messageId: randomUUID(), body: body.MessageBody, receiveCount: 0, visibleAt: 0, receiptHandle: "" });
        return [200, { MessageId: "m" }];
      case "ChangeMessageVisibility": {
        const message = this.messages.find((m) => m.receiptHandle === body.ReceiptHandle);
        if (!message || body.QueueUrl !== this.queueUrl) return [400, { __type: "com.amazonaws.sqs#ReceiptHandleIsInvalid" }];
        message.visibleAt = Date.now() + body.VisibilityTimeout * 1_000;
        return [200, {}];
      }
      case "PutItem": {
        const id = body.Item.id.S;
        if (!holds(body.ConditionExpression, this.items.get(id), body)) return conditionFailed();
        this.items.set(id, body.Item);
        return [200, {}];
      }
      case "GetItem": {
        const item = this.items.get(body.Key.id.S);
        return [200, item ? { Item: item } : {}];
      }
      case "DeleteItem":
        this.items.delete(body.Key.id.S);
        return [200, {}];
      case "UpdateItem": {
        const id = body.Key.id.S;
        const item = this.items.get(id);
        if (!holds(body.ConditionExpression, item, body)) return conditionFailed();
        this.items.set(id, updated(item ?? { id: { S: id } }, body));
        return [200, {}];
      }
      default:
        return [400, { __type: "UnknownOperationException" }];
    }
  }
}

const conditionFailed = (): [number, unknown] => [400, { __type: "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException" }];

/** True when the request's signature, X-Amz-Target included, is TEST_CREDENTIALS' for `service` in eu-west-1. */
function verify(req: IncomingMessage, body: string, service: string): boolean {
  const check = {
    host: req.headers.host,
    path: req.url,
    method: req.method,
    service,
    region: "eu-west-1",
    body,
    headers: {
      "content-type": req.headers["content-type"] as string,
      "X-Amz-Target": req.headers["x-amz-target"] as string,
      "X-Amz-Date": req.headers["x-amz-date"] as string,
    },
  };
  aws4.sign(check, TEST_CREDENTIALS);
  return (check.headers as Record<string, string>).Authorization === req.headers.authorization;
}

const name = (token: string, body: any): string => (token.startsWith("#") ? body.ExpressionAttributeNames[token] : token);
const value = (token: string, body: any): Value => body.ExpressionAttributeValues[token];
const same = (a: Value | undefined, b: Value) => a !== undefined && a.S === b.S && a.N === b.N;

/** Evaluates a condition of the grammar cloudloom writes against `item` (undefined: no item). */
function holds(condition: string | undefined, item: Item | undefined, body: any): boolean {
  if (!condition) return true;
  return condition.split(" AND ").every((clause) => {
    let match = /^attribute_(not_)?exists\((\S+)\)$/.exec(clause);
    if (match) return Boolean(match[1]) === (item?.[name(match[2], body)] === undefined);
    match = /^NOT (\S+) IN \(([^)]*)\)$/.exec(clause);
    if (match) {
      const actual = item?.[name(match[1], body)];
      return !match[2].split(", ").some((token) => same(actual, value(token, body)));
    }
    match = /^(\S+) = (\S+)$/.exec(clause);
    if (match) return same(item?.[name(match[1], body)], value(match[2], body));
    throw new Error(`the stub does not know the condition clause "${clause}"`);
  });
}

/** Applies `SET a = :v, ... [REMOVE b, ...]`. */
function updated(item: Item, body: any): Item {
  const next = { ...item };
  const [set, remove] = body.UpdateExpression.replace(/^SET /, "").split(" REMOVE ");
  for (const assignment of set.split(", ")) {
    const [target, source] = assignment.split(" = ");
    next[name(target, body)] = value(source, body);
  }
  for (const target of remove ? remove.split(", ") : []) delete next[name(target, body)];
  return next;
}
