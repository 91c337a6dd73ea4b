'use strict';
// Fleet test of async results pushed through SNS → SQS (README "Scaling out"): three Node-RED
// runtimes as separate processes (the child of async-crash.test.js), each with a
// sagemaker-invoke-async node in result source `sqs`, its own inferenceIdPrefix and its own queue
// subscribed with a filter policy on that prefix; two of them also run a sagemaker-async-results
// node on one shared queue (competing consumers) for jobs submitted outside Node-RED. 600 jobs in
// all. Instance A is killed with SIGKILL while its results arrive and started again on the same
// user directory: its pending jobs come back from the journal and their notifications, kept by the
// queue, are matched. The emulator (SageMaker, S3, SNS, SQS) runs in this process.
const assert = require('node:assert/strict');
const { fork } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { ReceiveMessageCommand } = require('@aws-sdk/client-sqs');
const { CreateTopicCommand } = require('@aws-sdk/client-sns');
const { InvokeEndpointAsyncCommand } = require('@aws-sdk/client-sagemaker-runtime');
const { startEmulator } = require('../../dist/emulator');
const { messagingClients, subscribedQueue, messagesIn } = require('../support/messaging');

const { jobFlow } = require('./job-flow');
const CHILD = path.join(__dirname, 'async-crash-child.js');
const PER_INSTANCE = 150;
const SHARED = 150;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Appends { kind, job, inferenceId, redelivered, error } to the instance's OUTCOMES file. */
function recorder(id, kind, wires = []) {
  const func = `
const sm = msg.sagemaker || {};
global.get('fs').appendFileSync(env.get('OUTCOMES'), JSON.stringify({
  kind: ${JSON.stringify(kind)}, job: msg.job, inferenceId: sm.inferenceId, redelivered: sm.redelivered === true,
  error: sm.error ? sm.error.name : undefined, payloadJob: msg.payload && msg.payload.job, run: env.get('RUN'),
}) + '\\n');
return msg;`;
  return { id, type: 'function', z: 'tab1', name: `record ${kind}`, func, outputs: 1, wires: [wires] };
}

function flows(emu, { queueUrl, prefix, sharedQueueUrl }) {
  return jobFlow(emu, {
    label: 'fleet',
    config: { sqsEndpoint: emu.sqsUrl },
    prep: "msg.job = msg.payload.job; msg.endpoint = msg.payload.endpoint; msg.headers = { 'x-amzn-sagemaker-custom-attributes': 'delay=' + msg.payload.delay }; msg.payload = { job: msg.payload.job }; return msg;",
    an: { endpointName: 'endpoint', endpointNameType: 'msg', resultSource: 'sqs', queueUrl, inferenceIdPrefix: prefix },
    record: recorder,
    extra: sharedQueueUrl
      ? [
          { id: 'shared', type: 'sagemaker-async-results', z: 'tab1', config: 'cfg', queueUrl: sharedQueueUrl, wires: [['rec-shared']] },
          recorder('rec-shared', 'shared'),
          { id: 'catch-shared', type: 'catch', z: 'tab1', scope: ['shared'], uncaught: false, wires: [['rec-shared-err']] },
          recorder('rec-shared-err', 'shared-error'),
        ]
      : [],
  });
}

describe('reliability: a fleet of three Node-RED processes taking async results from SQS (one killed with SIGKILL and restarted)', function () {
  this.timeout(120000);
  let emu;
  let dir;
  let clients;
  let sqs;
  let sns;
  let rt;
  const children = new Set();

  before(async function () {
    emu = await startEmulator({ port: 0 });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smr-async-fleet-'));
    clients = messagingClients(emu);
    ({ sqs, sns, rt } = clients);
  });
  after(async function () {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    clients?.destroy();
    if (emu) await emu.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  // Each queue has a dead-letter queue, as the README's set-up has: a notification whose outcome
  // was sent but whose queue message was not yet deleted when Node-RED was killed names a job
  // the restarted node no longer holds, and ends there after 3 receives (README, Scaling out).
  const deadLetters = new Map();
  async function queue(name, prefix, topics, visibility) {
    const { url, dlq } = await subscribedQueue({ sqs, sns }, name, topics, { raw: true, prefix, visibility, redrive: 3 });
    deadLetters.set(url, dlq);
    return url;
  }
  const inQueue = (url) => messagesIn(sqs, url);

  /** Starts one Node-RED process; resolves with { url, exited, child }. */
  function start(inst, run) {
    const child = fork(CHILD, [], {
      env: {
        ...process.env,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        USER_DIR: inst.userDir,
        OUTCOMES: inst.outcomes,
        RUN: run,
        KILL_AT: '',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_REGION: 'us-east-1',
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.add(child);
    const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    return new Promise((resolve, reject) => {
      child.on('message', (m) => {
        if (m.type === 'ready') resolve({ url: m.url, exited, child });
        if (m.type === 'error') reject(new Error(m.message));
      });
      exited.then(({ code, signal }) => reject(new Error(`Node-RED ${inst.name} exited before it was ready (${code ?? signal})`)));
    });
  }
  const records = (inst) =>
    fs
      .readFileSync(inst.outcomes, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  async function waitFor(cond, what, ms = 60000) {
    const end = Date.now() + ms;
    while (!(await cond())) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await sleep(50);
    }
  }
  /** Job i's endpoint: every 10th fails; of the others, even ones have the response included in the notification. */
  const endpointOf = (i) => (i % 10 === 9 ? 'fleet-fail' : i % 2 === 0 ? 'fleet-inc' : 'fleet-s3');
  // Results land over ~3 s, so the kill comes while they arrive.
  const delayOf = (i) => 300 + ((i * 7919) % 2700);

  it('600 jobs: every outcome reaches the right instance (once, repeats after the kill flagged redelivered), 0 S3 List requests, the killed instance delivers all of its jobs', async function () {
    const ok = (await sns.send(new CreateTopicCommand({ Name: 'fleet-ok' }))).TopicArn;
    const bad = (await sns.send(new CreateTopicCommand({ Name: 'fleet-err' }))).TopicArn;
    const base = { model: 'echo', async: { delayMs: 100, jitterMs: 100, successTopic: ok, errorTopic: bad } };
    emu.setEndpoint('fleet-s3', base);
    emu.setEndpoint('fleet-inc', { ...base, async: { ...base.async, includeInferenceResponseIn: ['SUCCESS_NOTIFICATION_TOPIC'] } });
    emu.setEndpoint('fleet-fail', { ...base, faults: [{ kind: 'async-failure' }] });
    // A short visibility timeout: what the killed instance had received comes back quickly.
    const shared = await queue('fleet-shared', 'shared-', [ok, bad], 10);
    const instances = [];
    for (const name of ['A', 'B', 'C']) {
      const userDir = path.join(dir, name);
      fs.mkdirSync(userDir);
      const inst = {
        name,
        prefix: `gw${name}-`,
        userDir,
        outcomes: path.join(dir, `${name}.jsonl`),
        queueUrl: await queue(`fleet-${name}`, `gw${name}-`, [ok, bad], 2),
      };
      fs.writeFileSync(inst.outcomes, '');
      fs.writeFileSync(
        path.join(userDir, 'flows.json'),
        JSON.stringify(flows(emu, { queueUrl: inst.queueUrl, prefix: inst.prefix, sharedQueueUrl: name === 'A' ? undefined : shared })),
      );
      instances.push(inst);
    }
    const [A, B, C] = instances;
    const lists = () => emu.stats().s3.ListObjectsV2 ?? 0;
    const listsBefore = lists();

    const running = await Promise.all(instances.map((i) => start(i, '1')));
    instances.forEach((inst, k) => (inst.nr = running[k]));

    // Submit: 150 jobs per instance over HTTP (10 at a time each), 150 shared jobs through the SDK.
    const post = async (inst, i) => {
      const r = await fetch(`${inst.nr.url}job`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ job: `${inst.name}-${i}`, endpoint: endpointOf(i), delay: delayOf(i) }),
      });
      assert.equal(r.status, 200);
      return r.json();
    };
    const submitTo = async (inst) => {
      for (let i = 0; i < PER_INSTANCE; i += 10) await Promise.all(Array.from({ length: 10 }, (_, k) => post(inst, i + k)));
    };
    const submitShared = async () => {
      for (let i = 0; i < SHARED; i += 10) {
        await Promise.all(
          Array.from({ length: 10 }, (_, k) =>
            rt.send(
              new InvokeEndpointAsyncCommand({
                EndpointName: endpointOf(i + k),
                InferenceId: `shared-${i + k}`,
                Body: Buffer.from(JSON.stringify({ job: `S-${i + k}` })),
                ContentType: 'application/json',
                CustomAttributes: `delay=${delayOf(i + k)}`,
              }),
            ),
          ),
        );
      }
    };
    await Promise.all([...instances.map(submitTo), submitShared()]);

    // Kill -9 A while its results arrive, then start it again on the same user directory.
    const ended = (r) => r.kind === 'result' || r.kind === 'error';
    await waitFor(() => records(A).filter(ended).length >= 20, "A's first results");
    A.nr.child.kill('SIGKILL');
    assert.equal((await A.nr.exited).signal, 'SIGKILL');
    const atKill = new Set(
      records(A)
        .filter(ended)
        .map((r) => r.inferenceId),
    ).size;
    assert.ok(atKill < PER_INSTANCE, `A had delivered ${atKill} of ${PER_INSTANCE} when killed`);
    A.nr = await start(A, '2');

    // Every accepted job ends, the shared jobs are all taken, and every queue drains.
    const allEnded = (inst) => {
      const rs = records(inst);
      const done = new Set(rs.filter(ended).map((r) => r.inferenceId));
      return rs.filter((r) => r.kind === 'accepted').every((r) => done.has(r.inferenceId));
    };
    const sharedSeen = () =>
      new Set([...records(B), ...records(C)].filter((r) => r.kind === 'shared' || r.kind === 'shared-error').map((r) => r.inferenceId))
        .size;
    await waitFor(() => instances.every(allEnded) && sharedSeen() === SHARED, 'every outcome');
    await waitFor(
      async () => (await Promise.all([shared, ...instances.map((i) => i.queueUrl)].map(inQueue))).every((n) => n === 0),
      'empty queues',
    );
    // What went to a dead-letter queue: only notifications of the killed instance A whose
    // outcome A had already sent (the kill came between its journal and its delete).
    const deadLettered = new Map();
    for (const url of [shared, ...instances.map((i) => i.queueUrl)]) {
      const got = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: deadLetters.get(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
      );
      deadLettered.set(
        url,
        (got.Messages ?? []).map((m) => JSON.parse(m.Body).inferenceId),
      );
    }
    for (const [url, ids] of deadLettered) {
      if (url === A.queueUrl) continue;
      assert.deepEqual(ids, [], 'dead letters from a queue whose consumers were never killed');
    }
    const deliveredByA = new Set(
      records(A)
        .filter(ended)
        .map((r) => r.inferenceId),
    );
    for (const id of deadLettered.get(A.queueUrl))
      assert.ok(deliveredByA.has(id), `${id} went to the dead-letter queue without an outcome`);
    for (const inst of instances) {
      inst.nr.child.kill('SIGTERM');
      assert.equal((await inst.nr.exited).code, 0);
    }

    // ---- the count ----
    let repeatsA = 0;
    for (const inst of instances) {
      const rs = records(inst);
      const accepted = rs.filter((r) => r.kind === 'accepted');
      assert.equal(new Set(accepted.map((r) => r.job)).size, PER_INSTANCE, `${inst.name}: all accepted`);
      const outcomes = rs.filter(ended);
      const byId = new Map();
      for (const r of outcomes) byId.set(r.inferenceId, [...(byId.get(r.inferenceId) ?? []), r]);
      assert.deepEqual(
        [...byId.keys()].sort(),
        accepted.map((r) => r.inferenceId).sort(),
        `${inst.name}: one outcome per accepted job, no other`,
      );
      for (const [id, list] of byId) {
        assert.ok(id.startsWith(inst.prefix), `${inst.name} got ${id}`);
        const a = accepted.find((r) => r.inferenceId === id);
        const i = Number(a.job.split('-')[1]);
        for (const r of list) {
          assert.equal(r.job, a.job);
          if (endpointOf(i) === 'fleet-fail') assert.equal(r.error, 'AsyncInferenceFailure');
          else assert.equal(r.payloadJob, a.job, `${id}: its own result`);
        }
        // Only a kill can repeat an outcome, and a repeat is flagged.
        if (list.length > 1) {
          assert.equal(inst, A, `${inst.name} delivered ${id} ${list.length} times`);
          assert.ok(
            list.slice(1).every((r) => r.redelivered),
            `an unflagged repeat of ${id}`,
          );
          repeatsA += list.length - 1;
        }
      }
    }
    const sharedRecords = [...records(B), ...records(C)].filter((r) => r.kind === 'shared' || r.kind === 'shared-error');
    assert.equal(sharedRecords.length, SHARED, 'each shared job once across the consumer pair');
    assert.equal(sharedRecords.filter((r) => r.kind === 'shared-error').length, SHARED / 10);
    assert.equal(records(A).filter((r) => r.kind.startsWith('shared')).length, 0);
    assert.equal(lists() - listsBefore, 0, 'S3 List requests');
    const byB = records(B).filter((r) => r.kind.startsWith('shared')).length;
    console.log(
      `      600 jobs: A ${atKill} delivered before the kill, ${repeatsA} repeated after it (flagged); shared queue split B ${byB} / C ${SHARED - byB}; ` +
        `${deadLettered.get(A.queueUrl).length} of A's notifications dead-lettered after their outcome; S3 List 0, GetObject ${emu.stats().s3.GetObject ?? 0}; SQS ReceiveMessage ${emu.stats().requests.ReceiveMessage}, DeleteMessage ${emu.stats().requests.DeleteMessage}`,
    );
  });
});
