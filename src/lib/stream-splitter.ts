/**
 * Byte stream → text pieces or lines, for InvokeEndpointWithResponseStream. PayloadPart
 * boundaries fall anywhere (inside a line, inside a multi-byte UTF-8 character), so decoding
 * keeps state across parts: one TextDecoder in streaming mode and one line buffer.
 */

/** How the node cuts the stream into messages. */
export type SplitMode = 'part' | 'line';

const STREAM = { stream: true };

/** Incremental UTF-8 decoder that never returns half of a multi-byte character. */
export class Utf8Stream {
  private readonly decoder = new TextDecoder('utf-8');

  /** Decodes one part; bytes of an unfinished character are held back for the next call. */
  push(bytes: Uint8Array): string {
    return this.decoder.decode(bytes, STREAM);
  }

  /** Flushes held-back bytes at the end of the stream (an unfinished character becomes U+FFFD). */
  end(): string {
    return this.decoder.decode();
  }
}

/**
 * Splits text into lines across chunks. Line endings are `\n` and `\r\n` and are not part of
 * the lines; a lone `\r` is content. A final line without an ending is returned by `end()`.
 */
export class LineSplitter {
  private buffer = '';

  /** Adds text and returns the lines it completed. */
  push(text: string): string[] {
    if (text.indexOf('\n') === -1) {
      this.buffer += text;
      return [];
    }
    const pieces = (this.buffer + text).split('\n');
    this.buffer = pieces.pop() as string;
    for (let i = 0; i < pieces.length; i++) {
      const line = pieces[i];
      if (line.charCodeAt(line.length - 1) === 13) pieces[i] = line.slice(0, -1);
    }
    return pieces;
  }

  /** Returns the final unterminated line, if any, and resets. */
  end(): string[] {
    const rest = this.buffer;
    this.buffer = '';
    return rest === '' ? [] : [rest];
  }
}

/** The same as LineSplitter over raw bytes (for `decode: buffer` with `split: line`). */
export class ByteLineSplitter {
  private pending: Buffer[] = [];

  /** Adds bytes and returns the lines they completed, without `\n` / `\r\n`. */
  push(bytes: Uint8Array): Buffer[] {
    const chunk = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let start = 0;
    let nl = chunk.indexOf(10, start);
    if (nl === -1) {
      this.pending.push(chunk);
      return [];
    }
    const lines: Buffer[] = [];
    while (nl !== -1) {
      let line = chunk.subarray(start, nl);
      if (this.pending.length > 0) {
        this.pending.push(line);
        line = Buffer.concat(this.pending);
        this.pending = [];
      }
      lines.push(line.length > 0 && line[line.length - 1] === 13 ? line.subarray(0, line.length - 1) : line);
      start = nl + 1;
      nl = chunk.indexOf(10, start);
    }
    if (start < chunk.length) this.pending.push(chunk.subarray(start));
    return lines;
  }

  /** Returns the final unterminated line, if any, and resets. */
  end(): Buffer[] {
    if (this.pending.length === 0) return [];
    const rest = Buffer.concat(this.pending);
    this.pending = [];
    return rest.length === 0 ? [] : [rest];
  }
}

/**
 * Text splitter for `decode: string`: `part` mode yields the decoded text of each part (empty
 * when a part held only the start of a character), `line` mode yields completed lines.
 */
export class TextSplitter {
  private readonly utf8 = new Utf8Stream();
  private readonly lines: LineSplitter | undefined;

  constructor(split: SplitMode) {
    this.lines = split === 'line' ? new LineSplitter() : undefined;
  }

  /** Pieces completed by this part. */
  push(bytes: Uint8Array): string[] {
    const text = this.utf8.push(bytes);
    if (this.lines) return this.lines.push(text);
    return text === '' ? [] : [text];
  }

  /** Pieces left at the end of the stream. */
  end(): string[] {
    const text = this.utf8.end();
    if (this.lines) {
      const out = text === '' ? [] : this.lines.push(text);
      return out.concat(this.lines.end());
    }
    return text === '' ? [] : [text];
  }
}
