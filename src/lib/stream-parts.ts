/**
 * What sagemaker-stream makes of the PayloadParts of one response stream (README
 * "sagemaker-stream"): the payloads of the part messages (a piece of text, a line, a Buffer, a
 * JSON value or the text taken from it) and the completion payload. The caller feeds the parts
 * in order and sends what `emit` gets.
 */
import { ByteLineSplitter, TextSplitter, Utf8Stream, type SplitMode } from './stream-splitter';
import { parseJsonLine, presetText, toTextPiece } from './stream-text';

export type DecodeMode = 'string' | 'buffer' | 'json';

/** With decode json: the whole value, a preset's text, or the result of an expression (JSONata). */
export type TextOf = 'none' | 'tgi' | 'openai' | ((value: unknown) => Promise<unknown>);

export interface StreamPartsOptions {
  split: SplitMode;
  decode: DecodeMode;
  text: TextOf;
  /** Keep what the completion message needs (the whole body, or the values / text). */
  completionPayload: boolean;
  /** One part message's payload, in order. */
  emit(payload: unknown): void;
  /** A line that is not JSON (decode json): skipped. */
  notJson(line: string, error: string): void;
}

/**
 * The bytes of every part, copied into one growing buffer: keeping each part instead would keep
 * thousands of small objects alive through every young-generation collection of a long stream.
 */
class ByteCollector {
  private buffer = Buffer.allocUnsafe(4096);
  length = 0;

  push(part: Uint8Array): void {
    if (this.length + part.byteLength > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + part.byteLength));
      this.buffer.copy(grown, 0, 0, this.length);
      this.buffer = grown;
    }
    this.buffer.set(part, this.length);
    this.length += part.byteLength;
  }

  /** The bytes collected (a view: copy before handing it on). */
  view(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}

export class StreamParts {
  /** PayloadParts pushed so far. */
  parts = 0;
  /** Their bytes. */
  bytes = 0;
  private readonly o: StreamPartsOptions;
  // One of these cuts the bytes, by mode.
  private readonly utf8: Utf8Stream | undefined;
  private readonly text: TextSplitter | undefined;
  private readonly byteLines: ByteLineSplitter | undefined;
  // What the completion payload is made of.
  private readonly body: ByteCollector | undefined;
  private readonly values: unknown[] = [];
  private readonly pieces: string[] = [];

  constructor(o: StreamPartsOptions) {
    this.o = o;
    if (o.completionPayload && o.decode !== 'json') this.body = new ByteCollector();
    if (o.decode === 'buffer') this.byteLines = o.split === 'line' ? new ByteLineSplitter() : undefined;
    else if (o.decode === 'string' && o.split === 'part') this.utf8 = new Utf8Stream();
    else this.text = new TextSplitter(o.decode === 'json' ? 'line' : o.split);
  }

  /**
   * Takes the next part. Synchronous unless a JSONata expression has to be evaluated: an await
   * per part would cost a microtask round for every token.
   */
  push(part: Uint8Array): Promise<void> | undefined {
    const o = this.o;
    this.parts++;
    this.bytes += part.byteLength;
    this.body?.push(part);
    if (this.utf8) {
      const piece = this.utf8.push(part);
      if (piece !== '') o.emit(piece);
    } else if (this.text) {
      const pieces = this.text.push(part);
      if (o.decode === 'json') return this.lines(pieces);
      for (let i = 0; i < pieces.length; i++) o.emit(pieces[i]);
    } else if (this.byteLines) {
      for (const line of this.byteLines.push(part)) o.emit(line);
    } else if (part.byteLength > 0) {
      o.emit(Buffer.from(part.buffer, part.byteOffset, part.byteLength));
    }
    return undefined;
  }

  /** The end of the stream: what was held back (an unfinished line or character). */
  end(): Promise<void> | undefined {
    const o = this.o;
    if (this.utf8) {
      const piece = this.utf8.end();
      if (piece !== '') o.emit(piece);
    } else if (this.text) {
      const pieces = this.text.end();
      if (o.decode === 'json') return this.lines(pieces);
      for (const piece of pieces) o.emit(piece);
    } else if (this.byteLines) {
      for (const line of this.byteLines.end()) o.emit(line);
    }
    return undefined;
  }

  /** The completion message's payload (undefined without `completionPayload`). */
  completion(): unknown {
    const o = this.o;
    if (!o.completionPayload) return undefined;
    if (o.decode === 'json') return o.text === 'none' ? this.values : this.pieces.join('');
    const all = this.body?.view() ?? Buffer.alloc(0);
    return o.decode === 'buffer' ? Buffer.from(all) : all.toString('utf8');
  }

  private lines(lines: string[]): Promise<void> | undefined {
    for (let i = 0; i < lines.length; i++) {
      const pending = this.line(lines[i]);
      if (pending) return pending.then(() => this.lines(lines.slice(i + 1)));
    }
    return undefined;
  }

  private line(line: string): Promise<void> | undefined {
    const r = parseJsonLine(line);
    if (r.kind === 'skip') return undefined;
    if (r.kind === 'invalid') {
      this.o.notJson(r.line, r.error);
      return undefined;
    }
    const text = this.o.text;
    if (text === 'none') {
      if (this.o.completionPayload) this.values.push(r.value);
      this.o.emit(r.value);
    } else if (typeof text === 'string') this.piece(presetText(text, r.value));
    else return text(r.value).then((v) => this.piece(toTextPiece(v)));
    return undefined;
  }

  private piece(piece: string | undefined): void {
    if (piece === undefined || piece === '') return;
    if (this.o.completionPayload) this.pieces.push(piece);
    this.o.emit(piece);
  }
}
