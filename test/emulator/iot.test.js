'use strict';
// The emulator's AWS IoT credentials endpoint (mutual TLS, test CA) with the package's
// fromIotCertificate provider and the real SageMaker Runtime client.
const assert = require('node:assert/strict');
const { SageMakerRuntimeClient, InvokeEndpointCommand } = require('@aws-sdk/client-sagemaker-runtime');
const { CertificateAuthority } = require('../../dist/emulator');
const { useEmulator } = require('../support/emulator');
const { fromIotCertificate } = require('../../dist/lib/iot-credentials.js');

const THING = 'gateway-01';
const ALIAS = 'sagemaker-emulator';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function keyBody(pem) {
  // The base64 lines of a PEM key: none of them may show up in any message.
  return pem.split('\n').filter((l) => l && !l.startsWith('-----'));
}

function assertNoKey(text, pem) {
  for (const line of keyBody(pem)) assert.ok(!String(text).includes(line), 'private key material leaked into a message');
}

/** fromIotCertificate's options for `device` (THING's certificate) against the emulator's IoT endpoint. */
function deviceOptions(emu, device, extra = {}) {
  return { endpoint: emu.iot.endpoint, roleAlias: ALIAS, thingName: THING, cert: device.cert, key: device.key, ca: emu.iot.ca, ...extra };
}

/** useEmulator with IoT credentials (`iot` as startEmulator takes it); `setup(emu, device)` gets a certificate issued to THING. */
function useIotEmulator(iot, setup) {
  useEmulator({ iot }, async (emu) => setup(emu, await emu.iot.issueDeviceCertificate(THING)));
}

describe('emulator IoT credentials endpoint', function () {
  let emu;
  let device;
  let foreign;

  const provider = (extra = {}) => fromIotCertificate(deviceOptions(emu, device, extra));
  const client = (credentials) => new SageMakerRuntimeClient({ region: 'us-east-1', endpoint: emu.url, credentials, maxAttempts: 1 });
  const invokeEcho = (c, text = 'hello') =>
    c.send(new InvokeEndpointCommand({ EndpointName: 'echo', ContentType: 'text/plain', Body: Buffer.from(text) }));

  useIotEmulator(true, async (e, d) => {
    emu = e;
    device = d;
    const otherCa = await CertificateAuthority.create('Some other CA');
    foreign = await otherCa.issue(THING);
  });

  it('gives a device certificate signed by the test CA temporary credentials', async function () {
    const before = emu.iot.stats().issued;
    const creds = await provider()();
    assert.match(creds.accessKeyId, /^ASIA/);
    assert.ok(creds.secretAccessKey && creds.sessionToken);
    assert.ok(creds.expiration instanceof Date && creds.expiration.getTime() > Date.now() + 300_000);
    assert.equal(emu.iot.stats().issued, before + 1);
  });

  it('invokes echo through SageMakerRuntimeClient signed with the issued session credentials', async function () {
    const c = client(provider());
    try {
      const out = await invokeEcho(c, 'from a device');
      assert.equal(Buffer.from(out.Body).toString(), 'from a device');
      const wire = emu
        .received()
        .filter((r) => r.endpointName === 'echo')
        .at(-1);
      assert.match(wire.headers.authorization, /Credential=ASIA/);
      assert.ok(wire.headers['x-amz-security-token']);
    } finally {
      c.destroy();
    }
  });

  it('fetches once and reuses the credentials while they are far from expiry', async function () {
    const c = client(provider());
    try {
      const before = emu.iot.stats().issued;
      await invokeEcho(c);
      await invokeEcho(c);
      await invokeEcho(c);
      assert.equal(emu.iot.stats().issued, before + 1);
    } finally {
      c.destroy();
    }
  });

  it('refuses a certificate from another CA with an error saying the client certificate was rejected', async function () {
    const rejectedBefore = emu.iot.stats().tlsRejected;
    const echoBefore = emu.stats().byEndpoint.echo ?? 0;
    const c = client(provider({ cert: foreign.cert, key: foreign.key }));
    try {
      await assert.rejects(invokeEcho(c), (err) => {
        assert.equal(err.name, 'IotCredentialsError');
        assert.match(err.message, /IoT credentials endpoint 127\.0\.0\.1:\d+ rejected the client certificate/);
        assertNoKey(err.message, foreign.key);
        assertNoKey(err.stack, foreign.key);
        return true;
      });
    } finally {
      c.destroy();
    }
    assert.equal(emu.iot.stats().tlsRejected, rejectedBefore + 1);
    assert.equal(emu.stats().byEndpoint.echo ?? 0, echoBefore, 'no SageMaker request without credentials');
  });

  it('says the server certificate is not trusted when the CA is not set', async function () {
    await assert.rejects(provider({ ca: undefined })(), (err) => {
      assert.match(err.message, /server certificate not trusted: .*\(set the CA\)/);
      return true;
    });
  });

  it('names the role alias on 404', async function () {
    await assert.rejects(provider({ roleAlias: 'no-such-alias' })(), (err) => {
      assert.equal(err.statusCode, 404);
      assert.match(err.message, /role alias no-such-alias not found/);
      return true;
    });
  });

  it('points at the IoT policy on 403 (thing name not attached to the certificate)', async function () {
    await assert.rejects(provider({ thingName: 'another-thing' })(), (err) => {
      assert.equal(err.statusCode, 403);
      assert.match(err.message, /not authorized.*iot:AssumeRoleWithCertificate for role alias sagemaker-emulator/);
      return true;
    });
  });

  it('never puts the private key into any error message', async function () {
    const failures = [
      provider({ cert: foreign.cert, key: foreign.key }),
      provider({ key: foreign.key }), // key of another certificate
      provider({ roleAlias: 'missing' }),
      provider({ thingName: 'someone-else' }),
      provider({ ca: undefined }),
    ];
    for (const p of failures) {
      const err = await p().then(
        () => assert.fail('expected a failure'),
        (e) => e,
      );
      for (const key of [device.key, foreign.key]) {
        assertNoKey(err.message, key);
        assertNoKey(err.stack, key);
        assertNoKey(JSON.stringify(err), key);
      }
    }
  });
});

describe('emulator IoT credentials that expire', function () {
  let emu;
  let device;
  useIotEmulator({ durationSeconds: 1 }, (e, d) => {
    emu = e;
    device = d;
  });

  it('refreshes expired credentials before the next invoke, so no invoke fails', async function () {
    let last;
    const inner = fromIotCertificate(deviceOptions(emu, device));
    const seen = async (o) => (last = await inner(o));
    const c = new SageMakerRuntimeClient({ region: 'us-east-1', endpoint: emu.url, credentials: seen, maxAttempts: 1 });
    try {
      await c.send(new InvokeEndpointCommand({ EndpointName: 'echo', Body: Buffer.from('1') }));
      const first = last;
      const issued = emu.iot.stats().issued;
      await sleep(1500); // past the 1 s lifetime
      const out = await c.send(new InvokeEndpointCommand({ EndpointName: 'echo', Body: Buffer.from('2') }));
      assert.equal(Buffer.from(out.Body).toString(), '2');
      assert.ok(emu.iot.stats().issued > issued, 'the IoT endpoint was asked again');
      assert.notEqual(last.accessKeyId, first.accessKeyId);
      assert.equal(emu.stats().errors.ExpiredTokenException ?? 0, 0, 'no request went out with expired credentials');

      // The first credentials really expired: SageMaker refuses them now.
      const stale = new SageMakerRuntimeClient({
        region: 'us-east-1',
        endpoint: emu.url,
        credentials: { accessKeyId: first.accessKeyId, secretAccessKey: first.secretAccessKey, sessionToken: first.sessionToken },
        maxAttempts: 1,
      });
      try {
        await assert.rejects(stale.send(new InvokeEndpointCommand({ EndpointName: 'echo', Body: Buffer.from('3') })), /expired/i);
      } finally {
        stale.destroy();
      }
    } finally {
      c.destroy();
    }
  });
});

describe('emulator IoT credentials: a failed refresh', function () {
  let emu;
  let device;
  // 200 s: inside the SDK's 5-minute refresh window, so every call asks the endpoint again.
  useIotEmulator({ durationSeconds: 200 }, (e, d) => {
    emu = e;
    device = d;
  });

  it('keeps credentials that are still valid for more than a minute, with a warning', async function () {
    const warnings = [];
    const options = deviceOptions(emu, device, { logger: { warn: (m) => warnings.push(m) } });
    const provider = fromIotCertificate(options);
    const first = await provider();
    options.roleAlias = 'deleted-alias'; // the next fetch gets a 404
    const again = await provider();
    assert.equal(again.accessKeyId, first.accessKeyId);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /role alias deleted-alias not found.*; keeping the current credentials until/);
  });
});
