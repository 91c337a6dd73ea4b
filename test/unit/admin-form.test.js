'use strict';
// What the admin routes may use for a posted form (lib/admin-form.ts): no ${ENV} expansion of
// posted values, stored credentials only with the deployed node's endpoint/region/type, the
// host's own credentials only towards endpoints the deployed flow names, no file oracle.
const assert = require('node:assert/strict');
const { resolveForm } = require('../../dist/lib/admin-form.js');

const STORED = { accessKeyId: 'AKIASTORED', secretAccessKey: 'storedSecretValue', sessionToken: 'storedTokenValue' };
const EMU = 'http://127.0.0.1:9080';

function deployedKeys(extra = {}) {
  const raw = { region: '${AWS_REGION}', credentialType: 'keys', endpoint: '${SAGEMAKER_ENDPOINT_URL}', ...extra };
  const resolved = { region: 'us-east-1', credentialType: 'keys', endpoint: EMU, ...extra };
  return { raw, resolved, credentials: { ...STORED } };
}

function resolve(settings, credentials, deployed, deployedEndpoints = deployed ? [EMU] : []) {
  return resolveForm({ id: 'c1', body: { settings, credentials }, deployed, deployedEndpoints });
}

describe('admin-form: what Test connection and the endpoint list may use', function () {
  it('a field left as deployed takes the deployed value; stored keys then apply', function () {
    const r = resolve(
      { region: '${AWS_REGION}', credentialType: 'keys', endpoint: '${SAGEMAKER_ENDPOINT_URL}' },
      { accessKeyId: 'AKIASTORED', secretAccessKey: '__PWRD__' },
      deployedKeys(),
    );
    assert.equal(r.ok, true, r.error);
    assert.equal(r.settings.endpoint, EMU);
    assert.equal(r.settings.region, 'us-east-1');
    assert.deepEqual(r.settings.keys, STORED);
    assert.equal(r.usesStored, true);
    assert.ok(r.secrets.includes('storedSecretValue') && r.secrets.includes('storedTokenValue'));
  });

  it('the resolved value typed out literally counts as the same endpoint', function () {
    const r = resolve({ region: 'us-east-1', credentialType: 'keys', endpoint: `${EMU}/` }, {}, deployedKeys());
    assert.equal(r.ok, true);
    assert.equal(r.usesStored, true);
  });

  it('a posted ${…} that is not the deployed text is refused, whole or embedded, before anything else', function () {
    for (const [field, value] of [
      ['region', '${AWS_SECRET_ACCESS_KEY}'],
      ['profile', '${AWS_SESSION_TOKEN}'],
      ['endpoint', 'http://127.0.0.1:1/${AWS_SECRET_ACCESS_KEY}'],
    ]) {
      const r = resolve({ credentialType: 'keys', [field]: value }, { accessKeyId: 'a', secretAccessKey: 'typedSecret' }, undefined);
      assert.equal(r.ok, false);
      assert.equal(r.code, 'envNotDeployed');
      assert.ok(!JSON.stringify(r.params).includes('$'), 'names the field, not the value');
    }
  });

  it('a changed endpoint, region or credential type withholds the stored credentials', function () {
    for (const change of [{ endpoint: 'http://127.0.0.1:1' }, { region: 'eu-west-1' }]) {
      const r = resolve(
        { region: 'us-east-1', credentialType: 'keys', endpoint: EMU, ...change },
        { accessKeyId: 'AKIASTORED', secretAccessKey: '__PWRD__', sessionToken: '__PWRD__' },
        deployedKeys(),
      );
      assert.equal(r.ok, false);
      assert.equal(r.code, 'storedWithheld');
    }
    // Keys typed in the form are the user's own: they go wherever the form says.
    const typed = resolve(
      { region: 'us-east-1', credentialType: 'keys', endpoint: 'http://127.0.0.1:1' },
      { accessKeyId: 'AKIATYPED', secretAccessKey: 'typedSecretValue', sessionToken: '__PWRD__' },
      deployedKeys(),
    );
    assert.equal(typed.ok, true);
    assert.deepEqual(typed.settings.keys, { accessKeyId: 'AKIATYPED', secretAccessKey: 'typedSecretValue', sessionToken: undefined });
    assert.equal(typed.usesStored, false);
  });

  it('chain and profile credentials go only to an endpoint a deployed config node uses, or to AWS (blank)', function () {
    const chainAt = (endpoint, deployedEndpoints) =>
      resolve({ region: 'us-east-1', credentialType: 'chain', endpoint }, {}, undefined, deployedEndpoints);
    assert.equal(chainAt('http://127.0.0.1:1', []).code, 'ambientEndpoint');
    assert.equal(chainAt('http://127.0.0.1:1', [EMU]).code, 'ambientEndpoint');
    assert.equal(chainAt(EMU, [EMU]).ok, true);
    assert.equal(chainAt('', []).ok, true);
    const profile = resolve(
      { region: 'us-east-1', credentialType: 'profile', profile: 'p', endpoint: 'http://evil.example' },
      {},
      undefined,
      [],
    );
    assert.equal(profile.code, 'ambientEndpoint');
  });

  it('IoT file paths are read only as deployed; any other path is refused the same way whether it exists or not', function () {
    const iot = {
      credentialType: 'iot',
      region: 'us-east-1',
      endpoint: EMU,
      iotCredentialEndpoint: 'abc.credentials.iot.us-east-1.amazonaws.com',
      iotRoleAlias: 'alias',
      iotThingName: 'thing',
      iotCertFile: '/etc/dev.crt',
      iotKeyFile: '/etc/dev.key',
    };
    const deployed = { raw: iot, resolved: iot, credentials: {} };
    const same = resolve(iot, {}, deployed);
    assert.equal(same.ok, true);
    assert.equal(same.settings.iot.certFile, '/etc/dev.crt');
    const a = resolve({ ...iot, iotKeyFile: '/etc/passwd' }, {}, deployed);
    const b = resolve({ ...iot, iotKeyFile: '/no/such/file' }, {}, deployed);
    assert.equal(a.code, 'iotFile');
    assert.deepEqual(a, b);
    // Same paths, another credential endpoint: not the deployed device any more.
    const moved = resolve({ ...iot, iotCredentialEndpoint: '127.0.0.1:1' }, {}, deployed);
    assert.equal(moved.code, 'iotFile');
    // Pasted PEM wins over a path, which is then not read at all.
    const pasted = resolve(
      { ...iot, iotCredentialEndpoint: '127.0.0.1:1', iotCertFile: '/etc/passwd', iotKeyFile: '/etc/shadow' },
      { iotCert: 'CERTPEM', iotKey: 'KEYPEM' },
      deployed,
    );
    assert.equal(pasted.ok, true);
    assert.equal(pasted.settings.iot.certFile, undefined);
    assert.equal(pasted.settings.iot.cert, 'CERTPEM');
  });

  it('stored IoT PEM is withheld from another credential endpoint', function () {
    const iot = {
      credentialType: 'iot',
      region: 'us-east-1',
      iotCredentialEndpoint: 'abc.credentials.iot.us-east-1.amazonaws.com',
      iotRoleAlias: 'alias',
    };
    const deployed = { raw: iot, resolved: iot, credentials: { iotCert: 'CERTPEM', iotKey: 'storedKeyPem' } };
    assert.equal(resolve(iot, { iotKey: '__PWRD__' }, deployed).ok, true);
    const r = resolve({ ...iot, iotCredentialEndpoint: '127.0.0.1:1' }, { iotKey: '__PWRD__' }, deployed);
    assert.equal(r.code, 'storedWithheld');
  });

  it('a problem with a deployed ${ENV} value shows the ${…} text, not the value', function () {
    const deployed = {
      raw: { region: '${MY_REGION}', credentialType: 'chain' },
      resolved: { region: 'Sup3r-S3cret-Value', credentialType: 'chain' },
      credentials: {},
    };
    const r = resolve({ region: '${MY_REGION}', credentialType: 'chain' }, {}, deployed);
    assert.equal(r.code, 'region');
    assert.deepEqual(r.params, { value: '${MY_REGION}' });
  });

  it('any body shape is handled: missing, arrays, non-string values', function () {
    assert.equal(resolveForm({ id: 'x', body: undefined, deployedEndpoints: [] }).ok, true);
    assert.equal(resolveForm({ id: 'x', body: [1, 2], deployedEndpoints: [] }).ok, true);
    const r = resolveForm({ id: 'x', body: { settings: { region: { a: 1 } }, credentials: 'x' }, deployedEndpoints: [] });
    assert.equal(r.code, 'region');
  });
});
