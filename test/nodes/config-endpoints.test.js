'use strict';
// The editor's endpoint-name list: POST /sagemaker-config/:id/endpoints resolves the config's
// credentials as Test connection does and calls SageMaker ListEndpoints (here: the emulator's).
const assert = require('node:assert/strict');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { helper } = require('../helper');
const { startEmulator } = require('../../dist/emulator');
const configNode = require('../../nodes/sagemaker-config.js');

const KEY_ID = 'AKIALISTENDPOINTS01';
const SECRET = 'L1st-Endp0ints-S3cret-N0t-Echoed';
const ENV_VARS = [
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_SAGEMAKER',
  'AWS_ENDPOINT_URL_STS',
  'AWS_PROFILE',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_CONFIG_FILE',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_EC2_METADATA_DISABLED',
];

describe('sagemaker-config endpoint list route (ListEndpoints)', function () {
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
      endpoints: { 'my-own-model': { model: 'echo' } },
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
    const res = await helper.request().post(`/sagemaker-config/${id}/endpoints`).send(body).expect(200);
    return res.body;
  }

  async function deployed() {
    await helper.load(
      configNode,
      [{ id: 'c1', type: 'sagemaker-config', region: 'us-east-1', credentialType: 'keys', endpoint: emu.url }],
      { c1: { accessKeyId: KEY_ID, secretAccessKey: SECRET } },
    );
  }

  it("lists the emulator's InService endpoints for a deployed config, using its stored keys", async function () {
    await deployed();
    emu.resetStats();
    // What a worker node's editor sends: the config's properties, no credentials.
    const r = await post('c1', { settings: form() });
    assert.equal(r.ok, true, r.error);
    assert.deepEqual(r.endpoints, ['echo', 'my-own-model', 'sensor-anomaly', 'text-generator']);
    assert.equal(emu.stats().requests.ListEndpoints, 1);
    const call = emu
      .received()
      .filter((c) => c.operation === 'ListEndpoints')
      .pop();
    assert.equal(call.headers['x-amz-target'], 'SageMaker.ListEndpoints');
    assert.match(call.headers.authorization, new RegExp(`Credential=${KEY_ID}/\\d{8}/us-east-1/sagemaker/aws4_request`));
    assert.deepEqual(JSON.parse(call.body.toString()), { StatusEquals: 'InService', MaxResults: 100 });
  });

  it('lists the endpoints for an undeployed config from the settings and keys in the body', async function () {
    await helper.load(configNode, []);
    const r = await post('not-deployed', { settings: form(), credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    assert.equal(r.ok, true, r.error);
    assert.deepEqual(r.endpoints, ['echo', 'my-own-model', 'sensor-anomaly', 'text-generator']);
  });

  it('reports a bad secret as the 403 it is, without echoing the secret', async function () {
    await deployed();
    const bad = `${SECRET}-typo`;
    const r = await post('c1', { settings: form(), credentials: { accessKeyId: KEY_ID, secretAccessKey: bad } });
    assert.equal(r.ok, false);
    assert.equal(r.endpoints, undefined);
    assert.match(r.error, /signature/i);
    assert.match(r.error, /HTTP 403/);
    assert.doesNotMatch(JSON.stringify(r), /S3cret/);
    assert.doesNotMatch(JSON.stringify(helper.log().args), /S3cret/);
  });

  it('reports invalid settings without calling the service', async function () {
    await helper.load(configNode, []);
    emu.resetStats();
    const r = await post('x', { settings: form({ region: 'mars-1' }), credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    assert.deepEqual(r, { ok: false, error: 'Region "mars-1" is not a region name such as us-east-1' });
    assert.equal(emu.stats().requests.ListEndpoints ?? 0, 0);
  });

  it('follows NextToken across pages', async function () {
    // The emulator answers in one page: a small local service pages through three names.
    const pages = {
      '': { Endpoints: [{ EndpointName: 'b-model', EndpointStatus: 'InService' }], NextToken: 't1' },
      t1: { Endpoints: [{ EndpointName: 'a-model', EndpointStatus: 'InService' }], NextToken: 't2' },
      t2: { Endpoints: [{ EndpointName: 'c-model', EndpointStatus: 'InService' }] },
    };
    const seen = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const token = JSON.parse(body).NextToken || '';
        seen.push(token);
        res.writeHead(200, { 'Content-Type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(pages[token]));
      });
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      await helper.load(configNode, []);
      const url = `http://127.0.0.1:${server.address().port}`;
      const r = await post('x', { settings: form({ endpoint: url }), credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
      assert.equal(r.ok, true, r.error);
      assert.deepEqual(r.endpoints, ['a-model', 'b-model', 'c-model']);
      assert.deepEqual(seen, ['', 't1', 't2']);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
