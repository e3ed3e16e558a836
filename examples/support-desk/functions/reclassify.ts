/**
 * Re-classifies a backlog of tickets, for instance after a new model version
 * or new routing rules: every ticket through the intent model (the runtime
 * batches the calls) and the same rules as `classify`, with a count per
 * queue. It is an asynchronous route: a backlog takes longer than a client
 * should wait, so the gateway answers 202 with an invocation id and the
 * result is read from `GET /v1/invocations/{id}`.
 */
import { respond, type Handler } from "cloudloom";
import { featurize } from "../model/featurize";
import { isMessage, triage } from "./triage";

/** Tickets one invocation takes at most. */
const MAX_TICKETS = 500;

interface Ticket {
  id: string;
  message: string;
}

function isTicket(value: unknown): value is Ticket {
  const ticket = value as Partial<Ticket> | null;
  return typeof ticket?.id === "string" && ticket.id !== "" && ticket.id.length <= 64 && isMessage(ticket.message);
}

/** `POST {"tickets": [{"id", "message"}, ...]}` → each ticket's intent, queue and priority, and the count per queue. */
export const handler: Handler<"intent"> = async (request, context) => {
  const tickets = (request.body as { tickets?: unknown } | undefined)?.tickets;
  if (!Array.isArray(tickets) || tickets.length === 0 || tickets.length > MAX_TICKETS || !tickets.every(isTicket)) {
    return respond(400, {
      error: {
        code: "BAD_BACKLOG",
        message: `send {"tickets": [{"id": "<1-64 characters>", "message": "<1-2000 characters>"}, ...]}, 1-${MAX_TICKETS} tickets`,
      },
    });
  }
  const triaged = await Promise.all(
    tickets.map(async (ticket) => {
      const { probabilities } = await context.models.intent.predict({ features: featurize(ticket.message) });
      return { id: ticket.id, ...triage(ticket.message, probabilities) };
    }),
  );
  const byQueue: Record<string, number> = {};
  for (const ticket of triaged) byQueue[ticket.queue] = (byQueue[ticket.queue] ?? 0) + 1;
  return { reclassified: triaged.length, byQueue, tickets: triaged, modelVersion: context.models.intent.version };
};

/** A request body `cloudloom serve` prints as a ready-to-paste curl line. */
export const example = {
  tickets: [
    { id: "T-1001", message: "I was charged twice for my pro plan, please refund me asap" },
    { id: "T-1002", message: "The dashboard shows error 500 since this morning" },
  ],
};
