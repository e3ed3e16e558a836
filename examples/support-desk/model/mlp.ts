/**
 * A small multi-layer perceptron: dense layers with ReLU between them and a
 * softmax at the end, trained with mini-batch SGD and momentum. It is all
 * the model the example needs, and it maps one-to-one onto ONNX Gemm/Relu/Softmax.
 */
import { seededRandom, shuffled } from "./random";

/** One dense layer; `weights` is row-major [inputs × outputs]. */
export interface DenseLayer {
  inputs: number;
  outputs: number;
  weights: Float32Array;
  bias: Float32Array;
}

/** Creates layers of the given widths with seeded He initialization. */
export function initLayers(widths: readonly number[], seed: number): DenseLayer[] {
  const random = seededRandom(seed);
  const gaussian = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
  return widths.slice(1).map((outputs, index) => {
    const inputs = widths[index];
    const scale = Math.sqrt(2 / inputs);
    const weights = new Float32Array(inputs * outputs).map(() => gaussian() * scale);
    return { inputs, outputs, weights, bias: new Float32Array(outputs) };
  });
}

/** Runs one sample through the network; returns every layer's activation, the last being probabilities. */
export function forward(layers: readonly DenseLayer[], input: Float32Array): Float32Array[] {
  const activations = [input];
  layers.forEach((layer, index) => {
    const x = activations[activations.length - 1];
    const y = Float32Array.from(layer.bias);
    for (let i = 0; i < layer.inputs; i++) {
      const xi = x[i];
      if (xi === 0) continue;
      const row = i * layer.outputs;
      for (let o = 0; o < layer.outputs; o++) y[o] += xi * layer.weights[row + o];
    }
    activations.push(index === layers.length - 1 ? softmax(y) : y.map((v) => (v > 0 ? v : 0)));
  });
  return activations;
}

function softmax(logits: Float32Array): Float32Array {
  const max = Math.max(...logits);
  const exps = logits.map((v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((v) => v / sum);
}

/** Training settings. */
export interface TrainOptions {
  epochs: number;
  learningRate: number;
  momentum: number;
  batchSize: number;
  seed: number;
}

/** Trains `layers` in place on (features, class index) pairs with cross-entropy loss. */
export function train(layers: DenseLayer[], samples: ReadonlyArray<{ x: Float32Array; y: number }>, options: TrainOptions): void {
  const random = seededRandom(options.seed);
  const velocity = layers.map((l) => ({ w: new Float32Array(l.weights.length), b: new Float32Array(l.bias.length) }));
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    const order = shuffled(samples, random);
    for (let start = 0; start < order.length; start += options.batchSize) {
      const batch = order.slice(start, start + options.batchSize);
      const grads = layers.map((l) => ({ w: new Float32Array(l.weights.length), b: new Float32Array(l.bias.length) }));
      for (const sample of batch) accumulateGradients(layers, grads, sample);
      layers.forEach((layer, index) => {
        const v = velocity[index];
        const g = grads[index];
        const step = options.learningRate / batch.length;
        for (let k = 0; k < layer.weights.length; k++) layer.weights[k] += v.w[k] = options.momentum * v.w[k] - step * g.w[k];
        for (let k = 0; k < layer.bias.length; k++) layer.bias[k] += v.b[k] = options.momentum * v.b[k] - step * g.b[k];
      });
    }
  }
}

function accumulateGradients(
  layers: readonly DenseLayer[],
  grads: Array<{ w: Float32Array; b: Float32Array }>,
  sample: { x: Float32Array; y: number },
): void {
  const activations = forward(layers, sample.x);
  let delta = Float32Array.from(activations[activations.length - 1]);
  delta[sample.y] -= 1;
  for (let index = layers.length - 1; index >= 0; index--) {
    const layer = layers[index];
    const x = activations[index];
    for (let i = 0; i < layer.inputs; i++) {
      if (x[i] === 0) continue;
      const row = i * layer.outputs;
      for (let o = 0; o < layer.outputs; o++) grads[index].w[row + o] += x[i] * delta[o];
    }
    for (let o = 0; o < layer.outputs; o++) grads[index].b[o] += delta[o];
    if (index === 0) break;
    const previous = new Float32Array(layer.inputs);
    for (let i = 0; i < layer.inputs; i++) {
      if (x[i] <= 0) continue;
      let sum = 0;
      const row = i * layer.outputs;
      for (let o = 0; o < layer.outputs; o++) sum += layer.weights[row + o] * delta[o];
      previous[i] = sum;
    }
    delta = previous;
  }
}

/** Index of the largest value. */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}
