'use strict';
const assert = require('node:assert/strict');
const { AsyncPoller, listWanted, nextInterval, compareKeys } = require('../../dist/lib/async-poller.js');

// A fake S3 (sorted keys, paged like ListObjectsV2) and a fake clock driven by the test.
function fakeS3(pageSize = 1000) {
  const objects = new Map(); // bucket\nkey → size
  const calls = [];
  return {
    objects,
    calls,
    put(bucket, key, size = 1) {
      objects.set(`${bucket}\n${key}`, size);
    },
    async list({ bucket, prefix, startAfter, continuationToken }) {
      calls.push({ bucket, prefix, startAfter, continuationToken });
      const keys = [...objects.keys()]
        .filter((k) => k.startsWith(`${bucket}\n`))
        .map((k) => k.slice(bucket.length + 1))
        .filter((k) => k.startsWith(prefix))
        .sort(compareKeys);
      const from = continuationToken ? Number(continuationToken) : 0;
      const after = keys.filter((k) => startAfter === undefined || compareKeys(k, startAfter) > 0);
      const page = after.slice(from, from + pageSize);
      return {
        objects: page.map((key) => ({ key, size: objects.get(`${bucket}\n${key}`) })),
        nextContinuationToken: from + pageSize < after.length ? String(from + pageSize) : undefined,
      };
    },
  };
}

function fakeClock() {
  let now = 1_000_000;
  const timers = new Set();
  return {
    timers,
    now: () => now,
    setTimeout(fn, ms) {
      const t = { at: now + ms, fn };
      timers.add(t);
      return t;
    },
    clearTimeout(t) {
      timers.delete(t);
    },
    // Advances time, running due timers and letting their promises settle.
    async advance(ms) {
      const end = now + ms;
      for (;;) {
        const next = [...timers].filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
        if (!next) break;
        now = Math.max(now, next.at);
        timers.delete(next);
        next.fn();
        for (let i = 0; i < 20; i++) await Promise.resolve();
        await new Promise((r) => setImmediate(r));
      }
      now = end;
    },
  };
}

function job(id, extra = {}) {
  return {
    id,
    outputLocation: `s3://out-bucket/async-output/ep/${id}.out`,
    failureLocation: `s3://out-bucket/async-failures/ep/${id}-error.out`,
    startedAt: 1_000_000,
    maxWaitMs: 60_000,
    ...extra,
  };
}

/**
 * A poller over a fake S3 and a fake clock (`clock`, a new one unless given), polling every second
 * unless `options` say otherwise; `outcomes` records each as `record(job, outcome)` makes it (by
 * default the outcome itself).
 */
function pollerOn(options = {}, record = (j, o) => o, clock = fakeClock()) {
  const s3 = fakeS3();
  const outcomes = [];
  const p = new AsyncPoller({
    pollIntervalMs: 1000,
    maxPollIntervalMs: 1000,
    list: s3.list,
    timers: clock,
    onOutcome: (j, o) => outcomes.push(record(j, o)),
    ...options,
  });
  return { s3, clock, outcomes, p };
}

describe('async-poller', function () {
  it('backs off from pollInterval to maxPollInterval and resets after activity', function () {
    assert.equal(nextInterval(2000, 2000, 30000, 1.5, false), 3000);
    assert.equal(nextInterval(25000, 2000, 30000, 1.5, false), 30000);
    assert.equal(nextInterval(30000, 2000, 30000, 1.5, true), 2000);
  });

  it('checks 100 pending jobs with one ListObjectsV2 per output and failure prefix per round', async function () {
    const { s3, clock, outcomes, p } = pollerOn({}, (j, o) => [j.id, o]);
    for (let i = 0; i < 100; i++) p.add(job(`j${String(i).padStart(3, '0')}`));
    await clock.advance(1000);
    assert.equal(s3.calls.length, 2);
    assert.deepEqual(s3.calls.map((c) => c.prefix).sort(), ['async-failures/ep/', 'async-output/ep/']);
    for (let i = 0; i < 100; i += 2) s3.put('out-bucket', `async-output/ep/j${String(i).padStart(3, '0')}.out`, 7);
    s3.put('out-bucket', 'async-failures/ep/j001-error.out', 3);
    await clock.advance(1000);
    assert.equal(s3.calls.length, 4);
    assert.equal(outcomes.length, 51);
    assert.equal(outcomes.filter(([, o]) => o.type === 'output').length, 50);
    assert.deepEqual(outcomes.find(([id]) => id === 'j001')[1], {
      type: 'failure',
      bucket: 'out-bucket',
      key: 'async-failures/ep/j001-error.out',
      size: 3,
      polls: 2,
      reads: 0,
    });
    assert.equal(p.size, 49);
    p.stop();
    assert.equal(clock.timers.size, 0);
  });

  it('reports each job once, output winning over a failure object', async function () {
    const { s3, clock, outcomes, p } = pollerOn({ pollIntervalMs: 500, maxPollIntervalMs: 500 }, (j, o) => [j.id, o.type]);
    p.add(job('a'));
    s3.put('out-bucket', 'async-output/ep/a.out');
    s3.put('out-bucket', 'async-failures/ep/a-error.out');
    await clock.advance(5000);
    assert.deepEqual(outcomes, [['a', 'output']]);
  });

  it('grows the interval while nothing arrives', async function () {
    const { s3, clock, p } = pollerOn({ maxPollIntervalMs: 4000, backoffFactor: 2 });
    p.add(job('a', { failureLocation: undefined }));
    await clock.advance(1000); // check at +1 s
    await clock.advance(2000); // +3 s
    await clock.advance(4000); // +7 s
    await clock.advance(4000); // +11 s
    assert.equal(s3.calls.length, 4);
    p.stop();
  });

  it('times out a job at maxWait after one last check, and not before', async function () {
    const { clock, outcomes, p } = pollerOn({ maxPollIntervalMs: 30000 });
    p.add(job('a', { maxWaitMs: 2500 }));
    await clock.advance(2400);
    assert.equal(outcomes.length, 0);
    await clock.advance(200);
    assert.equal(outcomes.length, 1);
    assert.equal(outcomes[0].type, 'timeout');
    assert.equal(clock.timers.size, 0);
  });

  it('keeps jobs pending when a listing fails and retries next round', async function () {
    const s3 = fakeS3();
    const clock = fakeClock();
    let fail = true;
    const errors = [];
    const outcomes = [];
    const p = new AsyncPoller({
      pollIntervalMs: 1000,
      maxPollIntervalMs: 1000,
      timers: clock,
      list: async (r) => {
        if (fail) throw new Error('boom');
        return s3.list(r);
      },
      onListError: (e) => errors.push(e.message),
      onOutcome: (j, o) => outcomes.push(o.type),
    });
    p.add(job('a'));
    s3.put('out-bucket', 'async-output/ep/a.out');
    await clock.advance(1000);
    assert.ok(errors.length >= 1);
    assert.equal(p.size, 1);
    fail = false;
    await clock.advance(1000);
    assert.deepEqual(outcomes, ['output']);
  });

  it('resumed jobs are checked at once', async function () {
    const { s3, clock, outcomes, p } = pollerOn({ pollIntervalMs: 10000, maxPollIntervalMs: 10000 }, (j, o) => o.type);
    s3.put('out-bucket', 'async-output/ep/a.out');
    p.add(job('a'), true);
    await clock.advance(0);
    assert.deepEqual(outcomes, ['output']);
  });

  it('pages through a busy prefix from just before the first wanted key and stops after the last', async function () {
    const s3 = fakeS3(10);
    for (let i = 0; i < 100; i++) s3.put('b', `p/${String(i).padStart(3, '0')}.out`);
    const ac = new AbortController();
    const r = await listWanted(s3.list, 'b', 'p/', new Set(['p/050.out', 'p/075.out', 'p/200.out']), ac.signal);
    assert.deepEqual([...r.found.keys()].sort(), ['p/050.out', 'p/075.out']);
    assert.equal(s3.calls[0].startAfter, 'p/050.ou');
    assert.equal(r.calls, 5); // keys 050…099 in pages of 10
    s3.calls.length = 0;
    const r2 = await listWanted(s3.list, 'b', 'p/', new Set(['p/010.out', 'p/012.out']), ac.signal);
    assert.equal(r2.found.size, 2);
    assert.equal(r2.calls, 1);
  });

  it('groups by directory: jobs under different output paths get their own listing', async function () {
    const { s3, clock, p } = pollerOn();
    p.add(job('a', { failureLocation: undefined }));
    p.add(job('b', { outputLocation: 's3://out-bucket/other/b.out', failureLocation: undefined }));
    p.add(job('c', { outputLocation: 's3://out-bucket/other/c.out', failureLocation: undefined }));
    await clock.advance(1000);
    assert.deepEqual(s3.calls.map((c) => c.prefix).sort(), ['async-output/ep/', 'other/']);
    p.stop();
  });
  describe('reading listed objects', function () {
    // A read that fails until `okAt` (ms on the fake clock; Infinity = never).
    function reader(clock, okAt = Infinity) {
      const reads = [];
      return {
        reads,
        async read({ job, found }) {
          reads.push({ at: clock.now(), id: job.id, key: found.key });
          if (clock.now() >= okAt) return `data of ${found.key}`;
          throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
        },
      };
    }

    /** pollerOn with its reads going to a reader that succeeds from `okAt` on; resolves to { …, r }. */
    function readingPoller(okAt, options = {}, record = undefined) {
      const clock = fakeClock();
      const r = reader(clock, okAt);
      return { ...pollerOn({ read: r.read, ...options }, record, clock), r };
    }

    it('hands the read data over with the outcome', async function () {
      const { s3, clock, outcomes, p } = readingPoller(0);
      p.add(job('a'));
      s3.put('out-bucket', 'async-output/ep/a.out', 5);
      await clock.advance(1000);
      assert.deepEqual(outcomes, [
        {
          type: 'output',
          bucket: 'out-bucket',
          key: 'async-output/ep/a.out',
          size: 5,
          polls: 1,
          reads: 1,
          data: 'data of async-output/ep/a.out',
        },
      ]);
      assert.equal(p.size, 0);
      assert.equal(clock.timers.size, 0);
    });

    it('an unreadable object is retried with backoff, without listing again, and ends once as "unreadable" at maxWait', async function () {
      const readErrors = [];
      const { s3, clock, r, outcomes, p } = readingPoller(Infinity, {
        maxPollIntervalMs: 8000,
        backoffFactor: 2,
        onReadError: (e, j, f, n) => readErrors.push(n),
      });
      p.add(job('a', { maxWaitMs: 60_000 }));
      s3.put('out-bucket', 'async-output/ep/a.out', 5);
      await clock.advance(1000); // listed and first read at +1 s
      const listsAfterFound = s3.calls.length;
      await clock.advance(120_000);
      assert.equal(s3.calls.length, listsAfterFound, 'no listing while the object is being read');
      // Reads at +1, then 1, 2, 4, 8, 8, … s apart, the last one at the deadline (+60 s).
      assert.deepEqual(
        r.reads.map((x) => (x.at - 1_000_000) / 1000),
        [1, 2, 4, 8, 16, 24, 32, 40, 48, 56, 60],
      );
      assert.equal(outcomes.length, 1);
      const o = outcomes[0];
      assert.equal(o.type, 'unreadable');
      assert.equal(o.found, 'output');
      assert.equal(o.key, 'async-output/ep/a.out');
      assert.equal(o.reads, 11);
      assert.equal(o.error.name, 'AccessDenied');
      assert.deepEqual(readErrors, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      assert.equal(p.size, 0);
      assert.equal(clock.timers.size, 0);
    });

    it('a read that starts failing after the deadline gets one attempt, then "unreadable" — never a loop', async function () {
      const { s3, clock, r, outcomes, p } = readingPoller(Infinity, {}, (j, o) => o.type);
      p.add(job('a', { maxWaitMs: 2500 }));
      await clock.advance(2400);
      s3.put('out-bucket', 'async-output/ep/a.out', 5); // lands just before the deadline check
      await clock.advance(60_000);
      assert.deepEqual(outcomes, ['unreadable']);
      assert.equal(r.reads.length, 1);
    });

    it('a read that recovers before maxWait delivers the output', async function () {
      const { s3, clock, outcomes, p } = readingPoller(1_000_000 + 5000);
      p.add(job('a'));
      s3.put('out-bucket', 'async-failures/ep/a-error.out', 9);
      await clock.advance(10_000);
      assert.equal(outcomes.length, 1);
      assert.equal(outcomes[0].type, 'failure');
      assert.equal(outcomes[0].reads, 5);
      assert.equal(outcomes[0].data, 'data of async-failures/ep/a-error.out');
    });

    it('100 unreadable jobs for 10 minutes: S3 requests stay bounded by the backoff', async function () {
      const { s3, clock, r, outcomes, p } = readingPoller(Infinity, { pollIntervalMs: 2000, maxPollIntervalMs: 30000 }, (j, o) => o.type);
      for (let i = 0; i < 100; i++) {
        p.add(job(`j${i}`, { maxWaitMs: 600_000 }));
        s3.put('out-bucket', `async-output/ep/j${i}.out`, 1);
      }
      await clock.advance(700_000);
      assert.equal(outcomes.length, 100);
      assert.ok(outcomes.every((t) => t === 'unreadable'));
      // 2, 3, 4.5, … 30 s apart: 27 reads per job in 600 s; lists only in the first round.
      assert.ok(r.reads.length <= 100 * 30, `${r.reads.length} reads`);
      assert.equal(s3.calls.length, 2);
      p.stop();
    });

    it('stop() during a read: no outcome afterwards', async function () {
      let release;
      const { s3, clock, outcomes, p } = pollerOn({
        read: () =>
          new Promise((resolve) => {
            release = resolve;
          }),
      });
      p.add(job('a'));
      s3.put('out-bucket', 'async-output/ep/a.out', 5);
      await clock.advance(1000);
      assert.equal(typeof release, 'function');
      p.stop();
      release('late');
      await new Promise((r) => setImmediate(r));
      assert.equal(outcomes.length, 0);
    });
  });
});
