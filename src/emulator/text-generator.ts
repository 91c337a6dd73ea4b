/**
 * The `text-generator` model: deterministic tokens (including multi-byte UTF-8: accents, €,
 * CJK, emoji) in the formats streaming LLM containers use — TGI JSON lines, OpenAI-style SSE,
 * or plain text.
 */
import type { TextGeneratorOptions } from './types';

const VOCAB = [
  'Hello',
  ',',
  ' world',
  '!',
  ' The',
  ' café',
  ' serves',
  ' crème',
  ' brûlée',
  ' for',
  ' 5',
  '€',
  '.',
  '\n',
  '日本',
  '語',
  ' は',
  ' 楽しい',
  ' 🚀',
  ' launch',
  ' at',
  ' dawn',
  ' 🙂',
  ' naïve',
  ' résumé',
  ' —',
  ' 中文',
  ' 🎉',
  ' ok',
  '.\n',
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

/**
 * What a request body asks: the prompt text (`inputs` of TGI, `prompt`, the last user message of
 * an OpenAI-style `messages` list, or the raw body) and, for `messages`, the number of user turns
 * in it, so the answer can say which turn it is and a test can see that the history was sent.
 */
export interface Prompt {
  text: string;
  turn?: number;
}

/** The text of a chat message's `content`: a string, or the text parts of a content array. */
function contentText(content: unknown): string | undefined {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return undefined;
  const texts = content.map((p: { type?: unknown; text?: unknown }) =>
    p && p.type === 'text' && typeof p.text === 'string' ? p.text : undefined,
  );
  return texts.some((t) => t !== undefined) ? texts.filter((t) => t !== undefined).join('') : undefined;
}

/** The prompt a body carries (see {@link Prompt}). */
export function promptOf(body: Buffer): Prompt {
  const raw = body.toString('utf8');
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return { text: raw }; // not JSON: the body is the prompt
  }
  if (typeof v === 'string') return { text: v };
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    if (typeof o.inputs === 'string') return { text: o.inputs };
    if (typeof o.prompt === 'string') return { text: o.prompt };
    if (Array.isArray(o.messages) && o.messages.length > 0) {
      const messages = o.messages.filter((m): m is Record<string, unknown> => !!m && typeof m === 'object');
      const users = messages.filter((m) => m.role === 'user');
      const last = users[users.length - 1] ?? messages[messages.length - 1];
      const text = contentText(last?.content);
      if (text !== undefined) return { text, turn: users.length };
    }
  }
  return { text: raw };
}

/**
 * The tokens generated for a prompt: the same prompt always gives the same tokens. A chat
 * (`messages`) answer starts with the token `Turn N:`, N being the number of user messages.
 */
export function tokensFor(prompt: Prompt, count: number): string[] {
  const start = hash(prompt.text) % VOCAB.length;
  const words = Array.from({ length: Math.max(0, count) }, (_, i) => VOCAB[(start + i) % VOCAB.length]);
  if (prompt.turn === undefined || words.length === 0) return words;
  const next = words[0];
  words.pop();
  return [/^\s/.test(next) ? `Turn ${prompt.turn}:` : `Turn ${prompt.turn}: `, ...words];
}

/** Byte chunks of the answer, one per token (plus framing chunks for SSE), produced lazily. */
export function* textChunks(body: Buffer, opts: TextGeneratorOptions = {}): Generator<Buffer> {
  const tokens = tokensFor(promptOf(body), opts.tokens ?? 8);
  const format = opts.format ?? 'tgi';
  let generated = '';
  if (format === 'openai') {
    yield Buffer.from(`data: ${JSON.stringify(openaiChunk({ role: 'assistant', content: '' }, null))}\n\n`);
  }
  for (const [i, text] of tokens.entries()) {
    if (format === 'tgi') {
      generated += text;
      const event = {
        token: { id: tokenId(text), text, logprob: -0.25, special: false },
        generated_text: i === tokens.length - 1 ? generated : null,
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

/** A token's id in the TGI events: its place in the vocabulary (the turn marker gets 999). */
function tokenId(text: string): number {
  const i = VOCAB.indexOf(text);
  return i === -1 ? 999 : 1000 + i;
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
