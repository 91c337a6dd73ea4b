'use strict';
const assert = require('node:assert');
const { WorkQueue } = require('../../dist/lib/work-queue.js');

function deferredJob(log, id) {
  let resolve;
  const job = {
    signal: undefined,
    released: false,
    run(signal) {
      job.signal = signal;
      log.push(`start ${id}`);
      return new Promise((res, rej) => {
        resolve = res;
        signal.addEventListener('abort', () => rej(new Error('aborted')));
      });
    },
    release() {
      job.released = true;
      log.push(`release ${id}`);
    },
    finish: () => resolve(),
  };
  return job;
}
const tick = () => new Promise((r) => setImmediate(r));

describe('lib/work-queue', function () {
  it('runs at most `concurrency` jobs and starts queued ones in FIFO order', async function () {
    const log = [];
    const q = new WorkQueue({ concurrency: 2, queueSize: 10 });
    const jobs = [1, 2, 3, 4, 5].map((i) => deferredJob(log, i));
    jobs.forEach((j) => assert.strictEqual(q.push(j), true));
    assert.strictEqual(q.running, 2);
    assert.strictEqual(q.queued, 3);
    jobs[1].finish();
    await tick();
    jobs[0].finish();
    await tick();
    assert.deepStrictEqual(log, ['start 1', 'start 2', 'start 3', 'start 4']);
    jobs[2].finish();
    jobs[3].finish();
    await tick();
    jobs[4].finish();
    await tick();
    assert.strictEqual(q.running, 0);
    assert.strictEqual(q.queued, 0);
    assert.deepStrictEqual(log, ['start 1', 'start 2', 'start 3', 'start 4', 'start 5']);
  });

  it('refuses a job when the queue is full', function () {
    const q = new WorkQueue({ concurrency: 1, queueSize: 1 });
    assert.strictEqual(q.push(deferredJob([], 1)), true);
    assert.strictEqual(q.push(deferredJob([], 2)), true);
    assert.strictEqual(q.push(deferredJob([], 3)), false);
    assert.strictEqual(q.queued, 1);
  });

  it('a job that rejects or throws does not stop the queue', async function () {
    const q = new WorkQueue({ concurrency: 1, queueSize: 5 });
    let ran = 0;
    q.push({ run: () => Promise.reject(new Error('x')), release() {} });
    q.push({
      run: () => {
        throw new Error('sync');
      },
      release() {},
    });
    q.push({
      run: async () => {
        ran++;
      },
      release() {},
    });
    for (let i = 0; i < 5; i++) await tick();
    assert.strictEqual(ran, 1);
    assert.strictEqual(q.running, 0);
  });

  it('close() releases queued jobs, aborts running ones, waits for them and refuses new ones', async function () {
    const log = [];
    const q = new WorkQueue({ concurrency: 2, queueSize: 5 });
    const jobs = [1, 2, 3, 4].map((i) => deferredJob(log, i));
    jobs.forEach((j) => q.push(j));
    await q.close();
    assert.ok(jobs[0].signal.aborted && jobs[1].signal.aborted);
    assert.ok(jobs[2].released && jobs[3].released);
    assert.deepStrictEqual(log, ['start 1', 'start 2', 'release 3', 'release 4']);
    assert.strictEqual(q.running, 0);
    assert.strictEqual(q.push(deferredJob(log, 5)), false);
  });

  it('reports counts through onChange', async function () {
    const seen = [];
    const q = new WorkQueue({ concurrency: 1, queueSize: 5, onChange: (r, w) => seen.push(`${r}/${w}`) });
    const a = deferredJob([], 1);
    q.push(a);
    q.push(deferredJob([], 2));
    assert.deepStrictEqual(seen, ['1/0', '1/1']);
    a.finish();
    await tick();
    assert.deepStrictEqual(seen, ['1/0', '1/1', '1/0']);
  });

  it('keeps FIFO order over thousands of jobs', async function () {
    const order = [];
    const q = new WorkQueue({ concurrency: 3, queueSize: 5000 });
    for (let i = 0; i < 3000; i++)
      q.push({
        run: async () => {
          order.push(i);
        },
        release() {},
      });
    while (q.running + q.queued > 0) await tick();
    assert.deepStrictEqual(
      order,
      Array.from({ length: 3000 }, (_, i) => i),
    );
  });
});
