/**
 * Asynchronous functions on Alibaba Cloud: Function Compute's own
 * asynchronous invocation. The queues step gives each, in its home region, a
 * dead-letter MNS queue when it keeps a dead letter (FC sends there what
 * failed every attempt), and tells the gateway where to submit (the
 * function's trigger with the async headers) and where to read tasks (FC's
 * API of the region). The functions step sets the function's asynchronous
 * configuration (retries, event age, task mode, the failure destination) and
 * lets its role send to exactly that queue; the gateway step lets the
 * gateway read exactly these functions' tasks.
 */
import * as pulumi from "@pulumi/pulumi";
import { getAccountOutput } from "@pulumi/alicloud";
import { ServiceQueue } from "@pulumi/alicloud/message";
import { asyncEntries, type AsyncSpec } from "../../sdk/spec";
import { entryLabels } from "../shared/labels";
import { resourceName } from "../shared/naming";
import type { AlicloudContext } from "./context";
import { LIVE_ALIAS } from "./serving";

/** How long an MNS queue keeps a message: its longest, seven days. */
const DEAD_LETTER_RETENTION_SECONDS = 604_800;

/** An asynchronous function's queue on Alibaba Cloud, as the functions and gateway steps use it. */
export interface PlacedFcQueue {
  region: string;
  settings: AsyncSpec;
  /** The dead-letter queue's destination ARN (`acs:mns:<region>:<account>:/queues/<name>/messages`), with a dead letter. */
  deadLetter?: pulumi.Output<string>;
  /** The function's ARN, on which the gateway may read tasks. */
  functionArn: pulumi.Output<string>;
}

/** The name FC gives the function of `fn` in `region` (functions.ts names them so). */
export const fcFunctionName = (context: AlicloudContext, fn: string, region: string): string =>
  resourceName(context.name, "fn", fn, region);

/** The queues step: a dead-letter queue per asynchronous function that keeps one, and the gateway's queue endpoints. */
export function placeQueues(context: AlicloudContext): void {
  const { spec, parent } = context;
  for (const [key, entry] of asyncEntries(spec)) {
    // Validation (CL_ASYNC_TARGET) keeps model versions off Function Compute's queues.
    if (entry.kind !== "function") continue;
    const { provider, alicloudRegion } = context.regions.get(entry.region)!;
    const account = getAccountOutput({ provider, parent });
    const functionName = fcFunctionName(context, entry.name, entry.region);
    const deadLetter = entry.settings.deadLetter
      ? new ServiceQueue(
          `${functionName}-dlq`,
          {
            queueName: `${functionName}-dlq`,
            messageRetentionPeriod: DEAD_LETTER_RETENTION_SECONDS,
            enableSse: true,
            sseType: "SMQ",
            tags: entryLabels(spec.app, "function", entry.name),
          },
          { parent, provider },
        )
      : undefined;
    context.queues.set(entry.name, {
      region: entry.region,
      settings: entry.settings,
      deadLetter: deadLetter && pulumi.interpolate`acs:mns:${alicloudRegion}:${account.id}:/queues/${deadLetter.queueName}/messages`,
      functionArn: pulumi.interpolate`acs:fc:${alicloudRegion}:${account.id}:functions/${functionName}`,
    });
    (context.endpoints.queues ??= {})[key] = account.id.apply((id) => ({
      kind: "fc" as const,
      api: `${id}.${alicloudRegion}.fc.aliyuncs.com`,
      functionName,
      qualifier: LIVE_ALIAS,
    }));
  }
}
