/**
 * A model version's asynchronous jobs inside AWS Lambda: the job worker
 * cloudloom deploys for each model version an asynchronous route queues
 * (providers/aws/model-jobs.ts). Its SQS queue's event source mapping
 * delivers batches, which the adapter functions use works the same way
 * (sqs-jobs.ts: one attempt per record, backoff, the dead letter, the
 * invocation table). An attempt posts the job's body to the model version's
 * own endpoint (SageMaker's InvokeEndpoint, or the IAM-guarded model API in
 * front of its EKS model server), SigV4-signed with the worker's role, and
 * the model's answer is the invocation's result:
 *
 * - an answer below 500 (the outputs, or a 4xx refusing the input) settles it;
 * - a 5xx (its error code kept), a 429 (throttled, or a serverless endpoint
 *   still starting), a connection the model drops or refuses, or no answer
 *   within the attempt timeout fails the attempt, which is retried and,
 *   after the last, dead-lettered;
 * - SageMaker answers a container's own 4xx or 5xx as 424 ModelError, with
 *   the container's status and body inside: those are what count;
 * - an answer longer than MAX_ANSWER_BYTES is not read further: it settles
 *   as RESULT_TOO_LARGE with the model's status.
 *
 * With an OTLP endpoint in the OTEL_* variables (the export headers among the
 * worker's secrets, as a function's), each attempt is a span under the
 * `traceparent` the job carries, the request that queued it, and the model
 * call carries the attempt's; a batch's spans are exported before it returns.
 */
import { z } from "zod";
import { EndpointSchema, toMilliseconds, type AsyncSpec, type Endpoint } from "../../sdk/spec";
import { sageMakerContainerAnswer, ServingError, type AsyncJob, type InvocationResult } from "../contract";
import { authFor } from "../auth/backend-auth";
import { AttemptFailure, answerFailure, parsedBody } from "../queue/attempt";
import { predictUrl } from "../remote-model";
import { injectActiveTrace } from "../trace-context";
import { jobsHandler, parsedRuntimeConfig, QueueWorkSchema, secretsOnce, tracingOnce } from "./lambda";
import { isSqsEvent, type SqsBatchResponse, type SqsEvent } from "./sqs-jobs";
import type { InvocationTracing } from "./tracing";

/** The job worker's configuration, which the stack puts in `CLOUDLOOM_RUNTIME`. */
export const ModelJobsConfigSchema = z
  .object({
    /** The model version the worker calls (`name@version`) and where it is served. */
    model: z.object({ key: z.string().min(1), endpoint: EndpointSchema }).strict(),
    /** The queue's settings and the invocation table. */
    async: QueueWorkSchema,
  })
  .strict();

/** Parsed `CLOUDLOOM_RUNTIME` of a model's job worker. */
export type ModelJobsConfig = z.infer<typeof ModelJobsConfigSchema>;

/** Reads a job worker's configuration, naming the variable and the field when it is wrong. */
export function modelJobsConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ModelJobsConfig {
  return parsedRuntimeConfig(ModelJobsConfigSchema, env);
}

/** The most of a model's answer a worker reads: four times what the invocation table keeps of a result. */
export const MAX_ANSWER_BYTES = 1_048_576;

/** The answer's bytes, or undefined once it passes `max` (the rest is not read). */
async function readBounded(response: Response, max: number): Promise<Buffer | undefined> {
  const declared = Number(response.headers.get("content-length"));
  if (declared > max) {
    await response.body?.cancel();
    return undefined;
  }
  const reader = response.body?.getReader();
  const chunks: Buffer[] = [];
  let length = 0;
  for (;;) {
    const next = await reader?.read();
    if (!next || next.done) return Buffer.concat(chunks);
    length += next.value.byteLength;
    if (length > max) {
      await reader!.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(Buffer.from(next.value));
  }
}

/**
 * One attempt of a job on model version `key` at `endpoint`: the job's body
 * posted to its predict URL, signed as the endpoint needs, aborted at the
 * attempt timeout; resolves with the model's answer below 500, rejects
 * otherwise (see the file's comment).
 */
export function modelAttempt(
  endpoint: Endpoint,
  key: string,
  settings: AsyncSpec,
  env: NodeJS.ProcessEnv,
): (job: AsyncJob) => Promise<InvocationResult> {
  const url = predictUrl(endpoint, key);
  const auth = authFor(endpoint, env);
  const sagemaker = typeof endpoint !== "string" && endpoint.sigv4?.service === "sagemaker";
  const contentType = "application/json";
  const timeoutMs = toMilliseconds(settings.timeout);
  return async (job) => {
    const body = Buffer.from(job.request.body, "base64");
    const signed = await auth?.({ host: url.host, path: `${url.pathname}${url.search}`, method: "POST", contentType, body });
    const headers: Record<string, string> = { "content-type": contentType, "x-request-id": job.id, ...signed };
    // Traced, the attempt's span is active: the model's spans join the trace (SigV4 signs no traceparent, so it may be added).
    injectActiveTrace(headers);
    let response: Response;
    let answer: Buffer | undefined;
    try {
      response = await fetch(url, {
        method: "POST",
        headers,
        body,
        redirect: "error",
        signal: AbortSignal.timeout(timeoutMs),
      });
      answer = await readBounded(response, MAX_ANSWER_BYTES);
    } catch (error) {
      throw Object.assign(new ServingError("BAD_GATEWAY", `model ${key} did not answer invocation ${job.id}`), { cause: error });
    }
    if (answer === undefined)
      return {
        status: response.status,
        body: { error: { code: "RESULT_TOO_LARGE", message: `the model's answer is larger than ${MAX_ANSWER_BYTES} bytes` } },
      };
    const container = sagemaker ? sageMakerContainerAnswer(response.status, answer) : undefined;
    const status = container?.status ?? response.status;
    const result = parsedBody(container?.body ?? answer);
    if (status >= 500) throw answerFailure({ id: job.id, kind: "model", entry: key }, status, result, "the job worker's log");
    if (status === 429)
      throw new AttemptFailure(
        "MODEL_UNAVAILABLE",
        `model ${key} answered 429 (throttled, or still starting); invocation ${job.id} is retried`,
      );
    return { status, body: result };
  };
}

/**
 * The Lambda handler of a model version's job worker: the SQS batches of its
 * queue, each record one attempt on the model (modelAttempt), recorded in the
 * invocation table. Built at cold start from `CLOUDLOOM_RUNTIME`; the
 * worker's package is one line that calls this from the runtime layer.
 */
export function modelJobsHandler(
  config: ModelJobsConfig = modelJobsConfigFromEnv(),
  env: NodeJS.ProcessEnv = process.env,
): (event: SqsEvent) => Promise<SqsBatchResponse> {
  const attempt = modelAttempt(config.model.endpoint, config.model.key, config.async.settings, env);
  const tracing = tracingOnce(env, env.AWS_LAMBDA_FUNCTION_NAME ?? `jobs-${config.model.key}`, secretsOnce(env));
  // The batch's tracing: Lambda hands an instance one batch at a time.
  let tracer: InvocationTracing | undefined;
  const jobs = jobsHandler(config.async, env, (job) => (tracer ? tracer.job(job, () => attempt(job)) : attempt(job)));
  return async (event) => {
    if (!isSqsEvent(event)) throw new Error(`the job worker of model ${config.model.key} takes SQS batches only`);
    // Tracing is what the worker reports, not its work: while the export headers cannot be read (logged), batches run untraced.
    tracer = await tracing().catch(() => undefined);
    try {
      return await jobs(event);
    } finally {
      await tracer?.flush();
    }
  };
}
