/**
 * Asynchronous functions and model versions on Alibaba Cloud: Function
 * Compute's own asynchronous invocation. The queues step gives each, in its
 * home region, a dead-letter MNS queue when it keeps a dead letter (FC sends
 * there what failed every attempt), and tells the gateway where to submit
 * (the FC function's trigger with the async headers) and where to read tasks
 * (FC's API of the region). The step that creates the FC function (a
 * function's, a model version's, or a canaried model's) sets its
 * asynchronous configuration on the qualifier the trigger serves (retries,
 * event age, task mode, the failure destination) and lets its role send to
 * exactly that queue (invokeAsynchronously); the gateway step lets the
 * gateway read exactly these functions' tasks.
 *
 * A model version's FC function is a custom container serving HTTP (a web
 * function): FC runs an asynchronous call of its trigger like any other and
 * counts an answer as a failure only when it carries `x-fc-status: 404`,
 * which the runtime's model server adds to a 5xx answer of an asynchronous
 * attempt (runtime/pod/pod-server.ts). Validation (CL_ASYNC_MODEL_HOST)
 * keeps model versions served on ACK or on ENS nodes off these queues.
 */
import * as pulumi from "@pulumi/pulumi";
import { getAccountOutput } from "@pulumi/alicloud";
import { V3AsyncInvokeConfig } from "@pulumi/alicloud/fc";
import { ServiceQueue } from "@pulumi/alicloud/message";
import type { Role } from "@pulumi/alicloud/ram";
import { asyncEntries, asyncEntryKey, fcCanaries, toSeconds, type AsyncEntry, type AsyncSpec } from "../../sdk/spec";
import { entryLabels } from "../shared/labels";
import { dnsSafe, modelPart, resourceName } from "../shared/naming";
import type { AlicloudContext } from "./context";
import { grant } from "./ram";
import { LIVE_ALIAS } from "./serving";

/** How long an MNS queue keeps a message: its longest, seven days. */
const DEAD_LETTER_RETENTION_SECONDS = 604_800;

/** An asynchronous entry's queue on Alibaba Cloud, as the functions, models and gateway steps use it. */
export interface PlacedFcQueue {
  region: string;
  settings: AsyncSpec;
  /** The dead-letter queue's destination ARN (`acs:mns:<region>:<account>:/queues/<name>/messages`), with a dead letter. */
  deadLetter?: pulumi.Output<string>;
  /** The FC function's ARN, on which the gateway may read tasks. */
  functionArn: pulumi.Output<string>;
}

/** The name FC gives the function of `fn` in `region` (functions.ts names them so). */
export const fcFunctionName = (context: AlicloudContext, fn: string, region: string): string =>
  resourceName(context.name, "fn", fn, region);

/**
 * The name of the FC function serving model version `key` in `region`: its
 * model's shared function when an FC alias splits the model's versions
 * (model-family.ts), else its own (model.ts).
 */
export function fcModelFunctionName(context: AlicloudContext, key: string, region: string): string {
  const model = context.spec.models[key];
  const canaried = fcCanaries(context.spec).some((canary) => canary.model === model.name && model.version in canary.weights);
  return resourceName(context.name, canaried ? dnsSafe(model.name) : modelPart(model.name, model.version), region);
}

/** The FC function that runs `entry`'s jobs in its home region, and the name and labels of its dead-letter queue. */
function queueOwner(
  context: AlicloudContext,
  entry: AsyncEntry,
): { functionName: string; queueName: string; tags: Record<string, string> } {
  if (entry.kind === "function") {
    const functionName = fcFunctionName(context, entry.name, entry.region);
    return { functionName, queueName: `${functionName}-dlq`, tags: entryLabels(context.spec.app, "function", entry.name) };
  }
  // The versions of a canaried model share one function: each version's queue is its own.
  const model = context.spec.models[entry.name];
  return {
    functionName: fcModelFunctionName(context, entry.name, entry.region),
    queueName: resourceName(context.name, "mq", modelPart(model.name, model.version), entry.region, "dlq"),
    tags: entryLabels(context.spec.app, "model", model.name, { "cloudloom.dev/version": model.version }),
  };
}

/**
 * The queues step: a dead-letter queue per asynchronous entry that keeps one,
 * and the gateway's queue endpoints of functions (a model version's is
 * recorded where its FC function is made, which knows the qualifier its trigger serves).
 */
export function placeQueues(context: AlicloudContext): void {
  const { spec, parent } = context;
  for (const [key, entry] of asyncEntries(spec)) {
    const { provider, alicloudRegion } = context.regions.get(entry.region)!;
    const account = getAccountOutput({ provider, parent });
    const { functionName, queueName, tags } = queueOwner(context, entry);
    const deadLetter = entry.settings.deadLetter
      ? new ServiceQueue(
          queueName,
          { queueName, messageRetentionPeriod: DEAD_LETTER_RETENTION_SECONDS, enableSse: true, sseType: "SMQ", tags },
          { parent, provider },
        )
      : undefined;
    context.queues.set(key, {
      region: entry.region,
      settings: entry.settings,
      deadLetter: deadLetter && pulumi.interpolate`acs:mns:${alicloudRegion}:${account.id}:/queues/${deadLetter.queueName}/messages`,
      functionArn: pulumi.interpolate`acs:fc:${alicloudRegion}:${account.id}:functions/${functionName}`,
    });
    if (entry.kind === "function") recordQueueEndpoint(context, key, entry.region, functionName, LIVE_ALIAS);
  }
}

/** Tells the gateway where entry `key`'s jobs go: FC's API in `region`, the function and the qualifier its trigger serves. */
export function recordQueueEndpoint(
  context: AlicloudContext,
  key: string,
  region: string,
  functionName: string,
  qualifier: pulumi.Input<string>,
): void {
  const { provider, alicloudRegion } = context.regions.get(region)!;
  const account = getAccountOutput({ provider, parent: context.parent });
  (context.endpoints.queues ??= {})[key] = pulumi.all([account.id, qualifier]).apply(([id, resolved]) => ({
    kind: "fc" as const,
    api: `${id}.${alicloudRegion}.fc.aliyuncs.com`,
    functionName,
    qualifier: resolved,
  }));
}

/** The queue of `kind` entry `name` when `region` is its home, else undefined. */
export function queueHere(context: AlicloudContext, kind: "function" | "model", name: string, region: string): PlacedFcQueue | undefined {
  const placed = context.queues.get(asyncEntryKey(kind, name));
  return placed?.region === region ? placed : undefined;
}

/**
 * FC's asynchronous invocation of `functionName`'s `qualifier`, from the
 * entry's settings: its retries, the event age from its retention, task mode
 * (so the gateway can read each task) and, with a dead letter, a failure
 * destination on its MNS queue, which `role` (the function's, with which FC
 * delivers it) may send to first. Named `<name>-async`.
 */
export function invokeAsynchronously(
  name: string,
  functionName: pulumi.Input<string>,
  qualifier: pulumi.Input<string>,
  queue: PlacedFcQueue,
  role: Role | undefined,
  tags: Record<string, string>,
  opts: pulumi.CustomResourceOptions,
): V3AsyncInvokeConfig {
  const deadLetterSend =
    role && queue.deadLetter ? [grant(name, "dead-letter", role, ["mns:SendMessage"], [queue.deadLetter], tags, opts)] : [];
  return new V3AsyncInvokeConfig(
    `${name}-async`,
    {
      functionName,
      qualifier,
      maxAsyncRetryAttempts: queue.settings.retries,
      maxAsyncEventAgeInSeconds: Math.round(toSeconds(queue.settings.retention)),
      asyncTask: true,
      destinationConfig: queue.deadLetter ? { onFailure: { destination: queue.deadLetter } } : undefined,
    },
    { ...opts, dependsOn: deadLetterSend },
  );
}
