/**
 * The queues of a deployed stack's asynchronous entries, as its gateway
 * reaches them: from the endpoints map (`queues`), each built once and shared
 * by every configuration the gateway reloads, and closed with it.
 */
import Redis from "ioredis";
import type { Logger } from "pino";
import type { GatewaySettings, QueueFor } from "../gateway";
import {
  authFor,
  BullmqQueue,
  credentialSourceFromEnv,
  FcAsyncQueue,
  functionInvokePath,
  modelPredictPath,
  queueName,
  sdkTaskReader,
  SqsQueue,
  StoredSubmissions,
  type InvocationQueue,
} from "../runtime";
import { asyncEntryKey, endpointUrl, type AsyncEntry, type EndpointsMap, type QueueEndpoint, type SpecV1 } from "../sdk/spec";
import { MissingCredentialError } from "./compose-gateway";
import { UsageError } from "./io";

/** The queues a remote gateway submits to, and what closes them. */
export interface RemoteQueues {
  queueFor: QueueFor;
  close(): Promise<void>;
}

/**
 * The queue of each asynchronous entry named in the endpoints of `current()`
 * (the configuration being compiled, at start and at each reload). Redis
 * queues use the gateway's Redis, which they therefore need; SQS queues sign
 * with the gateway's AWS credentials (its task role's, on ECS); Function
 * Compute's are called like the function's synchronous endpoint (its JWT),
 * with who submitted each id kept in the gateway's Redis when it has one.
 */
export function remoteQueues(
  current: () => { spec: SpecV1; endpoints: EndpointsMap },
  settings: GatewaySettings,
  logger: Logger,
  env: NodeJS.ProcessEnv = process.env,
): RemoteQueues {
  const built = new Map<string, InvocationQueue & { close?(): Promise<void> }>();
  const onError = (error: Error) => logger.warn({ err: error.message }, "queue connection");
  let submissions: { index: StoredSubmissions; redis?: Redis } | undefined;
  const submissionIndex = (): StoredSubmissions => {
    if (!submissions) {
      const redis =
        settings.redis && new Redis(settings.redis.url, { maxRetriesPerRequest: 1, connectTimeout: 2_000, commandTimeout: 2_000 });
      redis?.on("error", onError);
      submissions = { index: new StoredSubmissions(redis), redis };
    }
    return submissions.index;
  };
  const build = (
    app: string,
    endpoints: EndpointsMap,
    entry: AsyncEntry,
    endpoint: QueueEndpoint,
  ): InvocationQueue & { close?(): Promise<void> } => {
    const key = asyncEntryKey(entry.kind, entry.name);
    if (endpoint.kind === "fc") {
      // A function's trigger, or the trigger of the FC function serving a model version (called at its predict path).
      const trigger = (entry.kind === "function" ? endpoints.functions : endpoints.models)[entry.name]?.[entry.region];
      if (!trigger)
        throw new UsageError(`the endpoints file queues ${key} in Function Compute, but has no endpoint for it in ${entry.region}`);
      const base = new URL(endpointUrl(trigger));
      const exact = typeof trigger !== "string" && trigger.exact;
      const internalPath = entry.kind === "function" ? functionInvokePath(entry.name) : modelPredictPath(entry.name);
      const triggerUrl = exact ? base.href : `${base.origin}${base.pathname.replace(/\/$/, "")}${internalPath}`;
      let auth;
      try {
        auth = authFor(trigger, env);
      } catch (error) {
        throw new MissingCredentialError((error as Error).message);
      }
      const location = {
        triggerUrl,
        auth,
        api: endpoint.api,
        protocol: endpoint.protocol,
        functionName: endpoint.functionName,
        qualifier: endpoint.qualifier,
      };
      return new FcAsyncQueue(location, entry.settings, submissionIndex(), sdkTaskReader(location, env));
    }
    if (endpoint.kind === "sqs") {
      const credentials = credentialSourceFromEnv(env);
      if (!credentials)
        throw new MissingCredentialError(
          `the endpoints file queues ${key} in SQS, which needs AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run with a task role (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI)`,
        );
      const { queueUrl, region, table, sqsEndpoint, dynamodbEndpoint } = endpoint;
      return new SqsQueue(
        { queueUrl, region, sqsEndpoint, table: { name: table, region, endpoint: dynamodbEndpoint } },
        entry.settings,
        credentials,
      );
    }
    if (!settings.redis)
      throw new UsageError(
        `the endpoints file queues ${key} in Redis, but the gateway has none: set CLOUDLOOM_REDIS_URL (or "redis" in --config) to the stack's Redis`,
      );
    return new BullmqQueue(queueName(app, entry.kind, entry.name), entry.settings, settings.redis.url, onError);
  };
  const queueFor = (entry: AsyncEntry): InvocationQueue | undefined => {
    const { spec, endpoints } = current();
    const endpoint = endpoints.queues?.[asyncEntryKey(entry.kind, entry.name)];
    if (!endpoint) return undefined;
    // One queue per entry, endpoint and settings, shared by the configurations that agree on them.
    const memo = JSON.stringify([spec.app, entry.kind, entry.name, endpoint, entry.settings]);
    let queue = built.get(memo);
    if (!queue) {
      queue = build(spec.app, endpoints, entry, endpoint);
      built.set(memo, queue);
    }
    return queue;
  };
  return {
    queueFor,
    close: async () => {
      await Promise.all([...built.values()].map((queue) => queue.close?.()));
      submissions?.redis?.disconnect();
    },
  };
}
