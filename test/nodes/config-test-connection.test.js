'use strict';
// The editor's Test connection button: POST /sagemaker-config/:id/test resolves the form's
// credentials and calls STS GetCallerIdentity (here: the emulator's STS).
const assert = require('node:assert/strict');
const { helper } = require('../helper');
const { useConfigRoute } = require('./config-helpers');
const configNode = require('../../nodes/sagemaker-config.js');

const KEY_ID = 'AKIATESTCONNECTION01';
const SECRET = 'Conn3ction-S3cret-N0t-To-Be-Echoed';

describe('sagemaker-config Test connection route', function () {
  let emu;
  const { form, post, deployed } = useConfigRoute('test', { accessKeyId: KEY_ID, secretAccessKey: SECRET }, {}, (e) => (emu = e));

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
