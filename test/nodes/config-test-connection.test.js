'use strict';
// The editor's Test connection button: POST /sagemaker-config/:id/test resolves the form's
// credentials and calls STS GetCallerIdentity (here: the emulator's STS).
const assert = require('node:assert/strict');
const os = require('node:os');
const path = require('node:path');
const { helper } = require('../helper');
const { startEmulator } = require('../../dist/emulator');
const configNode = require('../../nodes/sagemaker-config.js');

const KEY_ID = 'AKIATESTCONNECTION01';
const SECRET = 'Conn3ction-S3cret-N0t-To-Be-Echoed';
const ENV_VARS = [
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_STS',
  'AWS_PROFILE',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_CONFIG_FILE',
  'SMR_TEST_EMULATOR_URL',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_EC2_METADATA_DISABLED',
];

describe('sagemaker-config Test connection route', function () {
  let emu;
  let savedEnv;
  const rejections = [];
  const onRejection = (reason) => rejections.push(reason);

  before(function (done) {
    helper.startServer(done);
  });
  before(async function () {
    process.on('unhandledRejection', onRejection);
    emu = await startEmulator({
      port: 0,
      credentials: [
        { accessKeyId: 'test', secretAccessKey: 'test' },
        { accessKeyId: KEY_ID, secretAccessKey: SECRET },
      ],
    });
  });
  beforeEach(function () {
    savedEnv = {};
    for (const k of ENV_VARS) {
      savedEnv[k] = process.env[k];
      delete process.env[k];
    }
    process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(os.tmpdir(), 'smr-no-such-credentials');
    process.env.AWS_CONFIG_FILE = path.join(os.tmpdir(), 'smr-no-such-config');
    process.env.AWS_EC2_METADATA_DISABLED = 'true';
  });
  afterEach(async function () {
    await helper.unload();
    for (const k of ENV_VARS) {
      if (savedEnv[k] === undefined) delete process.env[k];
      else process.env[k] = savedEnv[k];
    }
  });
  after(async function () {
    process.removeListener('unhandledRejection', onRejection);
    if (emu) await emu.close();
    await new Promise((resolve) => helper.stopServer(resolve));
    assert.deepEqual(rejections.map(String), []);
  });

  function form(extra = {}) {
    return { region: 'us-east-1', credentialType: 'keys', endpoint: emu.url, maxAttempts: '1', ...extra };
  }

  async function post(id, body) {
    const res = await helper.request().post(`/sagemaker-config/${id}/test`).send(body).expect(200);
    return res.body;
  }

  async function deployed() {
    await helper.load(
      configNode,
      [{ id: 'c1', type: 'sagemaker-config', region: 'us-east-1', credentialType: 'keys', endpoint: emu.url }],
      { c1: { accessKeyId: KEY_ID, secretAccessKey: SECRET } },
    );
  }

  it('returns the identity for the keys typed in the form (node not deployed)', async function () {
    await helper.load(configNode, []);
    emu.resetStats();
    const r = await post('new-node', { settings: form(), credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    assert.equal(r.ok, true, r.error);
    assert.equal(r.account, '123456789012');
    assert.match(r.arn, /^arn:aws:iam::123456789012:/);
    assert.equal(r.region, 'us-east-1');
    assert.equal(emu.stats().requests.GetCallerIdentity, 1);
  });

  it('uses the deployed node’s stored secret when the form shows the __PWRD__ placeholder', async function () {
    await deployed();
    const r = await post('c1', { settings: form(), credentials: { accessKeyId: KEY_ID, secretAccessKey: '__PWRD__', sessionToken: '' } });
    assert.equal(r.ok, true, r.error);
    assert.equal(r.account, '123456789012');
    assert.doesNotMatch(JSON.stringify(r), /S3cret/);
  });

  it('reports the exact failure for a bad secret, without echoing it', async function () {
    await deployed();
    const bad = `${SECRET}-typo`;
    const r = await post('c1', { settings: form(), credentials: { accessKeyId: KEY_ID, secretAccessKey: bad } });
    assert.equal(r.ok, false);
    assert.match(r.error, /signature/i);
    assert.match(r.error, /403/);
    assert.doesNotMatch(r.error, /S3cret/);
    assert.doesNotMatch(JSON.stringify(helper.log().args), /S3cret/);
  });

  it('reports the assumed role’s identity when a role ARN is set', async function () {
    await helper.load(configNode, []);
    const r = await post('x', {
      settings: form({ roleArn: 'arn:aws:iam::123456789012:role/Tester', roleSessionName: 'editor-test' }),
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    assert.equal(r.ok, true, r.error);
    assert.equal(r.arn, 'arn:aws:sts::123456789012:assumed-role/Tester/editor-test');
  });

  it('uses the deployed node’s ${ENV} values for fields the form leaves as deployed, and never expands a posted ${…}', async function () {
    process.env.SMR_TEST_EMULATOR_URL = emu.url;
    await helper.load(
      configNode,
      [{ id: 'c1', type: 'sagemaker-config', region: 'us-east-1', credentialType: 'keys', endpoint: '${SMR_TEST_EMULATOR_URL}' }],
      { c1: { accessKeyId: KEY_ID, secretAccessKey: SECRET } },
    );
    const same = await post('c1', {
      settings: form({ endpoint: '${SMR_TEST_EMULATOR_URL}' }),
      credentials: { accessKeyId: KEY_ID, secretAccessKey: '__PWRD__' },
    });
    assert.equal(same.ok, true, same.error);
    emu.resetStats();
    const other = await post('x', {
      settings: form({ endpoint: '${SMR_TEST_EMULATOR_URL}' }),
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    assert.deepEqual(other, {
      ok: false,
      error: 'Endpoint URL holds ${…}: environment variables are substituted only in the deployed node; deploy first, then test',
    });
    assert.equal(emu.stats().requests.GetCallerIdentity ?? 0, 0);
  });

  it('reports invalid settings without calling the service', async function () {
    await helper.load(configNode, []);
    emu.resetStats();
    const r1 = await post('x', { settings: form({ region: 'mars-1' }), credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    assert.deepEqual(r1, { ok: false, error: 'Region "mars-1" is not a region name such as us-east-1' });
    const r2 = await post('x', { settings: form(), credentials: { accessKeyId: 'test', secretAccessKey: '__PWRD__' } });
    assert.equal(r2.ok, false);
    assert.match(r2.error, /secret access key/);
    const r3 = await post('x', {});
    assert.equal(r3.ok, false, 'chain mode with no credentials anywhere fails');
    assert.match(r3.error, /Region is missing/);
    assert.equal(emu.stats().requests.GetCallerIdentity ?? 0, 0);
  });

  it('reports an unknown profile by name', async function () {
    await helper.load(configNode, []);
    // No endpoint URL: the host's own credentials go only to AWS or a deployed node's endpoint.
    const r = await post('x', { settings: form({ credentialType: 'profile', profile: 'ghost', endpoint: '' }) });
    assert.equal(r.ok, false);
    assert.match(r.error, /ghost/);
  });
});
