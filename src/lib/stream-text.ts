/**
 * JSON lines and server-sent events from streaming model containers: which lines carry a JSON
 * value, and which text a preset takes from each value.
 */

/** Built-in ways to take text from a JSON value (anything else is a JSONata expression). */
export type TextPreset = 'none' | 'tgi' | 'openai';

/** Outcome of reading one line: a value, nothing to emit, or a line that is not JSON. */
export type JsonLine = { kind: 'value'; value: unknown } | { kind: 'skip' } | { kind: 'invalid'; line: string; error: string };

const SKIP: JsonLine = { kind: 'skip' };

/**
 * Reads one line of a JSON-lines or SSE stream. Strips an SSE `data:` prefix; skips blank
 * lines, `[DONE]`, SSE comments (`:`) and the other SSE fields (`event:`, `id:`, `retry:`).
 */
export function parseJsonLine(line: string): JsonLine {
  let text = line.trim();
  if (text === '') return SKIP;
  if (text.startsWith('data:')) {
    text = text.slice(5).trim();
    if (text === '') return SKIP;
  } else if (text.charCodeAt(0) === 58 /* ':' */ || /^(event|id|retry):/.test(text)) {
    return SKIP;
  }
  if (text === '[DONE]') return SKIP;
  try {
    return { kind: 'value', value: JSON.parse(text) };
  } catch (err) {
    return { kind: 'invalid', line: text.length > 200 ? `${text.slice(0, 200)}…` : text, error: (err as Error).message };
  }
}

/** True for the preset names; any other non-empty text is a JSONata expression. */
export function isTextPreset(text: unknown): text is TextPreset {
  return text === 'none' || text === 'tgi' || text === 'openai';
}

/**
 * The text piece a preset takes from one JSON value, or undefined when the value carries none
 * (an OpenAI role-only delta, a final chunk with only `finish_reason`, a TGI special token).
 * `none` is not a text preset: callers use the value itself.
 */
export function presetText(preset: 'tgi' | 'openai', value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  if (preset === 'tgi') {
    // Hugging Face TGI / LMI: {"token":{"text":"…","special":false},"generated_text":null}
    const token = (value as { token?: { text?: unknown; special?: unknown } }).token;
    if (!token || typeof token.text !== 'string' || token.special === true) return undefined;
    return token.text;
  }
  // OpenAI-compatible (vLLM, …): chat chunks carry choices[0].delta.content, completions choices[0].text
  const choices = (value as { choices?: unknown }).choices;
  if (!Array.isArray(choices) || choices.length === 0) return undefined;
  const choice = choices[0] as { delta?: { content?: unknown }; text?: unknown } | null;
  if (!choice || typeof choice !== 'object') return undefined;
  const content = choice.delta && typeof choice.delta === 'object' ? choice.delta.content : undefined;
  if (typeof content === 'string') return content;
  if (typeof choice.text === 'string') return choice.text;
  return undefined;
}

/** Turns what a JSONata expression returned into a text piece (undefined/null → none). */
export function toTextPiece(result: unknown): string | undefined {
  if (result === undefined || result === null) return undefined;
  if (typeof result === 'string') return result;
  if (typeof result === 'object') return JSON.stringify(result);
  return String(result);
}
