import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import pino from "pino";
import type { ComposedGateway } from "../../cli/compose-gateway";
import type { RemoteQueues } from "../../cli/remote-queues";
import { MODEL_WORKER_SOURCE } from "../../providers/aws/model-jobs";
import { bundleRuntime, bundleRuntimeTracing, RUNTIME_LAYER_PATH, RUNTIME_TRACING_PATH } from "../../providers/shared/bundle";
import { PodServer } from "../../runtime/pod/pod-server";
import { MAX_ANSWER_BYTES, modelJobsHandler } from "../../runtime/serverless/model-jobs";
import type { SqsBatchResponse, SqsEvent } from "../../runtime/serverless/sqs-jobs";
import type { SpecV1 } from "../../sdk";
import app from "../fixtures/async-app/app";
import { AwsQueueStub } from "../support/aws-queue-stub";
import { AWS_TEST_ENV, awsQueueGateway, drainQueue, TEST_TABLE } from "../support/aws-queue-gateway";
import { exampleModelPod } from "../support/example-model-pod";
import { KEY_A } from "../support/gateway-app";
import { finalInvocation, submit } from "../support/invocations";
import { modelErrorEnvelope } from "../support/sagemaker";
import { verifySigv4 } from "../support/sigv4";
import { exported } from "../support/tracing";
import { StubUpstream } from "../support/upstream";

const ROUTE = "POST /models/intent";
const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN = "00f067aa0ba902b7";
const FEATURES = { inputs: { features: new Array(512).fill(0.01) } };

/** What the stand-in does with the next call (then the one after, ...); past the list, it passes the call to the model. */
type Misbehaviour = "5xx" | "die" | "throttle" | "huge";

/**
 * A stand-in for SageMaker's InvokeEndpoint in front of the real model
 * server (the cloudloom runtime with the example's ONNX model): it checks
 * each call's SigV4 signature for `sagemaker`, and answers a container's
 * non-2xx as SageMaker does, a 424 ModelError carrying the container's own
 * status and body. `misbehave` lists what the next calls get instead.
 */
class SageMakerFront {
  readonly verdicts: boolean[] = [];
  /** The `traceparent` of each call, if any. */
  readonly traceparents: Array<string | undefined> = [];
  misbehave: Misbehaviour[] = [];
  /** Every call gets this once `misbehave` is empty (the model is down for good). */
  always?: Misbehaviour;
  private server?: Server;
  url = "";

  constructor(private readonly modelUrl: string) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => void this.answer(req, res, Buffer.concat(chunks)));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/endpoints/batch-intent-v1-central/invocations`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  private async answer(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const valid = verifySigv4(req, body, "sagemaker", "eu-west-1");
    this.verdicts.push(valid);
    this.traceparents.push(req.headers.traceparent as string | undefined);
    if (!valid) return void res.writeHead(403).end();
    const mode = this.misbehave.shift() ?? this.always;
    if (mode === "die") {
      // The container dies halfway through its answer.
      res.writeHead(200, { "content-type": "application/json", "content-length": "1000" });
      res.write('{"model":"intent","outp');
      return void setImmediate(() => res.destroy());
    }
    if (mode === "throttle") return void res.writeHead(429, { "content-type": "application/json" }).end('{"message":"Rate exceeded"}');
    if (mode === "huge")
      return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ outputs: "x".repeat(MAX_ANSWER_BYTES) }));
    const answer =
      mode === "5xx"
        ? { status: 500, text: '{"error":{"code":"MODEL_FAILED","message":"the model failed to run"}}' }
        : await fetch(this.modelUrl, { method: "POST", headers: { "content-type": "application/json" }, body }).then(async (r) => ({
            status: r.status,
            text: await r.text(),
          }));
    if (answer.status < 300) return void res.writeHead(answer.status, { "content-type": "application/json" }).end(answer.text);
    res.writeHead(424, { "content-type": "application/json" }).end(JSON.stringify(modelErrorEnvelope(answer.status, answer.text)));
  }
}

describe("asynchronous model routes on AWS: SQS to a Lambda job worker that calls the model's endpoint (stand-ins, the real model)", function () {
  this.timeout(120_000);
  // The fixture's model route, with two retries and a dead letter.
  const spec: SpecV1 = structuredClone(app.toSpec());
  spec.routes[ROUTE].async = { ...spec.routes[ROUTE].async!, retries: 2, deadLetter: true };
  const settings = spec.routes[ROUTE].async!;
  let model: PodServer;
  let front: SageMakerFront;
  let stub: AwsQueueStub;
  let gateway: ComposedGateway;
  let queues: RemoteQueues;
  let base: string;
  let worker: (event: SqsEvent) => Promise<SqsBatchResponse>;

  before(async () => {
    model = new PodServer({ ...exampleModelPod("aws"), logger: pino({ level: "silent" }) });
    const { port } = await model.listen(0);
    front = new SageMakerFront(`http://127.0.0.1:${port}/_cloudloom/models/intent%401`);
    await front.start();
  });
  after(async () => {
    await front.stop();
    await model.close();
  });
  beforeEach(async () => {
    front.misbehave = [];
    front.always = undefined;
    front.verdicts.length = 0;
    front.traceparents.length = 0;
    stub = new AwsQueueStub(settings.retries + 1);
    await stub.start();
    ({ gateway, queues, base } = await awsQueueGateway(spec, stub, [KEY_A]));
    worker = modelJobsHandler(
      {
        model: { key: "intent@1", endpoint: { url: front.url, exact: true, sigv4: { service: "sagemaker", region: "eu-west-1" } } },
        async: { settings, table: TEST_TABLE, dynamodbEndpoint: stub.url, sqsEndpoint: stub.url },
      },
      { ...AWS_TEST_ENV },
    );
  });
  afterEach(async () => {
    await gateway.close();
    await queues.close();
    await stub.stop();
  });

  it("runs a queued job on the real model with a signed InvokeEndpoint call, and records its outputs", async () => {
    const { response, id } = await submit(base, "/models/intent", FEATURES, KEY_A);
    assert.equal(response.status, 202);
    assert.equal(JSON.parse(stub.messages[0].body).kind, "model");
    await drainQueue(stub, worker);
    const done = await finalInvocation(base, id!, KEY_A);
    assert.equal(done.state, "succeeded");
    assert.equal(done.attempts, 1);
    assert.equal(done.result!.status, 200);
    assert.deepEqual([done.result!.body.model, done.result!.body.version], ["intent", "1"]);
    assert.equal(done.result!.body.outputs.probabilities.length, 5);
    const sum = done.result!.body.outputs.probabilities.reduce((a: number, b: number) => a + b, 0);
    assert.ok(Math.abs(sum - 1) < 1e-4, `softmax outputs sum to 1 (${sum})`);
    assert.deepEqual(front.verdicts, [true], "one call, signed for sagemaker with the worker's credentials");
    assert.deepEqual(
      stub.calls.filter((call) => !call.signed),
      [],
    );
  });

  it("records the model's refusal of an input as the result (SageMaker's 424 unwrapped), and does not retry it", async () => {
    const { id } = await submit(base, "/models/intent", { inputs: { features: [1, 2, 3] } }, KEY_A);
    await drainQueue(stub, worker);
    const done = await finalInvocation(base, id!, KEY_A);
    assert.equal(done.state, "failed");
    assert.equal(done.attempts, 1);
    assert.equal(done.result!.status, 400);
    assert.equal(done.result!.body.error.code, "INVALID_INPUT");
    assert.equal(front.verdicts.length, 1);
  });

  it("retries an attempt the model answered with a 5xx, after its backoff, and records the attempt that succeeded", async () => {
    front.misbehave = ["5xx", "throttle"];
    const { id } = await submit(base, "/models/intent", FEATURES, KEY_A);
    await drainQueue(stub, worker);
    const done = await finalInvocation(base, id!, KEY_A);
    assert.equal(done.state, "succeeded");
    assert.equal(done.attempts, 3);
    assert.equal(done.result!.body.outputs.probabilities.length, 5);
    assert.equal(stub.calls.filter((call) => call.target === "AmazonSQS.ChangeMessageVisibility").length, 2);
    assert.equal(stub.deadLetters.length, 0);
  });

  it("dead-letters a job whose model dies mid-answer on every attempt: BAD_GATEWAY, the message moved by the redrive policy", async () => {
    front.always = "die";
    const { id } = await submit(base, "/models/intent", FEATURES, KEY_A);
    await drainQueue(stub, worker);
    const done = await finalInvocation(base, id!, KEY_A);
    assert.equal(done.state, "dead-lettered");
    assert.equal(done.attempts, 3);
    assert.equal(done.error!.code, "BAD_GATEWAY");
    assert.doesNotMatch(done.error!.message, /127\.0\.0\.1|socket|ECONN/);
    assert.equal(stub.deadLetters.length, 1);
    assert.equal(JSON.parse(stub.deadLetters[0].body).id, id);
    assert.equal(front.verdicts.length, 3);
  });

  it("dead-letters a job the model fails with a 5xx every time, keeping the model's own error code", async () => {
    front.always = "5xx";
    const { id } = await submit(base, "/models/intent", FEATURES, KEY_A);
    await drainQueue(stub, worker);
    const done = await finalInvocation(base, id!, KEY_A);
    assert.deepEqual([done.state, done.attempts, done.error!.code], ["dead-lettered", 3, "MODEL_FAILED"]);
  });

  it("settles a model answer larger than the worker reads as RESULT_TOO_LARGE, without holding it", async () => {
    front.misbehave = ["huge"];
    const { id } = await submit(base, "/models/intent", FEATURES, KEY_A);
    await drainQueue(stub, worker);
    const done = await finalInvocation(base, id!, KEY_A);
    assert.equal(done.state, "succeeded");
    assert.equal(done.result!.body.error.code, "RESULT_TOO_LARGE");
  });

  it("refuses an input larger than an SQS message with 413 PAYLOAD_TOO_LARGE, before anything is queued or recorded", async () => {
    const { response, json } = await submit(base, "/models/intent", { inputs: { features: new Array(40_000).fill(0.123456789) } }, KEY_A);
    assert.equal(response.status, 413);
    assert.equal(json.error.code, "PAYLOAD_TOO_LARGE");
    assert.equal(stub.items.size, 0);
    assert.equal(stub.messages.length, 0);
    assert.deepEqual(front.verdicts, []);
  });

  it("works a batch as deployed: the worker's one-line package on the bundled runtime layer, configured from CLOUDLOOM_RUNTIME", async () => {
    // Lambda's layout: the package in /var/task, the layer under /opt with its node_modules on NODE_PATH.
    const root = mkdtempSync(join(tmpdir(), "cloudloom-worker-"));
    const layer = join(root, "opt", RUNTIME_LAYER_PATH);
    mkdirSync(dirname(layer), { recursive: true });
    writeFileSync(layer, await bundleRuntime());
    writeFileSync(join(root, "opt", RUNTIME_TRACING_PATH), await bundleRuntimeTracing());
    mkdirSync(join(root, "task"));
    writeFileSync(join(root, "task/index.js"), MODEL_WORKER_SOURCE);
    const { id } = await submit(base, "/models/intent", FEATURES, KEY_A);
    const event = stub.receive();
    const invoke = `require(process.argv[1]).handler(JSON.parse(process.argv[2])).then((r) => process.stdout.write(JSON.stringify(r)));`;
    const config = {
      model: { key: "intent@1", endpoint: { url: front.url, exact: true, sigv4: { service: "sagemaker", region: "eu-west-1" } } },
      async: { settings, table: TEST_TABLE, dynamodbEndpoint: stub.url, sqsEndpoint: stub.url },
    };
    const { stdout } = await promisify(execFile)(process.execPath, ["-e", invoke, join(root, "task/index.js"), JSON.stringify(event)], {
      env: {
        ...process.env,
        ...AWS_TEST_ENV,
        NODE_OPTIONS: "",
        NODE_PATH: join(root, "opt/nodejs/node_modules"),
        CLOUDLOOM_RUNTIME: JSON.stringify(config),
      },
    });
    const response = JSON.parse(stdout) as SqsBatchResponse;
    assert.deepEqual(response, { batchItemFailures: [] });
    stub.settle(event, response);
    const done = await finalInvocation(base, id!, KEY_A);
    assert.deepEqual([done.state, done.attempts, done.result!.body.outputs.probabilities.length], ["succeeded", 1, 5]);
    assert.deepEqual(front.verdicts, [true]);
  });

  it("continues the queuing request's trace: each attempt a span under the job's traceparent, the model call under it, exported before the batch returns", async () => {
    const collector = await new StubUpstream("collector").start();
    const traced = await awsQueueGateway(spec, stub, [KEY_A], { tracing: { endpoint: `${collector.url}/v1/traces` } });
    try {
      const tracedWorker = modelJobsHandler(
        {
          model: { key: "intent@1", endpoint: { url: front.url, exact: true, sigv4: { service: "sagemaker", region: "eu-west-1" } } },
          async: { settings, table: TEST_TABLE, dynamodbEndpoint: stub.url, sqsEndpoint: stub.url },
        },
        {
          ...AWS_TEST_ENV,
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${collector.url}/v1/traces`,
          AWS_LAMBDA_FUNCTION_NAME: "batch-jobs-intent-v1-central",
        },
      );
      front.misbehave = ["5xx"];
      const { id } = await submit(traced.base, "/models/intent", FEATURES, KEY_A, { traceparent: `00-${TRACE_ID}-${CLIENT_SPAN}-01` });
      const queued = JSON.parse(stub.messages[0].body).request.headers.traceparent as string;
      const [, traceId, requestSpan, flags] = queued.split("-");
      assert.deepEqual([traceId, flags], [TRACE_ID, "01"], "the job carries the request's context, in the client's trace");
      assert.notEqual(requestSpan, CLIENT_SPAN, "its parent is the gateway's request span, not the client's");
      await drainQueue(stub, tracedWorker);
      assert.equal((await finalInvocation(traced.base, id!, KEY_A)).state, "succeeded");
      // Exported before each batch returned: nothing to wait for.
      const attempts = exported(collector).filter((span) => span.name === "runtime.job");
      assert.equal(attempts.length, 2, "a span per attempt");
      for (const [i, attempt] of attempts.entries()) {
        assert.deepEqual([attempt.traceId, attempt.parentSpanId], [TRACE_ID, requestSpan]);
        assert.deepEqual(
          [attempt.attributes["cloudloom.invocation.id"], attempt.attributes["cloudloom.target.entry"], attempt.resource["service.name"]],
          [id, "intent@1", "cloudloom-batch-jobs-intent-v1-central"],
        );
        assert.equal(front.traceparents[i], `00-${TRACE_ID}-${attempt.spanId}-01`, "the model call carries the attempt's context");
      }
      assert.deepEqual(
        attempts.map((attempt) => [attempt.attributes["http.response.status_code"], attempt.status?.code ?? 0]),
        [
          [undefined, 2],
          [200, 0],
        ],
        "the failed attempt (the model's 5xx) has an error status; the second answered 200, its status unset",
      );
      assert.deepEqual(front.verdicts, [true, true], "the traceparent added after signing leaves the signature valid");
    } finally {
      await traced.gateway.close();
      await traced.queues.close();
      await collector.kill();
    }
  });

  it("refuses an event that is not an SQS batch, naming the model", async () => {
    await assert.rejects(worker({ Records: [] } as SqsEvent), /job worker of model intent@1 takes SQS batches only/);
  });
});
