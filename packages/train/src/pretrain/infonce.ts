import { tf } from '@lw/models';

/**
 * CLIP's symmetric InfoNCE loss with a learned temperature: logits = exp(s) · cos(image i, text j)
 * over a batch of B matched pairs; the loss is the mean of the image->text and text->image
 * cross-entropies with the diagonal as the right answer. Chance level is ln(B).
 * imageFeatures [B, E], textFeatures [B, E], logitScale [] -> [].
 */
export function infoNce(imageFeatures: tf.Tensor2D, textFeatures: tf.Tensor2D, logitScale: tf.Scalar): tf.Scalar {
  const B = imageFeatures.shape[0];
  const unit = (x: tf.Tensor2D) => tf.div(x, tf.norm(x, 'euclidean', 1, true)) as tf.Tensor2D;
  // CLIP clamps the learned scale at 100 (ln 100 = 4.6052).
  const scale = tf.exp(tf.minimum(logitScale, Math.log(100)));
  const logits = tf.mul(scale, tf.matMul(unit(imageFeatures), tf.transpose(unit(textFeatures)))) as tf.Tensor2D; // [B, B]
  // [B, B] identity: the matched pairs (built on the host; wasm's oneHot kernel is avoided)
  const eye = new Float32Array(B * B);
  for (let i = 0; i < B; i++) eye[i * B + i] = 1;
  const labels = tf.tensor2d(eye, [B, B]);
  const ce = (l: tf.Tensor2D) => tf.mean(tf.neg(tf.sum(tf.mul(labels, tf.logSoftmax(l, 1)), 1)));
  return tf.div(tf.add(ce(logits), ce(tf.transpose(logits) as tf.Tensor2D)), 2) as tf.Scalar;
}
