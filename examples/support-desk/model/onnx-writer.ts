/**
 * Writes an MLP as a real ONNX graph: Gemm → Relu → … → Gemm → Softmax, with
 * the weights as float32 initializers. The output is byte-for-byte
 * deterministic for the same layers.
 */
import { onnx } from "onnx-proto";
import type { DenseLayer } from "./mlp";

/** Names of the graph's input and output tensors. */
export interface MlpIo {
  input: string;
  output: string;
}

function initializer(name: string, dims: number[], values: Float32Array): onnx.ITensorProto {
  const bytes = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => bytes.writeFloatLE(v, i * 4));
  return { name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: bytes };
}

function valueInfo(name: string, width: number): onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimParam: "batch" }, { dimValue: width }] } } },
  };
}

/** Encodes `layers` as an ONNX model (opset 13) with a dynamic batch axis. */
export function mlpToOnnx(layers: readonly DenseLayer[], io: MlpIo): Uint8Array {
  const nodes: onnx.INodeProto[] = [];
  const initializers: onnx.ITensorProto[] = [];
  let current = io.input;
  layers.forEach((layer, index) => {
    const last = index === layers.length - 1;
    const gemmOut = `dense${index}`;
    initializers.push(
      initializer(`W${index}`, [layer.inputs, layer.outputs], layer.weights),
      initializer(`B${index}`, [layer.outputs], layer.bias),
    );
    nodes.push({ opType: "Gemm", input: [current, `W${index}`, `B${index}`], output: [gemmOut], name: `gemm${index}` });
    const activation = last ? io.output : `relu${index}`;
    nodes.push(
      last
        ? {
            opType: "Softmax",
            input: [gemmOut],
            output: [activation],
            name: "softmax",
            attribute: [{ name: "axis", type: onnx.AttributeProto.AttributeType.INT, i: 1 }],
          }
        : { opType: "Relu", input: [gemmOut], output: [activation], name: `relu${index}` },
    );
    current = activation;
  });
  const model = onnx.ModelProto.create({
    irVersion: 7,
    producerName: "cloudloom",
    opsetImport: [{ domain: "", version: 13 }],
    graph: {
      name: "mlp",
      node: nodes,
      initializer: initializers,
      input: [valueInfo(io.input, layers[0].inputs)],
      output: [valueInfo(io.output, layers[layers.length - 1].outputs)],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
