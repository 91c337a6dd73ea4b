'use strict';
const assert = require('node:assert/strict');
const { QueueConsumer, RecentIds } = require('../../dist/lib/queue-consumer.js');

const note = (id, extra = {}) =>
  JSON.stringify({
    inferenceId: id,
    invocationStatus: 'Completed',
    eventSource: 'aws:sagemaker',
    responseParameters: { outputLocation: `s3://b/${id}.out` },
    ...extra,
  });

/** A fake queue: batches handed out in order; then receive blocks until aborted. */
function fakeQueue(batches, { failReceives = 0 } = {}) {
  const calls = { receive: [], delete: [], release: [] };
  let fails = failReceives;
  const ops = {
    receive({ maxMessages, waitTimeSeconds, signal }) {
      calls.receive.push({ maxMessages, waitTimeSeconds });
      if (fails > 0) {
        fails -= 1;
        return Promise.reject(new Error('network down'));
      }
      if (batches.length > 0) return Promise.resolve(batches.shift());
      return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));
    },
    async delete(handle) {
      calls.delete.push(handle);
    },
    async release(handle) {
      calls.release.push(handle);
    },
  };
  return { ops, calls };
}

const msg = (n, body) => ({ messageId: `m${n}`, receiptHandle: `r${n}`, body });

/** Runs the consumer until `cond` holds (checked after each batch), then closes it. */
async function runUntil(consumer, cond) {
  await new Promise((resolve) => {
    const orig = consumer.o.onStats;
    consumer.o.onStats = (s) => {
      orig?.(s);
      if (cond()) resolve();
    };
    consumer.start();
  });
  await consumer.close();
}

describe('queue-consumer', function () {
  it('long-polls for 10 messages with WaitTimeSeconds 20 and deletes each message after its outcome was handled', async function () {
    const { ops, calls } = fakeQueue([[msg(1, note('a')), msg(2, note('b'))]]);
    const order = [];
    const c = new QueueConsumer({
      ops,
      async handle(n, m) {
        order.push(`handle ${n.inferenceId}`);
        assert.ok(!calls.delete.includes(m.receiptHandle));
        return 'delete';
      },
    });
    await runUntil(c, () => c.stats.handled === 2);
    assert.deepEqual(calls.receive[0], { maxMessages: 10, waitTimeSeconds: 20 });
    assert.deepEqual(order, ['handle a', 'handle b']);
    assert.deepEqual(calls.delete.sort(), ['r1', 'r2']);
  });

  it('hands a notification delivered twice (same or another message) to the handler once, and deletes both copies', async function () {
    const { ops, calls } = fakeQueue([[msg(1, note('a')), msg(2, note('a'))], [msg(3, note('a'))], [msg(4, note('b'))]]);
    const handled = [];
    const c = new QueueConsumer({ ops, handle: async (n) => (handled.push(n.inferenceId), 'delete') });
    await runUntil(c, () => c.stats.handled === 2);
    assert.deepEqual(handled, ['a', 'b']);
    assert.equal(c.stats.duplicates, 2);
    assert.deepEqual(calls.delete.sort(), ['r1', 'r2', 'r3', 'r4']);
  });

  it('leaves a message whose handler says keep (or throws) undeleted, and hands a later copy over again', async function () {
    const { ops, calls } = fakeQueue([[msg(1, note('a'))], [msg(2, note('b'))], [msg(3, note('a'))]]);
    const errors = [];
    let first = true;
    const c = new QueueConsumer({
      ops,
      onError: (e, where) => errors.push(where),
      async handle(n) {
        if (n.inferenceId === 'a' && first) {
          first = false;
          return 'keep';
        }
        if (n.inferenceId === 'b') throw new Error('boom');
        return 'delete';
      },
    });
    await runUntil(c, () => c.stats.handled === 1);
    assert.deepEqual(calls.delete, ['r3']);
    assert.equal(c.stats.kept, 2);
    assert.deepEqual(errors, ['handle']);
  });

  it('releases a message when the handler says release', async function () {
    const { ops, calls } = fakeQueue([[msg(1, note('a'))]]);
    const c = new QueueConsumer({ ops, handle: async () => 'release' });
    await runUntil(c, () => c.stats.kept === 1);
    assert.deepEqual(calls.release, ['r1']);
    assert.deepEqual(calls.delete, []);
  });

  it('keeps a message that is not a notification (so it ends in the dead-letter queue) unless onInvalid says otherwise', async function () {
    const { ops, calls } = fakeQueue([[msg(1, 'not json'), msg(2, '{"inferenceId":"x"}')]]);
    const invalid = [];
    const c = new QueueConsumer({
      ops,
      handle: async () => 'delete',
      onInvalid: (e, m) => (invalid.push(e.name), m.messageId === 'm2' ? 'delete' : 'keep'),
    });
    await runUntil(c, () => c.stats.invalid === 2);
    assert.deepEqual(invalid, ['NotificationError', 'NotificationError']);
    assert.deepEqual(calls.delete, ['r2']);
  });

  it('backs off after receive errors (1 s doubling), then goes on', async function () {
    const { ops } = fakeQueue([[msg(1, note('a'))]], { failReceives: 3 });
    const sleeps = [];
    const errors = [];
    const c = new QueueConsumer({
      ops,
      handle: async () => 'delete',
      onError: (e, where) => errors.push(where),
      sleep: async (ms) => void sleeps.push(ms),
    });
    await runUntil(c, () => c.stats.handled === 1);
    assert.deepEqual(sleeps, [1000, 2000, 4000]);
    assert.deepEqual(errors, ['receive', 'receive', 'receive']);
    assert.equal(c.stats.receiveErrors, 3);
  });

  it('close() aborts a long poll in progress and resolves', async function () {
    const { ops, calls } = fakeQueue([]);
    const c = new QueueConsumer({ ops, handle: async () => 'delete' });
    c.start();
    await new Promise((r) => setImmediate(r));
    assert.equal(calls.receive.length, 1);
    await c.close();
    assert.equal(c.closed, true);
  });

  it('RecentIds forgets ids after the window and beyond its size', function () {
    let now = 0;
    const r = new RecentIds(1000, 2, () => now);
    r.add('a');
    now = 500;
    r.add('b');
    assert.ok(r.has('a'));
    now = 1200;
    assert.ok(!r.has('a'));
    r.add('c');
    r.add('d');
    assert.ok(r.size <= 2);
    assert.ok(r.has('d'));
  });
});
