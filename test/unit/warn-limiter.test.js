'use strict';
const assert = require('node:assert/strict');
const { warnLimiter } = require('../../dist/lib/warn-limiter.js');

describe('warn-limiter', function () {
  it('lets one warning of a kind through per interval and counts the ones held back', function () {
    let now = 0;
    const out = [];
    const w = warnLimiter({ intervalMs: 10_000, warn: (t) => out.push(t), now: () => now });
    for (let i = 0; i < 100; i++) {
      w.warn('read', `read ${i}`);
      w.warn('list', `list ${i}`);
      now += 500; // 50 s in all
    }
    assert.deepEqual(
      out.filter((t) => t.startsWith('read')),
      [
        'read 0',
        'read 20 (19 similar warnings held back)',
        'read 40 (19 similar warnings held back)',
        'read 60 (19 similar warnings held back)',
        'read 80 (19 similar warnings held back)',
      ],
    );
    assert.equal(out.filter((t) => t.startsWith('list')).length, 5);
    assert.equal(w.suppressed.get('read'), 95);
  });
});
