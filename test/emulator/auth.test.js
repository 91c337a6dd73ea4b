'use strict';
const assert = require('node:assert/strict');
const { InvokeEndpointCommand } = require('@aws-sdk/client-sagemaker-runtime');
const { STSClient, AssumeRoleCommand, GetCallerIdentityCommand } = require('@aws-sdk/client-sts');
const { fromTemporaryCredentials } = require('@aws-sdk/credential-providers');
const { startEmulator } = require('../../dist/emulator');
const { runtimeClient, signedRequest, rejection, TEST_CREDENTIALS } = require('./util');

const ROLE = 'arn:aws:iam::123456789012:role/node-red-inference';

describe('emulator SigV4, STS and ListEndpoints', function () {
  let emu;

  before(async function () {
    emu = await startEmulator({ port: 0 });
  });
  after(async function () {
    await emu.close();
  });

  it('accepts a correctly signed raw request', async function () {
    const r = await signedRequest(emu, { body: 'signed', contentType: 'text/plain' });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'signed');
  });

  it('a wrong secret is a 403 InvalidSignatureException', async function () {
    const c = runtimeClient(emu, { credentials: { accessKeyId: 'test', secretAccessKey: 'not-the-secret' } });
    const err = await rejection(c.send(new InvokeEndpointCommand({ EndpointName: 'echo', Body: 'x' })));
    c.destroy();
    assert.equal(err.name, 'InvalidSignatureException');
    assert.equal(err.$metadata.httpStatusCode, 403);
    assert.match(err.message, /signature we calculated does not match/);
  });

  it('an unknown access key is a 403 UnrecognizedClientException', async function () {
    const c = runtimeClient(emu, { credentials: { accessKeyId: 'AKIDUNKNOWN', secretAccessKey: 'x' } });
    const err = await rejection(c.send(new InvokeEndpointCommand({ EndpointName: 'echo', Body: 'x' })));
    c.destroy();
    assert.equal(err.name, 'UnrecognizedClientException');
    assert.equal(err.$metadata.httpStatusCode, 403);
  });

  it('a body changed after signing is refused with 403, even with its content hash header kept', async function () {
    const r = await signedRequest(emu, {
      body: 'original',
      tamper: (req) => {
        req.body = Buffer.from('tampered');
      },
    });
    assert.equal(r.status, 403);
    assert.equal(r.headers['x-amzn-errortype'], 'InvalidSignatureException');
    assert.ok(JSON.parse(r.body).message);
    assert.ok(r.headers['x-amzn-requestid']);
  });

  it('a signed header changed after signing is refused with 403', async function () {
    const r = await signedRequest(emu, {
      body: 'x',
      headers: { 'x-amzn-sagemaker-custom-attributes': 'a=1' },
      tamper: (req) => {
        req.headers['x-amzn-sagemaker-custom-attributes'] = 'a=2';
      },
    });
    assert.equal(r.status, 403);
    assert.equal(r.headers['x-amzn-errortype'], 'InvalidSignatureException');
  });

  it('an x-amz-date more than 5 minutes old is 403 "Signature expired"', async function () {
    const r = await signedRequest(emu, { body: 'x', signingDate: new Date(Date.now() - 10 * 60 * 1000) });
    assert.equal(r.status, 403);
    assert.equal(r.headers['x-amzn-errortype'], 'InvalidSignatureException');
    assert.match(JSON.parse(r.body).message, /^Signature expired: \d{8}T\d{6}Z is now earlier than/);
  });

  it('a credential scoped to another region or service is refused', async function () {
    let r = await signedRequest(emu, { body: 'x', region: 'eu-west-1' });
    assert.equal(r.status, 403);
    assert.match(JSON.parse(r.body).message, /region/);
    r = await signedRequest(emu, { body: 'x', service: 'execute-api' });
    assert.equal(r.status, 403);
    assert.match(JSON.parse(r.body).message, /service/);
  });

  it('auth: false accepts unsigned requests', async function () {
    const open = await startEmulator({ port: 0, auth: false });
    try {
      const c = runtimeClient(open, { credentials: { accessKeyId: 'anything', secretAccessKey: 'wrong' } });
      const out = await c.send(new InvokeEndpointCommand({ EndpointName: 'echo', Body: 'open' }));
      c.destroy();
      assert.equal(Buffer.from(out.Body).toString(), 'open');
    } finally {
      await open.close();
    }
  });

  it('fromTemporaryCredentials assumes a role at the emulator STS and the session credentials invoke', async function () {
    const credentials = fromTemporaryCredentials({
      params: { RoleArn: ROLE, RoleSessionName: 'emulator-test', ExternalId: 'ext-1' },
      masterCredentials: TEST_CREDENTIALS,
      clientConfig: { region: 'us-east-1', endpoint: emu.url },
    });
    const c = runtimeClient(emu, { credentials });
    const out = await c.send(new InvokeEndpointCommand({ EndpointName: 'echo', Body: 'as a role' }));
    c.destroy();
    assert.equal(Buffer.from(out.Body).toString(), 'as a role');
    const wire = emu.received().at(-1);
    assert.match(wire.headers.authorization, /Credential=ASIA/);
    assert.ok(wire.headers['x-amz-security-token']);
  });

  it('GetCallerIdentity names the account for static keys and the assumed role for session credentials', async function () {
    const sts = new STSClient({ region: 'us-east-1', endpoint: emu.url, credentials: TEST_CREDENTIALS });
    const me = await sts.send(new GetCallerIdentityCommand({}));
    assert.equal(me.Account, '123456789012');
    const { Credentials, AssumedRoleUser } = await sts.send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'who-am-i' }));
    assert.equal(AssumedRoleUser.Arn, 'arn:aws:sts::123456789012:assumed-role/node-red-inference/who-am-i');
    assert.ok(Credentials.Expiration instanceof Date);
    const asRole = new STSClient({
      region: 'us-east-1',
      endpoint: emu.url,
      credentials: {
        accessKeyId: Credentials.AccessKeyId,
        secretAccessKey: Credentials.SecretAccessKey,
        sessionToken: Credentials.SessionToken,
      },
    });
    const role = await asRole.send(new GetCallerIdentityCommand({}));
    assert.equal(role.Arn, AssumedRoleUser.Arn);
    assert.match(role.UserId, /:who-am-i$/);
    sts.destroy();
    asRole.destroy();
  });

  it('STS answers a bad AssumeRole with its XML error, and a wrong secret with SignatureDoesNotMatch', async function () {
    const sts = new STSClient({ region: 'us-east-1', endpoint: emu.url, credentials: TEST_CREDENTIALS });
    let err = await rejection(sts.send(new AssumeRoleCommand({ RoleArn: 'not-an-arn', RoleSessionName: 's1' })));
    assert.equal(err.name, 'ValidationError');
    assert.equal(err.$metadata.httpStatusCode, 400);
    const bad = new STSClient({ region: 'us-east-1', endpoint: emu.url, credentials: { accessKeyId: 'test', secretAccessKey: 'nope' } });
    err = await rejection(bad.send(new GetCallerIdentityCommand({})));
    assert.equal(err.name, 'SignatureDoesNotMatch');
    assert.equal(err.$metadata.httpStatusCode, 403);
    sts.destroy();
    bad.destroy();
  });

  it('session credentials are refused with ExpiredTokenException after stsDurationSeconds', async function () {
    const short = await startEmulator({ port: 0, stsDurationSeconds: 1 });
    try {
      const sts = new STSClient({ region: 'us-east-1', endpoint: short.url, credentials: TEST_CREDENTIALS });
      const { Credentials } = await sts.send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'short-lived' }));
      sts.destroy();
      await new Promise((r) => setTimeout(r, 1100));
      const c = runtimeClient(short, {
        maxAttempts: 1,
        credentials: {
          accessKeyId: Credentials.AccessKeyId,
          secretAccessKey: Credentials.SecretAccessKey,
          sessionToken: Credentials.SessionToken,
        },
      });
      const err = await rejection(c.send(new InvokeEndpointCommand({ EndpointName: 'echo', Body: 'x' })));
      c.destroy();
      assert.equal(err.name, 'ExpiredTokenException');
      assert.equal(err.$metadata.httpStatusCode, 403);
    } finally {
      await short.close();
    }
  });

  it('ListEndpoints (SageMaker JSON 1.1) lists every configured endpoint as InService', async function () {
    const r = await signedRequest(emu, {
      path: '/',
      body: '{}',
      contentType: 'application/x-amz-json-1.1',
      headers: { 'x-amz-target': 'SageMaker.ListEndpoints' },
    });
    assert.equal(r.status, 200);
    const { Endpoints } = JSON.parse(r.body);
    const names = Endpoints.map((e) => e.EndpointName);
    for (const n of ['echo', 'sensor-anomaly', 'text-generator']) assert.ok(names.includes(n), n);
    const echo = Endpoints.find((e) => e.EndpointName === 'echo');
    assert.equal(echo.EndpointStatus, 'InService');
    assert.equal(echo.EndpointArn, 'arn:aws:sagemaker:us-east-1:123456789012:endpoint/echo');
    assert.equal(typeof echo.CreationTime, 'number');
    assert.equal(emu.stats().requests.ListEndpoints >= 1, true);
  });
});
