'use strict';
// lib/async-s3: the async node's S3 calls, against the emulator's S3 over real HTTP.
const assert = require('node:assert/strict');
const { S3Client } = require('@aws-sdk/client-s3');
const { asyncS3, MAX_FAILURE_TEXT } = require('../../dist/lib/async-s3.js');
const { startEmulator } = require('../../dist/emulator');

describe('async-s3', function () {
  let emu;
  let s3;
  const BUCKET = 'sagemaker-emulator';
  const signal = new AbortController().signal;

  before(async function () {
    emu = await startEmulator({ port: 0 });
    const client = new S3Client({
      region: 'us-east-1',
      endpoint: emu.s3Url,
      forcePathStyle: true,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    s3 = asyncS3(() => client);
  });
  after(async function () {
    await emu.close();
  });

  it('puts an input, lists it under its prefix and reads it back with its content type', async function () {
    await s3.putInput(BUCKET, 'unit/in/a.json', Buffer.from('{"a":1}'), 'application/json', signal);
    await s3.putInput(BUCKET, 'unit/in/b.json', Buffer.from('{"b":2}'), undefined, signal);
    const page = await s3.list({ bucket: BUCKET, prefix: 'unit/in/', signal });
    assert.deepEqual(page.objects, [
      { key: 'unit/in/a.json', size: 7 },
      { key: 'unit/in/b.json', size: 7 },
    ]);
    assert.equal(page.nextContinuationToken, undefined);
    const after = await s3.list({ bucket: BUCKET, prefix: 'unit/in/', startAfter: 'unit/in/a.json', signal });
    assert.deepEqual(
      after.objects.map((o) => o.key),
      ['unit/in/b.json'],
    );
    const got = await s3.read({ type: 'output', bucket: BUCKET, key: 'unit/in/a.json', size: 7 }, 100, signal);
    assert.equal(got.kind, 'output');
    assert.equal(Buffer.from(got.bytes).toString(), '{"a":1}');
    assert.equal(got.contentType, 'application/json');
  });

  it('does not download an output over the limit', async function () {
    const before = emu.stats().s3.GetObject ?? 0;
    const got = await s3.read({ type: 'output', bucket: BUCKET, key: 'unit/in/a.json', size: 7 }, 6, signal);
    assert.deepEqual(got, { kind: 'output' });
    assert.equal(emu.stats().s3.GetObject ?? 0, before);
  });

  it('reads a failure object as trimmed text, cut at 64 KiB', async function () {
    await s3.putInput(BUCKET, 'unit/fail/short.out', Buffer.from('  model error\n'), 'text/plain', signal);
    assert.deepEqual(await s3.read({ type: 'failure', bucket: BUCKET, key: 'unit/fail/short.out', size: 14 }, 0, signal), {
      kind: 'failure',
      text: 'model error',
    });
    await s3.putInput(BUCKET, 'unit/fail/long.out', Buffer.alloc(MAX_FAILURE_TEXT + 100, 0x78), 'text/plain', signal);
    const long = await s3.read({ type: 'failure', bucket: BUCKET, key: 'unit/fail/long.out', size: MAX_FAILURE_TEXT + 100 }, 0, signal);
    assert.equal(long.text.length, MAX_FAILURE_TEXT);
  });

  it('rejects with the S3 error for a missing object', async function () {
    await assert.rejects(s3.read({ type: 'output', bucket: BUCKET, key: 'unit/none', size: 1 }, 100, signal), (err) => {
      assert.equal(err.name, 'NoSuchKey');
      return true;
    });
  });
});
