/** The final state of an invocation, the same on every queue. */
import type { AsyncSpec } from "../../sdk/spec";

/** The state an invocation ends in when its entry answered `status`: a 4xx is a result, and a failure (never retried). */
export const answeredState = (status: number): "succeeded" | "failed" => (status < 400 ? "succeeded" : "failed");

/** The state of an invocation whose every attempt failed: kept in the dead-letter store, or only marked failed. */
export const exhaustedState = (settings: AsyncSpec): "failed" | "dead-lettered" => (settings.deadLetter ? "dead-lettered" : "failed");
