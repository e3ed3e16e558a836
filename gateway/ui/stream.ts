/**
 * The dashboard's data stream: Server-Sent Events read with fetch, so the
 * admin key can travel in a header (EventSource cannot send one) rather than
 * in a URL that proxies log. eventsource-parser parses the event stream.
 */
import { createParser } from "eventsource-parser";

/** How one attempt to read the stream ended. */
export type StreamEnd =
  /** The gateway wants the admin key (401), or refused too many wrong ones (429). */
  | { kind: "refused"; status: number; message: string }
  /** The gateway could not be reached, answered something else, or the stream broke. */
  | { kind: "lost"; message: string };

/** What the page does with the stream. */
export interface StreamHandlers {
  /** The stream is open. */
  open(): void;
  /** One event with its name and JSON data. */
  event(name: string, data: string): void;
}

/** The headers of a request to the gated endpoints: the admin key, when the page has one. */
export function authHeaders(key: string | undefined): Record<string, string> {
  return key ? { "x-admin-key": key } : {};
}

/** The error message of a refused request, from the gateway's JSON error body when it sent one. */
export async function refusal(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { error?: { message?: string } };
    return body.error?.message ?? `HTTP ${response.status}`;
  } catch {
    return `HTTP ${response.status}`;
  }
}

/** Reads the stream at `url` until it ends; resolves with how it ended. */
export async function readStream(url: string, key: string | undefined, handlers: StreamHandlers): Promise<StreamEnd> {
  let response: Response;
  try {
    response = await fetch(url, { headers: { accept: "text/event-stream", ...authHeaders(key) }, cache: "no-store" });
  } catch {
    return { kind: "lost", message: "the gateway did not answer" };
  }
  if (response.status === 401 || response.status === 429)
    return { kind: "refused", status: response.status, message: await refusal(response) };
  if (!response.ok || !response.body) return { kind: "lost", message: `the metrics endpoint answered ${response.status}` };
  handlers.open();
  const parser = createParser({ onEvent: (message) => handlers.event(message.event ?? "message", message.data) });
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { kind: "lost", message: "the gateway ended the stream" };
      parser.feed(value);
    }
  } catch {
    return { kind: "lost", message: "the stream broke off" };
  }
}
