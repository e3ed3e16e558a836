import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { composeGateway, type ComposedGateway } from "../../cli/compose-gateway";
import { remoteQueues, type RemoteQueues } from "../../cli/remote-queues";
import { parseSettings } from "../../gateway/config";
import { FC_ASYNC_MAX_BODY_BYTES, RUNTIME_ENV } from "../../runtime/contract";
import { PodServer } from "../../runtime/pod/pod-server";
import { App, type EndpointsMap, type SpecV1 } from "../../sdk";
import example from "../../examples/support-desk/app";
import app from "../fixtures/async-app/app";
import { exampleModelPod } from "../support/example-model-pod";
import { KEY_A } from "../support/gateway-app";
import { finalInvocation, submit } from "../support/invocations";

const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const PEM = privateKey.export({ format: "pem", type: "pkcs8" }).toString();
const AUTH = { issuer: "cloudloom", audience: "shop-intent-v1-central" };
const FEATURES = { inputs: { features: new Array(512).fill(0.01) } };

/** One call Function Compute took on the model function's trigger. */
interface Taken {
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/**
 * A stand-in for Function Compute in front of a model function: its HTTP
 * trigger takes asynchronous calls (202) and remembers them, `run` hands one
 * to the model server as FC would when it runs the task (the request as it
 * came, FC's own `x-fc-*` headers dropped), and FC's API answers GetAsyncTask
 * with the task the test set.
 */
class FcModelStub {
  readonly taken: Taken[] = [];
  readonly tasks = new Map<string, Record<string, unknown>>();
  private server?: Server;
  url = "";
  host = "";

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const task = /^\/2023-03-30\/functions\/[^/]+\/async-tasks\/([^/?]+)/.exec(req.url!);
        if (req.method === "GET" && task) {
          const found = this.tasks.get(task[1]);
          return void res.writeHead(found ? 200 : 404, { "content-type": "application/json" }).end(JSON.stringify(found ?? {}));
        }
        this.taken.push({ path: req.url!, headers: req.headers, body: Buffer.concat(chunks) });
        res.writeHead(202).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.host = `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    this.url = `http://${this.host}`;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

/** Headers of the connection, not of the call: FC's own call to the function has its own. */
const CONNECTION_HEADERS = new Set(["host", "connection", "content-length", "transfer-encoding", "keep-alive"]);

/** Runs a taken call on `model` as FC runs the task: its path, body and own headers; FC's `x-fc-*` headers are FC's, not the function's. */
async function run(model: string, call: Taken): Promise<Response> {
  const headers = Object.fromEntries(
    Object.entries(call.headers).filter(
      ([name, value]) => typeof value === "string" && !name.startsWith("x-fc-") && !CONNECTION_HEADERS.has(name),
    ),
  ) as Record<string, string>;
  return fetch(`${model}${call.path}`, { method: "POST", headers, body: call.body });
}

/** A model server whose artifact fails verification: every prediction answers 503 MODEL_UNAVAILABLE. */
function brokenModelPod(): PodServer {
  const broken = new App("broken", { root: example.root });
  const central = broken.region("central", { kind: "central", placement: {} });
  broken.model("intent", {
    version: "1",
    artifact: { path: "model/intent.onnx", sha256: "0".repeat(64) },
    signature: {
      inputs: { features: { type: "float32", shape: [-1, 512] } },
      outputs: { probabilities: { type: "float32", shape: [-1, 5] } },
    },
    regions: [central],
  });
  return new PodServer({
    spec: broken.toDraft(),
    root: example.root,
    scope: { only: { kind: "model", name: "intent@1" }, region: "central" },
    logger: pino({ level: "silent" }),
  });
}

describe("asynchronous model routes on Alibaba Cloud: FC's asynchronous invocation of the model function (a stand-in, the real model)", function () {
  this.timeout(120_000);
  // Only the model route: the fixture's functions are FC's queue of another test.
  const spec: SpecV1 = structuredClone(app.toSpec());
  for (const key of Object.keys(spec.routes)) if (key !== "POST /models/intent") delete spec.routes[key];
  const env = {
    [RUNTIME_ENV.jwtPrivateKey]: PEM,
    ALIBABA_CLOUD_ACCESS_KEY_ID: "LTAI-test-key",
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: "test-secret",
    ALIBABA_CLOUD_SECURITY_TOKEN: "sts-token",
  };
  let fc: FcModelStub;
  let model: PodServer;
  let broken: PodServer;
  let modelUrl: string;
  let brokenUrl: string;
  let gateway: ComposedGateway;
  let queues: RemoteQueues;
  let base: string;

  before(async () => {
    fc = new FcModelStub();
    await fc.start();
    model = new PodServer({ ...exampleModelPod("alicloud"), logger: pino({ level: "silent" }) });
    modelUrl = `http://127.0.0.1:${(await model.listen(0)).port}`;
    broken = brokenModelPod();
    brokenUrl = `http://127.0.0.1:${(await broken.listen(0)).port}`;
    const endpoints: EndpointsMap = {
      functions: {},
      models: { "intent@1": { central: { url: fc.url, jwt: AUTH } } },
      queues: {
        "model:intent@1": { kind: "fc", api: fc.host, protocol: "http", functionName: "shop-intent-v1-central", qualifier: "live" },
      },
    };
    const settings = parseSettings({ apiKeys: [KEY_A] });
    const logger = pino({ level: "silent" });
    queues = remoteQueues(() => ({ spec, endpoints }), settings, logger, env);
    gateway = composeGateway({ spec, settings, source: { kind: "remote", endpoints }, logger, queues: queues.queueFor, env });
    base = `http://127.0.0.1:${(await gateway.gateway.listen(0)).port}`;
  });
  after(async () => {
    await gateway.close();
    await queues.close();
    await Promise.all([model.close(), broken.close(), fc.stop()]);
  });
  beforeEach(() => {
    fc.taken.length = 0;
  });

  it("submits the job to the model function's trigger at its predict path, asynchronously, with the gateway's JWT", async () => {
    const { response, id } = await submit(base, "/models/intent", FEATURES, KEY_A);
    assert.equal(response.status, 202);
    assert.equal(fc.taken.length, 1);
    const [call] = fc.taken;
    assert.equal(call.path, "/_cloudloom/models/intent%401");
    assert.deepEqual(
      [call.headers["x-fc-invocation-type"], call.headers["x-fc-async-task-id"], call.headers["x-cloudloom-invocation"]],
      ["Async", id, id],
    );
    assert.match(String(call.headers.authorization), /^Bearer ey/);
    assert.deepEqual(JSON.parse(call.body.toString()), FEATURES);
    // FC runs the task on the real model: its outputs, and nothing that fails FC's attempt.
    const answer = await run(modelUrl, call);
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get("x-fc-status"), null);
    assert.equal(((await answer.json()) as any).outputs.probabilities.length, 5);
  });

  it("reads a model job's state from FC's task: a run that failed every attempt is dead-lettered", async () => {
    const { id } = await submit(base, "/models/intent", FEATURES, KEY_A);
    fc.tasks.set(id!, { status: "Failed", alreadyRetriedTimes: 1, startedTime: Date.now() - 1_000, endTime: Date.now() });
    const done = await finalInvocation(base, id!, KEY_A);
    assert.deepEqual([done.state, done.attempts, done.error!.code], ["dead-lettered", 2, "FUNCTION_FAILED"]);
  });

  it("answers a refused input 400 without x-fc-status: FC records it as the result and does not retry it", async () => {
    await submit(base, "/models/intent", { inputs: { features: [1, 2, 3] } }, KEY_A);
    const answer = await run(modelUrl, fc.taken[0]);
    assert.equal(answer.status, 400);
    assert.equal(answer.headers.get("x-fc-status"), null);
  });

  it("fails FC's attempt with x-fc-status: 404 when the model answers a 5xx to an asynchronous call, so FC retries it", async () => {
    await submit(base, "/models/intent", FEATURES, KEY_A);
    const answer = await run(brokenUrl, fc.taken[0]);
    assert.equal(answer.status, 503);
    assert.equal(answer.headers.get("x-fc-status"), "404");
    assert.equal(((await answer.json()) as any).error.code, "MODEL_UNAVAILABLE");
    // A synchronous call (not marked by the gateway) gets the same 503, and no FC verdict.
    const direct = await fetch(`${brokenUrl}/_cloudloom/models/intent%401`, { method: "POST", body: JSON.stringify(FEATURES) });
    assert.equal(direct.status, 503);
    assert.equal(direct.headers.get("x-fc-status"), null);
  });

  it("refuses a body over FC's 128 KB with 413 PAYLOAD_TOO_LARGE, before anything reaches FC or is remembered", async () => {
    const features = new Array(15_000).fill(0.123456789);
    assert.ok(JSON.stringify({ inputs: { features } }).length > FC_ASYNC_MAX_BODY_BYTES);
    const { response, json } = await submit(base, "/models/intent", { inputs: { features } }, KEY_A);
    assert.equal(response.status, 413);
    assert.equal(json.error.code, "PAYLOAD_TOO_LARGE");
    assert.match(json.error.message, /131072 bytes/);
    assert.equal(fc.taken.length, 0);
  });
});
