'use strict';
// The emulator as the tests share it: one per suite on 127.0.0.1, port 0, started by a mocha
// `before` hook and closed by an `after` hook; and the config node that points at it.
const { PutObjectCommand } = require('@aws-sdk/client-s3');
const { startEmulator } = require('../../dist/emulator');

/**
 * Registers the hooks of a suite that talks to one emulator: started before the suite
 * (`options` as startEmulator takes them, port 0 unless given) and closed after it.
 * `setup(emu)` runs once it is up (the suite keeps `emu`, adds endpoints, clients, files);
 * `teardown()` runs before it closes, also when setup failed half-way.
 */
function useEmulator(options = {}, setup = () => {}, teardown = () => {}) {
  let emu;
  before(async function () {
    emu = await startEmulator({ port: 0, ...options });
    await setup(emu);
  });
  after(async function () {
    await teardown();
    if (emu) await emu.close();
  });
}

/** A keys-mode sagemaker-config node `c1` for the emulator's SageMaker and S3 (path style). */
function emulatorConfig(emu, extra = {}) {
  return {
    id: 'c1',
    type: 'sagemaker-config',
    region: 'us-east-1',
    credentialType: 'keys',
    endpoint: emu.url,
    s3Endpoint: emu.s3Url,
    s3ForcePathStyle: true,
    ...extra,
  };
}

/** Uploads `size` bytes of `a` to the emulator's S3 as sagemaker-emulator/in/<key>; resolves with its s3:// location. */
async function putInput(emu, key, size) {
  const s3 = emu.s3Client();
  try {
    await s3.send(
      new PutObjectCommand({
        Bucket: 'sagemaker-emulator',
        Key: `in/${key}`,
        Body: Buffer.alloc(size, 0x61),
        ContentType: 'application/octet-stream',
      }),
    );
  } finally {
    s3.destroy();
  }
  return `s3://sagemaker-emulator/in/${key}`;
}

module.exports = { startEmulator, useEmulator, emulatorConfig, putInput };
