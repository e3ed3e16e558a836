/** Helpers for asynchronous-invocation tests: submit to a route, read an invocation, wait for its final state. */
import assert from "node:assert/strict";

/** A final state: the invocation will not change again. */
export const FINAL_STATES = new Set(["succeeded", "failed", "dead-lettered"]);

/** An invocation as `GET /v1/invocations/{id}` answers it. */
export interface InvocationBody {
  id: string;
  route: string;
  state: string;
  attempts: number;
  submittedAt: string;
  startedAt?: string;
  finishedAt?: string;
  result?: { status: number; body: any };
  error?: { code: string; message: string };
}

const auth = (key?: string): Record<string, string> => (key ? { authorization: `Bearer ${key}` } : {});

/** POSTs `body` to an asynchronous route; returns the response and, for a 202, the invocation id. */
export async function submit(
  base: string,
  path: string,
  body: unknown,
  key?: string,
  headers: Record<string, string> = {},
): Promise<{ response: Response; id?: string; json: any }> {
  const response = await fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...auth(key), ...headers },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as any;
  return { response, id: response.status === 202 ? json.id : undefined, json };
}

/** Reads invocation `id` as the holder of `key`. */
export async function readInvocation(base: string, id: string, key?: string): Promise<{ status: number; json: any }> {
  const response = await fetch(`${base}/v1/invocations/${id}`, { headers: auth(key) });
  return { status: response.status, json: (await response.json()) as any };
}

/** Polls invocation `id` until it is final; mocha's timeout bounds the wait. */
export async function finalInvocation(base: string, id: string, key?: string): Promise<InvocationBody> {
  for (;;) {
    const { status, json } = await readInvocation(base, id, key);
    assert.equal(status, 200, JSON.stringify(json));
    if (FINAL_STATES.has(json.state)) return json as InvocationBody;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
