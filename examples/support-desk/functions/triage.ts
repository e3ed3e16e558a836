/**
 * The business rules both handlers apply to the intent model's answer: which
 * queue a message goes to, and how urgent it is.
 */
import { INTENTS, type Intent } from "../model/dataset";

const QUEUES: Record<Intent, string> = {
  billing: "finance",
  technical: "support-l2",
  sales: "sales",
  account: "support-l1",
  spam: "discard",
};

const URGENT = /\b(urgent|asap|immediately|down|outage|charged twice|fraud)\b/i;

/** Where a message goes, from the model's probabilities: low confidence goes to triage, urgent words raise the priority. */
export function triage(
  message: string,
  probabilities: Float32Array,
): { intent: Intent; confidence: number; queue: string; priority: "high" | "normal" } {
  let best = 0;
  for (let i = 1; i < probabilities.length; i++) if (probabilities[i] > probabilities[best]) best = i;
  const intent = INTENTS[best];
  const confidence = probabilities[best];
  return {
    intent,
    confidence: Number(confidence.toFixed(4)),
    queue: confidence < 0.5 ? "triage" : QUEUES[intent],
    priority: intent !== "spam" && URGENT.test(message) ? "high" : "normal",
  };
}

/** True for a message the handlers accept: 1-2000 characters, not blank. */
export const isMessage = (message: unknown): message is string =>
  typeof message === "string" && message.trim() !== "" && message.length <= 2_000;
