/**
 * One HTTP call to one entry of the runtime: the JSON body in, the
 * function's response or the model's outputs out. The pod server answers
 * with it; the gateway's in-process backend calls it with no network hop.
 */
import type { IncomingHttpHeaders } from "node:http";
import { ServingError } from "./contract";
import type { LocalRuntime } from "./runtime";
import { readJson } from "./signature";

/** The parts of a request an entry sees; the body is already read. */
export interface EntryCall {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  query: Record<string, unknown>;
  body: Buffer;
  requestId: string;
}

/** A whole response. */
export interface EntryResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

const coldHeaders = (cold: boolean, ms: number): Record<string, string> =>
  cold ? { "x-cloudloom-cold": "true", "x-cloudloom-cold-start-ms": ms.toFixed(1) } : { "x-cloudloom-cold": "false" };

/**
 * Calls function `entry` (or predicts with model version `entry`) in `region`,
 * traced (when the runtime traces) under the `traceparent` the call carries.
 * Anything thrown that is not a ServingError becomes INTERNAL with the
 * original as its cause: a 500 whose cause the server logs, never a timeout.
 */
export async function callEntry(
  runtime: LocalRuntime,
  kind: "function" | "model",
  entry: string,
  region: string,
  call: EntryCall,
): Promise<EntryResponse> {
  try {
    return await callEntryUnchecked(runtime, kind, entry, region, call);
  } catch (error) {
    if (error instanceof ServingError) throw error;
    throw Object.assign(new ServingError("INTERNAL", `${kind} ${entry} failed unexpectedly`), { cause: error });
  }
}

async function callEntryUnchecked(
  runtime: LocalRuntime,
  kind: "function" | "model",
  entry: string,
  region: string,
  call: EntryCall,
): Promise<EntryResponse> {
  const parent = runtime.traceParent(call.headers);
  if (kind === "function") {
    const body = readJson(call.body);
    const { response, cold, coldStartMs } = await runtime.invoke(
      entry,
      region,
      { method: call.method, path: call.path, headers: call.headers, query: call.query, body },
      call.requestId,
      parent,
    );
    return {
      status: response.status,
      headers: { "content-type": "application/json; charset=utf-8", ...response.headers, ...coldHeaders(cold, coldStartMs) },
      body: Buffer.from(JSON.stringify(response.body ?? null)),
    };
  }
  // The body goes to the model's session thread as it is: reading its JSON there keeps that work off the event loop.
  const prediction = await runtime.predictBody(entry, region, call.body, parent);
  const outputs = Object.fromEntries(Object.entries(prediction.outputs).map(([name, data]) => [name, Array.from(data)]));
  const [model, version] = entry.split("@");
  return {
    status: 200,
    headers: { "content-type": "application/json; charset=utf-8", ...coldHeaders(prediction.cold, prediction.coldStartMs) },
    body: Buffer.from(JSON.stringify({ model, version, outputs })),
  };
}
