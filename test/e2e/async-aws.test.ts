import assert from "node:assert/strict";
import type { ComposedGateway } from "../../cli/compose-gateway";
import type { RemoteQueues } from "../../cli/remote-queues";
import { lambdaHandler, type LambdaEntry } from "../../runtime/serverless/lambda";
import type { SpecV1 } from "../../sdk";
import app from "../fixtures/async-app/app";
import { handler } from "../fixtures/async-app/work";
import { AwsQueueStub } from "../support/aws-queue-stub";
import { AWS_TEST_ENV, awsQueueGateway, drainQueue, TEST_TABLE } from "../support/aws-queue-gateway";
import { KEY_A, KEY_B } from "../support/gateway-app";
import { finalInvocation, readInvocation, submit } from "../support/invocations";
import { exported } from "../support/tracing";
import { StubUpstream } from "../support/upstream";

/** The Lambda function of `route`'s entry, working its queue: the fixture's handler behind the cloudloom adapter. */
function lambdaFor(spec: SpecV1, route: string, stub: AwsQueueStub): LambdaEntry {
  return lambdaHandler(
    handler,
    {
      region: "central",
      models: {},
      env: [],
      async: { settings: spec.routes[route].async!, table: TEST_TABLE, dynamodbEndpoint: stub.url, sqsEndpoint: stub.url },
    },
    { ...AWS_TEST_ENV },
  );
}

describe("asynchronous invocation on AWS: SQS, an event source mapping to Lambda, state in DynamoDB (signed calls to a stand-in)", function () {
  this.timeout(60_000);
  const spec = app.toSpec();
  let stub: AwsQueueStub;
  let gateway: ComposedGateway;
  let queues: RemoteQueues;
  let base: string;

  beforeEach(async () => {
    stub = new AwsQueueStub(spec.routes["POST /work"].async!.retries + 1);
    await stub.start();
    ({ gateway, queues, base } = await awsQueueGateway(spec, stub, [KEY_A, KEY_B]));
  });
  afterEach(async () => {
    await gateway.close();
    await queues.close();
    await stub.stop();
  });

  it("records the invocation as queued, sends the job, and the Lambda records its result", async () => {
    const { response, id } = await submit(base, "/work", { value: "on aws" }, KEY_A);
    assert.equal(response.status, 202);
    const queued = await readInvocation(base, id!, KEY_A);
    assert.equal(queued.json.state, "queued");
    assert.equal(stub.messages.length, 1);
    assert.equal(JSON.parse(stub.messages[0].body).id, id);

    await drainQueue(stub, lambdaFor(spec, "POST /work", stub));
    const done = await finalInvocation(base, id!, KEY_A);
    assert.equal(done.state, "succeeded");
    assert.equal(done.attempts, 1);
    assert.equal(done.result!.body.value, "on aws");
    assert.equal((await readInvocation(base, id!, KEY_B)).status, 404);
    // Every call, the gateway's and the function's, was SigV4-signed for its service.
    assert.ok(stub.calls.length >= 5);
    assert.deepEqual(
      stub.calls.filter((call) => !call.signed),
      [],
    );
    assert.deepEqual([...new Set(stub.calls.map((call) => call.target))].sort(), [
      "AmazonSQS.SendMessage",
      "DynamoDB_20120810.GetItem",
      "DynamoDB_20120810.PutItem",
      "DynamoDB_20120810.UpdateItem",
    ]);
  });

  it("runs a traced job in the function's span under the request that queued it, exported before the batch returns", async () => {
    const collector = await new StubUpstream("collector").start();
    const traced = await awsQueueGateway(spec, stub, [KEY_A], { tracing: { endpoint: `${collector.url}/v1/traces` } });
    try {
      const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
      const { id } = await submit(traced.base, "/work", { value: "traced" }, KEY_A, { traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
      const [, , requestSpan] = (JSON.parse(stub.messages[0].body).request.headers.traceparent as string).split("-");
      const route = "POST /work";
      const worker = lambdaHandler(
        handler,
        {
          region: "central",
          models: {},
          env: [],
          async: { settings: spec.routes[route].async!, table: TEST_TABLE, dynamodbEndpoint: stub.url, sqsEndpoint: stub.url },
        },
        {
          ...AWS_TEST_ENV,
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${collector.url}/v1/traces`,
          AWS_LAMBDA_FUNCTION_NAME: "async-fixture-fn-work-central",
        },
      );
      await drainQueue(stub, worker);
      assert.equal((await finalInvocation(traced.base, id!, KEY_A)).state, "succeeded");
      const [span] = exported(collector).filter((s) => s.name === "runtime.function");
      assert.deepEqual(
        [span?.traceId, span?.parentSpanId, span?.attributes["cloudloom.function"]],
        [traceId, requestSpan, "async-fixture-fn-work-central"],
      );
    } finally {
      await traced.gateway.close();
      await traced.queues.close();
      await collector.kill();
    }
  });

  it("hides a failed attempt's message for its backoff, retries it, and records the attempt that succeeded", async () => {
    const { id } = await submit(base, "/work", { value: "third time", failTimes: 2 }, KEY_A);
    await drainQueue(stub, lambdaFor(spec, "POST /work", stub));
    const done = await finalInvocation(base, id!, KEY_A);
    assert.equal(done.state, "succeeded");
    assert.equal(done.attempts, 3);
    assert.equal(stub.calls.filter((call) => call.target === "AmazonSQS.ChangeMessageVisibility").length, 2);
    assert.equal(stub.deadLetters.length, 0);
  });

  it("dead-letters a job after its retries: state dead-lettered, the message moved by the redrive policy", async () => {
    const { id } = await submit(base, "/work", { failTimes: 99 }, KEY_A);
    await drainQueue(stub, lambdaFor(spec, "POST /work", stub));
    const done = await finalInvocation(base, id!, KEY_A);
    assert.equal(done.state, "dead-lettered");
    assert.equal(done.attempts, 3);
    assert.equal(done.error!.code, "FUNCTION_FAILED");
    assert.equal(stub.deadLetters.length, 1);
    assert.equal(JSON.parse(stub.deadLetters[0].body).id, id);
  });

  it("deletes the message of a job without a dead letter once its last attempt failed", async () => {
    const { id } = await submit(base, "/forgetful", { failTimes: 99 }, KEY_A);
    await drainQueue(stub, lambdaFor(spec, "POST /forgetful", stub));
    const done = await finalInvocation(base, id!, KEY_A);
    assert.equal(done.state, "failed");
    assert.equal(done.attempts, 2);
    assert.equal(stub.deadLetters.length, 0);
  });

  it("runs a message SQS delivers again after its invocation settled not a second time: one result", async () => {
    const { id } = await submit(base, "/work", { value: "once" }, KEY_A);
    const lambda = lambdaFor(spec, "POST /work", stub);
    const duplicate = stub.messages[0].body;
    await drainQueue(stub, lambda);
    const first = await finalInvocation(base, id!, KEY_A);
    stub.messages.push({ messageId: "again", body: duplicate, receiveCount: 0, visibleAt: 0, receiptHandle: "" });
    await drainQueue(stub, lambda);
    const after = await finalInvocation(base, id!, KEY_A);
    assert.deepEqual(after, first);
    const runningMarks = stub.calls.filter((call) => call.target === "DynamoDB_20120810.UpdateItem").length;
    assert.equal(runningMarks, 3, "running and settled once, then one refused attempt to mark it running again");
  });

  it("removes the record when the job cannot be sent, and answers 503 (nothing half-queued)", async () => {
    stub.failing = "sqs";
    const { response, json } = await submit(base, "/work", { value: "lost?" }, KEY_A);
    assert.equal(response.status, 503);
    assert.equal(json.error.code, "QUEUE_UNAVAILABLE");
    assert.doesNotMatch(JSON.stringify(json), /InternalFailure|127\.0\.0\.1/);
    assert.deepEqual(
      stub.calls.map((call) => call.target),
      ["DynamoDB_20120810.PutItem", "AmazonSQS.SendMessage", "DynamoDB_20120810.DeleteItem"],
    );
    assert.equal(stub.items.size, 0);
    assert.equal(stub.messages.length, 0);
    // DynamoDB down as well: refused the same way, and reads too.
    stub.failing = "all";
    assert.equal((await submit(base, "/work", {}, KEY_A)).response.status, 503);
  });

  it("refuses a job larger than an SQS message with 413, before anything is recorded", async () => {
    const { response, json } = await submit(base, "/work", { value: "x".repeat(300_000) }, KEY_A);
    assert.equal(response.status, 413);
    assert.match(json.error.message, /262144 bytes/);
    assert.equal(stub.items.size, 0);
  });
});
