'use strict';
const assert = require('node:assert/strict');
const { StreamParts } = require('../../dist/lib/stream-parts.js');

function collect(options, parts) {
  const out = [];
  const warnings = [];
  const sp = new StreamParts({ completionPayload: true, emit: (p) => out.push(p), notJson: (line) => warnings.push(line), ...options });
  return (async () => {
    for (const p of parts) await sp.push(Buffer.from(p));
    await sp.end();
    return { out, warnings, completion: sp.completion(), parts: sp.parts, bytes: sp.bytes };
  })();
}

describe('stream-parts: what the PayloadParts of one stream become', function () {
  it('part mode sends each part as text, holding back a character split across parts', async function () {
    const euro = Buffer.from('€');
    const r = await collect({ split: 'part', decode: 'string', text: 'none' }, [
      Buffer.concat([Buffer.from('a'), euro.subarray(0, 1)]),
      euro.subarray(1),
      'b',
    ]);
    assert.deepEqual(r.out, ['a', '€', 'b']);
    assert.equal(r.completion, 'a€b');
    assert.equal(r.parts, 3);
    assert.equal(r.bytes, 5);
  });

  it('a long stream: the completion holds every byte in order, and a buffer completion is its own copy', async function () {
    const parts = Array.from({ length: 5000 }, (_, i) => `${i},`);
    const expected = parts.join('');
    const text = await collect({ split: 'part', decode: 'string', text: 'none' }, parts);
    assert.equal(text.completion, expected);
    assert.equal(text.bytes, Buffer.byteLength(expected));
    const bytes = await collect({ split: 'part', decode: 'buffer', text: 'none' }, parts);
    assert.ok(Buffer.isBuffer(bytes.completion));
    assert.equal(bytes.completion.toString(), expected);
    // not a view of the larger buffer the parts were collected in
    assert.equal(bytes.completion.buffer.byteLength, Buffer.byteLength(expected));
  });

  it('line mode sends whole lines across part boundaries, and the completion keeps the line endings', async function () {
    const r = await collect({ split: 'line', decode: 'string', text: 'none' }, ['one\ntw', 'o\r\nthree']);
    assert.deepEqual(r.out, ['one', 'two', 'three']);
    assert.equal(r.completion, 'one\ntwo\r\nthree');
  });

  it('buffer mode sends the bytes of each non-empty part and completes with all of them', async function () {
    const r = await collect({ split: 'part', decode: 'buffer', text: 'none' }, ['ab', '', 'c']);
    assert.deepEqual(r.out.map(String), ['ab', 'c']);
    assert.ok(Buffer.isBuffer(r.completion));
    assert.equal(String(r.completion), 'abc');
  });

  it('json with a preset sends the text of each value, skips blank lines and reports lines that are not JSON', async function () {
    const tgi = (t) => JSON.stringify({ token: { text: t, special: false } });
    const r = await collect({ split: 'line', decode: 'json', text: 'tgi' }, [`data:${tgi('Hel')}\n\n`, `${tgi('lo')}\nnot json\n`]);
    assert.deepEqual(r.out, ['Hel', 'lo']);
    assert.equal(r.completion, 'Hello');
    assert.deepEqual(r.warnings, ['not json']);
  });

  it('json with an expression waits for each evaluation, in order', async function () {
    const text = (v) => new Promise((resolve) => setImmediate(() => resolve(v.t)));
    const r = await collect({ split: 'line', decode: 'json', text }, ['{"t":"a"}\n{"t":"b"}\n', '{"t":"c"}']);
    assert.deepEqual(r.out, ['a', 'b', 'c']);
    assert.equal(r.completion, 'abc');
  });

  it('without completion payload nothing is kept for the completion', async function () {
    const r = await collect({ split: 'part', decode: 'string', text: 'none', completionPayload: false }, ['a', 'b']);
    assert.deepEqual(r.out, ['a', 'b']);
    assert.equal(r.completion, undefined);
  });
});
