'use strict';
const assert = require('node:assert/strict');
const { spawn, execFile } = require('node:child_process');
const path = require('node:path');
const { PutObjectCommand, HeadObjectCommand, GetObjectCommand, ListObjectsV2Command } = require('@aws-sdk/client-s3');
const { startEmulator } = require('../../dist/emulator');

const CLI = path.join(__dirname, '../../dist/emulator/cli.js');

describe('emulator S3 and CLI', function () {
  it('the embedded S3 counts PutObject, HeadObject, GetObject and ListObjectsV2', async function () {
    const emu = await startEmulator({ port: 0 });
    const s3 = emu.s3Client();
    try {
      await s3.send(
        new PutObjectCommand({ Bucket: 'sagemaker-emulator', Key: 'in/a.json', Body: '{"x":1}', ContentType: 'application/json' }),
      );
      const head = await s3.send(new HeadObjectCommand({ Bucket: 'sagemaker-emulator', Key: 'in/a.json' }));
      assert.equal(head.ContentLength, 7);
      const got = await s3.send(new GetObjectCommand({ Bucket: 'sagemaker-emulator', Key: 'in/a.json' }));
      assert.equal(await got.Body.transformToString(), '{"x":1}');
      const list = await s3.send(new ListObjectsV2Command({ Bucket: 'sagemaker-emulator', Prefix: 'in/' }));
      assert.deepEqual(
        list.Contents.map((o) => o.Key),
        ['in/a.json'],
      );
      const counts = emu.stats().s3;
      assert.equal(counts.PutObject, 1);
      assert.equal(counts.HeadObject, 1);
      assert.equal(counts.GetObject, 1);
      assert.equal(counts.ListObjectsV2, 1);
      emu.resetStats();
      assert.deepEqual(emu.stats().s3, {});
    } finally {
      s3.destroy();
      await emu.close();
    }
  });

  it('an object being uploaded is invisible to List, Head and Get until it is complete, then whole', async function () {
    const { Readable } = require('node:stream');
    const emu = await startEmulator({ port: 0 });
    const s3 = emu.s3Client();
    const chunk = Buffer.alloc(256 * 1024, 0x62);
    let sent = 0;
    let reads = 0;
    const probe = async () => {
      const list = await s3.send(new ListObjectsV2Command({ Bucket: 'sagemaker-emulator', Prefix: 'atomic/' }));
      assert.equal(list.KeyCount, 0, 'listed while uploading');
      await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: 'sagemaker-emulator', Key: 'atomic/x' })), (e) => e.name === 'NotFound');
      await assert.rejects(s3.send(new GetObjectCommand({ Bucket: 'sagemaker-emulator', Key: 'atomic/x' })), (e) => e.name === 'NoSuchKey');
      reads++;
    };
    // Each chunk is produced only after a round of reads saw nothing.
    const body = new Readable({
      async read() {
        if (sent === 16) return this.push(null);
        await probe();
        sent++;
        this.push(chunk);
      },
    });
    try {
      await s3.send(new PutObjectCommand({ Bucket: 'sagemaker-emulator', Key: 'atomic/x', Body: body, ContentLength: chunk.length * 16 }));
      const got = await s3.send(new GetObjectCommand({ Bucket: 'sagemaker-emulator', Key: 'atomic/x' }));
      assert.equal((await got.Body.transformToByteArray()).length, chunk.length * 16);
      assert.equal(reads, 16);
    } finally {
      s3.destroy();
      await emu.close();
    }
  });

  it('the embedded S3 refuses an access key it does not know', async function () {
    const emu = await startEmulator({ port: 0 });
    const { S3Client } = require('@aws-sdk/client-s3');
    const s3 = new S3Client({
      region: 'us-east-1',
      endpoint: emu.s3Url,
      forcePathStyle: true,
      credentials: { accessKeyId: 'nobody', secretAccessKey: 'x' },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    try {
      await assert.rejects(
        s3.send(new PutObjectCommand({ Bucket: 'sagemaker-emulator', Key: 'k', Body: 'v' })),
        (e) => e.name === 'InvalidAccessKeyId',
      );
    } finally {
      s3.destroy();
      await emu.close();
    }
  });

  it('close() ends a hanging request and returns', async function () {
    const emu = await startEmulator({ port: 0, endpoints: { hung: { model: 'echo', faults: [{ kind: 'hang' }] } } });
    const { runtimeClient } = require('./util');
    const { InvokeEndpointCommand } = require('@aws-sdk/client-sagemaker-runtime');
    const c = runtimeClient(emu, { maxAttempts: 1 });
    const pending = c.send(new InvokeEndpointCommand({ EndpointName: 'hung', Body: 'x' })).then(
      () => 'answered',
      () => 'failed',
    );
    while (emu.stats().inFlight === 0) await new Promise((r) => setTimeout(r, 10));
    await emu.close();
    assert.equal(await pending, 'failed');
    c.destroy();
  });

  it('sagemaker-emulator --help prints usage and exits 0', function (done) {
    execFile(process.execPath, [CLI, '--help'], (err, stdout) => {
      assert.ifError(err);
      assert.match(stdout, /Usage: sagemaker-emulator/);
      assert.match(stdout, /--no-auth/);
      done();
    });
  });

  it('sagemaker-emulator starts with a --config file, prints both addresses, serves its endpoints and exits 0 on SIGTERM', function (done) {
    const fs = require('node:fs');
    const os = require('node:os');
    const config = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'emu-cli-')), 'emulator.json');
    fs.writeFileSync(config, JSON.stringify({ endpoints: { 'from-config': { model: 'echo', variant: 'blue' } } }));
    const child = spawn(process.execPath, [CLI, '--port', '0', '--seed', '3', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', async (d) => {
      out += d;
      const m = /SageMaker Runtime emulator listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (!m || !/S3 listening on http:\/\//.test(out) || child.probed) return;
      child.probed = true;
      const { runtimeClient } = require('./util');
      const { InvokeEndpointCommand } = require('@aws-sdk/client-sagemaker-runtime');
      const c = runtimeClient({ url: m[1] });
      try {
        const r = await c.send(new InvokeEndpointCommand({ EndpointName: 'from-config', Body: 'cli' }));
        assert.equal(Buffer.from(r.Body).toString(), 'cli');
        assert.equal(r.InvokedProductionVariant, 'blue');
      } catch (e) {
        child.kill('SIGKILL');
        return done(e);
      } finally {
        c.destroy();
      }
      child.kill('SIGTERM');
    });
    child.on('exit', (code) => {
      try {
        assert.equal(code, 0);
        assert.ok(child.probed, `no listening line in: ${out}`);
        done();
      } catch (e) {
        done(e);
      }
    });
  });

  it('sagemaker-emulator says clearly when the port is taken', function (done) {
    startEmulator({ port: 0 }).then((emu) => {
      const port = new URL(emu.url).port;
      execFile(process.execPath, [CLI, '--port', port], (err, _stdout, stderr) => {
        emu.close().then(() => {
          try {
            assert.equal(err && err.code, 1);
            assert.match(stderr, new RegExp(`port ${port} .*already in use`));
            done();
          } catch (e) {
            done(e);
          }
        });
      });
    }, done);
  });
});
