/**
 * A model's declared signature against its ONNX file: the names of inputs
 * and outputs, their element types, ranks and fixed dimensions, as the file
 * itself states them. A declared `-1` matches a symbolic or unknown
 * dimension; a declared number matches the same fixed size, or any size the
 * file leaves open.
 */
import { ONNX_ELEMENT_TYPES, OnnxFormatError, readOnnxGraph, type OnnxDim, type OnnxGraph, type OnnxTensor } from "../onnx";
import type { ModelSpec, TensorSpec } from "../schema";
import { closest } from "../suggest";
import type { Report } from "./report";

/** ONNX element type numbers of the types a signature can declare. */
const DECLARED_TYPES: Record<TensorSpec["type"], number> = { float32: 1, float64: 11, int32: 6, int64: 7, bool: 9, string: 8 };

const typeName = (elemType: number | undefined): string =>
  elemType === undefined ? "an unset type" : (ONNX_ELEMENT_TYPES[elemType] ?? `element type ${elemType}`);

const dimText = (dim: OnnxDim): string => (dim === undefined ? "?" : String(dim));

/** How the file describes a tensor, e.g. `float32 [batch, 512]`. */
function describeFile(tensor: OnnxTensor): string {
  if (tensor.kind !== "tensor") return `a ${tensor.kind}, not a tensor`;
  return `${typeName(tensor.elemType)} ${tensor.dims ? `[${tensor.dims.map(dimText).join(", ")}]` : "of any shape"}`;
}

/** The declaration that matches the file's tensor, as it would be written, e.g. `{ type: "float32", shape: [-1, 512] }`. */
function declarationFor(tensor: OnnxTensor): string | undefined {
  const type = Object.entries(DECLARED_TYPES).find(([, number]) => number === tensor.elemType)?.[0];
  if (tensor.kind !== "tensor" || type === undefined || tensor.dims === undefined) return undefined;
  return `{ type: "${type}", shape: [${tensor.dims.map((dim) => (typeof dim === "number" ? dim : -1)).join(", ")}] }`;
}

/** What differs between a declared tensor and the file's, one phrase each; empty when they agree. */
function differences(declared: TensorSpec, file: OnnxTensor): string[] {
  if (file.kind !== "tensor") return [`the file's value is a ${file.kind}; signatures declare tensors`];
  const found: string[] = [];
  if (file.elemType !== undefined && file.elemType !== DECLARED_TYPES[declared.type])
    found.push(`its type is ${typeName(file.elemType)}, not ${declared.type}`);
  if (file.dims === undefined) return found;
  if (file.dims.length !== declared.shape.length) {
    found.push(`it has ${file.dims.length} dimension(s), not ${declared.shape.length}`);
    return found;
  }
  file.dims.forEach((dim, index) => {
    const want = declared.shape[index];
    if (typeof dim !== "number") return; // symbolic or unknown: any declared size fits
    if (want === -1) found.push(`dimension ${index} is fixed at ${dim}, not dynamic (-1)`);
    else if (want !== dim) found.push(`dimension ${index} is ${dim}, not ${want}`);
  });
  return found;
}

function compare(
  base: string,
  kind: "inputs" | "outputs",
  declared: Record<string, TensorSpec>,
  actual: OnnxTensor[],
  file: string,
  report: Report,
): void {
  const byName = new Map(actual.map((tensor) => [tensor.name, tensor]));
  const singular = kind === "inputs" ? "input" : "output";
  const listing = actual.map((tensor) => `${tensor.name} (${describeFile(tensor)})`).join(", ") || "(none)";
  const renamed = new Set<string>();
  for (const [name, tensor] of Object.entries(declared)) {
    const path = `${base}.signature.${kind}.${name}`;
    const match = byName.get(name);
    if (!match) {
      const suggestion = closest(name, byName.keys());
      if (suggestion) renamed.add(suggestion);
      report(
        "CL_SIGNATURE_MISMATCH",
        path,
        `${file} has no ${singular} "${name}"${suggestion ? `; did you mean "${suggestion}"?` : "."} Its ${kind}: ${listing}`,
        suggestion ? `rename ${singular} "${name}" to "${suggestion}"` : `declare the ${kind} the file has: ${listing}`,
      );
      continue;
    }
    const found = differences(tensor, match);
    if (found.length === 0) continue;
    const declaration = declarationFor(match);
    report(
      "CL_SIGNATURE_MISMATCH",
      path,
      `${file} says ${singular} "${name}" is ${describeFile(match)}, but the signature declares ${tensor.type} [${tensor.shape.join(", ")}]: ${found.join("; ")}`,
      declaration
        ? `declare ${name}: ${declaration}, as the file does (or export the model with the declared ${singular})`
        : `export the model with a float32, float64, int32, int64, bool or string tensor for "${name}"`,
    );
  }
  if (kind !== "inputs") return; // outputs the signature leaves out are simply not read
  for (const tensor of actual) {
    if (Object.hasOwn(declared, tensor.name) || renamed.has(tensor.name)) continue;
    const declaration = declarationFor(tensor);
    report(
      "CL_SIGNATURE_MISMATCH",
      `${base}.signature.inputs`,
      `${file} needs input "${tensor.name}" (${describeFile(tensor)}), which the signature does not declare, so every call would lack it`,
      declaration ? `declare ${tensor.name}: ${declaration}` : `export the model without input "${tensor.name}", or with a tensor input`,
    );
  }
}

/** Compares the model's signature with the ONNX graph in `bytes`; a file that is not ONNX is reported once. */
export function checkSignature(base: string, model: ModelSpec, bytes: Uint8Array, report: Report): void {
  let graph: OnnxGraph;
  try {
    graph = readOnnxGraph(bytes);
  } catch (error) {
    if (!(error instanceof OnnxFormatError)) throw error;
    report(
      "CL_ARTIFACT_INVALID",
      `${base}.artifact.path`,
      `"${model.artifact.path}" is not an ONNX model: ${error.message}`,
      "point artifact.path at the .onnx file the model was exported to (its sha256 pins that file)",
    );
    return;
  }
  compare(base, "inputs", model.signature.inputs, graph.inputs, `"${model.artifact.path}"`, report);
  compare(base, "outputs", model.signature.outputs, graph.outputs, `"${model.artifact.path}"`, report);
}
