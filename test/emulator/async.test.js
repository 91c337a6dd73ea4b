'use strict';
// InvokeEndpointAsync in the emulator, through the real SDK and the emulator's S3.
const assert = require('node:assert/strict');
const { SageMakerRuntimeClient, InvokeEndpointAsyncCommand } = require('@aws-sdk/client-sagemaker-runtime');
const { PutObjectCommand, GetObjectCommand, HeadObjectCommand } = require('@aws-sdk/client-s3');
const { startEmulator } = require('../../dist/emulator');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe('emulator InvokeEndpointAsync', function () {
  let emu;
  let sm;
  let s3;

  before(async function () {
    emu = await startEmulator({ port: 0 });
    sm = new SageMakerRuntimeClient({
      region: 'us-east-1',
      endpoint: emu.url,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    s3 = emu.s3Client();
  });
  after(async function () {
    sm?.destroy();
    if (emu) await emu.close();
  });

  async function waitForObject(bucket, key, ms = 5000) {
    const end = Date.now() + ms;
    for (;;) {
      try {
        const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return { body: Buffer.from(await got.Body.transformToByteArray()), contentType: got.ContentType };
      } catch (err) {
        if (Date.now() > end) throw err;
        await sleep(50);
      }
    }
  }
  const split = (uri) => {
    const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri);
    return [m[1], m[2]];
  };

  it('answers 202 with a generated InferenceId and the default output and failure locations', async function () {
    const res = await sm.send(
      new InvokeEndpointAsyncCommand({ EndpointName: 'echo', Body: Buffer.from('{"a":1}'), ContentType: 'application/json' }),
    );
    assert.equal(res.$metadata.httpStatusCode, 202);
    assert.match(res.InferenceId, /^[0-9a-f-]{36}$/);
    assert.equal(res.OutputLocation, `s3://sagemaker-emulator/async-output/echo/${res.InferenceId}.out`);
    assert.equal(res.FailureLocation, `s3://sagemaker-emulator/async-failures/echo/${res.InferenceId}-error.out`);
    const out = await waitForObject(...split(res.OutputLocation));
    assert.equal(out.body.toString(), '{"a":1}');
    assert.equal(out.contentType, 'application/json');
  });

  it('reads the input from S3 at InputLocation and keeps the given InferenceId', async function () {
    await s3.send(new PutObjectCommand({ Bucket: 'sagemaker-emulator', Key: 'in/x.csv', Body: '1,2,3\n', ContentType: 'text/csv' }));
    const res = await sm.send(
      new InvokeEndpointAsyncCommand({ EndpointName: 'echo', InputLocation: 's3://sagemaker-emulator/in/x.csv', InferenceId: 'my-id-1' }),
    );
    assert.equal(res.InferenceId, 'my-id-1');
    const out = await waitForObject(...split(res.OutputLocation));
    assert.equal(out.body.toString(), '1,2,3\n');
    assert.equal(out.contentType, 'text/csv');
  });

  it('applies S3OutputPathExtension and Filename to the output location', async function () {
    const res = await sm.send(
      new InvokeEndpointAsyncCommand({
        EndpointName: 'echo',
        Body: Buffer.from('x'),
        InferenceId: 'ext-1',
        S3OutputPathExtension: 'batch/7',
        Filename: 'result.json',
      }),
    );
    assert.equal(res.OutputLocation, 's3://sagemaker-emulator/async-output/echo/batch/7/result.json');
    assert.equal(res.FailureLocation, 's3://sagemaker-emulator/async-failures/echo/batch/7/ext-1-error.out');
    await waitForObject(...split(res.OutputLocation));
  });

  it('rejects both Body and InputLocation, neither, a body over 128,000 bytes, and an out-of-range TTL', async function () {
    const bad = [
      { EndpointName: 'echo', Body: Buffer.from('x'), InputLocation: 's3://sagemaker-emulator/in/x.csv' },
      { EndpointName: 'echo' },
      { EndpointName: 'echo', Body: Buffer.alloc(128_001, 1) },
      { EndpointName: 'echo', Body: Buffer.from('x'), RequestTTLSeconds: 59 },
      { EndpointName: 'echo', Body: Buffer.from('x'), InvocationTimeoutSeconds: 3601 },
    ];
    for (const input of bad) {
      await assert.rejects(
        sm.send(new InvokeEndpointAsyncCommand(input)),
        (err) => err.name === 'ValidationError' && err.$metadata.httpStatusCode === 400,
      );
    }
  });

  it('writes a failure object when the input object is missing', async function () {
    const res = await sm.send(
      new InvokeEndpointAsyncCommand({ EndpointName: 'echo', InputLocation: 's3://sagemaker-emulator/in/nope.json' }),
    );
    const fail = await waitForObject(...split(res.FailureLocation));
    assert.match(fail.body.toString(), /nope\.json.*NoSuchKey|NoSuchKey.*nope/s);
    await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: 'sagemaker-emulator', Key: split(res.OutputLocation)[1] })));
  });

  it('writes the model failure text for a model that rejects its input', async function () {
    const res = await sm.send(
      new InvokeEndpointAsyncCommand({ EndpointName: 'sensor-anomaly', Body: Buffer.from('not numbers'), ContentType: 'text/csv' }),
    );
    const fail = await waitForObject(...split(res.FailureLocation));
    assert.match(fail.body.toString(), /error \(400\) from primary/);
  });

  it('async-failure fault writes a failure object; async-never writes nothing; no FailureLocation without a failure path', async function () {
    emu.setEndpoint('flaky', {
      model: 'echo',
      faults: [
        { kind: 'async-failure', times: 1 },
        { kind: 'async-never', times: 1 },
      ],
      async: { delayMs: 10, jitterMs: 0 },
    });
    const r1 = await sm.send(new InvokeEndpointAsyncCommand({ EndpointName: 'flaky', Body: Buffer.from('a') }));
    const fail = await waitForObject(...split(r1.FailureLocation));
    assert.match(fail.body.toString(), /failure/);
    const r2 = await sm.send(new InvokeEndpointAsyncCommand({ EndpointName: 'flaky', Body: Buffer.from('b') }));
    await sleep(300);
    for (const loc of [r2.OutputLocation, r2.FailureLocation]) {
      await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: 'sagemaker-emulator', Key: split(loc)[1] })));
    }
    emu.setEndpoint('nofail', { model: 'echo', async: { failurePath: null, outputPath: 's3://sagemaker-emulator/custom/out' } });
    const r3 = await sm.send(new InvokeEndpointAsyncCommand({ EndpointName: 'nofail', Body: Buffer.from('c') }));
    assert.equal(r3.FailureLocation, undefined);
    assert.equal(r3.OutputLocation, `s3://sagemaker-emulator/custom/out/${r3.InferenceId}.out`);
    await waitForObject(...split(r3.OutputLocation));
  });

  it('honours a per-request delay=ms in CustomAttributes', async function () {
    const res = await sm.send(
      new InvokeEndpointAsyncCommand({ EndpointName: 'echo', Body: Buffer.from('slow'), CustomAttributes: 'delay=600' }),
    );
    await sleep(150);
    await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: 'sagemaker-emulator', Key: split(res.OutputLocation)[1] })));
    await waitForObject(...split(res.OutputLocation));
  });

  it('close() cancels scheduled jobs: no timer is left behind', async function () {
    const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const other = await startEmulator({ port: 0 });
    const c = new SageMakerRuntimeClient({
      region: 'us-east-1',
      endpoint: other.url,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    await sleep(50);
    const before = timeouts();
    for (let i = 0; i < 5; i++)
      await c.send(new InvokeEndpointAsyncCommand({ EndpointName: 'echo', Body: Buffer.from('x'), CustomAttributes: 'delay=60000' }));
    assert.ok(timeouts() >= before + 5);
    c.destroy();
    await other.close();
    assert.ok(timeouts() <= before, `${timeouts()} timeouts left, ${before} before`);
  });
});
