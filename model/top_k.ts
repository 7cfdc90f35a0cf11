/**
 * Turns the model's raw scores (logits) into the answer clients read: the k
 * most probable classes with their softmax probabilities.
 *
 * @module
 */

/** One class in an answer. */
export interface Prediction {
  /** Class index, 0-999, in the order of the label file. */
  index: number;
  label: string;
  /** Softmax probability over all classes, 0-1. */
  probability: number;
}

/**
 * Softmax over `logits`, computed stably (shifted by the largest finite
 * score). A NaN or infinite score gets probability 0, so one broken output
 * cannot turn every probability into NaN; when no score is finite, every
 * class gets 0 and the caller must treat the answer as failed.
 */
export function softmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    if (Number.isFinite(logits[i]) && logits[i] > max) max = logits[i];
  }
  const out = new Float64Array(logits.length);
  if (max === -Infinity) return out;
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    out[i] = Number.isFinite(logits[i]) ? Math.exp(logits[i] - max) : 0;
    sum += out[i];
  }
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

/**
 * The `k` classes with the highest probability, highest first; equal
 * probabilities keep the lower class index first, so the answer is the same
 * on every run.
 */
export function topK(probabilities: ArrayLike<number>, labels: readonly string[], k: number) {
  const best: number[] = [];
  for (let i = 0; i < probabilities.length; i++) {
    const p = probabilities[i];
    if (best.length === k && p <= probabilities[best[k - 1]]) continue;
    let at = best.length;
    while (at > 0 && probabilities[best[at - 1]] < p) at--;
    best.splice(at, 0, i);
    if (best.length > k) best.pop();
  }
  return best.map((index): Prediction => ({
    index,
    label: labels[index] ?? `class ${index}`,
    probability: probabilities[index],
  }));
}
