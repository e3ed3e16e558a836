/**
 * Asynchronous functions and FC-hosted model versions on Alibaba Cloud, as
 * the gateway sees them: Function Compute's own asynchronous invocation. A
 * submission calls the function's HTTP trigger (with the gateway's JWT, as
 * its synchronous calls do; a model's at its predict path) with
 * `X-Fc-Invocation-Type: Async` and the invocation id as
 * `X-Fc-Async-Task-Id`, its body at most FC's 128 KB; FC queues it, retries it (`maxAsyncRetryAttempts`,
 * on FC's own schedule), and sends what failed every attempt to the entry's
 * MNS dead-letter queue. A status read asks FC for the task (GetAsyncTask,
 * through the official SDK with the gateway's own role), which FC keeps for
 * seven days. FC's task does not carry who submitted it, so the gateway
 * remembers each id's tenant and submission time for the retention (in its
 * Redis, Tair on Alibaba Cloud, or in memory without one).
 */
import type Redis from "ioredis";
import { LRUCache } from "lru-cache";
import { toMilliseconds, type AsyncSpec } from "../../sdk/spec";
import {
  FC_ASYNC_MAX_BODY_BYTES,
  INVOCATION_HEADER,
  queueOperation,
  ServingError,
  type AsyncJob,
  type BackendAuth,
  type InvocationQueue,
  type InvocationRecord,
} from "../contract";
import { exhaustedState } from "./states";

/** Where an entry's function is, for its asynchronous calls and task reads. */
export interface FcLocation {
  /** The function's HTTP trigger URL, where the job is sent (its internal path appended). */
  triggerUrl: string;
  /** How the trigger authenticates the gateway (its JWT). */
  auth?: BackendAuth;
  /** FC's API endpoint, `<account id>.<region>.fc.aliyuncs.com`. */
  api: string;
  /** `https`, or `http` for a local stand-in. @default "https" */
  protocol?: string;
  functionName: string;
  /** The alias the trigger and the asynchronous configuration target. */
  qualifier: string;
}

/** Who submitted an id, and when. */
export interface Submission {
  tenant: string;
  submittedAt: number;
}

/** Who submitted each id and when, for the retention: FC's tasks do not say. */
export interface SubmissionIndex {
  remember(id: string, submission: Submission, ttlMs: number): Promise<void>;
  recall(id: string): Promise<Submission | undefined>;
  forget(id: string): Promise<void>;
}

/** Submitters kept at most without Redis. */
const MAX_REMEMBERED = 100_000;

/** The submissions in the gateway's Redis (shared by every instance), or in memory without one. */
export class StoredSubmissions implements SubmissionIndex {
  private readonly memory = new LRUCache<string, Submission>({ max: MAX_REMEMBERED });
  constructor(private readonly redis?: Redis) {}
  async remember(id: string, submission: Submission, ttlMs: number): Promise<void> {
    if (this.redis) await this.redis.set(key(id), JSON.stringify(submission), "PX", Math.ceil(ttlMs));
    else this.memory.set(id, submission, { ttl: Math.ceil(ttlMs) });
  }
  async recall(id: string): Promise<Submission | undefined> {
    if (!this.redis) return this.memory.get(id);
    const stored = await this.redis.get(key(id));
    return stored === null ? undefined : (JSON.parse(stored) as Submission);
  }
  async forget(id: string): Promise<void> {
    if (this.redis) await this.redis.del(key(id));
    else this.memory.delete(id);
  }
}

const key = (id: string) => `cl:invocation-submission:${id}`;

/** What GetAsyncTask answers (the fields read). */
export interface FcTask {
  status?: string;
  alreadyRetriedTimes?: number;
  startedTime?: number;
  endTime?: number;
  returnPayload?: string;
}

/** Reads one task; the SDK's in production, a stand-in's in tests. */
export type TaskReader = (functionName: string, taskId: string, qualifier: string) => Promise<FcTask | undefined>;

/**
 * GetAsyncTask through FC's official SDK (`@alicloud/fc20230330`), with the
 * credentials FC gives the gateway's instance (its role's STS keys, read at
 * each call, since they rotate). A task FC does not know is undefined.
 */
export function sdkTaskReader(location: Pick<FcLocation, "api" | "protocol">, env: NodeJS.ProcessEnv = process.env): TaskReader {
  return async (functionName, taskId, qualifier) => {
    const fc = require("@alicloud/fc20230330") as typeof import("@alicloud/fc20230330");
    const { $OpenApiUtil } = require("@alicloud/openapi-core") as typeof import("@alicloud/openapi-core");
    const client = new fc.default(
      new $OpenApiUtil.Config({
        endpoint: location.api,
        protocol: location.protocol ?? "https",
        accessKeyId: env.ALIBABA_CLOUD_ACCESS_KEY_ID,
        accessKeySecret: env.ALIBABA_CLOUD_ACCESS_KEY_SECRET,
        securityToken: env.ALIBABA_CLOUD_SECURITY_TOKEN,
      }),
    );
    try {
      return (await client.getAsyncTask(functionName, taskId, new fc.GetAsyncTaskRequest({ qualifier }))).body;
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return undefined;
      throw error;
    }
  };
}

/** The states of FC's tasks, as cloudloom's. */
function stateOf(status: string | undefined, settings: AsyncSpec): InvocationRecord["state"] {
  switch (status) {
    case "Running":
    case "Stopping":
      return "running";
    case "Succeeded":
      return "succeeded";
    case "Failed":
    case "Expired":
    case "Stopped":
    case "Invalid":
      return exhaustedState(settings);
    default:
      // Enqueued, Dequeued, Retrying, and whatever FC adds before it runs a task.
      return "queued";
  }
}

/** The error of a task in `status`: a code and a safe message (FC's own message stays in its logs). */
function errorOf(status: string | undefined, id: string): InvocationRecord["error"] {
  if (status === "Expired") return { code: "INVOCATION_EXPIRED", message: "the job waited longer than its retention" };
  if (status === "Failed" || status === "Retrying" || status === "Stopped" || status === "Invalid")
    return { code: "FUNCTION_FAILED", message: `the function failed (Function Compute task ${status}); see its logs for invocation ${id}` };
  return undefined;
}

/** The function's answer in a task's return payload (which FC fills only where it offers it), as a result. */
function resultOf(payload: string | undefined): InvocationRecord["result"] {
  if (!payload) return undefined;
  try {
    const parsed = JSON.parse(payload) as { statusCode?: unknown; body?: unknown };
    if (typeof parsed?.statusCode === "number")
      return { status: parsed.statusCode, body: typeof parsed.body === "string" ? JSON.parse(parsed.body) : (parsed.body ?? null) };
    return { status: 200, body: parsed };
  } catch {
    return { status: 200, body: payload };
  }
}

/** One entry's queue: Function Compute's asynchronous invocation. */
export class FcAsyncQueue implements InvocationQueue {
  readonly durable = true;
  private readonly retentionMs: number;

  constructor(
    private readonly location: FcLocation,
    private readonly settings: AsyncSpec,
    private readonly submissions: SubmissionIndex,
    private readonly readTask: TaskReader,
    private readonly fetcher: typeof fetch = fetch,
  ) {
    this.retentionMs = toMilliseconds(settings.retention);
  }

  async submit(job: AsyncJob): Promise<void> {
    // FC refuses a larger asynchronous body with a 400 of its own; said here, before anything is recorded.
    if (Buffer.byteLength(job.request.body, "base64") > FC_ASYNC_MAX_BODY_BYTES)
      throw new ServingError(
        "PAYLOAD_TOO_LARGE",
        `an asynchronous job on Alibaba Cloud carries at most ${FC_ASYNC_MAX_BODY_BYTES} bytes of body (Function Compute's limit); send a smaller body, or a reference to it`,
      );
    await queueOperation(() => this.submissions.remember(job.id, { tenant: job.tenant, submittedAt: job.submittedAt }, this.retentionMs));
    let status: number;
    try {
      status = await this.send(job);
    } catch (error) {
      await this.submissions.forget(job.id).catch(() => undefined);
      throw error;
    }
    if (status !== 202) {
      await this.submissions.forget(job.id).catch(() => undefined);
      throw Object.assign(
        new ServingError("QUEUE_UNAVAILABLE", "the function's queue did not take the job; retry shortly", { "retry-after": "1" }),
        {
          cause: new Error(`Function Compute answered ${status} to an asynchronous invocation of ${this.location.functionName}`),
        },
      );
    }
  }

  async read(id: string): Promise<InvocationRecord | undefined> {
    const submission = await queueOperation(() => this.submissions.recall(id));
    if (submission === undefined) return undefined;
    const { tenant, submittedAt } = submission;
    const task = await queueOperation(() => this.readTask(this.location.functionName, id, this.location.qualifier));
    // Submitted, but not yet a task FC reports: queued.
    if (!task) return { id, tenant, state: "queued", attempts: 0, submittedAt };
    const state = stateOf(task.status, this.settings);
    const started = task.startedTime !== undefined && task.startedTime > 0;
    return {
      id,
      tenant,
      state,
      attempts: started ? (task.alreadyRetriedTimes ?? 0) + 1 : 0,
      submittedAt,
      startedAt: started ? task.startedTime : undefined,
      finishedAt: state === "queued" || state === "running" ? undefined : task.endTime,
      result: state === "succeeded" ? resultOf(task.returnPayload) : undefined,
      error: errorOf(task.status, id),
    };
  }

  /** Calls the trigger asynchronously; resolves with FC's status (202 when it queued the job). */
  private async send(job: AsyncJob): Promise<number> {
    const url = new URL(this.location.triggerUrl);
    const body = Buffer.from(job.request.body, "base64");
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(job.request.headers)) if (typeof value === "string") headers[name] = value;
    const contentType = headers["content-type"];
    const signed = (await this.location.auth?.({ host: url.host, path: url.pathname, method: "POST", contentType, body })) ?? {};
    const response = await queueOperation(() =>
      this.fetcher(url, {
        method: "POST",
        headers: {
          ...headers,
          ...signed,
          "x-fc-invocation-type": "Async",
          "x-fc-async-task-id": job.id,
          // Tells the function's adapter this is an invocation with retries: a 5xx answer is a failure FC retries.
          [INVOCATION_HEADER]: job.id,
        },
        body,
        redirect: "error",
        signal: AbortSignal.timeout(5_000),
      }),
    );
    await response.body?.cancel();
    return response.status;
  }
}
