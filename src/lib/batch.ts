/**
 * Micro-batching formats (README "Micro-batching"): one message's payload → one row of a batch
 * request, the rows → one request body, and the response body → one value per message.
 * Pure functions; the collecting by endpoint and window is in `batcher.ts`.
 */
import { describeType, parseCsv, toCsv } from './csv';
import { InputError } from './errors';
import {
  bytesOf,
  decodeBody,
  isJsonLinesType,
  isJsonType,
  JSON_LINES,
  mediaType,
  snippet,
  toJson,
  unencodable,
  type ResponseFormat,
} from './payload';

/** The request formats a batch can be sent in. */
export type BatchFormat = 'csv' | 'json' | 'jsonlines';
export const BATCH_FORMATS: readonly BatchFormat[] = ['csv', 'json', 'jsonlines'];

/** Batch size limits: 1 = batching off. */
export const MAX_BATCH_SIZE = 1000;
export const DEFAULT_BATCH_WINDOW_MS = 20;
/** The longest window: a message should not wait longer than a client would for the request itself. */
export const MAX_BATCH_WINDOW_MS = 60_000;

const FIELD = 'msg.payload';

/**
 * The batch format for a node's request format: `auto` means `json` (objects and arrays are JSON
 * by default); `text` and `binary` have no row boundaries, so they cannot be batched (undefined).
 */
export function batchFormatFor(requestFormat: string | undefined): BatchFormat | undefined {
  const f = (requestFormat ?? '').trim() || 'auto';
  if (f === 'auto') return 'json';
  return (BATCH_FORMATS as readonly string[]).includes(f) ? (f as BatchFormat) : undefined;
}

/** The content type a batch of `format` is sent with, unless the node or message sets one. */
export function batchContentType(format: BatchFormat): string {
  return format === 'csv' ? 'text/csv' : format === 'json' ? 'application/json' : JSON_LINES;
}

function oneLine(text: string, what: string): string {
  const t = text.replace(/\r?\n$/, '');
  if (/[\r\n]/.test(t)) throw new InputError(FIELD, `${FIELD} is ${what} of more than one line; in a batch each message must be one row`);
  if (t.trim() === '') throw new InputError(FIELD, `${FIELD} is empty: a batch row needs at least one value`);
  return t;
}

function jsonText(text: string, format: BatchFormat): string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InputError(FIELD, `${FIELD} is a string that is not valid JSON (request format ${format}): ${snippet(text)}`);
  }
  // Pretty-printed JSON would span lines; the parsed value is re-encoded on one line.
  return /[\r\n]/.test(text) ? JSON.stringify(value) : text.trim();
}

/**
 * Encodes one message's payload as one row of a batch:
 * - `csv`: an array of cells (or `[[cells]]`, one row), a number or boolean (one cell), or a
 *   one-line CSV string / Buffer;
 * - `json` / `jsonlines`: any JSON value (a string or Buffer is taken to be JSON text and must parse).
 * Throws InputError (field `msg.payload`) when the payload cannot be one row; the other messages
 * of the batch are not affected.
 */
export function encodeRow(payload: unknown, format: BatchFormat): string {
  const bad = unencodable(payload);
  if (bad) throw bad;
  const bytes = bytesOf(payload);
  const text = bytes ? bytes.toString('utf8') : typeof payload === 'string' ? payload : undefined;
  if (format === 'csv') {
    if (text !== undefined) return oneLine(text, 'CSV text');
    if (typeof payload === 'number' || typeof payload === 'boolean') return toCsv([payload]);
    if (Array.isArray(payload)) {
      if (payload.length === 0) throw new InputError(FIELD, `${FIELD} is an empty array: a CSV row needs at least one cell`);
      const rows = payload.every((r) => Array.isArray(r)) ? payload : [payload];
      if (rows.length !== 1)
        throw new InputError(FIELD, `${FIELD} is ${rows.length} rows; in a batch each message must be one row (an array of cells)`);
      return toCsv(rows[0]);
    }
    throw new InputError(FIELD, `${FIELD} is ${describeType(payload)}; a CSV batch row must be an array of cells, a number or a CSV line`);
  }
  if (text !== undefined) return jsonText(text, format);
  return toJson(payload);
}

/** The request body of a batch: CSV lines, a JSON array, or JSON Lines. */
export function batchBody(rows: readonly string[], format: BatchFormat): Buffer {
  if (format === 'json') return Buffer.from(`[${rows.join(',')}]`, 'utf8');
  return Buffer.from(rows.join('\n') + '\n', 'utf8');
}

/** Bytes a row adds to a batch body (the row and its separator). */
export function rowBytes(row: string): number {
  return Buffer.byteLength(row, 'utf8') + 1;
}

/** The response of a batch does not have one row per message. */
export class BatchSizeMismatch extends Error {
  readonly batchSize: number;
  readonly responseRows: number;
  constructor(batchSize: number, responseRows: number, shape: string) {
    super(
      `The response has ${responseRows} row${responseRows === 1 ? '' : 's'} (${shape}) for a batch of ${batchSize} message${batchSize === 1 ? '' : 's'}: ` +
        'the model must answer one row per row of the request, in order (a JSON array, an object with a "predictions" array, JSON Lines or CSV lines)',
    );
    this.name = 'BatchSizeMismatch';
    this.batchSize = batchSize;
    this.responseRows = responseRows;
  }
}

function lines(text: string): string[] {
  const out = text.split(/\r?\n/);
  while (out.length > 0 && out[out.length - 1].trim() === '') out.pop();
  return out;
}

function jsonRowValue(value: unknown, format: ResponseFormat): unknown {
  if (format === 'text') return JSON.stringify(value);
  if (format === 'buffer') return Buffer.from(JSON.stringify(value), 'utf8');
  return value;
}

/**
 * Splits a batch response into one payload per message, in order, by the response content type:
 * JSON (`auto`, `json` and `csv` give each element as a value; `text` its JSON text; `buffer` its
 * bytes) — a top-level array, or an object whose `predictions` array holds the rows; JSON Lines —
 * one value per line; `text/*` (CSV) — one line per row (`csv` gives the row's cells, `auto` /
 * `text` the line, `buffer` its bytes). Any other body is one row. Throws BatchSizeMismatch when
 * the number of rows is not `batchSize`, DecodeError when a JSON body does not parse.
 */
export function splitResponse(
  body: Uint8Array | null | undefined,
  contentType: string | undefined,
  format: ResponseFormat,
  batchSize: number,
): unknown[] {
  const bytes = body ? Buffer.from(body.buffer, body.byteOffset, body.byteLength) : Buffer.alloc(0);
  let rows: unknown[];
  let shape: string;
  if (format !== 'buffer' && format !== 'text' && isJsonLinesType(contentType)) {
    rows = decodeBody(bytes, contentType, 'json').value as unknown[];
    shape = 'JSON Lines';
  } else if (isJsonType(contentType)) {
    const value = decodeBody(bytes, contentType, 'json').value;
    const predictions =
      value && typeof value === 'object' && !Array.isArray(value) ? (value as { predictions?: unknown }).predictions : undefined;
    if (Array.isArray(value)) {
      rows = value;
      shape = 'a JSON array';
    } else if (Array.isArray(predictions)) {
      rows = predictions;
      shape = 'a "predictions" array';
    } else {
      rows = [value];
      shape = `JSON ${describeType(value)} with no "predictions" array`;
    }
    rows = rows.map((r) => jsonRowValue(r, format));
  } else if (mediaType(contentType).startsWith('text/') || isJsonLinesType(contentType)) {
    const text = lines(bytes.toString('utf8'));
    shape = `${text.length === 1 ? 'line' : 'lines'} of ${mediaType(contentType)}`;
    rows = text.map((line) => {
      if (format === 'csv') return parseCsv(line)[0] ?? [];
      if (format === 'buffer') return Buffer.from(line, 'utf8');
      if (format === 'json') return decodeBody(Buffer.from(line, 'utf8'), 'application/json', 'json').value;
      return line;
    });
  } else {
    rows = [decodeBody(bytes, contentType, format).value];
    shape = `one ${mediaType(contentType) || 'untyped'} body`;
  }
  if (rows.length !== batchSize) throw new BatchSizeMismatch(batchSize, rows.length, shape);
  return rows;
}
