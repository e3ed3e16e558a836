import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { composeGateway } from "../../cli/compose-gateway";
import { parseSettings } from "../../gateway/config";
import type { Gateway } from "../../gateway/gateway";
import { MAX_MODEL_ERROR_BYTES } from "../../gateway/backends/sagemaker";
import { App, type SpecV1 } from "../../sdk";
import { KEY_A, post } from "../support/gateway-app";
import { modelErrorEnvelope } from "../support/sagemaker";
import { useTestCredentials, verifySigv4 } from "../support/sigv4";
import { StubUpstream } from "../support/upstream";

/** What the fake endpoint answers a call with. */
type Answer =
  | { kind: "outputs" }
  | { kind: "container"; status: number; text: string }
  | { kind: "raw"; status: number; contentType: string; text: string }
  | { kind: "huge"; declared: boolean };

const OUTPUTS = { model: "intent", version: "1", outputs: { y: [0.5] } };
const REFUSAL = '{"error":{"code":"INVALID_INPUT","message":"inputs.x must be float32[-1,1]"}}';
const FAILURE = '{"error":{"code":"MODEL_FAILED","message":"the model failed to run"}}';

/**
 * A fake SageMaker runtime endpoint on a real socket, speaking InvokeEndpoint
 * (`POST /endpoints/<name>/invocations`): it checks each call's SigV4
 * signature for `sagemaker` as AWS would, and answers as `answer` says,
 * a container's non-2xx as SageMaker does (a 424 ModelError envelope).
 */
class FakeSageMaker {
  answer: Answer = { kind: "outputs" };
  readonly calls: Array<{ path: string; signed: boolean }> = [];
  private server?: Server;
  url = "";

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => this.respond(req, res, Buffer.concat(chunks)));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/endpoints/sm-intent-v1-central/invocations`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  private respond(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    const signed = verifySigv4(req, body, "sagemaker", "eu-west-1");
    this.calls.push({ path: req.url ?? "", signed });
    if (!signed) return void res.writeHead(403, { "content-type": "application/json" }).end('{"message":"signature mismatch"}');
    const sagemaker = { "x-amzn-requestid": "6f1c2e3a-0000-4000-8000-000000000001", "content-type": "application/json" };
    const answer = this.answer;
    if (answer.kind === "outputs") return void res.writeHead(200, sagemaker).end(JSON.stringify(OUTPUTS));
    if (answer.kind === "container")
      return void res.writeHead(424, sagemaker).end(JSON.stringify(modelErrorEnvelope(answer.status, answer.text)));
    if (answer.kind === "raw")
      return void res.writeHead(answer.status, { ...sagemaker, "content-type": answer.contentType }).end(answer.text);
    // A 424 longer than the gateway reads: with its length declared up front, or chunked with none.
    const text = "x".repeat(MAX_MODEL_ERROR_BYTES);
    const envelope = Buffer.from(JSON.stringify(modelErrorEnvelope(400, text)));
    if (answer.declared) return void res.writeHead(424, { ...sagemaker, "content-length": String(envelope.length) }).end(envelope);
    res.writeHead(424, sagemaker);
    for (let at = 0; at < envelope.length; at += 65_536) res.write(envelope.subarray(at, at + 65_536));
    res.end();
  }
}

/** A model served on SageMaker behind a streamed and a cached route, and one served by an ordinary backend. */
function sageMakerSpec(): SpecV1 {
  const app = new App("sm");
  const central = app.region("central", { kind: "central", placement: {} });
  const signature = {
    inputs: { x: { type: "float32" as const, shape: [-1, 1] } },
    outputs: { y: { type: "float32" as const, shape: [-1, 1] } },
  };
  const artifact = { path: "m.onnx", sha256: "a".repeat(64) };
  const intent = app.model("intent", { version: "1", artifact, signature, regions: [central] });
  const plain = app.model("plain", { version: "1", artifact, signature, regions: [central] });
  app.route("POST /intent", { target: intent });
  app.route("POST /intent-cached", { target: intent, cache: { ttl: "30 seconds" } });
  app.route("POST /plain", { target: plain });
  return app.toSpec({ root: undefined });
}

describe("gateway: a model on a SageMaker endpoint answers with its container's own status and body (fake InvokeEndpoint, real sockets)", function () {
  this.timeout(60_000);
  let endpoint: FakeSageMaker;
  let plain: StubUpstream;
  let gateway: Gateway;
  let close: () => Promise<void>;
  let base: string;
  let restoreCredentials: () => void;
  let sent = 0;
  /** A distinct input per call, so the cached route never answers from its cache. */
  const input = () => ({ inputs: { x: [[sent++]] } });

  const start = async (settings: Record<string, unknown> = {}) => {
    const spec = sageMakerSpec();
    const composed = composeGateway({
      spec,
      settings: parseSettings({ apiKeys: [KEY_A], health: { probeIntervalMs: 60_000 }, ...settings }),
      source: {
        kind: "remote",
        endpoints: {
          functions: {},
          models: {
            "intent@1": { central: { url: endpoint.url, exact: true, sigv4: { service: "sagemaker", region: "eu-west-1" } } },
            "plain@1": { central: plain.url },
          },
        },
      },
      logger: pino({ level: "silent" }),
    });
    gateway = composed.gateway;
    close = composed.close;
    base = `http://127.0.0.1:${(await gateway.listen(0)).port}`;
  };

  before(() => {
    restoreCredentials = useTestCredentials();
  });
  after(() => restoreCredentials());
  beforeEach(async () => {
    endpoint = new FakeSageMaker();
    await endpoint.start();
    plain = await new StubUpstream("plain").start();
  });
  afterEach(async () => {
    await close();
    await endpoint.stop();
    await plain.kill();
  });

  for (const path of ["/intent", "/intent-cached"]) {
    it(`answers a container's 400 as that 400 with its body, not SageMaker's 424 (${path})`, async () => {
      await start();
      endpoint.answer = { kind: "container", status: 400, text: REFUSAL };
      const response = await post(base, path, input(), KEY_A);
      assert.equal(response.status, 400);
      assert.equal(response.headers.get("content-type"), "application/json; charset=utf-8");
      assert.equal(response.headers.get("x-amzn-requestid"), "6f1c2e3a-0000-4000-8000-000000000001", "SageMaker's request id kept");
      assert.equal(response.headers.get("x-cloudloom-region"), "central");
      assert.deepEqual(await response.json(), JSON.parse(REFUSAL));
      assert.deepEqual(endpoint.calls, [{ path: "/endpoints/sm-intent-v1-central/invocations", signed: true }]);
      // The model still answers its outputs as they come.
      endpoint.answer = { kind: "outputs" };
      const ok = await post(base, path, input(), KEY_A);
      assert.deepEqual([ok.status, await ok.json()], [200, OUTPUTS]);
    });

    it(`answers a container's text body as text (${path})`, async () => {
      await start();
      endpoint.answer = { kind: "container", status: 413, text: "input too large" };
      const response = await post(base, path, input(), KEY_A);
      assert.deepEqual(
        [response.status, response.headers.get("content-type"), await response.text()],
        [413, "text/plain; charset=utf-8", "input too large"],
      );
    });

    it(`passes a 424 that is not SageMaker's envelope through unchanged (${path})`, async () => {
      await start();
      for (const raw of [
        { status: 424, contentType: "application/json", text: '{"message":"Model error without the original status"}' },
        { status: 424, contentType: "text/plain", text: "not json at all" },
        { status: 424, contentType: "application/json", text: '{"OriginalStatusCode":99,"OriginalMessage":"x"}' },
      ]) {
        endpoint.answer = { kind: "raw", ...raw };
        const response = await post(base, path, input(), KEY_A);
        assert.deepEqual([response.status, await response.text()], [424, raw.text]);
      }
    });

    it(`refuses a 424 longer than it reads with a typed 502, and keeps serving (${path})`, async () => {
      await start();
      for (const declared of [true, false]) {
        endpoint.answer = { kind: "huge", declared };
        const response = await post(base, path, input(), KEY_A);
        assert.equal(response.status, 502, `declared ${declared}`);
        const body = (await response.json()) as { error: { code: string; message: string } };
        assert.equal(body.error.code, "BAD_GATEWAY");
        assert.doesNotMatch(JSON.stringify(body), /xxxx/, "nothing of the answer reaches the client");
      }
      endpoint.answer = { kind: "outputs" };
      const ok = await post(base, path, input(), KEY_A);
      assert.deepEqual([ok.status, await ok.json()], [200, OUTPUTS]);
    });
  }

  it("counts a container's 500 as the backend's 5xx: the client gets the container's answer, and the breaker opens on it", async () => {
    await start({ health: { probeIntervalMs: 60_000, ejectOn: "all-5xx" }, breaker: { consecutiveFailures: 2, halfOpenAfterMs: 600_000 } });
    endpoint.answer = { kind: "container", status: 500, text: FAILURE };
    const answers: string[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await post(base, "/intent", input(), KEY_A);
      answers.push(`${response.status} ${((await response.json()) as { error: { code: string } }).error.code}`);
    }
    assert.deepEqual(answers, ["500 MODEL_FAILED", "500 MODEL_FAILED", "503 NO_HEALTHY_BACKEND"]);
    assert.equal(endpoint.calls.length, 2, "the open breaker sends nothing to the endpoint");
    assert.match(
      await gateway.metrics.registry.getSingleMetricAsString("cloudloom_upstream_errors_total"),
      /cloudloom_upstream_errors_total\{route="POST \/intent",region="central",kind="5xx"\} 2/,
    );
  });

  it("counts a container's 503 as a gateway failure under the default outlier detection, as any backend's 503", async () => {
    await start({ breaker: { consecutiveFailures: 1, halfOpenAfterMs: 600_000 } });
    endpoint.answer = { kind: "container", status: 503, text: '{"error":{"code":"MODEL_UNAVAILABLE","message":"loading"}}' };
    const first = await post(base, "/intent-cached", input(), KEY_A);
    assert.deepEqual([first.status, ((await first.json()) as { error: { code: string } }).error.code], [503, "MODEL_UNAVAILABLE"]);
    const second = await post(base, "/intent-cached", input(), KEY_A);
    assert.deepEqual([second.status, ((await second.json()) as { error: { code: string } }).error.code], [503, "NO_HEALTHY_BACKEND"]);
    assert.equal(endpoint.calls.length, 1);
  });

  it("passes an ordinary backend's own 424 through unchanged, envelope and all", async () => {
    await start();
    const envelope = modelErrorEnvelope(400, REFUSAL);
    plain.behaviour = { status: 424, headers: {}, delayMs: 0, body: () => envelope };
    const response = await post(base, "/plain", input(), KEY_A);
    assert.equal(response.status, 424);
    assert.deepEqual(await response.json(), envelope);
    assert.equal(plain.received.length, 1);
  });
});
