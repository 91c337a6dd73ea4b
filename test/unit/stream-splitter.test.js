'use strict';
const assert = require('node:assert');
const fc = require('fast-check');
const { TextSplitter, LineSplitter, ByteLineSplitter, Utf8Stream } = require('../../dist/lib/stream-splitter.js');

/** Cuts bytes at the given positions (any byte offset, also inside a character). */
function cut(bytes, positions) {
  const points = [...new Set(positions.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const parts = [];
  let start = 0;
  for (const p of points) {
    parts.push(bytes.subarray(start, p));
    start = p;
  }
  parts.push(bytes.subarray(start));
  return parts;
}

/** Reference lines: split on \n, strip one \r before it, drop the empty tail after a final \n. */
function expectedLines(text) {
  const pieces = text.split('\n');
  const last = pieces.pop();
  const lines = pieces.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  if (last !== '') lines.push(last);
  return lines;
}

function run(splitter, parts) {
  const out = [];
  for (const p of parts) out.push(...splitter.push(p));
  out.push(...splitter.end());
  return out;
}

const textArb = fc
  .array(
    fc.oneof(fc.string({ unit: 'binary', maxLength: 12 }), fc.constantFrom('\n', '\r\n', '\r', 'é', '€', '日本語', '🚀', '🙂\n', '')),
    { maxLength: 30 },
  )
  .map((xs) => xs.join(''));
const cutsArb = fc.array(fc.nat(), { maxLength: 40 });

describe('stream-splitter', function () {
  it('string mode: any text cut at any byte positions concatenates back to the same text', function () {
    fc.assert(
      fc.property(textArb, cutsArb, (text, cuts) => {
        const pieces = run(new TextSplitter('part'), cut(Buffer.from(text), cuts));
        assert.strictEqual(pieces.join(''), text);
        assert.ok(
          pieces.every((p) => p !== ''),
          'no empty pieces',
        );
      }),
      { numRuns: 500 },
    );
  });

  it('line mode: any text cut at any byte positions yields exactly its lines without endings', function () {
    fc.assert(
      fc.property(textArb, cutsArb, (text, cuts) => {
        assert.deepStrictEqual(run(new TextSplitter('line'), cut(Buffer.from(text), cuts)), expectedLines(text));
      }),
      { numRuns: 500 },
    );
  });

  it('byte line mode: lines as Buffers match the text lines, whatever the cuts', function () {
    fc.assert(
      fc.property(textArb, cutsArb, (text, cuts) => {
        const lines = run(new ByteLineSplitter(), cut(Buffer.from(text), cuts)).map((b) => b.toString('utf8'));
        assert.deepStrictEqual(lines, expectedLines(text));
      }),
      { numRuns: 300 },
    );
  });

  it('holds back a 4-byte emoji cut into single bytes until it is complete', function () {
    const u = new Utf8Stream();
    const bytes = Buffer.from('🚀');
    assert.deepStrictEqual(
      [0, 1, 2].map((i) => u.push(bytes.subarray(i, i + 1))),
      ['', '', ''],
    );
    assert.strictEqual(u.push(bytes.subarray(3)), '🚀');
    assert.strictEqual(u.end(), '');
  });

  it('treats \\r\\n split across chunks as one line ending and keeps a lone \\r as content', function () {
    const s = new LineSplitter();
    assert.deepStrictEqual(s.push('a\r'), []);
    assert.deepStrictEqual(s.push('\nb\rc\n'), ['a', 'b\rc']);
    assert.deepStrictEqual(s.push('tail'), []);
    assert.deepStrictEqual(s.end(), ['tail']);
  });

  it('flushes an unfinished character at the end as U+FFFD rather than dropping it', function () {
    const t = new TextSplitter('part');
    assert.deepStrictEqual(t.push(Buffer.from('€').subarray(0, 2)), []);
    assert.deepStrictEqual(t.end(), ['\ufffd']);
  });
});
