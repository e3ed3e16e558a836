import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { composeGateway, type ComposedGateway } from "../../cli/compose-gateway";
import { remoteQueues, type RemoteQueues } from "../../cli/remote-queues";
import { parseSettings } from "../../gateway/config";
import { publicJwks } from "../../providers/shared/jwks";
import { RUNTIME_ENV } from "../../runtime/contract";
import { fcHandler } from "../../runtime/serverless/fc";
import { asyncEntries, type EndpointsMap, type SpecV1 } from "../../sdk";
import app from "../fixtures/async-app/app";
import { handler } from "../fixtures/async-app/work";
import { KEY_A, KEY_B } from "../support/gateway-app";
import { readInvocation, submit } from "../support/invocations";
import { redisForSuite, type RedisServer } from "../support/redis";

const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const PEM = privateKey.export({ format: "pem", type: "pkcs8" }).toString();
const AUTH = { issuer: "cloudloom", audience: "shop-fn-work-central" };

interface Invoked {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * A stand-in for Function Compute: the function's HTTP trigger (which takes
 * asynchronous invocations, answering 202) and FC's API, whose GetAsyncTask
 * answers the task the test set for an id (404 for none).
 */
class FcStub {
  readonly invoked: Invoked[] = [];
  readonly tasks = new Map<string, Record<string, unknown>>();
  readonly taskReads: Array<{ url: string; authorization?: string }> = [];
  triggerStatus = 202;
  private server?: Server;
  url = "";
  host = "";

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const match = /^\/2023-03-30\/functions\/([^/]+)\/async-tasks\/([^/?]+)/.exec(req.url!);
        if (req.method === "GET" && match) {
          this.taskReads.push({ url: req.url!, authorization: req.headers.authorization });
          const task = this.tasks.get(match[2]);
          res.writeHead(task ? 200 : 404, { "content-type": "application/json" });
          res.end(JSON.stringify(task ?? { Code: "AsyncTaskNotFound", Message: "not found" }));
          return;
        }
        this.invoked.push({ path: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() });
        res.writeHead(this.triggerStatus).end();
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

/** Verifies a bearer token as FC's JWT trigger would: against the public JWKS. */
async function verify(authorization: string | string[] | undefined) {
  const { createLocalJWKSet, jwtVerify } = await import("jose");
  return jwtVerify(String(authorization).replace(/^Bearer /, ""), createLocalJWKSet(publicJwks(PEM) as never), AUTH);
}

for (const store of ["Redis", "memory"] as const) {
  describe(`asynchronous invocation on Alibaba Cloud: Function Compute's async tasks (a stand-in; submitters in ${store})`, function () {
    this.timeout(60_000);
    // Function Compute queues asynchronous functions (model routes are asynchronous on Kubernetes only).
    const spec: SpecV1 = app.toSpec();
    delete spec.routes["POST /models/intent"];
    const env = {
      [RUNTIME_ENV.jwtPrivateKey]: PEM,
      ALIBABA_CLOUD_ACCESS_KEY_ID: "LTAI-test-key",
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: "test-secret",
      ALIBABA_CLOUD_SECURITY_TOKEN: "sts-token",
    };
    let redis: RedisServer | undefined;
    let stub: FcStub;
    let gateway: ComposedGateway;
    let queues: RemoteQueues;
    let base: string;

    before(async function () {
      if (store === "Redis") redis = await redisForSuite(this);
      stub = new FcStub();
      await stub.start();
      const trigger = { url: stub.url, jwt: AUTH };
      const byRegion = (regions: string[]) => Object.fromEntries(regions.map((region) => [region, trigger]));
      const endpoints: EndpointsMap = {
        functions: Object.fromEntries(Object.entries(spec.functions).map(([name, fn]) => [name, byRegion(fn.regions)])),
        models: Object.fromEntries(Object.entries(spec.models).map(([key, model]) => [key, byRegion(model.regions)])),
        queues: Object.fromEntries(
          [...asyncEntries(spec).values()].map((entry) => [
            `${entry.kind}:${entry.name}`,
            {
              kind: "fc" as const,
              api: stub.host,
              protocol: "http" as const,
              functionName: `shop-fn-${entry.name}-central`,
              qualifier: "live",
            },
          ]),
        ),
      };
      const settings = parseSettings({ apiKeys: [KEY_A, KEY_B], ...(redis ? { redis: { url: redis.url } } : {}) });
      const logger = pino({ level: "silent" });
      queues = remoteQueues(() => ({ spec, endpoints }), settings, logger, env);
      gateway = composeGateway({ spec, settings, source: { kind: "remote", endpoints }, logger, queues: queues.queueFor, env });
      await gateway.connected();
      base = `http://127.0.0.1:${(await gateway.gateway.listen(0)).port}`;
    });
    after(async () => {
      await gateway?.close();
      await queues?.close();
      await stub?.stop();
      await redis?.stop();
    });

    it("invokes the function's trigger asynchronously, the invocation id as FC's task id, with the gateway's JWT", async () => {
      const { response, id } = await submit(base, "/work", { value: "on fc" }, KEY_A);
      assert.equal(response.status, 202);
      const call = stub.invoked.at(-1)!;
      assert.equal(call.path, "/_cloudloom/functions/work");
      assert.equal(call.headers["x-fc-invocation-type"], "Async");
      assert.equal(call.headers["x-fc-async-task-id"], id);
      assert.equal(call.headers["x-cloudloom-invocation"], id);
      assert.match(String(call.headers["x-cloudloom-tenant"]), /^t-[0-9a-f]{12}$/);
      assert.deepEqual(JSON.parse(call.body), { value: "on fc" });
      await verify(call.headers.authorization);
    });

    it("reads the task from FC's API (signed), as the submitting tenant only", async () => {
      const { id } = await submit(base, "/work", { value: "read me" }, KEY_A);
      // FC has not reported the task yet: queued.
      assert.equal((await readInvocation(base, id!, KEY_A)).json.state, "queued");
      stub.tasks.set(id!, { taskId: id, status: "Running", alreadyRetriedTimes: 1, startedTime: 1_700_000_000_000 });
      const running = (await readInvocation(base, id!, KEY_A)).json;
      assert.deepEqual([running.state, running.attempts, running.startedAt], ["running", 2, "2023-11-14T22:13:20.000Z"]);
      const read = stub.taskReads.at(-1)!;
      assert.equal(read.url, `/2023-03-30/functions/shop-fn-work-central/async-tasks/${id}?qualifier=live`);
      assert.match(read.authorization ?? "", /^ACS3-HMAC-SHA256 Credential=LTAI-test-key/);
      stub.tasks.set(id!, {
        taskId: id,
        status: "Succeeded",
        alreadyRetriedTimes: 1,
        startedTime: 1_700_000_000_000,
        endTime: 1_700_000_001_000,
        returnPayload: JSON.stringify({ statusCode: 200, body: JSON.stringify({ value: "read me" }) }),
      });
      const done = (await readInvocation(base, id!, KEY_A)).json;
      assert.deepEqual(
        [done.state, done.finishedAt, done.result],
        ["succeeded", "2023-11-14T22:13:21.000Z", { status: 200, body: { value: "read me" } }],
      );
      assert.equal((await readInvocation(base, id!, KEY_B)).status, 404);
    });

    it("reports a task that failed every attempt as dead-lettered, and an expired one, with safe errors", async () => {
      const failed = await submit(base, "/work", {}, KEY_A);
      stub.tasks.set(failed.id!, {
        status: "Failed",
        alreadyRetriedTimes: 2,
        startedTime: 1,
        endTime: 2,
        taskErrorMessage: "TypeError at /code/index.js:12",
      });
      const dead = (await readInvocation(base, failed.id!, KEY_A)).json;
      assert.deepEqual([dead.state, dead.attempts, dead.error.code], ["dead-lettered", 3, "FUNCTION_FAILED"]);
      assert.doesNotMatch(dead.error.message, /TypeError|index\.js/);
      const expired = await submit(base, "/forgetful", {}, KEY_A);
      stub.tasks.set(expired.id!, { status: "Expired" });
      const gone = (await readInvocation(base, expired.id!, KEY_A)).json;
      assert.deepEqual([gone.state, gone.error.code], ["failed", "INVOCATION_EXPIRED"]);
    });

    it("answers 503 when FC does not take the job, and forgets it", async () => {
      stub.triggerStatus = 500;
      try {
        const refused = await submit(base, "/work", {}, KEY_A);
        assert.equal(refused.response.status, 503);
        assert.equal(refused.json.error.code, "QUEUE_UNAVAILABLE");
        const id = stub.invoked.at(-1)!.headers["x-fc-async-task-id"] as string;
        assert.equal((await readInvocation(base, id, KEY_A)).status, 404);
      } finally {
        stub.triggerStatus = 202;
      }
    });
  });
}

describe("the FC adapter in an asynchronous invocation", () => {
  const config = { region: "central", models: {}, env: [] };
  let requests = 0;
  const event = (headers: Record<string, string>, body: unknown) =>
    Buffer.from(
      JSON.stringify({
        rawPath: "/",
        headers,
        body: JSON.stringify(body),
        requestContext: { requestId: `r-${requests++}`, http: { method: "POST" } },
      }),
    );

  it("fails the attempt on a 5xx answer, so FC retries it; a synchronous call gets the 500", async () => {
    const fc = fcHandler(handler, config, {});
    await assert.rejects(
      fc(event({ "x-cloudloom-invocation": "inv-1" }, { failTimes: 1 })),
      /invocation inv-1 failed: the function answered 500/,
    );
    const sync = await fc(event({}, { failTimes: 1 }));
    assert.equal(sync.statusCode, 500);
  });

  it("answers a 4xx or a success as the invocation's result", async () => {
    const fc = fcHandler(handler, config, {});
    assert.equal((await fc(event({ "x-cloudloom-invocation": "inv-2" }, { reject: true }))).statusCode, 422);
    assert.equal(JSON.parse((await fc(event({ "x-cloudloom-invocation": "inv-3" }, { value: 1 }))).body).value, 1);
  });
});
