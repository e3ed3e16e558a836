/**
 * Checks one sample against a model's declared signature, so a wrong shape
 * or type is a 400 that names the field rather than an error deep inside
 * onnxruntime.
 */
import type { TensorSpec } from "../sdk/spec";
import { ServingError } from "./contract";

/** One sample's inputs, each a flat typed array in the declared shape without the batch axis. */
export type Sample = Record<string, Float32Array>;

/** Values per sample of a tensor: the product of its dimensions after the batch axis. */
export function sampleSize(tensor: TensorSpec): number {
  return tensor.shape.slice(1).reduce((a, b) => a * b, 1);
}

/** The largest finite float32. */
const FLOAT32_MAX = 3.4028234663852886e38;

/** True when every value is a number float32 holds as a finite value. */
function everyFloat32(values: ArrayLike<unknown>): boolean {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== "number" || !(Math.abs(v) <= FLOAT32_MAX)) return false;
  }
  return true;
}

/** Why the local runtime cannot serve a tensor, if it cannot: it batches float32 tensors whose only dynamic axis is the first. */
export function unsupportedReason(name: string, tensor: TensorSpec): string | undefined {
  if (tensor.type !== "float32") return `${name} is ${tensor.type}; the local runtime serves float32 tensors`;
  if (tensor.shape.slice(1).some((d) => d <= 0)) return `${name} has a dynamic axis after the batch axis`;
  return undefined;
}

/**
 * Reads `inputs` (from a JSON body or a handler) into a sample.
 * @throws ServingError INVALID_INPUT naming the field.
 */
export function toSample(inputs: unknown, declared: Record<string, TensorSpec>): Sample {
  if (inputs === null || typeof inputs !== "object" || Array.isArray(inputs)) {
    throw new ServingError(
      "INVALID_INPUT",
      `inputs must be an object with ${Object.keys(declared)
        .map((n) => `"${n}"`)
        .join(", ")}`,
    );
  }
  const given = inputs as Record<string, unknown>;
  const unknown = Object.keys(given).filter((name) => !Object.hasOwn(declared, name));
  if (unknown.length > 0) throw new ServingError("INVALID_INPUT", `inputs.${unknown[0]} is not an input of this model`);
  const sample: Sample = {};
  for (const [name, tensor] of Object.entries(declared)) {
    const size = sampleSize(tensor);
    const value = given[name];
    if (!(value instanceof Float32Array) && !Array.isArray(value)) {
      throw new ServingError("INVALID_INPUT", `inputs.${name} must be an array of ${size} ${tensor.type} values`);
    }
    if (value.length !== size) {
      throw new ServingError(
        "INVALID_INPUT",
        `inputs.${name} has ${value.length} values; shape [${tensor.shape.slice(1).join(", ")}] needs ${size}`,
      );
    }
    // A finite JavaScript number may still overflow float32 (3.5e38 becomes Infinity, and every output null).
    if (!everyFloat32(value)) {
      throw new ServingError("INVALID_INPUT", `inputs.${name} must hold only finite numbers within float32's range (±${FLOAT32_MAX})`);
    }
    sample[name] = value instanceof Float32Array ? value : Float32Array.from(value as number[]);
  }
  return sample;
}

/**
 * Reads a JSON request body (empty: undefined).
 * @throws ServingError BAD_JSON.
 */
export function readJson(body: Uint8Array): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8"));
  } catch {
    throw new ServingError("BAD_JSON", "the request body is not valid JSON");
  }
}

/**
 * Reads a predict request's JSON body, `{"inputs": {...}}`, into a sample.
 * @throws ServingError BAD_JSON, or INVALID_INPUT naming the field.
 */
export function sampleFromBody(body: Uint8Array, declared: Record<string, TensorSpec>): Sample {
  return toSample((readJson(body) as { inputs?: unknown } | undefined)?.inputs, declared);
}
