/**
 * Reads the inputs and outputs of an ONNX model's graph straight from the
 * file's protobuf bytes: names, element types and dimensions. It is a small
 * reader of the few ONNX messages involved (onnx.proto: ModelProto.graph,
 * GraphProto.input/output/initializer, ValueInfoProto, TypeProto.Tensor,
 * TensorShapeProto), so validation needs no protobuf library at run time,
 * and it skips the weights without decoding them.
 */

/** One dimension: a fixed size, a symbolic name (e.g. `"batch"`), or unknown (`undefined`). */
export type OnnxDim = number | string | undefined;

/** A graph input or output. */
export interface OnnxTensor {
  name: string;
  /** `TensorProto.DataType` of a tensor; undefined for a sequence, map or optional, or when unset. */
  elemType?: number;
  /** The dimensions; undefined when the file leaves the rank open. */
  dims?: OnnxDim[];
  /** `"tensor"`, or what else the value is (`"sequence"`, `"map"`, `"optional"`). */
  kind: "tensor" | "sequence" | "map" | "optional" | "unknown";
}

/** The interface of an ONNX graph: what a caller feeds and gets back. */
export interface OnnxGraph {
  /** Inputs a caller must feed; inputs that are initializers (weights with defaults) are left out. */
  inputs: OnnxTensor[];
  outputs: OnnxTensor[];
}

/** The bytes are not an ONNX model. */
export class OnnxFormatError extends Error {
  override readonly name = "OnnxFormatError";
}

/** ONNX `TensorProto.DataType` numbers, by the names signatures use (and the rest, for messages). */
export const ONNX_ELEMENT_TYPES: Readonly<Record<number, string>> = {
  1: "float32",
  2: "uint8",
  3: "int8",
  4: "uint16",
  5: "int16",
  6: "int32",
  7: "int64",
  8: "string",
  9: "bool",
  10: "float16",
  11: "float64",
  12: "uint32",
  13: "uint64",
  14: "complex64",
  15: "complex128",
  16: "bfloat16",
  17: "float8e4m3fn",
  18: "float8e4m3fnuz",
  19: "float8e5m2",
  20: "float8e5m2fnuz",
  21: "uint4",
  22: "int4",
  23: "float4e2m1",
};

type Field = { field: number; varint?: number; bytes?: Uint8Array };

/** The fields of one protobuf message, in order; length-delimited values are views, not copies. */
function fields(bytes: Uint8Array): Field[] {
  const out: Field[] = [];
  let pos = 0;
  const varint = (): number => {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= bytes.length) throw new OnnxFormatError("a number runs past the end of the data");
      const byte = bytes[pos++];
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 128;
    }
    throw new OnnxFormatError("a number is longer than 10 bytes");
  };
  while (pos < bytes.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (field === 0) throw new OnnxFormatError("field number 0");
    if (wire === 0) out.push({ field, varint: varint() });
    else if (wire === 1 || wire === 5) {
      pos += wire === 1 ? 8 : 4;
      if (pos > bytes.length) throw new OnnxFormatError("a fixed-size value runs past the end of the data");
    } else if (wire === 2) {
      const length = varint();
      if (pos + length > bytes.length) throw new OnnxFormatError("a field runs past the end of the data");
      out.push({ field, bytes: bytes.subarray(pos, pos + length) });
      pos += length;
    } else throw new OnnxFormatError(`wire type ${wire} is not used by ONNX`);
  }
  return out;
}

const text = (bytes: Uint8Array | undefined): string =>
  bytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("utf8") : "";

function messages(list: Field[], field: number): Uint8Array[] {
  return list.filter((f) => f.field === field && f.bytes !== undefined).map((f) => f.bytes!);
}

function last(list: Field[], field: number): Field | undefined {
  return list.filter((f) => f.field === field).at(-1);
}

/** TypeProto.Tensor (and SparseTensor): elem_type = 1, shape = 2 (TensorShapeProto: dim = 1; Dimension: dim_value = 1, dim_param = 2). */
function tensorType(bytes: Uint8Array): Pick<OnnxTensor, "elemType" | "dims"> {
  const tensor = fields(bytes);
  const shape = last(tensor, 2)?.bytes;
  const dims = shape
    ? messages(fields(shape), 1).map((dim): OnnxDim => {
        const parts = fields(dim);
        const value = last(parts, 1)?.varint;
        if (value !== undefined) return value;
        const param = last(parts, 2)?.bytes;
        return param && param.length > 0 ? text(param) : undefined;
      })
    : undefined;
  return { elemType: last(tensor, 1)?.varint, dims };
}

/** ValueInfoProto: name = 1, type = 2 (TypeProto: tensor_type = 1, sequence_type = 4, map_type = 5, sparse_tensor_type = 8, optional_type = 9). */
function valueInfo(bytes: Uint8Array): OnnxTensor {
  const info = fields(bytes);
  const name = text(last(info, 1)?.bytes);
  const type = last(info, 2)?.bytes;
  if (!type) return { name, kind: "unknown" };
  const value = fields(type)
    .filter((f) => f.bytes !== undefined && [1, 4, 5, 8, 9].includes(f.field))
    .at(-1);
  if (!value) return { name, kind: "unknown" };
  if (value.field === 1 || value.field === 8) return { name, kind: "tensor", ...tensorType(value.bytes!) };
  return { name, kind: value.field === 4 ? "sequence" : value.field === 5 ? "map" : "optional" };
}

/**
 * The inputs and outputs of the graph of the ONNX model in `bytes`.
 * @throws OnnxFormatError when the bytes are not an ONNX model.
 */
export function readOnnxGraph(bytes: Uint8Array): OnnxGraph {
  const model = fields(bytes);
  // ModelProto: ir_version = 1, graph = 7. A model without both is not ONNX.
  const graphBytes = last(model, 7)?.bytes;
  if (last(model, 1)?.varint === undefined || graphBytes === undefined) throw new OnnxFormatError("it has no ONNX graph");
  // GraphProto: initializer = 5 (TensorProto, name = 8), input = 11, output = 12, sparse_initializer = 15 (values = 1).
  const graph = fields(graphBytes);
  const initialized = new Set([
    ...messages(graph, 5).map((tensor) => text(last(fields(tensor), 8)?.bytes)),
    ...messages(graph, 15).flatMap((sparse) => messages(fields(sparse), 1).map((values) => text(last(fields(values), 8)?.bytes))),
  ]);
  return {
    inputs: messages(graph, 11)
      .map(valueInfo)
      .filter((input) => !initialized.has(input.name)),
    outputs: messages(graph, 12).map(valueInfo),
  };
}
