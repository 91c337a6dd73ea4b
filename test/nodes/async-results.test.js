'use strict';
// sagemaker-async-results against the emulator's SageMaker, S3, SNS and SQS, with the real SDK
// clients over real HTTP: notifications published by the emulator's async jobs reach the node.
const assert = require('node:assert/strict');
const { SendMessageCommand, ReceiveMessageCommand } = require('@aws-sdk/client-sqs');
const { InvokeEndpointAsyncCommand } = require('@aws-sdk/client-sagemaker-runtime');
const { helper, useNodeRed, coreNode, collect, until: untilShared } = require('../helper');

const configNode = require('../../nodes/sagemaker-config.js');
const resultsNode = require('../../nodes/sagemaker-async-results.js');
const catchNode = coreNode('common/25-catch.js');
const { emulatorConfig, putInput } = require('../support/emulator');
const { useNotifyingEmulator } = require('../support/messaging');

const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };
const until = (cond, what, ms = 20000) => untilShared(cond, what, ms, 10);

describe('sagemaker-async-results node', function () {
  let emu;
  let sqs;
  let rt;
  useNodeRed();
  const notifications = useNotifyingEmulator('results', (env) => ({ emu, sqs, rt } = env));
  /** A queue subscribed to both topics (raw or in the SNS envelope), optionally with a dead-letter queue: { url, dlq }. */
  const queue = ({ raw = false, redrive, visibility } = {}) => notifications.queue({ raw, redrive, visibility });
  const counts = notifications.messagesIn;
  const untilEmpty = (url) => notifications.untilEmpty(url, 400);

  function load(nodes) {
    const flow = [
      { id: 'f1', type: 'tab', label: 'results' },
      emulatorConfig(emu, { sqsEndpoint: emu.sqsUrl }),
      ...nodes,
      { id: 'catcher', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', z: 'f1', type: 'helper' },
    ];
    return new Promise((resolve, reject) => {
      helper.load([configNode, resultsNode, catchNode], flow, { c1: CREDENTIALS }, (err) => (err ? reject(err) : resolve()));
    });
  }
  const resultNode = (id, url, extra = {}, out = 'out') => [
    { id, z: 'f1', type: 'sagemaker-async-results', config: 'c1', queueUrl: url, wires: [[out]], ...extra },
    { id: out, z: 'f1', type: 'helper' },
  ];
  const invoke = (endpoint, body, id, extra = {}) =>
    rt.send(
      new InvokeEndpointAsyncCommand({
        EndpointName: endpoint,
        Body: Buffer.from(body),
        ContentType: 'application/json',
        InferenceId: id,
        ...extra,
      }),
    );
  const s3Gets = () => emu.stats().s3.GetObject ?? 0;

  it('emits a Completed job with its output read from S3 (SNS envelope) and deletes the queue message', async function () {
    const { url } = await queue();
    await load(resultNode('r1', url));
    const out = collect('out');
    const gets = s3Gets();
    const accepted = await invoke('plain', '{"reading":42}', 'job-s3-1');
    await until(() => out.length === 1, 'the result');
    const m = out[0];
    assert.deepEqual(m.payload, { reading: 42 });
    assert.equal(m.sagemaker.inferenceId, 'job-s3-1');
    assert.equal(m.sagemaker.endpointName, 'plain');
    assert.equal(m.sagemaker.outputLocation, accepted.OutputLocation);
    assert.equal(m.sagemaker.contentType, 'application/json');
    assert.equal(m.sagemaker.invocationStatus, 'Completed');
    assert.ok(Date.parse(m.sagemaker.eventTime) >= Date.parse(m.sagemaker.receivedTime));
    assert.equal(s3Gets() - gets, 1);
    await untilEmpty(url);
  });

  it('takes an included response from the notification (raw delivery) without any S3 request', async function () {
    const { url } = await queue({ raw: true });
    await load(resultNode('r1', url));
    const out = collect('out');
    const gets = s3Gets();
    await invoke('include', '[1,2,3]', 'job-inc-1');
    await until(() => out.length === 1, 'the result');
    assert.deepEqual(out[0].payload, [1, 2, 3]);
    assert.equal(s3Gets(), gets);
    await untilEmpty(url);
  });

  it('downloads a response over 128 KB (not included), and hands over the location of one over maxResultBytes', async function () {
    const { url } = await queue();
    await load(resultNode('r1', url, { maxResultBytes: '150000' }));
    const out = collect('out');
    for (const [key, size] of [
      ['big-140k', 140_000],
      ['big-200k', 200_000],
    ]) {
      const input = await putInput(emu, key, size);
      await rt.send(
        new InvokeEndpointAsyncCommand({
          EndpointName: 'include',
          InputLocation: input,
          InferenceId: key,
          ContentType: 'application/octet-stream',
        }),
      );
    }
    await until(() => out.length === 2, 'both results');
    const by = Object.fromEntries(out.map((m) => [m.sagemaker.inferenceId, m]));
    assert.ok(Buffer.isBuffer(by['big-140k'].payload));
    assert.equal(by['big-140k'].payload.length, 140_000);
    assert.equal(by['big-200k'].payload, by['big-200k'].sagemaker.outputLocation);
    assert.equal(by['big-200k'].sagemaker.size, 200_000);
    await untilEmpty(url);
  });

  it('sends a Failed job to Catch with msg.sagemaker.error carrying the failureReason, and deletes it', async function () {
    const { url } = await queue();
    await load(resultNode('r1', url));
    const out = collect('out');
    const caught = collect('caught');
    await invoke('failing', '{}', 'job-fail-1');
    await until(() => caught.length === 1, 'the error');
    const m = caught[0];
    assert.equal(m.sagemaker.inferenceId, 'job-fail-1');
    assert.equal(m.sagemaker.invocationStatus, 'Failed');
    assert.equal(m.sagemaker.error.name, 'AsyncInferenceFailure');
    assert.match(m.sagemaker.error.failureReason, /^ClientError: Received server error \(500\)/);
    assert.match(m.error.message, /job-fail-1 failed/);
    await untilEmpty(url);
    assert.equal(out.length, 0);
  });

  it('gives one outcome for a notification that SQS delivers three times', async function () {
    const { url } = await queue();
    const tap = await queue({ raw: true });
    await load(resultNode('r1', url));
    const out = collect('out');
    await invoke('plain', '{"n":1}', 'job-dup-1');
    let doc;
    while (!doc) doc = (await sqs.send(new ReceiveMessageCommand({ QueueUrl: tap.url, WaitTimeSeconds: 20 }))).Messages?.[0]?.Body;
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: doc }));
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: doc }));
    await untilEmpty(url);
    assert.equal(out.length, 1);
    assert.equal(out[0].sagemaker.inferenceId, 'job-dup-1');
  });

  it('shares a queue between two nodes (competing consumers): every job once, both nodes busy', async function () {
    const { url } = await queue();
    const ids = Array.from({ length: 30 }, (_, i) => `job-share-${i}`);
    await Promise.all(ids.map((id) => invoke('plain', JSON.stringify({ id }), id)));
    for (let i = 0; (await counts(url)) < ids.length; i++) {
      if (i > 800) throw new Error('notifications did not arrive');
      await new Promise((r) => setTimeout(r, 25));
    }
    await load([...resultNode('r1', url, {}, 'outA'), ...resultNode('r2', url, {}, 'outB')]);
    const a = collect('outA');
    const b = collect('outB');
    await until(() => a.length + b.length >= ids.length, 'all results');
    await untilEmpty(url);
    const seen = [...a, ...b].map((m) => m.sagemaker.inferenceId).sort();
    assert.deepEqual(seen, [...ids].sort());
    assert.ok(a.length > 0 && b.length > 0, `work split ${a.length}/${b.length}`);
  });

  it('leaves messages it cannot process for the queue: visible again, then in the dead-letter queue after maxReceiveCount', async function () {
    const { url, dlq } = await queue({ redrive: 2, visibility: 1 });
    await load(resultNode('r1', url));
    const out = collect('out');
    const caught = collect('caught');
    const missing = JSON.stringify({
      inferenceId: 'job-missing',
      invocationStatus: 'Completed',
      eventSource: 'aws:sagemaker',
      responseParameters: { outputLocation: 's3://sagemaker-emulator/nowhere/job-missing.out' },
    });
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: missing }));
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'not a notification' }));
    const dead = [];
    while (dead.length < 2) {
      const got = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: dlq, WaitTimeSeconds: 20, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['All'] }),
      );
      dead.push(...(got.Messages ?? []));
    }
    assert.deepEqual(dead.map((m) => m.Body).sort(), [missing, 'not a notification'].sort());
    assert.equal(out.length, 0);
    assert.equal(caught.length, 0);
    assert.equal(await counts(url), 0);
  });

  it('shows a red ring and consumes nothing with a Queue URL that is not one', async function () {
    await load(resultNode('r1', 'not-a-url'));
    const before = emu.stats().requests.ReceiveMessage ?? 0;
    await new Promise((r) => setImmediate(r));
    assert.equal(emu.stats().requests.ReceiveMessage ?? 0, before);
  });
});
