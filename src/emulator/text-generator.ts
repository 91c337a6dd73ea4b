/**
 * The `text-generator` model: deterministic tokens (including multi-byte UTF-8: accents, €,
 * CJK, emoji) in the formats streaming LLM containers use — TGI JSON lines, OpenAI-style SSE,
 * or plain text.
 */
import type { TextGeneratorOptions } from './types';

const VOCAB = [
  'Hello', ',', ' world', '!', ' The', ' café', ' serves', ' crème', ' brûlée', ' for', ' 5', '€', '.',
  '\n', '日本', '語', ' は', ' 楽しい', ' 🚀', ' launch', ' at', ' dawn', ' 🙂', ' naïve', ' résumé', ' —',
  ' 中文', ' 🎉', ' ok', '.\n',
];

export type TextFormat = NonNullable<TextGeneratorOptions['format']>;

const CONTENT_TYPES: Record<TextFormat, string> = {
  tgi: 'application/jsonlines',
  openai: 'text/event-stream',
  text: 'text/plain; charset=utf-8',
};

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  return h;
}

/** The prompt a body carries: `inputs` (TGI), the last chat message, `prompt`, or the raw text. */
function promptOf(body: Buffer): string {
  const raw = body.toString('utf8');
  try {
    const v = JSON.parse(raw) as Record<string, unknown>;
    if (typeof v === 'string') return v;
    if (v && typeof v === 'object') {
      if (typeof v.inputs === 'string') return v.inputs;
      if (typeof v.prompt === 'string') return v.prompt;
      if (Array.isArray(v.messages) && v.messages.length > 0) {
        const last = v.messages[v.messages.length - 1] as { content?: unknown };
        if (typeof last?.content === 'string') return last.content;
      }
    }
  } catch {
    // not JSON: the body is the prompt
  }
  return raw;
}

/** The tokens generated for a prompt: the same prompt always gives the same tokens. */
export function tokensFor(body: Buffer, count: number): string[] {
  const start = hash(promptOf(body)) % VOCAB.length;
  return Array.from({ length: count }, (_, i) => VOCAB[(start + i) % VOCAB.length]);
}

/** Byte chunks of the answer, one per token (plus framing chunks for SSE), produced lazily. */
export function* textChunks(body: Buffer, opts: TextGeneratorOptions = {}): Generator<Buffer> {
  const n = Math.max(0, opts.tokens ?? 8);
  const format = opts.format ?? 'tgi';
  const start = hash(promptOf(body)) % VOCAB.length;
  let generated = '';
  if (format === 'openai') {
    yield Buffer.from(`data: ${JSON.stringify(openaiChunk({ role: 'assistant', content: '' }, null))}\n\n`);
  }
  for (let i = 0; i < n; i++) {
    const text = VOCAB[(start + i) % VOCAB.length];
    if (format === 'tgi') {
      const last = i === n - 1;
      generated += text;
      const event = {
        token: { id: 1000 + ((start + i) % VOCAB.length), text, logprob: -0.25, special: false },
        generated_text: last ? generated : null,
        details: null,
      };
      yield Buffer.from(`${JSON.stringify(event)}\n`);
    } else if (format === 'openai') {
      yield Buffer.from(`data: ${JSON.stringify(openaiChunk({ content: text }, null))}\n\n`);
    } else {
      yield Buffer.from(text);
    }
  }
  if (format === 'openai') {
    yield Buffer.from(`data: ${JSON.stringify(openaiChunk({}, 'stop'))}\n\n`);
    yield Buffer.from('data: [DONE]\n\n');
  }
}

function openaiChunk(delta: Record<string, string>, finish: string | null): unknown {
  return {
    id: 'chatcmpl-emulator',
    object: 'chat.completion.chunk',
    model: 'text-generator',
    choices: [{ index: 0, delta, finish_reason: finish }],
  };
}

/** The response content type of a format. */
export function contentTypeOf(format: TextFormat | undefined): string {
  return CONTENT_TYPES[format ?? 'tgi'];
}

/**
 * Parses per-request options from CustomAttributes, e.g. `format=openai;tokens=20;delay=5;partBytes=3`
 * (`;` or `,` separated; unknown keys ignored), so tests and flows vary the model per request.
 */
export function parseCustomOptions(customAttributes: string | undefined): TextGeneratorOptions {
  const out: TextGeneratorOptions = {};
  if (!customAttributes) return out;
  for (const pair of customAttributes.split(/[;,]/)) {
    const eq = pair.indexOf('=');
    if (eq === -1) continue;
    const key = pair.slice(0, eq).trim().toLowerCase();
    const value = pair.slice(eq + 1).trim();
    const num = Number(value);
    if (key === 'format' && (value === 'tgi' || value === 'openai' || value === 'text')) out.format = value;
    else if (key === 'tokens' && Number.isInteger(num) && num >= 0) out.tokens = num;
    else if ((key === 'delay' || key === 'delayms') && Number.isFinite(num) && num >= 0) out.delayMs = num;
    else if ((key === 'partbytes' || key === 'part-bytes') && Number.isInteger(num) && num > 0) out.partBytes = num;
  }
  return out;
}

/** The format an Accept value asks for (`text/event-stream` → openai, JSON lines → tgi, text → text). */
export function formatFromAccept(accept: string | undefined): TextFormat | undefined {
  if (!accept) return undefined;
  const a = accept.toLowerCase();
  if (a.includes('text/event-stream')) return 'openai';
  if (a.includes('jsonlines') || a.includes('x-ndjson')) return 'tgi';
  if (a.includes('text/plain')) return 'text';
  return undefined;
}

/**
 * Effective options of one request: the endpoint's `textGenerator` config, overridden by the
 * Accept header's format and then by CustomAttributes.
 */
export function resolveTextOptions(
  base: TextGeneratorOptions | undefined,
  headers: Record<string, string | undefined>,
  acceptHeader = 'x-amzn-sagemaker-accept',
): TextGeneratorOptions {
  const fromAccept = formatFromAccept(headers[acceptHeader] ?? headers.accept);
  return {
    ...base,
    ...(fromAccept ? { format: fromAccept } : {}),
    ...parseCustomOptions(headers['x-amzn-sagemaker-custom-attributes']),
  };
}

/**
 * Deterministic generation for a request body: the response content type and the byte chunks
 * of the answer in order (one per token; the stream handler may re-cut them into parts).
 */
export function generateText(body: Buffer, opts: TextGeneratorOptions = {}): { contentType: string; chunks: Buffer[] } {
  return { contentType: contentTypeOf(opts.format), chunks: Array.from(textChunks(body, opts)) };
}
