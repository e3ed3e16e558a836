/** The queues step on aws: asynchronous entries are refused before any resource exists, until this target places their queues. */
import { asyncEntries } from "../../sdk/spec";
import { TargetConfigError } from "../shared/config-error";
import type { AwsContext } from "./context";

/** Refuses an app with asynchronous entries, naming them. */
export function placeQueues(context: AwsContext): void {
  const queued = [...asyncEntries(context.spec).values()].map((entry) => `${entry.kind} ${entry.name}`);
  if (queued.length > 0)
    throw new TargetConfigError(`asynchronous entries (${queued.join(", ")}) cannot be deployed on aws by this version of cloudloom`);
}
