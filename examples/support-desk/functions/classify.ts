/**
 * Classifies a customer message and decides where it goes: the intent model
 * says what the message is about; the business rules say which queue gets
 * it and how urgent it is.
 */
import { respond, type Handler } from "cloudloom";
import { INTENTS } from "../model/dataset";
import { featurize } from "../model/featurize";

const QUEUES: Record<(typeof INTENTS)[number], string> = {
  billing: "finance",
  technical: "support-l2",
  sales: "sales",
  account: "support-l1",
  spam: "discard",
};

const URGENT = /\b(urgent|asap|immediately|down|outage|charged twice|fraud)\b/i;

/** `POST {"message": "..."}` → intent, confidence, queue and priority. */
export const handler: Handler<"intent"> = async (request, context) => {
  const message = (request.body as { message?: unknown } | undefined)?.message;
  if (typeof message !== "string" || message.trim() === "" || message.length > 2_000) {
    return respond(400, { error: { code: "BAD_MESSAGE", message: 'send {"message": "<1-2000 characters>"}' } });
  }
  const { probabilities } = await context.models.intent.predict({ features: featurize(message) });
  let best = 0;
  for (let i = 1; i < probabilities.length; i++) if (probabilities[i] > probabilities[best]) best = i;
  const intent = INTENTS[best];
  const confidence = probabilities[best];
  const queue = confidence < 0.5 ? "triage" : QUEUES[intent];
  // The call's span (a no-op with tracing off): the decision shows up in the trace, next to the model's spans.
  context.span.setAttributes({ "support.intent": intent, "support.queue": queue });
  return {
    intent,
    confidence: Number(confidence.toFixed(4)),
    queue,
    priority: intent !== "spam" && URGENT.test(message) ? "high" : "normal",
    modelVersion: context.models.intent.version,
  };
};

/** A request body `cloudloom serve` prints as a ready-to-paste curl line. */
export const example = { message: "I was charged twice for my pro plan, please refund me asap" };
