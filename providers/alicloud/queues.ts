/** The queues step on alicloud: asynchronous entries are refused before any resource exists, until this target places their queues. */
import { asyncEntries } from "../../sdk/spec";
import { TargetConfigError } from "../shared/config-error";
import type { AlicloudContext } from "./context";

/** Refuses an app with asynchronous entries, naming them. */
export function placeQueues(context: AlicloudContext): void {
  const queued = [...asyncEntries(context.spec).values()].map((entry) => `${entry.kind} ${entry.name}`);
  if (queued.length > 0)
    throw new TargetConfigError(`asynchronous entries (${queued.join(", ")}) cannot be deployed on alicloud by this version of cloudloom`);
}
