'use strict';
// The editor's endpoint-name list: POST /sagemaker-config/:id/endpoints resolves the config's
// credentials as Test connection does and calls SageMaker ListEndpoints (here: the emulator's).
const assert = require('node:assert/strict');
const http = require('node:http');
const { helper } = require('../helper');
const { useConfigRoute } = require('./config-helpers');
const configNode = require('../../nodes/sagemaker-config.js');

const KEY_ID = 'AKIALISTENDPOINTS01';
const SECRET = 'L1st-Endp0ints-S3cret-N0t-Echoed';

describe('sagemaker-config endpoint list route (ListEndpoints)', function () {
  let emu;
  const { form, post, deployed } = useConfigRoute(
    'endpoints',
    { accessKeyId: KEY_ID, secretAccessKey: SECRET },
    { endpoints: { 'my-own-model': { model: 'echo' } } },
    (e) => (emu = e),
  );

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
