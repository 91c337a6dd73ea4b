'use strict';
const assert = require('node:assert/strict');
const { Deadlines, JobMatcher, NotificationRouter, inferenceIdPrefixProblem, queueUrlProblem } = require('../../dist/lib/sqs-job-source');

describe('lib/sqs-job-source', function () {
  it('accepts prefixes that leave room for a UUID in a 64-character InferenceId, visible ASCII only', function () {
    assert.equal(inferenceIdPrefixProblem(''), undefined);
    assert.equal(inferenceIdPrefixProblem('gw-01/'), undefined);
    assert.equal(inferenceIdPrefixProblem('x'.repeat(28)), undefined);
    assert.match(inferenceIdPrefixProblem('x'.repeat(29)), /at most 28 characters/);
    assert.match(inferenceIdPrefixProblem('a b'), /visible ASCII/);
    assert.match(inferenceIdPrefixProblem('é'), /visible ASCII/);
  });

  it('checks queue URLs', function () {
    assert.equal(queueUrlProblem('https://sqs.us-east-1.amazonaws.com/123456789012/q'), undefined);
    assert.match(queueUrlProblem(''), /required/);
    assert.match(queueUrlProblem('sqs://q'), /SQS queue URL/);
  });

  it('JobMatcher: a lookup made while the job is being submitted waits for its acceptance (or abandonment); ended ids are remembered', async function () {
    const m = new JobMatcher();
    assert.equal(m.expect('a'), true);
    assert.equal(m.expect('a'), false, 'the same id twice');
    const waiting = m.lookup('a');
    assert.ok(waiting instanceof Promise);
    m.accept('a', 'job-1');
    assert.equal(await waiting, 'job-1');
    assert.equal(m.lookup('a'), 'job-1');
    assert.equal(m.expect('a'), false, 'pending');
    m.expect('b');
    const b = m.lookup('b');
    m.abandon('b');
    assert.equal(await b, undefined);
    assert.equal(m.lookup('b'), undefined);
    m.end('a');
    assert.equal(m.lookup('a'), undefined);
    assert.equal(m.ended('a'), true);
    assert.equal(m.ended('b'), false);
  });

  it('Deadlines: one timer for the earliest deadline; expired ids fire once, deleted ones never', function () {
    let now = 0;
    const timers = [];
    const fake = {
      now: () => now,
      setTimeout: (fn, ms) => {
        const t = { fn, at: now + ms, cleared: false };
        timers.push(t);
        return t;
      },
      clearTimeout: (t) => {
        t.cleared = true;
      },
    };
    const fired = [];
    const d = new Deadlines((id) => fired.push(id), fake);
    d.add('x', 300);
    d.add('y', 100);
    d.add('z', 200);
    d.delete('z');
    const live = () => timers.filter((t) => !t.cleared);
    assert.equal(live().length, 1);
    const run = () => {
      const t = live().sort((a, b) => a.at - b.at)[0];
      now = t.at;
      t.cleared = true;
      t.fn();
    };
    run();
    assert.deepEqual(fired, ['y']);
    run();
    assert.deepEqual(fired, ['y', 'x']);
    assert.equal(live().length, 0);
    assert.equal(d.size, 0);
  });

  it('NotificationRouter: a notification nobody claims stays in the queue (keep); a late one of an ended job is deleted', async function () {
    const ops = { receive: async () => [], delete: async () => {} };
    const r = new NotificationRouter(ops);
    const owner = { claim: (n) => (n.inferenceId === 'mine' ? Promise.resolve('delete') : undefined), ended: (id) => id === 'old' };
    r.add(owner);
    const note = (id) => ({ inferenceId: id, invocationStatus: 'Completed', outputLocation: 's3://b/k', raw: {} });
    assert.equal(await r['dispatch'](note('mine'), new AbortController().signal), 'delete');
    assert.equal(await r['dispatch'](note('old'), new AbortController().signal), 'delete');
    assert.equal(await r['dispatch'](note('other'), new AbortController().signal), 'keep');
    assert.equal(r.stats.unclaimed, 1);
    assert.equal(r.stats.late, 1);
    await r.remove(owner);
  });
});
