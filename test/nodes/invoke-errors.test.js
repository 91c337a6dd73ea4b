'use strict';
const assert = require('node:assert');
const { helper, useNodeRed, useEmulator, flowFor, load, next, collect, spyDone, sleep, until, receivedFor } = require('./invoke-helpers');

describe('sagemaker-invoke: errors', function () {
  let emu;
  useEmulator({}, (e) => (emu = e));
  useNodeRed();

  /** Sends one message and returns the single message the Catch node saw (and checks no output). */
  async function failOnce(invoke, config, msg = { payload: { x: 1 } }) {
    await load(flowFor(emu, invoke, config));
    const caught = collect('caught');
    const out = collect('out');
    const dones = spyDone('inv');
    helper.getNode('inv').receive(msg);
    await until(() => caught.length > 0, 'the Catch node');
    await sleep(50); // room for a (wrong) second outcome
    assert.strictEqual(caught.length, 1, 'exactly one error');
    assert.strictEqual(out.length, 0, 'no output');
    assert.strictEqual(dones.length, 1, 'done called once');
    assert.ok(dones[0].err instanceof Error);
    return caught[0];
  }

  const shapes = [
    { kind: 'not-ready', name: 'ModelNotReadyException', status: 429, retryable: true },
    { kind: 'internal', name: 'InternalFailure', status: 500, retryable: true },
    { kind: 'unavailable', name: 'ServiceUnavailable', status: 503, retryable: true },
    { kind: 'dependency', name: 'InternalDependencyException', status: 530, retryable: false },
    { kind: 'throttle', name: 'ThrottlingException', status: 400, retryable: true },
  ];
  for (const s of shapes) {
    it(`${s.name} (${s.status}) reaches a Catch node once with name, status, request id and retryable=${s.retryable}`, async function () {
      const ep = `err-${s.kind}`;
      emu.setEndpoint(ep, { model: 'echo', faults: [{ kind: s.kind }] });
      const msg = await failOnce({ endpointName: ep }, { maxAttempts: 1 });
      const e = msg.sagemaker.error;
      assert.strictEqual(e.name, s.name);
      assert.strictEqual(e.statusCode, s.status);
      assert.ok(e.requestId, 'request id');
      assert.strictEqual(e.retryable, s.retryable);
      assert.ok(e.message);
      assert.strictEqual(msg.sagemaker.endpointName, ep);
      assert.strictEqual(msg.sagemaker.attempts, 1);
      assert.match(msg.error.message, new RegExp(`^${s.name}: .+ \\(HTTP ${s.status}\\)$`));
      assert.deepStrictEqual(msg.payload, { x: 1 }, 'the input payload is kept');
    });
  }

  it('ModelError reaches a Catch node once with the original status, message, log stream ARN and CloudWatch link, and is not retried', async function () {
    emu.setEndpoint('err-model', {
      model: 'echo',
      faults: [{ kind: 'model-error', originalStatusCode: 400, originalMessage: 'bad tensor shape' }],
    });
    const res = { marker: 'http response object' };
    const msg = await failOnce({ endpointName: 'err-model' }, {}, { payload: 'x', req: { marker: 'req' }, res });
    const e = msg.sagemaker.error;
    assert.strictEqual(e.name, 'ModelError');
    assert.strictEqual(e.statusCode, 424);
    assert.strictEqual(e.originalStatusCode, 400);
    assert.strictEqual(e.originalMessage, 'bad tensor shape');
    assert.match(e.logStreamArn, /^arn:aws:logs:us-east-1:\d+:log-group:\/aws\/sagemaker\/Endpoints\/err-model/);
    assert.match(
      e.logsUrl,
      /^https:\/\/us-east-1\.console\.aws\.amazon\.com\/cloudwatch\/home\?region=us-east-1#logsV2:log-groups\/log-group\/\$252Faws\$252Fsagemaker\$252FEndpoints\$252Ferr-model/,
    );
    assert.strictEqual(e.retryable, false);
    assert.strictEqual(msg.sagemaker.attempts, 1);
    assert.strictEqual(receivedFor(emu, 'err-model').length, 1, 'the model ran once');
    assert.deepStrictEqual(msg.res, res, 'msg.res kept so an http in flow can still answer');
    assert.deepStrictEqual(msg.req, { marker: 'req' });
  });

  it('throttling is retried by the SDK and then succeeds (attempts 2)', async function () {
    emu.setEndpoint('err-throttle-once', { model: 'echo', faults: [{ kind: 'throttle', times: 1 }] });
    await load(flowFor(emu, { endpointName: 'err-throttle-once' }));
    const got = next('out');
    helper.getNode('inv').receive({ payload: 'x' });
    const msg = await got;
    assert.strictEqual(msg.sagemaker.attempts, 2);
    assert.strictEqual(receivedFor(emu, 'err-throttle-once').length, 2);
  });

  it('the config timeout cuts a hung model with a retryable TimeoutError', async function () {
    emu.setEndpoint('err-hang', { model: 'echo', faults: [{ kind: 'hang' }] });
    const msg = await failOnce({ endpointName: 'err-hang' }, { timeout: 0.3, maxAttempts: 1 });
    assert.match(msg.sagemaker.error.name, /Timeout/);
    assert.strictEqual(msg.sagemaker.error.retryable, true);
  });

  it('a connection reset reaches the Catch node as a retryable error', async function () {
    emu.setEndpoint('err-reset', { model: 'echo', faults: [{ kind: 'reset' }] });
    const msg = await failOnce({ endpointName: 'err-reset' }, { maxAttempts: 1 });
    assert.strictEqual(msg.sagemaker.error.retryable, true);
  });

  it('a response that is not JSON under response format json is one DecodeError naming the content type', async function () {
    const msg = await failOnce(
      { endpointName: 'echo', contentType: 'text/html', responseFormat: 'json' },
      {},
      { payload: '<html>oops</html>' },
    );
    assert.strictEqual(msg.sagemaker.error.name, 'DecodeError');
    assert.match(msg.sagemaker.error.message, /content type text\/html.*<html>oops/);
  });

  describe('bad input: a clear error naming the field, and no network call', function () {
    async function rejects(invoke, msg, field, re) {
      const before = emu.received().length;
      const statsBefore = emu.stats().requests.InvokeEndpoint || 0;
      const caught = await failOnce(invoke, {}, msg);
      const e = caught.sagemaker.error;
      assert.strictEqual(e.name, 'InputError');
      assert.strictEqual(e.field, field);
      assert.strictEqual(e.retryable, false);
      assert.match(e.message, re);
      assert.match(caught.error.message, re);
      assert.strictEqual(emu.received().length, before, 'nothing reached the service');
      assert.strictEqual(emu.stats().requests.InvokeEndpoint || 0, statsBefore);
      return caught;
    }
    it('an empty endpoint name from the message', function () {
      return rejects({ endpointName: 'ep', endpointNameType: 'msg' }, { payload: 'x', ep: '' }, 'Endpoint name', /Endpoint name is empty/);
    });
    it('a too long endpoint name', function () {
      return rejects(
        { endpointName: 'ep', endpointNameType: 'msg' },
        { payload: 'x', ep: 'a'.repeat(64) },
        'Endpoint name',
        /at most 63 characters, got 64/,
      );
    });
    it('a badly formed endpoint name', function () {
      return rejects(
        { endpointName: 'ep', endpointNameType: 'msg' },
        { payload: 'x', ep: 'bad name/x' },
        'Endpoint name',
        /"bad name\/x" is not valid/,
      );
    });
    it('a badly formed endpoint name set in the node: red ring at start and each message fails', async function () {
      const caught = await rejects({ endpointName: 'bad_name' }, { payload: 'x' }, 'config', /"bad_name" is not valid/);
      assert.ok(caught);
    });
    it('a TypedInput endpoint name that resolves to a non-string', function () {
      return rejects(
        { endpointName: 'ep', endpointNameType: 'msg' },
        { payload: 'x', ep: 42 },
        'Endpoint name',
        /Endpoint name must be a string, got number$/,
      );
    });
    it('a body over 6 MB, pointing to sagemaker-invoke-async', function () {
      return rejects({}, { payload: Buffer.alloc(6291457) }, 'msg.payload', /6291457 bytes.*6291456-byte.*sagemaker-invoke-async/);
    });
    it('an undefined payload', function () {
      return rejects({}, { topic: 'no payload' }, 'msg.payload', /msg.payload is undefined/);
    });
    it('a circular object', function () {
      const o = { a: 1 };
      o.me = o;
      return rejects({}, { payload: o }, 'msg.payload', /circular reference/);
    });
    it('CustomAttributes over 1024 characters from msg.headers', function () {
      return rejects(
        {},
        { payload: 'x', headers: { 'X-Amzn-SageMaker-Custom-Attributes': 'a'.repeat(1025) } },
        'CustomAttributes',
        /CustomAttributes .*at most 1024 characters, got 1025/,
      );
    });
    it('non-ASCII CustomAttributes', function () {
      return rejects({}, { payload: 'x', headers: { 'x-amzn-sagemaker-custom-attributes': 'naïve=1' } }, 'CustomAttributes', /US-ASCII/);
    });
    it('InferenceId over 64 characters', function () {
      return rejects(
        {},
        { payload: 'x', headers: { 'x-amzn-sagemaker-inference-id': 'i'.repeat(65) } },
        'InferenceId',
        /at most 64 characters, got 65/,
      );
    });
    it('csv request format with a nested object', function () {
      return rejects(
        { requestFormat: 'csv' },
        {
          payload: [
            [1, 2],
            [3, { deep: true }],
          ],
        },
        'msg.payload',
        /row 2 column 2 is an object/,
      );
    });
    it('a missing config node', async function () {
      const flow = flowFor(emu, { config: 'nope' });
      await load(flow);
      const caught = collect('caught');
      helper.getNode('inv').receive({ payload: 'x' });
      await until(() => caught.length > 0, 'the Catch node');
      assert.strictEqual(caught[0].sagemaker.error.name, 'InputError');
    });
  });
});
