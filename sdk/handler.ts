/**
 * What a function handler module exports, and what it receives. On the local
 * target the runtime calls the handler in-process; on a cloud target the
 * same module runs inside the platform's function.
 */
import type { Span } from "@opentelemetry/api";

/** One sample's tensors by input name: a flat array in the declared shape without the batch axis. */
export type TensorValues = Record<string, Float32Array | number[]>;

/** Typed access to one model a function declared. */
export interface ModelClient {
  /** The version that will serve the call. */
  readonly version: string;
  /** Runs one sample; concurrent calls are batched by the runtime. */
  predict(inputs: TensorValues): Promise<Record<string, Float32Array>>;
}

/** The request a handler receives. */
export interface FunctionRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  query: Record<string, unknown>;
  body: unknown;
}

/** A handler's full response; a handler may also return a plain body (sent as JSON, status 200). */
export interface FunctionResponse {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

/** What a handler gets besides the request. `M` names the models it declared. */
export interface HandlerContext<M extends string = string> {
  /** The models declared on the function, by model name. */
  models: Record<M, ModelClient>;
  /** The region serving this call. */
  region: string;
  requestId: string;
  /** The function's environment, secrets resolved. */
  env: Readonly<Record<string, string>>;
  /**
   * The OpenTelemetry span of this call (docs/tracing.md), active while the handler runs: add
   * attributes and events to it (`ctx.span.setAttribute("ticket.priority", "high")`), or start spans
   * under it. With tracing off it records nothing, so handlers need not check.
   */
  span: Span;
}

/** A function handler. */
export type Handler<M extends string = string> = (
  request: FunctionRequest,
  context: HandlerContext<M>,
) => Promise<FunctionResponse | unknown> | FunctionResponse | unknown;

/** True when a handler returned a full response rather than a plain body. */
export function isFunctionResponse(value: unknown): value is FunctionResponse {
  return typeof value === "object" && value !== null && typeof (value as FunctionResponse).status === "number" && "body" in value;
}

/** Marks a plain object as a full response rather than a body. */
export function respond(status: number, body: unknown, headers?: Record<string, string>): FunctionResponse {
  return { status, body, headers };
}
