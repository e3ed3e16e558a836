/**
 * The intent model's featurizer: hashed character trigrams and words into a
 * fixed-size, L2-normalized vector. The training script and the function
 * handler share it, so the model always sees what it was trained on.
 */

/** Length of the feature vector, and the model's input width. */
export const FEATURES = 512;

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Turns a message into its feature vector. */
export function featurize(message: string): Float32Array {
  const vector = new Float32Array(FEATURES);
  const text = ` ${message
    .toLowerCase()
    .replace(/[^a-z0-9€$ ]+/g, " ")
    .replace(/\s+/g, " ")
    .trim()} `;
  for (let i = 0; i + 3 <= text.length; i++) vector[fnv1a(text.slice(i, i + 3)) % FEATURES] += 1;
  for (const word of text.trim().split(" ")) if (word) vector[fnv1a(`w:${word}`) % FEATURES] += 2;
  let norm = 0;
  for (const value of vector) norm += value * value;
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < FEATURES; i++) vector[i] /= norm;
  return vector;
}
