'use strict';
const assert = require('node:assert');
const { encodeRow, batchBody, batchFormatFor, batchContentType, splitResponse, BatchSizeMismatch } = require('../../dist/lib/batch.js');
const { Batcher } = require('../../dist/lib/batcher.js');

const buf = (s) => Buffer.from(s, 'utf8');

describe('batch formats', function () {
  describe('encodeRow', function () {
    it('csv: a number array, a single row, a number or a one-line CSV string is one line', function () {
      assert.equal(encodeRow([1, 2.5, 3], 'csv'), '1,2.5,3');
      assert.equal(encodeRow([[1, 'a,b']], 'csv'), '1,"a,b"');
      assert.equal(encodeRow(7, 'csv'), '7');
      assert.equal(encodeRow('4,5,6\n', 'csv'), '4,5,6');
      assert.equal(encodeRow(buf('8,9'), 'csv'), '8,9');
    });

    it('csv: several rows, a multi-line string, an empty array or an object fail with InputError on msg.payload', function () {
      for (const bad of [[[1], [2]], '1,2\n3,4', [], { a: 1 }, undefined, null, [1, NaN]]) {
        assert.throws(
          () => encodeRow(bad, 'csv'),
          (e) => e.name === 'InputError' && e.field === 'msg.payload',
          JSON.stringify(bad),
        );
      }
    });

    it('json / jsonlines: any JSON value; JSON text must parse and is put on one line', function () {
      assert.equal(encodeRow({ a: [1, 2] }, 'json'), '{"a":[1,2]}');
      assert.equal(encodeRow('{\n  "a": 1\n}', 'jsonlines'), '{"a":1}');
      assert.equal(encodeRow(' [1,2] ', 'json'), '[1,2]');
      const circular = {};
      circular.self = circular;
      for (const bad of ['not json', circular, undefined, () => 1, 10n, Infinity]) {
        assert.throws(
          () => encodeRow(bad, 'json'),
          (e) => e.name === 'InputError' && e.field === 'msg.payload',
        );
      }
    });

    it('batchBody joins rows as CSV lines, a JSON array or JSON Lines', function () {
      assert.equal(batchBody(['1,2', '3,4'], 'csv').toString(), '1,2\n3,4\n');
      assert.equal(batchBody(['[1]', '{"a":2}'], 'json').toString(), '[[1],{"a":2}]');
      assert.equal(batchBody(['[1]', '[2]'], 'jsonlines').toString(), '[1]\n[2]\n');
    });

    it('batchFormatFor: auto means json; text and binary cannot be batched', function () {
      assert.deepEqual(['', 'auto', 'json', 'csv', 'jsonlines', 'text', 'binary'].map(batchFormatFor), [
        'json',
        'json',
        'json',
        'csv',
        'jsonlines',
        undefined,
        undefined,
      ]);
      assert.deepEqual(['csv', 'json', 'jsonlines'].map(batchContentType), ['text/csv', 'application/json', 'application/jsonlines']);
    });
  });

  describe('splitResponse', function () {
    it('a JSON array or a "predictions" array gives one value per message', function () {
      assert.deepEqual(splitResponse(buf('[{"s":1},{"s":2}]'), 'application/json', 'auto', 2), [{ s: 1 }, { s: 2 }]);
      assert.deepEqual(splitResponse(buf('{"predictions":[0.1,0.9]}'), 'application/json', 'json', 2), [0.1, 0.9]);
      assert.deepEqual(splitResponse(buf('[{"s":1}]'), 'application/json', 'text', 1), ['{"s":1}']);
    });

    it('JSON Lines gives one value per line; CSV one line per row (cells with format csv)', function () {
      assert.deepEqual(splitResponse(buf('{"a":1}\n{"a":2}\n'), 'application/jsonlines', 'auto', 2), [{ a: 1 }, { a: 2 }]);
      assert.deepEqual(splitResponse(buf('1,0.5\n0,0.1\n'), 'text/csv', 'auto', 2), ['1,0.5', '0,0.1']);
      assert.deepEqual(splitResponse(buf('1,0.5\r\n0,0.1'), 'text/csv', 'csv', 2), [
        [1, 0.5],
        [0, 0.1],
      ]);
    });

    it('a row count that differs from the batch is BatchSizeMismatch with both counts', function () {
      const cases = [
        [buf('[1,2,3]'), 'application/json', 3],
        [buf('{"score":1}'), 'application/json', 1],
        [buf('a\nb\n'), 'text/csv', 2],
        [buf('bytes'), 'application/octet-stream', 1],
      ];
      for (const [body, type, rows] of cases) {
        assert.throws(
          () => splitResponse(body, type, 'auto', 5),
          (e) =>
            e instanceof BatchSizeMismatch &&
            e.name === 'BatchSizeMismatch' &&
            e.batchSize === 5 &&
            e.responseRows === rows &&
            e.message.includes(`${rows} row`) &&
            e.message.includes('batch of 5'),
        );
      }
    });

    it('a JSON body that does not parse is a DecodeError', function () {
      assert.throws(
        () => splitResponse(buf('[1,'), 'application/json', 'auto', 2),
        (e) => e.name === 'DecodeError',
      );
    });
  });
});

describe('Batcher', function () {
  function fakeTimers() {
    const t = { pending: new Map(), next: 1 };
    t.set = (fn, ms) => {
      const id = t.next++;
      t.pending.set(id, { fn, ms });
      return id;
    };
    t.clear = (id) => t.pending.delete(id);
    t.fire = () => {
      const all = [...t.pending.entries()];
      t.pending.clear();
      for (const [, { fn }] of all) fn();
    };
    return t;
  }

  it('hands a batch on when it reaches the size, with no timer left behind', function () {
    const timers = fakeTimers();
    const out = [];
    const b = new Batcher({ size: 3, windowMs: 20, maxBytes: 1000, timers, onBatch: (x) => out.push(x) });
    for (let i = 0; i < 3; i++) b.add('k', `r${i}`, 3, i);
    assert.deepEqual(
      out.map((x) => x.items),
      [[0, 1, 2]],
    );
    assert.equal(timers.pending.size, 0);
    assert.equal(b.pending, 0);
  });

  it('hands a partial batch on when its window ends; the window starts at its first row', function () {
    const timers = fakeTimers();
    const out = [];
    const b = new Batcher({ size: 50, windowMs: 20, maxBytes: 1000, timers, onBatch: (x) => out.push(x) });
    b.add('k', 'a', 2, 1);
    b.add('k', 'b', 2, 2);
    assert.equal(timers.pending.size, 1);
    assert.equal([...timers.pending.values()][0].ms, 20);
    assert.equal(b.pending, 2);
    timers.fire();
    assert.deepEqual(
      out.map((x) => x.rows),
      [['a', 'b']],
    );
  });

  it('keeps one batch per key', function () {
    const timers = fakeTimers();
    const out = [];
    const b = new Batcher({ size: 2, windowMs: 20, maxBytes: 1000, timers, onBatch: (x) => out.push(x) });
    b.add('x', 'x1', 3, 'x1');
    b.add('y', 'y1', 3, 'y1');
    b.add('x', 'x2', 3, 'x2');
    assert.deepEqual(
      out.map((x) => [x.key, x.items]),
      [['x', ['x1', 'x2']]],
    );
    timers.fire();
    assert.deepEqual(
      out.map((x) => [x.key, x.items]),
      [
        ['x', ['x1', 'x2']],
        ['y', ['y1']],
      ],
    );
  });

  it('sends the open batch first when a row would take it over the byte limit', function () {
    const out = [];
    const b = new Batcher({ size: 10, windowMs: 20, maxBytes: 10, timers: fakeTimers(), onBatch: (x) => out.push(x) });
    b.add('k', 'aaaa', 5, 1);
    b.add('k', 'bbbb', 5, 2);
    b.add('k', 'cccc', 5, 3);
    assert.deepEqual(
      out.map((x) => x.items),
      [[1, 2]],
    );
  });

  it('close() returns the waiting items unsent and stops the windows', function () {
    const timers = fakeTimers();
    const out = [];
    const b = new Batcher({ size: 10, windowMs: 20, maxBytes: 1000, timers, onBatch: (x) => out.push(x) });
    b.add('a', 'r', 2, 1);
    b.add('b', 'r', 2, 2);
    assert.deepEqual(b.close().sort(), [1, 2]);
    assert.equal(timers.pending.size, 0);
    assert.equal(out.length, 0);
    assert.equal(b.pending, 0);
  });
});
