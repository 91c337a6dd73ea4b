'use strict';
// Pending jobs survive a restart (the journal in the user directory) and close leaves no timer behind.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { helper, useNodeRed, useEmulator, flowFor, load, collect, spyDone, sleep, until } = require('./async-helpers');

const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
const journalFile = (dir, id = 'an') => path.join(dir, 'sagemaker-invoke-async', `${id}.jsonl`);
const journalJobs = (dir) => {
  const jobs = new Map();
  const lines = fs.readFileSync(journalFile(dir), 'utf8').split('\n').slice(1).filter(Boolean);
  for (const r of lines.map((l) => JSON.parse(l))) {
    if (r.put) jobs.set(r.put, { ...r.job, sending: false });
    if (r.mark && jobs.has(r.mark)) jobs.get(r.mark).sending = r.sending;
    if (r.del) jobs.delete(r.del);
  }
  return jobs;
};

/** Waits for an async condition, failing after 15 s. */
async function untilAsync(cond, what) {
  const end = Date.now() + 15000;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('sagemaker-invoke-async node: restart and close', function () {
  let emu;
  let dir;

  useNodeRed();
  useEmulator({}, (e) => (emu = e));
  beforeEach(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smr-async-journal-'));
    // No contextStorage: the journal needs none.
    helper.settings({ userDir: dir });
  });
  afterEach(function () {
    // After useNodeRed's unload.
    helper.settings({});
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const flow = () => flowFor(emu, { pollInterval: '0.2', maxPollInterval: '0.2' });
  const s3Has = async (location) => {
    const { HeadObjectCommand } = require('@aws-sdk/client-s3');
    const [, bucket, key] = /^s3:\/\/([^/]+)\/(.+)$/.exec(location);
    return emu
      .s3Client()
      .send(new HeadObjectCommand({ Bucket: bucket, Key: key }))
      .then(
        () => true,
        () => false,
      );
  };

  it('jobs pending at a restart are resumed from the journal in the user directory and each result is delivered exactly once', async function () {
    this.timeout(30000);
    await load(flow());
    const accepted = collect('accepted');
    const firstResults = collect('results');
    const dones = spyDone('an');
    const node = helper.getNode('an');
    for (let i = 0; i < 6; i++) {
      // Three finish while Node-RED is down, three after it is back.
      const delay = i < 3 ? 1200 : 3500;
      node.receive({ payload: { i }, index: i, topic: `job-${i}`, headers: { 'x-amzn-sagemaker-custom-attributes': `delay=${delay}` } });
    }
    await until(() => accepted.length === 6, '6 accepted');
    // Output 1 is sent only once the job is on disk.
    assert.equal(journalJobs(dir).size, 6);

    await helper.unload(); // "stop Node-RED": the nodes close with removed = false
    assert.equal(firstResults.length, 0);
    assert.equal(dones.length, 6, 'done() called for every accepted message at close');
    assert.ok(dones.every((d) => d.err === undefined));
    const stored = [...journalJobs(dir).values()];
    assert.equal(stored.length, 6);
    assert.ok(stored.every((j) => j.msg.payload === undefined && j.msg.index !== undefined && j.sending === false));

    // The first three results land while nothing runs.
    const early = accepted.filter((a) => a.index < 3).map((a) => a.payload.outputLocation);
    for (const loc of early) await untilAsync(() => s3Has(loc), `result at ${loc}`);

    await load(flow());
    const results = collect('results');
    await until(() => results.length === 6, '6 results after the restart');
    await until(() => journalJobs(dir).size === 0, 'an empty journal');
    assert.equal(results.length, 6);
    const seen = new Set();
    for (const r of results) {
      assert.deepEqual(r.payload, { i: r.index });
      assert.equal(r.topic, `job-${r.index}`);
      assert.equal(r.sagemaker.redelivered, undefined, 'nothing was sent before the restart');
      assert.equal(r.headers['x-amzn-sagemaker-custom-attributes'] !== undefined, true);
      assert.ok(!seen.has(r.index), `job ${r.index} delivered twice`);
      seen.add(r.index);
    }

    // A clean restart now repeats nothing: a new job's result comes, and only that.
    await helper.unload();
    await load(flow());
    const after = collect('results');
    helper.getNode('an').receive({ payload: 'sentinel' });
    await until(() => after.length === 1, 'the sentinel result');
    await sleep(400); // two more polling rounds
    assert.deepEqual(
      after.map((r) => r.payload),
      ['sentinel'],
    );
  });

  it('an outcome marked "sending" in the journal (crash after it was sent) is sent again flagged redelivered, with its inferenceId', async function () {
    await load(flowFor(emu, { waitForResult: false }));
    const accepted = collect('accepted');
    helper.getNode('an').receive({ payload: { v: 1 } });
    await until(() => accepted.length === 1, 'accepted');
    await helper.unload();
    const a = accepted[0].payload;
    await untilAsync(() => s3Has(a.outputLocation), 'the result in S3');
    // What the journal holds after a kill -9 between "sending" and done.
    fs.mkdirSync(path.dirname(journalFile(dir)), { recursive: true });
    fs.writeFileSync(
      journalFile(dir),
      [
        JSON.stringify({ format: 'node-red-contrib-sagemaker-runtime/async-jobs', version: 1 }),
        JSON.stringify({
          put: 'job-1',
          job: {
            inferenceId: a.inferenceId,
            endpointName: 'echo',
            outputLocation: a.outputLocation,
            failureLocation: a.failureLocation,
            startedAt: Date.now(),
            msg: { tag: 'kept' },
          },
        }),
        JSON.stringify({ mark: 'job-1', sending: true }),
        '',
      ].join('\n'),
    );
    await load(flow());
    const results = collect('results');
    await until(() => results.length === 1, 'the redelivered result');
    assert.equal(results[0].sagemaker.redelivered, true);
    assert.equal(results[0].sagemaker.inferenceId, a.inferenceId);
    assert.equal(results[0].tag, 'kept');
    assert.deepEqual(results[0].payload, { v: 1 });
    await until(() => journalJobs(dir).size === 0, 'an empty journal');
  });

  it('a foreign journal file gives a warning naming it, the node keeps working', async function () {
    fs.mkdirSync(path.dirname(journalFile(dir)), { recursive: true });
    fs.writeFileSync(journalFile(dir), 'this is not a journal\n');
    await load(flow());
    const warns = helper
      .log()
      .args.filter((a) => a[0] && a[0].level === helper.log().WARN)
      .map((a) => String(a[0].msg));
    assert.ok(
      warns.some((w) => w.includes(journalFile(dir)) && /not a journal/.test(w) && /moved it to/.test(w)),
      warns.join('\n'),
    );
    const results = collect('results');
    helper.getNode('an').receive({ payload: 'still works' });
    await until(() => results.length === 1, 'a result');
  });

  it('a node removed from the flows deletes its journal', async function () {
    await load(flowFor(emu, { endpointName: 'echo' }));
    const accepted = collect('accepted');
    helper.getNode('an').receive({ payload: 'x', headers: { 'x-amzn-sagemaker-custom-attributes': 'delay=3000' } });
    await until(() => accepted.length === 1, 'accepted');
    assert.equal(fs.existsSync(journalFile(dir)), true);
    await helper.setFlows(
      flowFor(emu).filter((n) => n.id !== 'an'),
      'nodes',
    );
    assert.equal(fs.existsSync(journalFile(dir)), false);
  });

  it('close clears every timer and aborts polling: no Timeout handle is left behind', async function () {
    emu.setEndpoint('never-done', { model: 'echo', faults: [{ kind: 'async-never' }] });
    await sleep(50);
    const before = timeouts();
    await load(flowFor(emu, { endpointName: 'never-done' }));
    const accepted = collect('accepted');
    for (let i = 0; i < 5; i++) helper.getNode('an').receive({ payload: i });
    await until(() => accepted.length === 5, '5 accepted');
    await sleep(250); // a polling round is under way or scheduled
    assert.ok(timeouts() > before, 'the node polls with a timer');
    await helper.clearFlows();
    await sleep(20);
    assert.ok(timeouts() <= before, `${timeouts() - before} timer(s) left after close`);
  });
});
