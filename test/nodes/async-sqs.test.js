'use strict';
// sagemaker-invoke-async with result source `sqs`: the emulator's async jobs publish their
// notifications to its SNS topics, SNS delivers them to SQS queues (filter policies on the
// inference ID prefix), and the node long-polls its queue — the real SDK clients over real HTTP.
const assert = require('node:assert/strict');
const { SendMessageCommand, ReceiveMessageCommand } = require('@aws-sdk/client-sqs');
const { InvokeEndpointAsyncCommand } = require('@aws-sdk/client-sagemaker-runtime');
const { helper, useNodeRed, coreNode, collect, spyDone, until: untilShared } = require('../helper');

const configNode = require('../../nodes/sagemaker-config.js');
const asyncNode = require('../../nodes/sagemaker-invoke-async.js');
const catchNode = coreNode('common/25-catch.js');
const { emulatorConfig, putInput } = require('../support/emulator');
const { useNotifyingEmulator } = require('../support/messaging');

const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };
const until = (cond, what, ms = 20000) => untilShared(cond, what, ms, 10);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe('sagemaker-invoke-async node, result source sqs', function () {
  this.timeout(30000);
  let emu;
  let sqs;
  let rt;
  useNodeRed();
  const notifications = useNotifyingEmulator('async-sqs', (env) => {
    ({ emu, sqs, rt } = env);
    emu.setEndpoint('silent', { model: 'echo', async: { delayMs: 20 } }); // no topics: never notifies
  });
  /** A queue subscribed to both topics, with an inferenceId prefix filter on the message body when `prefix` is set: its URL. */
  const queue = async ({ raw = false, prefix, visibility } = {}) => (await notifications.queue({ raw, prefix, visibility })).url;
  const counts = notifications.messagesIn;
  const untilEmpty = (url) => notifications.untilEmpty(url, 800);

  /** Async nodes (`{ id, …settings }`) each wired to helpers `<id>-acc`, `<id>-res`; one catch → `caught`. */
  function load(nodes) {
    const flow = [
      { id: 'f1', type: 'tab', label: 'async sqs' },
      emulatorConfig(emu, { sqsEndpoint: emu.sqsUrl }),
      ...nodes.flatMap((n) => [
        {
          z: 'f1',
          type: 'sagemaker-invoke-async',
          config: 'c1',
          endpointName: 'plain',
          endpointNameType: 'str',
          resultSource: 'sqs',
          wires: [[`${n.id}-acc`], [`${n.id}-res`]],
          ...n,
        },
        { id: `${n.id}-acc`, z: 'f1', type: 'helper' },
        { id: `${n.id}-res`, z: 'f1', type: 'helper' },
      ]),
      { id: 'catcher', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', z: 'f1', type: 'helper' },
    ];
    return new Promise((resolve, reject) => {
      helper.load([configNode, asyncNode, catchNode], flow, { c1: CREDENTIALS }, (err) => (err ? reject(err) : resolve()));
    });
  }
  const s3Count = (op) => emu.stats().s3[op] ?? 0;
  /** S3 reads (the emulator's own writes of outputs count in its S3 stats too). */
  const s3Reads = () => s3Count('GetObject') + s3Count('HeadObject') + s3Count('ListObjectsV2');

  it('delivers a result read from S3 after its notification (SNS envelope), with the original message, and never lists S3', async function () {
    const url = await queue();
    await load([{ id: 'an', queueUrl: url, inferenceIdPrefix: 'gw1-' }]);
    const acc = collect('an-acc');
    const res = collect('an-res');
    const dones = spyDone('an');
    const lists = s3Count('ListObjectsV2');
    const gets = s3Count('GetObject');
    helper.getNode('an').receive({ payload: { reading: 42 }, topic: 'sensor/1' });
    await until(() => res.length === 1, 'the result');
    const m = res[0];
    assert.deepEqual(m.payload, { reading: 42 });
    assert.equal(m.topic, 'sensor/1');
    assert.match(m.sagemaker.inferenceId, /^gw1-[0-9a-f-]{36}$/);
    assert.equal(m.sagemaker.inferenceId, acc[0].payload.inferenceId);
    assert.equal(m.sagemaker.outputLocation, acc[0].payload.outputLocation);
    assert.equal(m.sagemaker.endpointName, 'plain');
    assert.equal(m.sagemaker.contentType, 'application/json');
    assert.equal(m.sagemaker.polls, undefined);
    assert.equal(dones.length, 1);
    assert.equal(dones[0].err, undefined);
    assert.equal(s3Count('GetObject') - gets, 1);
    await untilEmpty(url);
    assert.equal(s3Count('ListObjectsV2'), lists, 'S3 List requests in sqs mode');
  });

  it('takes an included response from the notification (raw delivery): no S3 request at all', async function () {
    const url = await queue({ raw: true });
    await load([{ id: 'an', queueUrl: url, endpointName: 'include' }]);
    const res = collect('an-res');
    const s3Before = s3Reads();
    helper.getNode('an').receive({ payload: [1, 2, 3] });
    await until(() => res.length === 1, 'the result');
    assert.deepEqual(res[0].payload, [1, 2, 3]);
    await untilEmpty(url);
    assert.equal(s3Reads(), s3Before);
  });

  it('downloads a response over 128 KB (not included in the notification), and hands over the location of one over maxResultBytes', async function () {
    const url = await queue();
    await load([{ id: 'an', queueUrl: url, endpointName: 'include', maxResultBytes: '150000', contentType: 'application/octet-stream' }]);
    const res = collect('an-res');
    await putInput(emu, 'big-140k', 140_000);
    await putInput(emu, 'big-200k', 200_000);
    const lists = s3Count('ListObjectsV2');
    helper.getNode('an').receive({ inputLocation: 's3://sagemaker-emulator/in/big-140k', tag: 140 });
    helper.getNode('an').receive({ inputLocation: 's3://sagemaker-emulator/in/big-200k', tag: 200 });
    await until(() => res.length === 2, 'both results');
    const by = Object.fromEntries(res.map((m) => [m.tag, m]));
    assert.ok(Buffer.isBuffer(by[140].payload));
    assert.equal(by[140].payload.length, 140_000);
    assert.equal(by[200].payload, by[200].sagemaker.outputLocation);
    assert.equal(by[200].sagemaker.size, 200_000);
    await untilEmpty(url);
    assert.equal(s3Count('ListObjectsV2'), lists);
  });

  it('sends a Failed notification to Catch as AsyncInferenceFailure with its failureReason, without reading S3', async function () {
    const url = await queue();
    await load([{ id: 'an', queueUrl: url, endpointName: 'failing' }]);
    const res = collect('an-res');
    const caught = collect('caught');
    const s3Before = s3Reads();
    helper.getNode('an').receive({ payload: {}, tag: 'f' });
    await until(() => caught.length === 1, 'the error');
    const m = caught[0];
    assert.equal(m.tag, 'f');
    assert.equal(m.sagemaker.error.name, 'AsyncInferenceFailure');
    assert.match(m.sagemaker.error.failureReason, /^ClientError: Received server error \(500\)/);
    assert.match(m.error.message, /failed: ClientError/);
    await untilEmpty(url);
    assert.equal(res.length, 0);
    assert.equal(s3Reads(), s3Before);
  });

  it("never sees a notification for another instance's prefix: the filter policy keeps it out of this queue", async function () {
    const mine = await queue({ prefix: 'gwA-' });
    const theirs = await queue({ prefix: 'gwB-', raw: true });
    await load([{ id: 'an', queueUrl: mine, inferenceIdPrefix: 'gwA-' }]);
    const res = collect('an-res');
    const received = () => emu.stats().requests.ReceiveMessage ?? 0;
    await rt.send(
      new InvokeEndpointAsyncCommand({
        EndpointName: 'plain',
        Body: Buffer.from('{"who":"B"}'),
        ContentType: 'application/json',
        InferenceId: 'gwB-0001',
      }),
    );
    helper.getNode('an').receive({ payload: { who: 'A' } });
    await until(() => res.length === 1, "A's own result");
    let other;
    while (!other) other = (await sqs.send(new ReceiveMessageCommand({ QueueUrl: theirs, WaitTimeSeconds: 20 }))).Messages?.[0];
    assert.equal(JSON.parse(other.Body).inferenceId, 'gwB-0001');
    await untilEmpty(mine);
    assert.ok(received() > 0);
    assert.equal(res.length, 1);
    assert.deepEqual(res[0].payload, { who: 'A' });
    assert.equal(collect('caught').length, 0);
  });

  it('gives one outcome when SQS delivers a notification three times', async function () {
    const url = await queue({ prefix: 'dup-' });
    const tap = await queue({ prefix: 'dup-', raw: true });
    await load([
      { id: 'an', queueUrl: url, inferenceIdPrefix: 'dup-', endpointName: 'failing' },
      { id: 'bn', queueUrl: url, inferenceIdPrefix: 'dup-' },
    ]);
    const caught = collect('caught');
    const res = collect('bn-res');
    helper.getNode('an').receive({ payload: { n: 1 } });
    helper.getNode('bn').receive({ payload: { n: 2 } });
    const docs = [];
    while (docs.length < 2)
      docs.push(
        ...(
          (await sqs.send(new ReceiveMessageCommand({ QueueUrl: tap, WaitTimeSeconds: 20, MaxNumberOfMessages: 10 }))).Messages ?? []
        ).map((m) => m.Body),
      );
    for (const doc of docs) {
      await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: doc }));
      await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: doc }));
    }
    await until(() => caught.length === 1 && res.length === 1, 'both outcomes');
    await untilEmpty(url);
    assert.equal(caught.length, 1);
    assert.equal(res.length, 1);
    assert.deepEqual(res[0].payload, { n: 2 });
  });

  it('ends a job that never gets a notification at maxWait (AsyncInferenceTimeout naming the queue), and deletes its late notification', async function () {
    const url = await queue({ prefix: 'late-' });
    await load([{ id: 'an', queueUrl: url, inferenceIdPrefix: 'late-', endpointName: 'silent', maxWait: '0.3' }]);
    const caught = collect('caught');
    const dones = spyDone('an');
    helper.getNode('an').receive({ payload: {} });
    await until(() => caught.length === 1, 'the timeout');
    const m = caught[0];
    assert.equal(m.sagemaker.error.name, 'AsyncInferenceTimeout');
    assert.match(m.sagemaker.error.message, new RegExp(`within maxWait 0.3 s on ${url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.equal(dones.length, 1);
    assert.ok(dones[0].err instanceof Error);
    // The notification comes after all: the node remembers the job ended and deletes it.
    const doc = JSON.stringify({
      inferenceId: m.sagemaker.inferenceId,
      invocationStatus: 'Completed',
      eventSource: 'aws:sagemaker',
      responseParameters: { outputLocation: m.sagemaker.outputLocation },
    });
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: doc }));
    await untilEmpty(url);
    assert.equal(collect('an-res').length, 0);
    assert.equal(caught.length, 1);
  });

  it('matches the notifications of jobs left pending by a redeploy, queued while no node was reading', async function () {
    const url = await queue();
    const flow = [{ id: 'an', queueUrl: url, inferenceIdPrefix: 'rd-' }];
    await load(flow);
    helper.getNode('an').receive({ payload: { job: 1 }, tag: 'kept', headers: { 'x-amzn-sagemaker-custom-attributes': 'delay=400' } });
    const acc = collect('an-acc');
    await until(() => acc.length === 1, 'accepted');
    await helper.unload();
    await until(async () => (await counts(url)) === 1, 'the notification in the queue');
    await load(flow);
    const res = collect('an-res');
    await until(() => res.length === 1, 'the resumed result');
    assert.deepEqual(res[0].payload, { job: 1 });
    assert.equal(res[0].tag, 'kept');
    assert.equal(res[0].sagemaker.inferenceId, acc[0].payload.inferenceId);
    assert.equal(res[0].sagemaker.redelivered, undefined);
    await untilEmpty(url);
  });

  it('shares one long poll between two nodes on one queue, each getting its own jobs; close stops reading the queue', async function () {
    const url = await queue();
    await load([
      { id: 'an', queueUrl: url, inferenceIdPrefix: 'a-' },
      { id: 'bn', queueUrl: url, inferenceIdPrefix: 'b-' },
    ]);
    const ra = collect('an-res');
    const rb = collect('bn-res');
    for (let i = 0; i < 5; i++) {
      helper.getNode('an').receive({ payload: { a: i } });
      helper.getNode('bn').receive({ payload: { b: i } });
    }
    await until(() => ra.length === 5 && rb.length === 5, 'all results');
    assert.ok(ra.every((m) => m.sagemaker.inferenceId.startsWith('a-') && 'a' in m.payload));
    assert.ok(rb.every((m) => m.sagemaker.inferenceId.startsWith('b-') && 'b' in m.payload));
    await untilEmpty(url);
    // Counted on the node's own SQS client: what it sends after the close resolved.
    const sent = [];
    helper
      .getNode('c1')
      .sqsClient()
      .middlewareStack.add(
        (next, context) => (args) => {
          sent.push(context.commandName);
          return next(args);
        },
        { step: 'initialize', name: 'testCountSends' },
      );
    await helper.unload();
    const atClose = sent.length;
    await sleep(200);
    assert.equal(sent.length, atClose, 'no request after close');
  });

  it("rejects an explicit InferenceId without the node's prefix, and a second pending job with the same id, before any call", async function () {
    const url = await queue();
    await load([{ id: 'an', queueUrl: url, inferenceIdPrefix: 'p-', endpointName: 'silent', maxWait: '0.3' }]);
    const caught = collect('caught');
    const calls = () => emu.stats().requests.InvokeEndpointAsync ?? 0;
    const before = calls();
    helper.getNode('an').receive({ payload: 1, headers: { 'x-amzn-sagemaker-inference-id': 'other-1' } });
    await until(() => caught.length === 1, 'the prefix error');
    assert.match(caught[0].sagemaker.error.message, /does not start with the node's ID prefix "p-"/);
    helper.getNode('an').receive({ payload: 1, headers: { 'x-amzn-sagemaker-inference-id': 'p-same' } });
    helper.getNode('an').receive({ payload: 2, headers: { 'x-amzn-sagemaker-inference-id': 'p-same' } });
    await until(() => caught.length === 2, 'the duplicate error');
    assert.match(caught[1].sagemaker.error.message, /"p-same" is already pending/);
    // The accepted one ends at maxWait (no job is left pending for later tests).
    await until(() => caught.length === 3, 'the timeout');
    assert.equal(caught[2].sagemaker.error.name, 'AsyncInferenceTimeout');
    // Only the accepted one was sent (checked once it has ended: its request may still be on its way at the duplicate's error).
    assert.equal(calls() - before, 1);
  });

  it('starts with a red ring and fails each message for a missing Queue URL or a bad prefix', async function () {
    const bad = [
      { id: 'an', queueUrl: '' },
      { id: 'bn', queueUrl: 'http://127.0.0.1/q', inferenceIdPrefix: 'x'.repeat(29) },
      { id: 'cn', queueUrl: 'http://127.0.0.1/q', inferenceIdPrefix: 'has space' },
    ];
    await load(bad);
    const caught = collect('caught');
    const before = emu.stats().requests.InvokeEndpointAsync ?? 0;
    for (const n of bad) helper.getNode(n.id).receive({ payload: 1 });
    await until(() => caught.length === 3, 'three errors');
    const text = caught.map((m) => m.sagemaker.error.message).join('\n');
    assert.match(text, /queueUrl is required \(result source sqs\)/);
    assert.match(text, /inferenceIdPrefix must be at most 28 characters/);
    assert.match(text, /inferenceIdPrefix must be visible ASCII/);
    assert.equal(emu.stats().requests.InvokeEndpointAsync ?? 0, before);
  });
});
