import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Queue } from "bullmq";
import pino from "pino";
import { composeGateway, type ComposedGateway } from "../../cli/compose-gateway";
import { remoteQueues, type RemoteQueues } from "../../cli/remote-queues";
import { parseSettings } from "../../gateway/config";
import { QUEUE_PREFIX, queueName } from "../../runtime/contract";
import { asyncEntries, type EndpointsMap } from "../../sdk";
import app from "../fixtures/async-app/app";
import { KEY_A } from "../support/gateway-app";
import { finalInvocation, readInvocation, submit } from "../support/invocations";
import { redisForSuite, type RedisServer } from "../support/redis";
import { until } from "../support/until";

const ROOT = resolve(__dirname, "../..");
const BIN = join(ROOT, "cli/bin.js");
const FIXTURE = join(ROOT, "test/fixtures/async-app");

/** A worker: `cloudloom serve --only function:work`, the pod that works the entry's queue, as a child process. */
class Worker {
  readonly child: ChildProcess;
  out = "";
  readonly exited: Promise<unknown>;

  constructor(spec: string, redis: string, log: string) {
    this.child = spawn(
      process.execPath,
      [BIN, "serve", "--spec", spec, "--only", "function:work", "--region", "central", "--root", FIXTURE, "--port", "0"],
      {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "pipe"],
        // A one-second lock: a dead worker's job is taken back within seconds, not BullMQ's default 30.
        env: { ...process.env, CLOUDLOOM_REDIS_URL: redis, CLOUDLOOM_QUEUE_LOCK_MS: "1000", ASYNC_TEST_LOG: log, LOG_FORMAT: "json" },
      },
    );
    this.child.stdout!.on("data", (chunk: Buffer) => (this.out += chunk.toString()));
    this.child.stderr!.on("data", (chunk: Buffer) => (this.out += chunk.toString()));
    this.exited = new Promise((done) => this.child.once("exit", done));
  }

  async started(): Promise<void> {
    await until(() => /serving function:work/.test(this.out) || this.child.exitCode !== null, 50);
    assert.equal(this.child.exitCode, null, this.out);
  }

  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    await this.exited;
  }
}

/** The lines `start|done <id> <pid>` the handler wrote for invocation `id`. */
function runs(log: string, id: string): Array<{ event: string; pid: number }> {
  if (!existsSync(log)) return [];
  return readFileSync(log, "utf8")
    .split("\n")
    .filter((line) => line.includes(id))
    .map((line) => {
      const [event, , pid] = line.split(" ");
      return { event, pid: Number(pid) };
    });
}

describe("asynchronous jobs survive a worker killed mid-job (real redis-server, worker child processes)", function () {
  // Child processes load the runtime: seconds each on a loaded 2-core machine.
  this.timeout(180_000);
  let redis: RedisServer | undefined;
  let dir: string;
  let gateway: ComposedGateway;
  let queues: RemoteQueues;
  let base: string;
  const workers: Worker[] = [];

  before(async function () {
    redis = await redisForSuite(this);
    dir = mkdtempSync(join(tmpdir(), "cloudloom-async-kill-"));
    const spec = app.toSpec();
    writeFileSync(join(dir, "spec.json"), JSON.stringify(spec));
    // The gateway of a deployed stack: its queues are BullMQ on its Redis; the synchronous endpoints are never called.
    const byRegion = (regions: string[]) => Object.fromEntries(regions.map((region) => [region, "http://127.0.0.1:9"]));
    const endpoints: EndpointsMap = {
      functions: Object.fromEntries(Object.entries(spec.functions).map(([name, fn]) => [name, byRegion(fn.regions)])),
      models: Object.fromEntries(Object.entries(spec.models).map(([key, model]) => [key, byRegion(model.regions)])),
      queues: Object.fromEntries([...asyncEntries(spec).keys()].map((key) => [key, { kind: "redis" as const }])),
    };
    const settings = parseSettings({ apiKeys: [KEY_A], redis: { url: redis!.url } });
    const logger = pino({ level: "silent" });
    queues = remoteQueues(() => ({ spec, endpoints }), settings, logger);
    gateway = composeGateway({ spec, settings, source: { kind: "remote", endpoints }, logger, queues: queues.queueFor });
    await gateway.connected();
    base = `http://127.0.0.1:${(await gateway.gateway.listen(0)).port}`;
  });
  after(async () => {
    await Promise.all(workers.map((worker) => worker.stop("SIGKILL")));
    await gateway?.close();
    await queues?.close();
    await redis?.stop();
  });

  it("runs the job again on another worker, completes it, and records exactly one result", async () => {
    const log = join(dir, "runs.log");
    const release = join(dir, "release");
    const first = new Worker(join(dir, "spec.json"), redis!.url, log);
    workers.push(first);
    await first.started();

    const { response, id } = await submit(base, "/work", { value: "survivor", holdUntil: release }, KEY_A);
    assert.equal(response.status, 202);
    // The first worker has the job: it is running, and the worker dies mid-job.
    await until(() => runs(log, id!).some((run) => run.event === "start"), 20);
    assert.equal((await readInvocation(base, id!, KEY_A)).json.state, "running");
    await first.stop("SIGKILL");

    writeFileSync(release, "");
    const second = new Worker(join(dir, "spec.json"), redis!.url, log);
    workers.push(second);
    await second.started();

    const done = await finalInvocation(base, id!, KEY_A);
    assert.equal(done.state, "succeeded");
    assert.equal(done.attempts, 2);
    assert.equal(done.result!.body.value, "survivor");
    assert.equal(done.result!.body.pid, second.child.pid);
    // Two runs began (one per worker); one finished, on the second worker.
    assert.deepEqual(runs(log, id!), [
      { event: "start", pid: first.child.pid },
      { event: "start", pid: second.child.pid },
      { event: "done", pid: second.child.pid },
    ]);
    // BullMQ completed it once: it is in the completed set once, and nowhere else.
    const queue = new Queue(queueName(app.name, "function", "work"), { connection: { url: redis!.url }, prefix: QUEUE_PREFIX });
    try {
      assert.deepEqual(await queue.getJobCounts("completed", "failed", "active", "wait", "delayed"), {
        completed: 1,
        failed: 0,
        active: 0,
        wait: 0,
        delayed: 0,
      });
    } finally {
      await queue.close();
    }
  });
});
