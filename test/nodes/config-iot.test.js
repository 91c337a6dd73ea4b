'use strict';
// sagemaker-config with credentialType `iot`: the AWS IoT credentials provider against the
// emulator's IoT endpoint (mutual TLS, test CA), then SageMaker Runtime with the issued keys.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { InvokeEndpointCommand } = require('@aws-sdk/client-sagemaker-runtime');
const { helper, useNodeRed } = require('../helper');
const configNode = require('../../nodes/sagemaker-config.js');
const { CertificateAuthority } = require('../../dist/emulator');
const { useEmulator } = require('../support/emulator');

const THING = 'gateway-01';

function keyLines(pem) {
  return pem.split('\n').filter((l) => l && !l.startsWith('-----'));
}

describe('sagemaker-config credentialType iot', function () {
  let emu;
  let device;
  let foreign;
  let dir;

  useEmulator(
    { iot: true },
    async (e) => {
      emu = e;
      device = await emu.iot.issueDeviceCertificate(THING);
      foreign = await (await CertificateAuthority.create('Some other CA')).issue(THING);
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sm-iot-node-'));
      fs.writeFileSync(path.join(dir, 'device.pem.crt'), device.cert);
      fs.writeFileSync(path.join(dir, 'private.pem.key'), device.key, { mode: 0o600 });
      fs.writeFileSync(path.join(dir, 'ca.pem'), emu.iot.ca);
    },
    () => {
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    },
  );
  useNodeRed();

  const cfg = (extra = {}) => ({
    id: 'cfg',
    type: 'sagemaker-config',
    region: 'us-east-1',
    credentialType: 'iot',
    endpoint: emu.url,
    iotCredentialEndpoint: emu.iot.endpoint,
    iotRoleAlias: 'sagemaker-emulator',
    iotThingName: THING,
    ...extra,
  });
  const pem = () => ({ cfg: { iotCert: device.cert, iotKey: device.key, iotCa: emu.iot.ca } });
  const echo = (node, text) =>
    node.runtimeClient().send(new InvokeEndpointCommand({ EndpointName: 'echo', ContentType: 'text/plain', Body: Buffer.from(text) }));

  it('with pasted PEM credentials gets IoT credentials and invokes echo', async function () {
    await helper.load(configNode, [cfg()], pem());
    const node = helper.getNode('cfg');
    assert.equal(node.configError, undefined);
    const issued = emu.iot.stats().issued;
    const out = await echo(node, 'via pem');
    assert.equal(Buffer.from(out.Body).toString(), 'via pem');
    assert.equal(emu.iot.stats().issued, issued + 1);
    const wire = emu
      .received()
      .filter((r) => r.endpointName === 'echo')
      .at(-1);
    assert.match(wire.headers.authorization, /Credential=ASIA/);
  });

  it('with certificate, key and CA file paths invokes echo', async function () {
    await helper.load(configNode, [
      cfg({
        iotCertFile: path.join(dir, 'device.pem.crt'),
        iotKeyFile: path.join(dir, 'private.pem.key'),
        iotCaFile: path.join(dir, 'ca.pem'),
      }),
    ]);
    const node = helper.getNode('cfg');
    assert.equal(node.configError, undefined);
    const out = await echo(node, 'via files');
    assert.equal(Buffer.from(out.Body).toString(), 'via files');
  });

  it('names the missing role alias in configError without any network call', async function () {
    const before = emu.iot.stats().requests;
    await helper.load(configNode, [cfg({ iotRoleAlias: '' })], pem());
    const node = helper.getNode('cfg');
    assert.match(node.configError, /role alias is required/);
    assert.throws(() => node.runtimeClient(), /role alias is required/);
    assert.equal(emu.iot.stats().requests, before);
  });

  it('needs a certificate and a private key', async function () {
    await helper.load(configNode, [cfg()], { cfg: { iotCa: emu.iot.ca } });
    assert.match(helper.getNode('cfg').configError, /certificate is required/);
  });

  it('reports a certificate from another CA as rejected by the endpoint', async function () {
    await helper.load(configNode, [cfg()], { cfg: { iotCert: foreign.cert, iotKey: foreign.key, iotCa: emu.iot.ca } });
    await assert.rejects(echo(helper.getNode('cfg'), 'x'), /rejected the client certificate/);
  });

  it('keeps the private key out of the flow, the editor, Test connection and the logs', async function () {
    await helper.load(configNode, [cfg()], { cfg: { iotCert: foreign.cert, iotKey: foreign.key, iotCa: emu.iot.ca } });
    const node = helper.getNode('cfg');
    const failure = await echo(node, 'x').then(
      () => assert.fail('expected the foreign certificate to fail'),
      (e) => e,
    );

    // Test connection with the stored key (the editor posts __PWRD__ for a stored password).
    const settings = cfg();
    const res = await helper
      .request()
      .post('/sagemaker-config/cfg/test')
      .send({ settings, credentials: { iotCert: foreign.cert, iotKey: '__PWRD__', iotCa: emu.iot.ca } })
      .expect(200);
    assert.equal(res.body.ok, false);
    assert.match(res.body.error, /rejected the client certificate/);

    // The key is a password credential: the editor only ever learns has_iotKey.
    const defs = helper._redNodes.getCredentialDefinition('sagemaker-config');
    assert.equal(defs.iotKey.type, 'password');

    const texts = [
      JSON.stringify(helper._redNodes.getFlows().flows), // what the editor exports
      failure.message,
      String(failure.stack),
      JSON.stringify(res.body),
      JSON.stringify(helper.log().args),
      ...['warn', 'error', 'log'].map((m) => JSON.stringify(node[m].args ?? [])),
    ];
    for (const t of texts) for (const line of keyLines(foreign.key)) assert.ok(!t.includes(line), 'private key leaked');
  });

  it('Test connection with IoT credentials reports the assumed-role identity', async function () {
    await helper.load(configNode, [cfg()], pem());
    const res = await helper
      .request()
      .post('/sagemaker-config/cfg/test')
      .send({ settings: cfg(), credentials: { iotCert: device.cert, iotKey: '__PWRD__', iotCa: emu.iot.ca } })
      .expect(200);
    assert.equal(res.body.ok, true, res.body.error);
    assert.match(res.body.arn, /:assumed-role\/sagemaker-emulator\//);
  });
});
