// Stub: the text-generator model lands with the sagemaker-stream node.
import type { TextGeneratorOptions } from './types';

/**
 * Deterministic generation for a request body: the response content type and the byte chunks
 * of the answer in order (one per token; the stream handler may re-cut them into parts).
 */
export function generateText(body: Buffer, opts: TextGeneratorOptions = {}): { contentType: string; chunks: Buffer[] } {
  const n = opts.tokens ?? 8;
  const prompt = body.toString('utf8').slice(0, 20);
  const chunks = Array.from({ length: n }, (_, i) => Buffer.from(`${JSON.stringify({ token: { text: `${prompt}${i} ` } })}\n`));
  return { contentType: 'application/jsonlines', chunks };
}
