'use strict';
const assert = require('node:assert');
const fc = require('fast-check');
const { toCsv, parseCsv } = require('../../dist/lib/csv.js');

describe('lib/csv', function () {
  it('an array of numbers becomes one line', function () {
    assert.strictEqual(toCsv([1, 2.5, -3]), '1,2.5,-3');
  });
  it('an array of arrays becomes one line per row', function () {
    assert.strictEqual(
      toCsv([
        [1, 2],
        [3, 4],
      ]),
      '1,2\n3,4',
    );
  });
  it('quotes cells with commas, quotes and line breaks; null is an empty cell', function () {
    assert.strictEqual(toCsv(['a,b', 'say "hi"', 'x\ny', null, true]), '"a,b","say ""hi""","x\ny",,true');
  });
  it('rejects a nested object naming its row and column', function () {
    assert.throws(
      () =>
        toCsv([
          [1, 2],
          [3, { a: 1 }],
        ]),
      (e) => e.name === 'InputError' && e.field === 'msg.payload' && /row 2 column 2 is an object/.test(e.message),
    );
    assert.throws(() => toCsv([1, { a: 1 }]), /column 2 is an object/);
    assert.throws(() => toCsv([1, NaN]), /column 2 is NaN/);
  });
  it('rejects a non-array', function () {
    assert.throws(() => toCsv({ a: 1 }), /needs an array/);
  });
  it('parses rows with numeric cells as numbers and quoted cells as strings', function () {
    assert.deepStrictEqual(parseCsv('1,2.5,abc\r\n"4",-1e3,\n'), [
      [1, 2.5, 'abc'],
      ['4', -1000, ''],
    ]);
    assert.deepStrictEqual(parseCsv('"a,""b""\nc",2'), [['a,"b"\nc', 2]]);
    assert.deepStrictEqual(parseCsv(''), []);
  });
  it('round-trips any table of finite numbers and plain strings', function () {
    const cell = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0)),
      fc.string().filter((s) => s !== '' && isNaN(Number(s))),
    );
    fc.assert(
      fc.property(fc.array(fc.array(cell, { minLength: 1, maxLength: 5 }), { minLength: 2, maxLength: 5 }), (rows) => {
        assert.deepStrictEqual(parseCsv(toCsv(rows)), rows);
      }),
    );
  });
});
