/**
 * Request body encoding (msg.payload → bytes + default content type, README "Request fields") and response
 * body decoding (bytes + content type → msg.payload, README "sagemaker-invoke"). Shared by the three nodes.
 */
import { describeType, parseCsv, toCsv } from './csv';
import { InputError } from './errors';

export type RequestFormat = 'auto' | 'json' | 'jsonlines' | 'csv' | 'text' | 'binary';
export type ResponseFormat = 'auto' | 'json' | 'text' | 'buffer' | 'csv';

export const REQUEST_FORMATS: readonly RequestFormat[] = ['auto', 'json', 'jsonlines', 'csv', 'text', 'binary'];
export const RESPONSE_FORMATS: readonly ResponseFormat[] = ['auto', 'json', 'text', 'buffer', 'csv'];

export interface EncodedBody {
  body: Buffer;
  /** The content type the format implies (an explicit ContentType overrides it). */
  contentType: string;
}

const FIELD = 'msg.payload';
/** The JSON Lines media type SageMaker's built-in algorithms use. */
export const JSON_LINES = 'application/jsonlines';

/** The bytes of a Buffer, Uint8Array, ArrayBuffer or typed array; undefined for anything else. */
export function bytesOf(value: unknown): Buffer | undefined {
  // Views (Buffer, Uint8Array, other typed arrays, DataView) first: one check for a plain object.
  if (ArrayBuffer.isView(value)) return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return Buffer.from(value);
  return undefined;
}

/** JSON text of a payload value; InputError (field msg.payload) for what JSON cannot carry. */
export function toJson(value: unknown): string {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new InputError(FIELD, `${FIELD} is ${value}, which JSON cannot represent`);
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    const reason = /circular/i.test(String((err as Error).message))
      ? 'contains a circular reference'
      : /BigInt/i.test(String((err as Error).message))
        ? 'contains a BigInt, which JSON cannot represent (convert it to a number or string)'
        : `cannot be encoded as JSON (${(err as Error).message})`;
    throw new InputError(FIELD, `${FIELD} ${reason}`);
  }
  if (text === undefined) throw new InputError(FIELD, `${FIELD} is ${describeType(value)}, which cannot be encoded as JSON`);
  return text;
}

/** Why a payload cannot be a request body at all (undefined, null, function, symbol, BigInt), or undefined. */
export function unencodable(value: unknown): InputError | undefined {
  if (value === undefined || value === null) {
    return new InputError(
      FIELD,
      `${FIELD} is ${describeType(value)}: set it to the request body (object, array, string, number or Buffer)`,
    );
  }
  const t = typeof value;
  if (t === 'function' || t === 'symbol') return new InputError(FIELD, `${FIELD} is a ${t}, which cannot be sent as a request body`);
  if (t === 'bigint') return new InputError(FIELD, `${FIELD} is a BigInt, which cannot be encoded (convert it to a number or string)`);
  return undefined;
}

/**
 * Encodes `msg.payload` by request format:
 * - `auto`: Buffer/Uint8Array → as is (`application/octet-stream`); string → UTF-8 (`text/plain`);
 *   object/array/number/boolean → JSON (`application/json`).
 * - `json`: a string is taken to be JSON text already and must parse; a Buffer is sent as is;
 *   anything else is JSON-encoded (`application/json`).
 * - `jsonlines`: an array → one JSON value per line; a string or Buffer is taken to be JSON Lines
 *   already; any other value → one line (`application/jsonlines`).
 * - `csv`: an array → one line, an array of arrays → one line per row; a string or Buffer is
 *   taken to be CSV already (`text/csv`).
 * - `text`: string, number or boolean as UTF-8 text; a Buffer as is (`text/plain`).
 * - `binary`: a Buffer/Uint8Array as is, a string as its UTF-8 bytes (`application/octet-stream`).
 * Throws InputError (field `msg.payload`) for undefined/null, functions, symbols, BigInt,
 * circular objects and values the format cannot carry.
 */
export function encodeBody(payload: unknown, format: RequestFormat = 'auto'): EncodedBody {
  const bad = unencodable(payload);
  if (bad) throw bad;
  const bytes = bytesOf(payload);
  switch (format) {
    case 'json': {
      if (bytes) return { body: bytes, contentType: 'application/json' };
      if (typeof payload === 'string') {
        try {
          JSON.parse(payload);
        } catch {
          throw new InputError(FIELD, `${FIELD} is a string that is not valid JSON (request format json): ${snippet(payload)}`);
        }
        return { body: Buffer.from(payload, 'utf8'), contentType: 'application/json' };
      }
      return { body: Buffer.from(toJson(payload), 'utf8'), contentType: 'application/json' };
    }
    case 'jsonlines': {
      if (bytes) return { body: bytes, contentType: JSON_LINES };
      if (typeof payload === 'string') return { body: Buffer.from(payload, 'utf8'), contentType: JSON_LINES };
      const values = Array.isArray(payload) ? payload : [payload];
      return { body: Buffer.from(values.map((v) => toJson(v) + '\n').join(''), 'utf8'), contentType: JSON_LINES };
    }
    case 'csv': {
      if (bytes) return { body: bytes, contentType: 'text/csv' };
      if (typeof payload === 'string') return { body: Buffer.from(payload, 'utf8'), contentType: 'text/csv' };
      return { body: Buffer.from(toCsv(payload), 'utf8'), contentType: 'text/csv' };
    }
    case 'text': {
      if (bytes) return { body: bytes, contentType: 'text/plain' };
      if (typeof payload === 'string' || typeof payload === 'number' || typeof payload === 'boolean') {
        return { body: Buffer.from(String(payload), 'utf8'), contentType: 'text/plain' };
      }
      throw new InputError(FIELD, `${FIELD} is ${describeType(payload)}; request format text needs a string, number, boolean or Buffer`);
    }
    case 'binary': {
      if (bytes) return { body: bytes, contentType: 'application/octet-stream' };
      if (typeof payload === 'string') return { body: Buffer.from(payload, 'utf8'), contentType: 'application/octet-stream' };
      throw new InputError(FIELD, `${FIELD} is ${describeType(payload)}; request format binary needs a Buffer or a string`);
    }
    case 'auto':
    default: {
      if (bytes) return { body: bytes, contentType: 'application/octet-stream' };
      if (typeof payload === 'string') return { body: Buffer.from(payload, 'utf8'), contentType: 'text/plain' };
      return { body: Buffer.from(toJson(payload), 'utf8'), contentType: 'application/json' };
    }
  }
}

/** Raised when a forced response format cannot decode the body. */
export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecodeError';
  }
}

export interface Decoded {
  value: unknown;
  /** Set when `auto` fell back to a string because a JSON body did not parse. */
  warning?: string;
}

/** The media type without parameters, lower-case: `Application/JSON; charset=utf-8` → `application/json`. */
export function mediaType(contentType: string | undefined): string {
  if (!contentType) return '';
  const semicolon = contentType.indexOf(';');
  return (semicolon < 0 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
}

/** `application/json`, `text/json`, `application/problem+json`, … */
export function isJsonType(contentType: string | undefined): boolean {
  return isJsonMedia(mediaType(contentType));
}

const isJsonMedia = (t: string): boolean => t === 'application/json' || t === 'text/json' || t.endsWith('+json');
const JSON_LINES_TYPES = new Set([
  'application/jsonlines',
  'application/jsonl',
  'application/x-jsonlines',
  'application/x-ndjson',
  'application/ndjson',
]);

/** `application/jsonlines`, `application/jsonl`, `application/x-ndjson`, … */
export function isJsonLinesType(contentType: string | undefined): boolean {
  return JSON_LINES_TYPES.has(mediaType(contentType));
}

/** A short quoted excerpt of a text for error messages. */
export function snippet(text: string, max = 80): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return JSON.stringify(one.length > max ? `${one.slice(0, max)}…` : one);
}

function parseJsonLines(text: string): unknown[] {
  const out: unknown[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    out.push(JSON.parse(line));
  }
  return out;
}

/**
 * Decodes a response body (`null`/empty allowed: the SDK gives `null` for an empty body).
 * - `auto`: JSON types (incl. `+json`) → parsed value; JSON Lines types → array of values;
 *   `text/*` (incl. `text/csv`) → string; anything else → Buffer. A JSON body that does not
 *   parse becomes the string with a `warning`. An empty body → `''`.
 * - `json`: parsed value (JSON Lines types → array); throws DecodeError naming the content type
 *   and the start of the body when it does not parse. Empty → `null`.
 * - `text`: UTF-8 string. `buffer`: Buffer. `csv`: array of rows, numeric cells as numbers (empty → `[]`).
 */
export function decodeBody(body: Uint8Array | null | undefined, contentType: string | undefined, format: ResponseFormat = 'auto'): Decoded {
  const bytes = body ? Buffer.from(body.buffer, body.byteOffset, body.byteLength) : Buffer.alloc(0);
  switch (format) {
    case 'buffer':
      return { value: bytes };
    case 'text':
      return { value: bytes.toString('utf8') };
    case 'csv':
      return { value: parseCsv(bytes.toString('utf8')) };
    case 'json': {
      const text = bytes.toString('utf8');
      if (text.trim() === '') return { value: null };
      try {
        return { value: isJsonLinesType(contentType) ? parseJsonLines(text) : JSON.parse(text) };
      } catch {
        throw new DecodeError(`Response is not valid JSON (content type ${contentType || 'none'}): ${snippet(text)}`);
      }
    }
    case 'auto':
    default: {
      if (bytes.length === 0) return { value: '' };
      const type = mediaType(contentType);
      const json = isJsonMedia(type);
      const lines = !json && JSON_LINES_TYPES.has(type);
      if (json || lines) {
        const text = bytes.toString('utf8');
        try {
          return { value: json ? JSON.parse(text) : parseJsonLines(text) };
        } catch {
          return {
            value: text,
            warning: `Response declared ${type} but is not valid JSON; passed on as a string: ${snippet(text)}`,
          };
        }
      }
      if (type.startsWith('text/')) return { value: bytes.toString('utf8') };
      return { value: bytes };
    }
  }
}
