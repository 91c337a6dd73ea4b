'use strict';
const assert = require('node:assert');
const { encodeBody, decodeBody, isJsonType, isJsonLinesType, mediaType } = require('../../dist/lib/payload.js');

const isInputError = (re) => (e) => e.name === 'InputError' && e.field === 'msg.payload' && re.test(e.message);

describe('lib/payload encodeBody', function () {
  it('auto: Buffer as is (octet-stream), string as UTF-8 (text/plain), values as JSON (application/json)', function () {
    const buf = Buffer.from([0, 1, 2]);
    assert.deepStrictEqual(encodeBody(buf), { body: buf, contentType: 'application/octet-stream' });
    const s = encodeBody('héllo');
    assert.strictEqual(s.contentType, 'text/plain');
    assert.strictEqual(s.body.toString('utf8'), 'héllo');
    for (const v of [{ a: 1 }, [1, 2], 42, true, false, 0]) {
      const e = encodeBody(v);
      assert.strictEqual(e.contentType, 'application/json');
      assert.deepStrictEqual(JSON.parse(e.body.toString()), v);
    }
    assert.deepStrictEqual(encodeBody(new Uint8Array([7, 8])).body, Buffer.from([7, 8]));
  });

  it('json: strings must already be JSON text; values are encoded', function () {
    assert.strictEqual(encodeBody('{"a":1}', 'json').body.toString(), '{"a":1}');
    assert.throws(() => encodeBody('not json', 'json'), isInputError(/not valid JSON/));
    assert.strictEqual(encodeBody({ b: [1] }, 'json').body.toString(), '{"b":[1]}');
    assert.strictEqual(encodeBody({ b: [1] }, 'json').contentType, 'application/json');
  });

  it('csv: rows to text/csv; strings taken as CSV already; nested objects rejected', function () {
    assert.deepStrictEqual(encodeBody([1, 2, 3], 'csv'), { body: Buffer.from('1,2,3'), contentType: 'text/csv' });
    assert.strictEqual(
      encodeBody(
        [
          [1, 2],
          [3, 4],
        ],
        'csv',
      ).body.toString(),
      '1,2\n3,4',
    );
    assert.strictEqual(encodeBody('1,2\n3,4', 'csv').body.toString(), '1,2\n3,4');
    assert.throws(() => encodeBody([[1, { x: 1 }]], 'csv'), isInputError(/row 1 column 2 is an object/));
    assert.throws(() => encodeBody({ x: 1 }, 'csv'), isInputError(/needs an array/));
  });

  it('text: strings, numbers, booleans as text/plain; objects rejected', function () {
    assert.deepStrictEqual(encodeBody(12.5, 'text'), { body: Buffer.from('12.5'), contentType: 'text/plain' });
    assert.throws(() => encodeBody({ a: 1 }, 'text'), isInputError(/request format text needs/));
  });

  it('binary: Buffer as is, string as its UTF-8 bytes, objects rejected', function () {
    assert.deepStrictEqual(encodeBody('ab', 'binary'), { body: Buffer.from('ab'), contentType: 'application/octet-stream' });
    assert.throws(() => encodeBody([1], 'binary'), isInputError(/binary needs a Buffer/));
  });

  it('rejects payloads that cannot be encoded with a clear message', function () {
    assert.throws(() => encodeBody(undefined), isInputError(/msg.payload is undefined/));
    assert.throws(() => encodeBody(null), isInputError(/msg.payload is null/));
    const circ = { a: 1 };
    circ.self = circ;
    assert.throws(() => encodeBody(circ), isInputError(/circular reference/));
    assert.throws(() => encodeBody(() => 1), isInputError(/is a function/));
    assert.throws(() => encodeBody(Symbol('s')), isInputError(/is a symbol/));
    assert.throws(() => encodeBody(10n), isInputError(/BigInt/));
    assert.throws(() => encodeBody({ n: 10n }), isInputError(/BigInt/));
    assert.throws(() => encodeBody(NaN), isInputError(/NaN/));
  });
});

describe('lib/payload decodeBody', function () {
  const b = (s) => Buffer.from(s);
  it('auto: JSON types incl. +json are parsed', function () {
    assert.deepStrictEqual(decodeBody(b('{"a":1}'), 'application/json').value, { a: 1 });
    assert.deepStrictEqual(decodeBody(b('[1]'), 'application/vnd.api+json; charset=utf-8').value, [1]);
  });
  it('auto: JSON Lines types become an array', function () {
    assert.deepStrictEqual(decodeBody(b('{"a":1}\n{"a":2}\n\n'), 'application/jsonlines').value, [{ a: 1 }, { a: 2 }]);
    assert.deepStrictEqual(decodeBody(b('1\r\n2'), 'application/x-ndjson').value, [1, 2]);
  });
  it('auto: text/* and text/csv become strings; other types a Buffer', function () {
    assert.strictEqual(decodeBody(b('1,2'), 'text/csv').value, '1,2');
    assert.strictEqual(decodeBody(b('hi'), 'text/plain; charset=utf-8').value, 'hi');
    const out = decodeBody(b('xyz'), 'application/octet-stream').value;
    assert.ok(Buffer.isBuffer(out));
    assert.strictEqual(out.toString(), 'xyz');
    assert.ok(Buffer.isBuffer(decodeBody(b('x'), undefined).value));
  });
  it('auto: an invalid JSON body falls back to the string with a warning', function () {
    const d = decodeBody(b('oops{'), 'application/json');
    assert.strictEqual(d.value, 'oops{');
    assert.match(d.warning, /application\/json.*not valid JSON/);
  });
  it("empty bodies: auto and text give '', json null, csv [], buffer an empty Buffer", function () {
    assert.strictEqual(decodeBody(null, 'application/json').value, '');
    assert.strictEqual(decodeBody(b(''), 'text/plain', 'text').value, '');
    assert.strictEqual(decodeBody(null, 'application/json', 'json').value, null);
    assert.deepStrictEqual(decodeBody(null, 'text/csv', 'csv').value, []);
    assert.strictEqual(decodeBody(null, 'x', 'buffer').value.length, 0);
  });
  it('forced formats ignore the content type', function () {
    assert.deepStrictEqual(decodeBody(b('{"a":1}'), 'application/octet-stream', 'json').value, { a: 1 });
    assert.strictEqual(decodeBody(b('{"a":1}'), 'application/json', 'text').value, '{"a":1}');
    assert.ok(Buffer.isBuffer(decodeBody(b('{"a":1}'), 'application/json', 'buffer').value));
    assert.deepStrictEqual(decodeBody(b('0.5,abc\n1,2\n'), 'text/plain', 'csv').value, [
      [0.5, 'abc'],
      [1, 2],
    ]);
  });
  it('json: an invalid body throws naming the content type and the start of the body', function () {
    assert.throws(
      () => decodeBody(b('<html>bad gateway</html>'), 'text/html', 'json'),
      (e) => e.name === 'DecodeError' && /content type text\/html/.test(e.message) && /<html>bad gateway/.test(e.message),
    );
  });
  it('content type helpers', function () {
    assert.strictEqual(mediaType(' Application/JSON ; charset=utf-8'), 'application/json');
    assert.ok(isJsonType('application/problem+json'));
    assert.ok(!isJsonType('application/jsonlines'));
    assert.ok(isJsonLinesType('application/jsonlines'));
  });
});

describe('request format jsonlines', function () {
  it('an array becomes one JSON value per line (application/jsonlines); a string is sent as is', function () {
    const e = encodeBody([{ a: 1 }, [2, 3]], 'jsonlines');
    assert.equal(e.contentType, 'application/jsonlines');
    assert.equal(e.body.toString(), '{"a":1}\n[2,3]\n');
    assert.equal(encodeBody('{"a":1}\n', 'jsonlines').body.toString(), '{"a":1}\n');
  });
});
