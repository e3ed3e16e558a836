/**
 * Asynchronous entries on Kubernetes: each queues in BullMQ on the app's
 * Redis (the in-cluster StatefulSet with persistence, or the user's URL), and
 * its workers are its own pods in its home region: the pod server works the
 * queue next to its synchronous calls. A KEDA ScaledObject scales those pods
 * on the queue's waiting and running jobs (redis list triggers), down to zero
 * when it is idle; KEDA authenticates to Redis with the password Secret
 * (a TriggerAuthentication), never a literal.
 */
import * as pulumi from "@pulumi/pulumi";
import * as core from "@pulumi/kubernetes/core/v1";
import { CustomResource } from "@pulumi/kubernetes/apiextensions";
import type * as input from "@pulumi/kubernetes/types/input";
import { asyncEntries, asyncEntryKey, retryDelayMs, toSeconds, type AsyncEntry } from "../../sdk/spec";
import { queueListKeys, queueName } from "../../runtime/contract";
import { fillInAnnotation } from "../shared/fill-in";
import { entryLabels } from "../shared/labels";
import { resourceName } from "../shared/naming";
import type { QueueScaling } from "./autoscaling";
import type { KubernetesContext } from "./context";
import { appRedis, REDIS_PASSWORD_KEY, REDIS_PORT, redisUrlEnv, type AppRedis } from "./redis";

/** How workers and their scaler reach the queues' Redis. */
export interface QueueRedis {
  redis: AppRedis;
  /** The Secret holding the user's URL (`redis-url`) and its password, for workers and KEDA; absent for the in-cluster Redis. */
  urlSecret?: pulumi.Output<string>;
  /** The TriggerAuthentication KEDA's redis triggers use. */
  authentication: pulumi.Output<string>;
  /** `host:port`, TLS and database index, as KEDA's redis trigger takes them. */
  address: pulumi.Output<string>;
  enableTLS: pulumi.Output<string>;
  databaseIndex: pulumi.Output<string>;
}

/** A user's Redis URL as KEDA's trigger takes it (none of it secret but the password, which goes to a Secret). */
export function redisUrlParts(url: string): {
  address: string;
  enableTLS: string;
  databaseIndex: string;
  password: string;
  username: string;
} {
  const parsed = new URL(url);
  return {
    address: `${parsed.hostname}:${parsed.port || REDIS_PORT}`,
    enableTLS: String(parsed.protocol === "rediss:"),
    databaseIndex: String(Number(parsed.pathname.slice(1) || 0)),
    password: decodeURIComponent(parsed.password),
    username: decodeURIComponent(parsed.username),
  };
}

/** The queues step: the app's Redis and KEDA's authentication to it, when the app has asynchronous entries. */
export function placeQueues(context: KubernetesContext): void {
  const queued = asyncEntries(context.spec);
  // Jobs reach the queues through the in-cluster gateway; an app without one here (EKS and ACK models) queues nothing.
  if (queued.size === 0 || !context.args.gateway) return;
  const { spec } = context;
  // The gateway submits to them in the same Redis it keeps its limits in.
  context.endpoints.queues = Object.fromEntries([...queued.keys()].map((key) => [key, { kind: "redis" as const }]));
  const redis = appRedis(context);
  const labels = entryLabels(spec.app, "gateway", "queues");
  const name = resourceName(context.name, "queues");
  const metadata = { name, namespace: context.namespace!, labels };
  let urlSecret: pulumi.Output<string> | undefined;
  let passwordSecret: pulumi.Input<string>;
  let parts: pulumi.Output<ReturnType<typeof redisUrlParts>>;
  if ("url" in redis) {
    parts = pulumi.output(redis.url).apply(redisUrlParts);
    const secret = new core.Secret(
      name,
      {
        metadata: {
          ...metadata,
          annotations: fillInAnnotation({ "redis-url": "cloudloom:redisUrl", [REDIS_PASSWORD_KEY]: "cloudloom:redisUrl's password" }),
        },
        type: "Opaque",
        stringData: {
          "redis-url": pulumi.secret(redis.url),
          [REDIS_PASSWORD_KEY]: pulumi.secret(parts.apply((p) => p.password)),
        },
      },
      context.child,
    );
    urlSecret = secret.metadata.name;
    passwordSecret = secret.metadata.name;
  } else {
    parts = pulumi
      .output(redis.host)
      .apply((host) => ({ address: `${host}:${REDIS_PORT}`, enableTLS: "false", databaseIndex: "0", password: "", username: "" }));
    passwordSecret = redis.secretName;
  }
  const authentication = new CustomResource(
    name,
    {
      apiVersion: "keda.sh/v1alpha1",
      kind: "TriggerAuthentication",
      metadata,
      spec: { secretTargetRef: [{ parameter: "password", name: passwordSecret, key: REDIS_PASSWORD_KEY }] },
    },
    context.child,
  );
  const plain = pulumi.unsecret(parts);
  context.queueRedis = {
    redis,
    urlSecret,
    authentication: authentication.metadata.name,
    address: plain.apply((p) => p.address),
    enableTLS: plain.apply((p) => p.enableTLS),
    databaseIndex: plain.apply((p) => p.databaseIndex),
  };
}

/**
 * Seconds KEDA waits after the queue empties before scaling the workers to
 * zero: at least the policy's idle window, and long enough for a job waiting
 * out its last backoff (BullMQ's delayed set, which a live worker promotes) to
 * be taken and run.
 */
function cooldownSeconds(entry: AsyncEntry): number {
  const settings = entry.settings;
  return Math.ceil(retryDelayMs(settings, settings.retries) / 1_000 + toSeconds(settings.timeout));
}

/** Whether a synchronous route reaches the entry too (its workers then never scale to zero without a policy saying so). */
function servesSynchronously(context: KubernetesContext, entry: AsyncEntry): boolean {
  return Object.entries(context.spec.routes).some(
    ([key, route]) =>
      !entry.routes.includes(key) &&
      (entry.kind === "function"
        ? route.target.kind === "function" && route.target.name === entry.name
        : route.target.kind === "model" && Object.keys(route.target.weights).some((v) => `${route.target.name}@${v}` === entry.name)),
  );
}

/**
 * What the workload of `kind` `name` in `region` adds when it works an
 * asynchronous entry's queue (its home region only): the queue's Redis URL in
 * its environment, and the queue triggers of its scaler.
 */
export function queueWorker(
  context: KubernetesContext,
  kind: "function" | "model",
  name: string,
  region: string,
  jobsPerReplica: number,
): { env: input.core.v1.EnvVar[]; queue: QueueScaling } | undefined {
  const entry = asyncEntries(context.spec).get(asyncEntryKey(kind, name));
  const queueRedis = context.queueRedis;
  if (!entry || entry.region !== region || !queueRedis) return undefined;
  return {
    env: redisUrlEnv(queueRedis.redis, queueRedis.urlSecret ?? ""),
    queue: {
      lists: queueListKeys(queueName(context.spec.app, kind, name)),
      address: queueRedis.address,
      enableTLS: queueRedis.enableTLS,
      databaseIndex: queueRedis.databaseIndex,
      authentication: queueRedis.authentication,
      jobsPerReplica,
      cooldownSeconds: cooldownSeconds(entry),
      floor: servesSynchronously(context, entry) ? 1 : 0,
    },
  };
}
