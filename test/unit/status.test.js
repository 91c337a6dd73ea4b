'use strict';
const assert = require('node:assert/strict');
const { Status } = require('../../dist/lib/status.js');

function status(busy) {
  const shown = [];
  const s = new Status({ show: (x) => shown.push(x), busyText: () => busy.text });
  return { s, shown };
}

describe('status: one way every node shows its state', function () {
  it('draws the first update at once: busy text while busy, the last result when idle', function () {
    const busy = { text: '1 in flight · 0 queued' };
    const { s, shown } = status(busy);
    s.update();
    assert.deepEqual(shown.pop(), { fill: 'blue', shape: 'dot', text: '1 in flight · 0 queued' });
    s.stop();
  });

  it('shows an error at once as a red ring, cut to a readable length', function () {
    const { s, shown } = status({ text: 'busy' });
    s.error('x'.repeat(100));
    const last = shown.pop();
    assert.equal(last.fill, 'red');
    assert.equal(last.shape, 'ring');
    assert.equal(last.text.length, 60);
    s.stop();
  });

  it('after a setup problem shows nothing else', function () {
    const { s, shown } = status({ text: 'busy' });
    s.setupProblem('Concurrency must be a whole number from 1 to 1000, got "0"');
    s.update();
    s.error('later');
    s.done('12 ms');
    assert.equal(shown.length, 1);
    assert.equal(shown[0].fill, 'red');
    s.stop();
  });

  it('after stop shows nothing and leaves no timer behind', function () {
    const { s, shown } = status({ text: undefined });
    s.stop();
    s.update();
    s.error('late');
    assert.equal(shown.length, 0);
  });
});
