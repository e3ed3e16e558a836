/**
 * Classifies a customer message and decides where it goes: the intent model
 * says what the message is about; the business rules (triage.ts) say which
 * queue gets it and how urgent it is.
 */
import { respond, type Handler } from "cloudloom";
import { featurize } from "../model/featurize";
import { isMessage, triage } from "./triage";

/** `POST {"message": "..."}` → intent, confidence, queue and priority. */
export const handler: Handler<"intent"> = async (request, context) => {
  const message = (request.body as { message?: unknown } | undefined)?.message;
  if (!isMessage(message)) {
    return respond(400, { error: { code: "BAD_MESSAGE", message: 'send {"message": "<1-2000 characters>"}' } });
  }
  const { probabilities } = await context.models.intent.predict({ features: featurize(message) });
  const decision = triage(message, probabilities);
  // The call's span (a no-op with tracing off): the decision shows up in the trace, next to the model's spans.
  context.span.setAttributes({ "support.intent": decision.intent, "support.queue": decision.queue });
  return { ...decision, modelVersion: context.models.intent.version };
};

/** A request body `cloudloom serve` prints as a ready-to-paste curl line. */
export const example = { message: "I was charged twice for my pro plan, please refund me asap" };
