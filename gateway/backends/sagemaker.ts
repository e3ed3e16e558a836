/**
 * SageMaker endpoints as the gateway relays them. InvokeEndpoint answers a
 * model container's own 4xx or 5xx as 424 ModelError, the container's status
 * and body inside a JSON envelope (runtime/contract.ts,
 * sageMakerContainerAnswer). The gateway answers with the container's
 * instead, as every other target's model server answers: a client's bad
 * input gets its 400 and the container's error body, and a container's 5xx
 * is what retries, circuit breakers and outlier detection see.
 *
 * A 424 is read whole to be unwrapped, up to MAX_MODEL_ERROR_BYTES (a
 * container's error is small); past that it is refused as BAD_GATEWAY. A 424
 * whose body is not the envelope goes to the client as it came.
 */
import type { Endpoint } from "../../sdk/spec";
import { SAGEMAKER_MODEL_ERROR_STATUS, sageMakerContainerAnswer, ServingError } from "../../runtime/contract";
import type { BufferedResponse } from "./backend";

/** The most of a SageMaker 424 the gateway reads to unwrap it. */
export const MAX_MODEL_ERROR_BYTES = 1_048_576;

/** True for an endpoint whose calls are signed for SageMaker (InvokeEndpoint). */
export function isSageMakerEndpoint(endpoint: Endpoint): boolean {
  return typeof endpoint !== "string" && endpoint.sigv4?.service === "sagemaker";
}

/** True for an answer of a SageMaker endpoint that is read whole and unwrapped rather than streamed. */
export function isModelError(status: number): boolean {
  return status === SAGEMAKER_MODEL_ERROR_STATUS;
}

/** The failure of a 424 longer than MAX_MODEL_ERROR_BYTES: a 502, with nothing of it sent to the client. */
export function modelErrorTooLarge(): ServingError {
  return new ServingError("BAD_GATEWAY", `the model endpoint's error answer is larger than ${MAX_MODEL_ERROR_BYTES} bytes`);
}

/** The container's body's media type: SageMaker's envelope does not carry it, so JSON when it parses as JSON, else text. */
function mediaTypeOf(body: Buffer): string {
  try {
    JSON.parse(body.toString("utf8"));
    return "application/json; charset=utf-8";
  } catch {
    return "text/plain; charset=utf-8";
  }
}

/**
 * What the client gets for `response`, a SageMaker endpoint's whole answer:
 * for a 424 ModelError, the container's own status and body (with
 * SageMaker's other headers, such as its request id); anything else as it
 * came. Throws BAD_GATEWAY for a 424 longer than MAX_MODEL_ERROR_BYTES.
 */
export function containerResponse(response: BufferedResponse): BufferedResponse {
  if (!isModelError(response.status)) return response;
  if (response.body.length > MAX_MODEL_ERROR_BYTES) throw modelErrorTooLarge();
  const container = sageMakerContainerAnswer(response.status, response.body);
  if (!container) return response;
  const headers: Record<string, string> = {};
  // The envelope's own framing and type are not the container's body's.
  for (const name in response.headers) if (name !== "content-length" && name !== "content-type") headers[name] = response.headers[name];
  if (container.body.length > 0) headers["content-type"] = mediaTypeOf(container.body);
  headers["content-length"] = String(container.body.length);
  return { status: container.status, headers, body: container.body };
}
