'use strict';
// sagemaker-invoke-async against the emulator and its S3, over real HTTP.
const assert = require('node:assert/strict');
const { GetObjectCommand, HeadObjectCommand, PutObjectCommand } = require('@aws-sdk/client-s3');
const { helper, useNodeRed, useEmulator, flowFor, load, collect, spyDone, sleep, until } = require('./async-helpers');

describe('sagemaker-invoke-async node', function () {
  let emu;
  let s3;

  useNodeRed();
  useEmulator({}, (e) => {
    emu = e;
    s3 = e.s3Client();
  });

  const asyncCalls = () => emu.received().filter((r) => r.operation === 'InvokeEndpointAsync');
  const head = (bucket, key) => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));

  it('uploads msg.payload to inputBucket/inputPrefix<id> under a node-generated InferenceId, then delivers the result with the original message properties', async function () {
    await load(flowFor(emu, { inputBucket: 'sagemaker-emulator', inputPrefix: 'async-in/' }));
    const accepted = collect('accepted');
    const results = collect('results');
    const dones = spyDone('an');
    const before = asyncCalls().length;
    helper.getNode('an').receive({ payload: { reading: 42 }, topic: 'sensor/1', tag: 'keep-me' });
    await until(() => results.length === 1, 'the result');
    assert.equal(accepted.length, 1);
    const a = accepted[0];
    assert.match(a.payload.inferenceId, /^[0-9a-f-]{36}$/);
    assert.equal(a.payload.outputLocation, `s3://sagemaker-emulator/async-output/echo/${a.payload.inferenceId}.out`);
    assert.equal(a.payload.failureLocation, `s3://sagemaker-emulator/async-failures/echo/${a.payload.inferenceId}-error.out`);
    assert.equal(a.sagemaker.inferenceId, a.payload.inferenceId);
    assert.equal(a.sagemaker.outputLocation, a.payload.outputLocation);
    assert.equal(a.topic, 'sensor/1');
    // The service got the id the node chose, and the input location of the upload.
    const call = asyncCalls()[before];
    assert.equal(call.headers['x-amzn-sagemaker-inference-id'], a.payload.inferenceId);
    assert.equal(call.headers['x-amzn-sagemaker-inputlocation'], `s3://sagemaker-emulator/async-in/${a.payload.inferenceId}`);
    assert.equal(call.body.length, 0);
    const uploaded = await s3.send(new GetObjectCommand({ Bucket: 'sagemaker-emulator', Key: `async-in/${a.payload.inferenceId}` }));
    assert.equal(uploaded.ContentType, 'application/json');
    assert.equal(await uploaded.Body.transformToString(), '{"reading":42}');
    const r = results[0];
    assert.deepEqual(r.payload, { reading: 42 });
    assert.equal(r.topic, 'sensor/1');
    assert.equal(r.tag, 'keep-me');
    assert.equal(r.sagemaker.inferenceId, a.payload.inferenceId);
    assert.equal(r.sagemaker.outputLocation, a.payload.outputLocation);
    assert.ok(r.sagemaker.polls >= 1);
    assert.ok(r.sagemaker.waitedMs >= 0);
    assert.equal(dones.length, 1);
    assert.equal(dones[0].err, undefined);
  });

  it('uses the s3:// URI in msg.inputLocation without uploading, with the InferenceId from msg.headers', async function () {
    await s3.send(
      new PutObjectCommand({ Bucket: 'sagemaker-emulator', Key: 'given/rows.csv', Body: '1,2\n3,4\n', ContentType: 'text/csv' }),
    );
    await load(flowFor(emu, { inputBucket: 'sagemaker-emulator', inputPrefix: 'async-in/' }));
    const accepted = collect('accepted');
    const results = collect('results');
    const before = asyncCalls().length;
    helper.getNode('an').receive({
      payload: 'ignored',
      inputLocation: 's3://sagemaker-emulator/given/rows.csv',
      headers: { 'x-amzn-sagemaker-inference-id': 'from-message-1' },
    });
    await until(() => results.length === 1, 'the result');
    assert.equal(accepted[0].payload.inferenceId, 'from-message-1');
    assert.equal(asyncCalls()[before].headers['x-amzn-sagemaker-inputlocation'], 's3://sagemaker-emulator/given/rows.csv');
    await assert.rejects(head('sagemaker-emulator', 'async-in/from-message-1'));
    assert.equal(results[0].payload, '1,2\n3,4\n'); // text/csv → string
  });

  it('takes the InferenceId set in the node and, with no bucket, sends a small payload inline', async function () {
    await load(flowFor(emu, { inferenceId: 'node-chosen-id' }));
    const accepted = collect('accepted');
    const results = collect('results');
    const before = asyncCalls().length;
    helper.getNode('an').receive({ payload: 'hello async' });
    await until(() => results.length === 1, 'the result');
    assert.equal(accepted[0].payload.inferenceId, 'node-chosen-id');
    const call = asyncCalls()[before];
    assert.equal(call.headers['x-amzn-sagemaker-inputlocation'], undefined);
    assert.equal(call.body.toString(), 'hello async');
    assert.equal(results[0].payload, 'hello async');
  });

  it('without waitForResult sends only the accepted message and completes at once', async function () {
    await load(flowFor(emu, { waitForResult: false }));
    const accepted = collect('accepted');
    const results = collect('results');
    const dones = spyDone('an');
    helper.getNode('an').receive({ payload: 'x' });
    await until(() => dones.length === 1, 'done');
    await sleep(600);
    assert.equal(accepted.length, 1);
    assert.equal(results.length, 0);
  });

  it('200 jobs finishing in random order: 200 results, each matched to its input, none twice, within the batched S3 budget', async function () {
    this.timeout(60000);
    await load(flowFor(emu, { pollInterval: '0.2', maxPollInterval: '0.2' }));
    const accepted = collect('accepted');
    const results = collect('results');
    const dones = spyDone('an');
    emu.resetStats();
    const started = Date.now();
    const node = helper.getNode('an');
    // Delays chosen so completion order differs from send order.
    for (let i = 0; i < 200; i++) {
      const delay = 100 + ((i * 7919) % 1500);
      node.receive({ payload: { i }, index: i, headers: { 'X-Amzn-SageMaker-Custom-Attributes': `delay=${delay}` } });
    }
    await until(() => results.length === 200, '200 results', 45000);
    const elapsed = Date.now() - started;
    await sleep(500);
    assert.equal(results.length, 200);
    assert.equal(accepted.length, 200);
    const seen = new Set();
    for (const r of results) {
      assert.deepEqual(r.payload, { i: r.index }, 'result matched to its own input message');
      assert.ok(!seen.has(r.index), `result ${r.index} delivered twice`);
      seen.add(r.index);
    }
    const order = results.map((r) => r.index);
    assert.notDeepEqual(
      order,
      [...order].sort((a, b) => a - b),
      'results arrived in random order',
    );
    assert.equal(dones.length, 200);
    assert.ok(dones.every((d) => d.err === undefined));
    const s3stats = emu.stats().s3;
    // At most one ListObjectsV2 per prefix (output + failure) per round, rounds ≤ elapsed/pollInterval + 2.
    const rounds = Math.ceil(elapsed / 200) + 2;
    assert.ok((s3stats.ListObjectsV2 || 0) <= rounds * 2, `ListObjectsV2 ${s3stats.ListObjectsV2} > budget ${rounds * 2}`);
    assert.equal(s3stats.HeadObject || 0, 0);
    assert.equal(s3stats.GetObject || 0, 200);
  });

  it('a failure object becomes one error carrying the failure text, reaching Catch', async function () {
    emu.setEndpoint('async-fails', { model: 'echo', faults: [{ kind: 'async-failure' }], async: { delayMs: 20, jitterMs: 0 } });
    await load(flowFor(emu, { endpointName: 'async-fails' }));
    const caught = collect('caught');
    const results = collect('results');
    const dones = spyDone('an');
    helper.getNode('an').receive({ payload: 'x', topic: 't1' });
    await until(() => caught.length === 1, 'the error');
    await sleep(400);
    assert.equal(caught.length, 1);
    assert.equal(results.length, 0);
    const m = caught[0];
    assert.equal(m.topic, 't1');
    assert.equal(m.sagemaker.error.name, 'AsyncInferenceFailure');
    assert.match(m.sagemaker.error.message, /Emulated async inference failure/);
    assert.match(m.error.message, /Emulated async inference failure/);
    assert.equal(dones.length, 1);
    assert.ok(dones[0].err);
  });

  it('no result within maxWait: one error naming both locations', async function () {
    emu.setEndpoint('async-lost', { model: 'echo', faults: [{ kind: 'async-never' }] });
    await load(flowFor(emu, { endpointName: 'async-lost', maxWait: '1' }));
    const caught = collect('caught');
    const accepted = collect('accepted');
    helper.getNode('an').receive({ payload: 'x' });
    await until(() => caught.length === 1, 'the timeout error');
    await sleep(300);
    assert.equal(caught.length, 1);
    const err = caught[0].sagemaker.error;
    assert.equal(err.name, 'AsyncInferenceTimeout');
    assert.ok(err.message.includes(accepted[0].payload.outputLocation));
    assert.ok(err.message.includes(accepted[0].payload.failureLocation));
  });

  it('without a failure location, the maxWait error says a failed job can only surface that way', async function () {
    emu.setEndpoint('async-nofail', { model: 'echo', faults: [{ kind: 'async-failure' }], async: { failurePath: null } });
    await load(flowFor(emu, { endpointName: 'async-nofail', maxWait: '0.8' }));
    const caught = collect('caught');
    const accepted = collect('accepted');
    helper.getNode('an').receive({ payload: 'x' });
    await until(() => caught.length === 1, 'the timeout error');
    assert.equal(accepted[0].payload.failureLocation, undefined);
    assert.match(caught[0].sagemaker.error.message, /no failure location/);
  });

  it('a result over maxResultBytes is not downloaded: payload is its location', async function () {
    await load(flowFor(emu, { maxResultBytes: '10' }));
    const results = collect('results');
    emu.resetStats();
    helper.getNode('an').receive({ payload: 'this result is longer than ten bytes' });
    await until(() => results.length === 1, 'the result');
    assert.equal(results[0].payload, results[0].sagemaker.outputLocation);
    assert.match(results[0].payload, /^s3:\/\/sagemaker-emulator\/async-output\/echo\/.+\.out$/);
    assert.equal(emu.stats().s3.GetObject || 0, 0);
  });

  it('shows "n pending" while jobs wait', async function () {
    await load(flowFor(emu));
    const statuses = [];
    helper.getNode('an').on('call:status', (call) => statuses.push(call.args[0]));
    const results = collect('results');
    for (let i = 0; i < 3; i++)
      helper.getNode('an').receive({ payload: i, headers: { 'x-amzn-sagemaker-custom-attributes': 'delay=400' } });
    await until(() => results.length === 3, 'the results');
    assert.ok(
      statuses.some((s) => s.text === '3 pending'),
      JSON.stringify(statuses),
    );
  });

  describe('bad input: a clear error and no call made', function () {
    const cases = [
      [
        'no bucket and no location with a payload over 128,000 bytes',
        {},
        { payload: Buffer.alloc(200_000, 1) },
        /Input bucket.*msg\.inputLocation|msg\.inputLocation.*Input bucket/s,
      ],
      ['a malformed s3:// URI in msg.inputLocation', {}, { payload: 'x', inputLocation: 's3://Bad_Bucket/key' }, /inputLocation/i],
      ['an s3:// URI with a ".." segment', {}, { payload: 'x', inputLocation: 's3://sagemaker-emulator/a/../b' }, /\.\./],
      [
        'a RequestTTLSeconds out of range',
        {},
        { payload: 'x', headers: { 'X-Amzn-SageMaker-RequestTTLSeconds': '30' } },
        /RequestTTLSeconds.*60.*21600/,
      ],
      [
        'an InvocationTimeoutSeconds out of range',
        {},
        { payload: 'x', headers: { 'X-Amzn-SageMaker-InvocationTimeoutSeconds': '7200' } },
        /InvocationTimeoutSeconds.*3600/,
      ],
      [
        'a payload that cannot be encoded (circular)',
        {},
        (() => {
          const p = { a: 1 };
          p.self = p;
          return { payload: p };
        })(),
        /payload/,
      ],
      ['an undefined payload', {}, { payload: undefined }, /payload/],
    ];
    for (const [name, nodeProps, msg, pattern] of cases) {
      it(name, async function () {
        await load(flowFor(emu, nodeProps));
        const caught = collect('caught');
        const accepted = collect('accepted');
        emu.resetStats();
        const before = asyncCalls().length;
        helper.getNode('an').receive(msg);
        await until(() => caught.length === 1, 'the error');
        assert.match(caught[0].sagemaker.error.message, pattern);
        assert.equal(accepted.length, 0);
        assert.equal(asyncCalls().length, before);
        assert.equal(emu.stats().s3.PutObject || 0, 0);
      });
    }

    it('an out-of-range node setting: red ring at start, every message fails with the reason', async function () {
      await load(flowFor(emu, { pollInterval: '0' }));
      const caught = collect('caught');
      helper.getNode('an').receive({ payload: 'x' });
      await until(() => caught.length === 1, 'the error');
      assert.match(caught[0].sagemaker.error.message, /pollInterval/);
    });
  });
});
