'use strict';
// lib/call-hooks: per-call abort signals and response headers on a SageMakerRuntimeClient that
// caches its handler chain, against the emulator over real HTTP.
const assert = require('node:assert/strict');
const {
  SageMakerRuntimeClient,
  InvokeEndpointCommand,
  InvokeEndpointWithResponseStreamCommand,
} = require('@aws-sdk/client-sagemaker-runtime');
const { installCallHooks, responseHeaders, signalled } = require('../../dist/lib/call-hooks.js');
const { startEmulator } = require('../../dist/emulator');
const { until } = require('../helper');

describe('call-hooks', function () {
  let emu;
  let client;

  before(async function () {
    emu = await startEmulator({ port: 0 });
    client = new SageMakerRuntimeClient({
      region: 'us-east-1',
      endpoint: emu.url,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      cacheMiddleware: true,
      maxAttempts: 1,
    });
    installCallHooks(client);
  });
  after(async function () {
    client.destroy();
    await emu.close();
  });

  const invoke = (input, signal = new AbortController().signal) =>
    client.send(signalled(new InvokeEndpointCommand({ EndpointName: 'echo', ContentType: 'application/json', ...input }), signal));

  it("keeps each call's own input and response headers through the cached chain", async function () {
    emu.setEndpoint('echo', { model: 'echo' });
    const [a, b] = await Promise.all([
      invoke({ Body: '{"a":1}', TargetModel: 'model-a.tar.gz' }),
      invoke({ Body: '{"b":2}', TargetModel: 'model-b.tar.gz' }),
    ]);
    assert.equal(Buffer.from(a.Body).toString(), '{"a":1}');
    assert.equal(Buffer.from(b.Body).toString(), '{"b":2}');
    assert.equal(responseHeaders(a)['x-emulator-echo-x-amzn-sagemaker-target-model'], 'model-a.tar.gz');
    assert.equal(responseHeaders(b)['x-emulator-echo-x-amzn-sagemaker-target-model'], 'model-b.tar.gz');
    assert.equal(responseHeaders(a)['content-type'], 'application/json');
    // a fresh object each time: a node may change its msg.headers
    assert.notEqual(responseHeaders(a), responseHeaders(a));
    assert.deepEqual(responseHeaders({}), {});
  });

  it('a signal cancels its own call only: the emulator sees that request go away', async function () {
    emu.setEndpoint('hang', { model: 'echo', faults: [{ kind: 'hang' }] });
    emu.resetStats();
    const abort = new AbortController();
    const hanging = client.send(signalled(new InvokeEndpointCommand({ EndpointName: 'hang', Body: '{}' }), abort.signal));
    await until(() => emu.stats().inFlight === 1, 'the request at the emulator');
    const other = await invoke({ Body: '{"c":3}' });
    assert.equal(Buffer.from(other.Body).toString(), '{"c":3}');
    abort.abort();
    await assert.rejects(hanging, (err) => err.name === 'AbortError');
    await until(() => emu.stats().inFlight === 0, 'the emulator to see the abort');
  });

  it('cancels a response stream too', async function () {
    emu.setEndpoint('gen', { model: 'text-generator' });
    const abort = new AbortController();
    const out = await client.send(
      signalled(
        new InvokeEndpointWithResponseStreamCommand({ EndpointName: 'gen', Body: '{}', CustomAttributes: 'tokens=100000;delayMs=5' }),
        abort.signal,
      ),
    );
    let parts = 0;
    await assert.rejects(async () => {
      for await (const event of out.Body) {
        if (event.PayloadPart && ++parts === 3) abort.abort();
      }
    });
    assert.equal(parts, 3);
    await until(() => emu.stats().streamsAborted >= 1, 'the emulator to see the stream cut');
  });
});
