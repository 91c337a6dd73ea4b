'use strict';
// Crash test of sagemaker-invoke-async's durable pending jobs (README "Asynchronous inference:
// delivery guarantees"): Node-RED runs as a real child process with a real flow against the
// emulator (in this process, so results keep landing while Node-RED is down) and is killed with
// SIGKILL right after acceptance, right after a result is sent, and while results land; then
// restarted on the same user directory. Outcomes are counted per inferenceId: none lost, every
// repeat flagged `redelivered`, and a clean restart repeats nothing.
const assert = require('node:assert/strict');
const { fork } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startEmulator } = require('../../dist/emulator');

const { jobFlow } = require('./job-flow');
const CHILD = path.join(__dirname, 'async-crash-child.js');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A recorder function node: appends { kind, … } to OUTCOMES, then maybe kill -9s Node-RED. */
function recorder(id, kind, wires) {
  const func = `
const fs = global.get('fs');
const sm = msg.sagemaker || {};
fs.appendFileSync(env.get('OUTCOMES'), JSON.stringify({
  kind: ${JSON.stringify(kind)}, job: msg.job, inferenceId: sm.inferenceId,
  redelivered: sm.redelivered === true, error: sm.error ? sm.error.name : undefined, run: env.get('RUN'),
}) + '\\n');
// KILL_AT=<kind>:<n>[:<job prefix>]: the n-th message of that kind (of jobs named <prefix>…).
const [k, at, prefix = ''] = String(env.get('KILL_AT') || '').split(':');
if (String(msg.job).startsWith(prefix)) {
  const n = (context.get('n') || 0) + 1;
  context.set('n', n);
  if (k === ${JSON.stringify(kind === 'error' ? 'result' : kind)} && Number(at) === n) global.get('kill9')();
}
return msg;`;
  return { id, type: 'function', z: 'tab1', name: `record ${kind}`, func, outputs: 1, wires: [wires] };
}

function flows(emu) {
  return jobFlow(emu, {
    label: 'crash test',
    prep: "msg.job = msg.payload.job; msg.headers = { 'x-amzn-sagemaker-custom-attributes': 'delay=' + msg.payload.delay }; msg.payload = { job: msg.payload.job }; return msg;",
    an: { endpointName: 'echo', endpointNameType: 'str', pollInterval: '0.1', maxPollInterval: '0.2' },
    record: recorder,
  });
}

describe('reliability: sagemaker-invoke-async jobs across kill -9 and restarts (Node-RED as a child process)', function () {
  this.timeout(90000);
  let emu;
  let dir;
  let userDir;
  let outcomesFile;
  let child;

  before(async function () {
    emu = await startEmulator({ port: 0 });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smr-async-crash-'));
    userDir = path.join(dir, 'user');
    fs.mkdirSync(userDir);
    outcomesFile = path.join(dir, 'outcomes.jsonl');
    fs.writeFileSync(outcomesFile, '');
    fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flows(emu)));
  });
  after(async function () {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    if (emu) await emu.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const records = () =>
    fs
      .readFileSync(outcomesFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));

  /** Starts Node-RED; resolves with { url, exited } once its flows run. */
  function start(run, killAt = '') {
    child = fork(CHILD, [], {
      env: {
        ...process.env,
        USER_DIR: userDir,
        OUTCOMES: outcomesFile,
        RUN: run,
        KILL_AT: killAt,
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_REGION: 'us-east-1',
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const c = child;
    const exited = new Promise((resolve) => c.once('exit', (code, signal) => resolve({ code, signal })));
    const ready = new Promise((resolve, reject) => {
      c.on('message', (m) => {
        if (m.type === 'ready') resolve(m.url);
        if (m.type === 'error') reject(new Error(m.message));
      });
      exited.then(({ code, signal }) => reject(new Error(`Node-RED exited before it was ready (${code ?? signal})`)));
    });
    return ready.then((url) => ({ url, exited }));
  }

  /** POSTs one job; resolves with the accepted payload, or undefined when Node-RED died first. */
  async function post(url, job, delay) {
    try {
      const r = await fetch(`${url}job`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ job, delay }),
      });
      return r.ok ? await r.json() : undefined;
    } catch {
      return undefined;
    }
  }

  async function waitFor(cond, what, ms = 30000) {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await sleep(20);
    }
  }

  const ended = (r) => r.kind === 'result' || r.kind === 'error';
  const journal = () => path.join(userDir, 'sagemaker-invoke-async', 'an.jsonl');
  /** Jobs the node still holds, read from its journal file. */
  function pendingInJournal() {
    const jobs = new Set();
    for (const line of fs.readFileSync(journal(), 'utf8').split('\n').slice(1)) {
      let r;
      try {
        r = JSON.parse(line);
      } catch {
        continue; // a line being written
      }
      if (r.put) jobs.add(r.put);
      if (r.del) jobs.delete(r.del);
    }
    return jobs.size;
  }

  it('0 jobs lost, every repeated outcome flagged redelivered with the same inferenceId, and a clean restart repeats nothing', async function () {
    // 1. kill -9 right after acceptance: 6 jobs accepted (output 1 answered the POST), none finished.
    let nr = await start('1-after-accept');
    const first = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => post(nr.url, `a${i}`, 1500 + i * 100)));
    assert.ok(
      first.every((a) => a && a.inferenceId),
      'all 6 accepted',
    );
    child.kill('SIGKILL');
    assert.equal((await nr.exited).signal, 'SIGKILL');
    assert.equal(records().filter(ended).length, 0);

    // Their results land while Node-RED is down.
    await waitFor(() => emu.stats().s3.PutObject >= 6, 'the 6 results in S3');

    // 2. Restart; kill -9 right after the 3rd new job's result is sent (by the recorder, before the node
    //    can mark it done), while 4 new jobs are being accepted and their results land.
    // Counting only this run's jobs: the resumed first jobs' results come too, and a kill at
    // their 3rd result could come before any new job was accepted.
    nr = await start('2-after-result', 'result:3:b');
    await Promise.all([0, 1, 2, 3].map((i) => post(nr.url, `b${i}`, 200 + i * 400)));
    assert.equal((await nr.exited).signal, 'SIGKILL');

    // 3. Restart; 6 more jobs with spread delays; kill -9 at the 4th of their results, while the rest land.
    nr = await start('3-while-landing', 'result:4:c');
    await Promise.all([0, 1, 2, 3, 4, 5].map((i) => post(nr.url, `c${i}`, 100 + i * 500)));
    assert.equal((await nr.exited).signal, 'SIGKILL');

    // 4. Restart without a kill until every accepted job has an outcome, then a clean stop.
    nr = await start('4-drain');
    const acceptedIds = () =>
      new Set(
        records()
          .filter((r) => r.kind === 'accepted')
          .map((r) => r.inferenceId),
      );
    const endedIds = () =>
      new Set(
        records()
          .filter(ended)
          .map((r) => r.inferenceId),
      );
    await waitFor(
      () => [...acceptedIds()].every((id) => endedIds().has(id)) && pendingInJournal() === 0,
      'an outcome for every accepted job and an empty journal',
    );
    child.kill('SIGTERM');
    assert.equal((await nr.exited).code, 0);

    const left = fs.readFileSync(journal(), 'utf8').split('\n').filter(Boolean);
    // A clean close compacts the journal: only its header is left.
    assert.equal(left.length, 1, `the journal after a clean stop:\n${left.join('\n')}`);

    // 5. Clean restart: a new job's result comes, and nothing else.
    const before = records().length;
    nr = await start('5-clean');
    const s = await post(nr.url, 'sentinel', 300);
    await waitFor(() => records().some((r) => r.kind === 'result' && r.job === 'sentinel'), 'the sentinel result');
    child.kill('SIGTERM');
    await nr.exited;
    const afterClean = records().slice(before);
    assert.deepEqual(
      afterClean.map((r) => `${r.kind}:${r.job}`),
      ['accepted:sentinel', 'result:sentinel'],
    );
    assert.equal(afterClean[1].inferenceId, s.inferenceId);

    // The count, per inferenceId.
    const all = records().slice(0, before);
    const accepted = all.filter((r) => r.kind === 'accepted');
    const byId = new Map();
    for (const r of all.filter(ended)) byId.set(r.inferenceId, [...(byId.get(r.inferenceId) ?? []), r]);
    const lost = accepted.filter((a) => !byId.has(a.inferenceId));
    const repeats = [...byId.values()].filter((list) => list.length > 1);
    const unflaggedRepeats = repeats.filter((list) => list.slice(1).some((r) => !r.redelivered));
    const flagged = all.filter((r) => ended(r) && r.redelivered).length;
    console.log(
      `      ${accepted.length} accepted, ${all.filter(ended).length} outcomes (${all.filter((r) => r.kind === 'error').length} errors), ` +
        `${lost.length} lost, ${repeats.length} delivered twice (all flagged: ${unflaggedRepeats.length === 0}), ${flagged} flagged redelivered`,
    );
    // Run 1 accepts all 6; runs 2 and 3 at least the 3 and 4 jobs whose results trigger the kill.
    assert.ok(accepted.length >= 13, `${accepted.length} accepted`);
    assert.deepEqual(
      lost.map((a) => a.job),
      [],
      'jobs lost',
    );
    assert.deepEqual(unflaggedRepeats, [], 'a repeat without redelivered');
    assert.equal(all.filter((r) => r.kind === 'error').length, 0);
    // Each outcome carries its own job's message (a job journaled just before a kill may have no
    // 'accepted' record: output 1 never ran, the job was not lost).
    for (const list of byId.values()) {
      const a = accepted.find((x) => x.inferenceId === list[0].inferenceId);
      for (const r of list) if (a) assert.equal(r.job, a.job);
      assert.equal(new Set(list.map((r) => r.job)).size, 1);
    }
    // The kill right after a sent result leaves that result possibly sent: it comes again, flagged.
    assert.ok(flagged >= 1, 'the result sent just before the kill came again, flagged');
  });
});
