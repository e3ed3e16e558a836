/**
 * The queues of a deployed stack's asynchronous entries, as its gateway
 * reaches them: from the endpoints map (`queues`), each built once and shared
 * by every configuration the gateway reloads, and closed with it.
 */
import type { Logger } from "pino";
import type { GatewaySettings, QueueFor } from "../gateway";
import { BullmqQueue, queueName, type InvocationQueue } from "../runtime";
import { asyncEntryKey, type AsyncEntry, type EndpointsMap, type SpecV1 } from "../sdk/spec";
import { UsageError } from "./io";

/** The queues a remote gateway submits to, and what closes them. */
export interface RemoteQueues {
  queueFor: QueueFor;
  close(): Promise<void>;
}

/**
 * The queue of each asynchronous entry named in the endpoints of `current()`
 * (the configuration being compiled, at start and at each reload). Redis
 * queues use the gateway's Redis, which they therefore need.
 */
export function remoteQueues(
  current: () => { spec: SpecV1; endpoints: EndpointsMap },
  settings: GatewaySettings,
  logger: Logger,
): RemoteQueues {
  const built = new Map<string, BullmqQueue>();
  const onError = (error: Error) => logger.warn({ err: error.message }, "queue connection");
  const queueFor = (entry: AsyncEntry): InvocationQueue | undefined => {
    const { spec, endpoints } = current();
    const key = asyncEntryKey(entry.kind, entry.name);
    const endpoint = endpoints.queues?.[key];
    if (!endpoint) return undefined;
    if (!settings.redis)
      throw new UsageError(
        `the endpoints file queues ${key} in Redis, but the gateway has none: set CLOUDLOOM_REDIS_URL (or "redis" in --config) to the stack's Redis`,
      );
    const name = queueName(spec.app, entry.kind, entry.name);
    const memo = `${name}\n${JSON.stringify(entry.settings)}`;
    let queue = built.get(memo);
    if (!queue) {
      queue = new BullmqQueue(name, entry.settings, settings.redis.url, onError);
      built.set(memo, queue);
    }
    return queue;
  };
  return {
    queueFor,
    close: async () => {
      await Promise.all([...built.values()].map((queue) => queue.close()));
    },
  };
}
