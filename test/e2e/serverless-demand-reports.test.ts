/**
 * A Lambda or Function Compute function's calls to a model at zero count in
 * the model's demand, over real sockets on 127.0.0.1: the adapter's model
 * client holds calls to a model that answers 503 while it starts, reports
 * them to the gateway (a real one, or a stand-in checking each PUT) with the
 * token it read from its secrets (Secrets Manager, KMS: stand-ins), and sends
 * the zero report before the invocation answers. A gateway that refuses
 * connections or never answers costs the invocation at most the last
 * report's bound, and never fails it.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Handler } from "../../sdk/handler";
import type { ComposedGateway } from "../../cli/compose-gateway";
import { ALICLOUD_SECRETS_ENV, DEMAND_REPORT_PATH, RUNTIME_ENV, type DemandReport } from "../../runtime/contract";
import { fcHandler } from "../../runtime/serverless/fc";
import { lambdaHandler, type FunctionUrlEvent, type LambdaRuntimeConfig } from "../../runtime/serverless/lambda";
import { DEMAND_TOKEN, demandAt, gatewayFor, MAX_PENDING, untilDemand } from "../support/demand-gateway";
import { freePort } from "../support/redis";
import { TEST_CREDENTIALS } from "../support/sigv4";
import { until } from "../support/until";
import { StubUpstream } from "../support/upstream";

const ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:reports-fn-caller-central-secrets-AbCdEf";
const KMS_SECRET = "reports-central-demand-token";

/** A model that answers 503 (starting) until `ready` is called, then its outputs. */
async function startingModel(): Promise<{ stub: StubUpstream; ready: () => void }> {
  const stub = await new StubUpstream("intent").start();
  stub.behaviour = { status: 503, headers: {}, delayMs: 0, body: () => ({ outputs: { probabilities: [0.25, 0.75] } }) };
  return { stub, ready: () => (stub.behaviour = { ...stub.behaviour, status: 200 }) };
}

/** The function's runtime configuration: model `intent` (intent@1) at `url`, holding as the spec's policy says. */
const configFor = (url: string): LambdaRuntimeConfig => ({
  region: "central",
  models: { intent: { key: "intent@1", version: "1", endpoint: url, hold: { maxPending: MAX_PENDING, maxWaitMs: 60_000 } } },
  env: [],
});

/** A handler that calls the model once and answers its outputs and the variables it sees. */
const callsTheModel: Handler = async (_request, ctx) => ({
  probabilities: Array.from((await ctx.models.intent.predict({ features: new Float32Array(4) })).probabilities),
  env: Object.keys(ctx.env),
});

const event: FunctionUrlEvent = { rawPath: "/", body: "{}", requestContext: { requestId: "r1", http: { method: "POST" } } };
const fcEvent = Buffer.from(JSON.stringify(event));

/** A node:http server answering every request with `answer(path)` as JSON (a secrets store stand-in). */
async function jsonServer(answer: (path: string) => unknown): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer(req.url ?? ""))));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const reportsAt = (gateway: StubUpstream) =>
  gateway.received.filter((r) => r.path === DEMAND_REPORT_PATH).map((r) => JSON.parse(r.body) as DemandReport);
const counts = (report: DemandReport) => report.calls.map(({ model, region, pending, inFlight }) => [model, region, pending, inFlight]);

describe("serverless functions report their calls to a model at zero (real sockets)", function () {
  this.timeout(120_000);
  const closers: Array<() => Promise<unknown>> = [];
  const warnings: string[] = [];
  const warn = (message: string) => void warnings.push(message);
  afterEach(async () => {
    warnings.length = 0;
    await Promise.all(closers.splice(0).map((close) => close()));
  });
  const closeServer = (server: Server) => () => new Promise((resolve) => server.close(resolve));
  const kill = (stub: StubUpstream) => () => stub.kill();

  it("Lambda: counts the held call at a real gateway with the token from Secrets Manager, and clears it before answering", async () => {
    const gateway: { composed: ComposedGateway; base: string } = await gatewayFor(DEMAND_TOKEN);
    closers.push(() => gateway.composed.close());
    const secrets = await jsonServer(() => ({ ARN, SecretString: JSON.stringify({ [RUNTIME_ENV.demandToken]: DEMAND_TOKEN }) }));
    closers.push(closeServer(secrets.server));
    const model = await startingModel();
    closers.push(kill(model.stub));
    const serve = lambdaHandler(
      callsTheModel,
      configFor(model.stub.url),
      {
        AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
        AWS_SESSION_TOKEN: TEST_CREDENTIALS.sessionToken,
        [RUNTIME_ENV.secretsArn]: ARN,
        [RUNTIME_ENV.secretsEndpoint]: secrets.url,
        [RUNTIME_ENV.demandReportUrl]: `${gateway.base}${DEMAND_REPORT_PATH}`,
      },
      { demandReports: { intervalMs: 50, warn } },
    );
    const answer = serve(event);
    const held = await untilDemand(gateway.base, (d) => d.pending === 1);
    assert.deepEqual([held.pending, held.inFlight, held.demand], [1, 0, 1], "the model's scaler sees the call the function holds");
    model.ready();
    const result = await answer;
    assert.equal(result.statusCode, 200);
    assert.deepEqual(JSON.parse(result.body), { probabilities: [0.25, 0.75], env: [] }, "the token is not among the handler's variables");
    // Read once the invocation answered: its zero report had already been taken.
    const after = await demandAt(gateway.base);
    assert.deepEqual([after.pending, after.inFlight, after.demand], [0, 0, 0]);
    assert.deepEqual(warnings, []);
  });

  it("FC: reports with the bearer token read from KMS, the held call, then zero before the invocation answers", async () => {
    const gateway = await new StubUpstream("gateway").start();
    closers.push(kill(gateway));
    const kms = await jsonServer(() => ({ SecretData: DEMAND_TOKEN, RequestId: "k1" }));
    closers.push(closeServer(kms.server));
    const model = await startingModel();
    closers.push(kill(model.stub));
    const env: NodeJS.ProcessEnv = {
      [ALICLOUD_SECRETS_ENV.accessKeyId]: "STS.stub-id",
      [ALICLOUD_SECRETS_ENV.accessKeySecret]: "stub-secret",
      [ALICLOUD_SECRETS_ENV.kmsEndpoint]: kms.url,
      [ALICLOUD_SECRETS_ENV.region]: "eu-central-1",
      [RUNTIME_ENV.kmsSecrets]: JSON.stringify({ [RUNTIME_ENV.demandToken]: KMS_SECRET }),
      [RUNTIME_ENV.demandReportUrl]: `${gateway.url}${DEMAND_REPORT_PATH}`,
    };
    const handle = fcHandler(callsTheModel, configFor(model.stub.url), env, {}, { demandReports: { intervalMs: 50, warn } });
    const answer = handle(fcEvent);
    await until(() => reportsAt(gateway).length > 0);
    model.ready();
    const result = await answer;
    assert.equal(result.statusCode, 200);
    const reports = reportsAt(gateway);
    const puts = gateway.received.filter((r) => r.path === DEMAND_REPORT_PATH);
    for (const put of puts) assert.equal(put.headers.authorization, `Bearer ${DEMAND_TOKEN}`);
    assert.deepEqual(counts(reports[0]), [["intent@1", "central", 1, 0]], "the held call, as pending");
    assert.deepEqual(counts(reports.at(-1)!), [["intent@1", "central", 0, 0]], "zero, sent before the answer");
    assert.equal(new Set(reports.map((r) => r.source)).size, 1, "one source: the instance");
    assert.deepEqual(warnings, []);
  });

  it("answers as usual when the gateway refuses connections: the failed report is logged once, never thrown", async () => {
    const model = await startingModel();
    closers.push(kill(model.stub));
    const serve = lambdaHandler(
      callsTheModel,
      configFor(model.stub.url),
      {
        [RUNTIME_ENV.demandReportUrl]: `http://127.0.0.1:${await freePort()}${DEMAND_REPORT_PATH}`,
        [RUNTIME_ENV.demandToken]: DEMAND_TOKEN,
      },
      { demandReports: { intervalMs: 50, warn } },
    );
    const answer = serve(event);
    await until(() => warnings.length > 0 && model.stub.received.length >= 2);
    model.ready();
    const result = await answer;
    assert.equal(result.statusCode, 200);
    assert.deepEqual(JSON.parse(result.body).probabilities, [0.25, 0.75]);
    assert.equal(warnings.length, 1, "a run of failures is told once");
    assert.match(warnings[0], /reporting calls to models to the gateway failed/);
  });

  it("answers without waiting out a gateway that stops answering: its last report is left in flight, bounded", async () => {
    const gateway = await new StubUpstream("gateway").start();
    closers.push(kill(gateway));
    const model = await startingModel();
    closers.push(kill(model.stub));
    const serve = lambdaHandler(
      callsTheModel,
      configFor(model.stub.url),
      { [RUNTIME_ENV.demandReportUrl]: `${gateway.url}${DEMAND_REPORT_PATH}`, [RUNTIME_ENV.demandToken]: DEMAND_TOKEN },
      { demandReports: { intervalMs: 50, lastReportTimeoutMs: 300, warn } },
    );
    const answer = serve(event);
    await until(() => reportsAt(gateway).length > 0);
    // From now on the gateway takes reports and never answers them (until the test lets it, to end cleanly).
    let release!: () => void;
    gateway.behaviour = { ...gateway.behaviour, hold: new Promise<void>((resolve) => (release = resolve)) };
    const taken = gateway.received.length;
    await until(() => gateway.received.length > taken);
    model.ready();
    const result = await answer;
    assert.equal(result.statusCode, 200);
    assert.deepEqual(JSON.parse(result.body).probabilities, [0.25, 0.75]);
    // The report's own timeout (5 s) would have closed its connection: it is still open, so the answer did not wait for it.
    assert.deepEqual(gateway.abandoned, [], "the unanswered report is still in flight");
    release();
    await until(() => counts(reportsAt(gateway).at(-1)!)[0][2] === 0 && counts(reportsAt(gateway).at(-1)!)[0][3] === 0);
  });

  it("holds without reporting when the stack set no report URL, and reports nothing without a token", async () => {
    const gateway = await new StubUpstream("gateway").start();
    closers.push(kill(gateway));
    const model = await startingModel();
    closers.push(kill(model.stub));
    const unreported = lambdaHandler(
      callsTheModel,
      configFor(model.stub.url),
      { [RUNTIME_ENV.demandToken]: DEMAND_TOKEN },
      {
        demandReports: { intervalMs: 50, warn },
      },
    );
    const answer = unreported(event);
    await until(() => model.stub.received.length >= 3);
    model.ready();
    assert.equal((await answer).statusCode, 200, "the call waited out the model's start");

    model.stub.behaviour = { ...model.stub.behaviour, status: 503 };
    const tokenless = lambdaHandler(
      callsTheModel,
      configFor(model.stub.url),
      { [RUNTIME_ENV.demandReportUrl]: `${gateway.url}${DEMAND_REPORT_PATH}` },
      { demandReports: { intervalMs: 50, warn } },
    );
    const second = tokenless(event);
    const tried = model.stub.received.length;
    await until(() => model.stub.received.length >= tried + 3);
    model.ready();
    assert.equal((await second).statusCode, 200);
    assert.equal(gateway.received.length, 0, "no report reached the gateway");
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /CLOUDLOOM_DEMAND_REPORT_URL is set but CLOUDLOOM_DEMAND_TOKEN is not/);
  });
});
