'use strict';
const assert = require('node:assert');
const { helper, useNodeRed, useEmulator, flowFor, load, next, receivedFor } = require('./invoke-helpers');
const { HEADER_OF } = require('../support/headers');

// Node field → [wire header (lower-case), value] for every InvokeEndpoint request field.
const FIELDS = {
  contentType: ['content-type', 'application/x-test'],
  accept: ['accept', 'application/json'],
  customAttributes: ['x-amzn-sagemaker-custom-attributes', 'trace=abc'],
  targetModel: ['x-amzn-sagemaker-target-model', 'model-a.tar.gz'],
  targetVariant: ['x-amzn-sagemaker-target-variant', 'variant-b'],
  targetContainerHostname: ['x-amzn-sagemaker-target-container-hostname', 'container-1'],
  inferenceId: ['x-amzn-sagemaker-inference-id', 'inference-42'],
  enableExplanations: ['x-amzn-sagemaker-enable-explanations', '`true`'],
  inferenceComponentName: ['x-amzn-sagemaker-inference-component', 'component-1'],
  sessionId: ['x-amzn-sagemaker-session-id', 'NEW_SESSION'],
  prefixAwareId: ['x-amzn-sagemaker-prefix-aware-id', 'prefix-7'],
};
// The same headers in msg.headers, some in other letter cases: the node matches names case-insensitively.
const MSG_HEADER_NAMES = {
  ...HEADER_OF,
  accept: 'ACCEPT',
  targetModel: HEADER_OF.targetModel.toLowerCase(),
  targetVariant: HEADER_OF.targetVariant.toUpperCase(),
};

describe('sagemaker-invoke: request fields and formats', function () {
  let emu;
  useEmulator({}, (e) => (emu = e));
  useNodeRed();

  it('sends every request field set in the node to the service', async function () {
    emu.setEndpoint('fields-node', { model: 'echo' });
    const invoke = { endpointName: 'fields-node' };
    for (const [k, [, v]] of Object.entries(FIELDS)) invoke[k] = v;
    await load(flowFor(emu, invoke));
    const got = next('out');
    helper.getNode('inv').receive({ payload: 'hello' });
    const msg = await got;
    const [req] = receivedFor(emu, 'fields-node');
    for (const [k, [header, value]] of Object.entries(FIELDS)) assert.strictEqual(req.headers[header], value, k);
    assert.strictEqual(req.body.toString(), 'hello');
    // and the echo model reflects them back in the response headers
    assert.strictEqual(msg.headers['x-emulator-echo-x-amzn-sagemaker-target-model'], 'model-a.tar.gz');
    assert.match(msg.sagemaker.newSessionId, /; Expires=/);
    assert.strictEqual(msg.sagemaker.invokedProductionVariant, 'variant-b');
  });

  it('takes every request field left blank in the node from msg.headers, case-insensitively', async function () {
    emu.setEndpoint('fields-headers', { model: 'echo' });
    await load(flowFor(emu, { endpointName: 'fields-headers' }));
    const headers = {
      Authorization: 'AWS4-HMAC-SHA256 Credential=stolen',
      'X-Amz-Date': '19990101T000000Z',
      Host: 'evil.example',
      'X-Other': 'ignored',
    };
    for (const [k, [, v]] of Object.entries(FIELDS)) headers[MSG_HEADER_NAMES[k]] = v;
    const got = next('out');
    helper.getNode('inv').receive({ payload: 'hello', headers });
    await got;
    const [req] = receivedFor(emu, 'fields-headers');
    for (const [k, [header, value]] of Object.entries(FIELDS)) assert.strictEqual(req.headers[header], value, k);
    assert.strictEqual(req.headers['x-other'], undefined);
    assert.doesNotMatch(req.headers.authorization, /stolen/);
    assert.notStrictEqual(req.headers['x-amz-date'], '19990101T000000Z');
  });

  it('a field set in the node beats the same header in msg.headers', async function () {
    emu.setEndpoint('fields-win', { model: 'echo' });
    await load(flowFor(emu, { endpointName: 'fields-win', customAttributes: 'from-node', accept: 'text/plain' }));
    const got = next('out');
    helper.getNode('inv').receive({
      payload: 'x',
      headers: {
        'x-amzn-sagemaker-custom-attributes': 'from-header',
        accept: 'application/xml',
        'x-amzn-sagemaker-inference-id': 'hdr-id',
      },
    });
    await got;
    const [req] = receivedFor(emu, 'fields-win');
    assert.strictEqual(req.headers['x-amzn-sagemaker-custom-attributes'], 'from-node');
    assert.strictEqual(req.headers.accept, 'text/plain');
    assert.strictEqual(req.headers['x-amzn-sagemaker-inference-id'], 'hdr-id');
  });

  const requestFormats = [
    {
      name: 'auto + object → JSON, application/json',
      requestFormat: 'auto',
      payload: { a: [1, 2] },
      body: '{"a":[1,2]}',
      type: 'application/json',
    },
    { name: 'auto + string → UTF-8, text/plain', requestFormat: 'auto', payload: 'grüße', body: 'grüße', type: 'text/plain' },
    {
      name: 'auto + Buffer → bytes, application/octet-stream',
      requestFormat: 'auto',
      payload: Buffer.from([1, 2, 255]),
      bodyHex: '0102ff',
      type: 'application/octet-stream',
    },
    { name: 'auto + number → JSON', requestFormat: 'auto', payload: 3.5, body: '3.5', type: 'application/json' },
    {
      name: 'json + JSON text string → as is, application/json',
      requestFormat: 'json',
      payload: '{"b":true}',
      body: '{"b":true}',
      type: 'application/json',
    },
    {
      name: 'csv + array of numbers → one line, text/csv',
      requestFormat: 'csv',
      payload: [1, 2.5, -3],
      body: '1,2.5,-3',
      type: 'text/csv',
    },
    {
      name: 'csv + array of rows → one line per row, text/csv',
      requestFormat: 'csv',
      payload: [
        [1, 2],
        [3, 4],
      ],
      body: '1,2\n3,4',
      type: 'text/csv',
    },
    { name: 'text + number → text/plain', requestFormat: 'text', payload: 42, body: '42', type: 'text/plain' },
    {
      name: 'binary + string → bytes, application/octet-stream',
      requestFormat: 'binary',
      payload: 'raw',
      body: 'raw',
      type: 'application/octet-stream',
    },
    {
      name: 'explicit ContentType wins over the format default',
      requestFormat: 'csv',
      contentType: 'text/csv; label_size=0',
      payload: [1, 2],
      body: '1,2',
      type: 'text/csv; label_size=0',
    },
  ];
  for (const c of requestFormats) {
    it(`request format ${c.name}`, async function () {
      const ep = `reqfmt-${requestFormats.indexOf(c)}`;
      emu.setEndpoint(ep, { model: 'echo' });
      await load(
        flowFor(emu, { endpointName: ep, requestFormat: c.requestFormat, contentType: c.contentType || '', responseFormat: 'buffer' }),
      );
      const got = next('out');
      helper.getNode('inv').receive({ payload: c.payload });
      const msg = await got;
      const [req] = receivedFor(emu, ep);
      assert.strictEqual(req.headers['content-type'], c.type);
      if (c.bodyHex) assert.strictEqual(req.body.toString('hex'), c.bodyHex);
      else assert.strictEqual(req.body.toString('utf8'), c.body);
      assert.deepStrictEqual(msg.payload, req.body);
    });
  }

  const responseFormats = [
    {
      name: 'auto + application/json → parsed value',
      format: 'auto',
      type: 'application/json',
      body: '{"score":0.9}',
      expect: { score: 0.9 },
    },
    { name: 'auto + +json type → parsed value', format: 'auto', type: 'application/vnd.result+json', body: '[1,2]', expect: [1, 2] },
    {
      name: 'auto + application/jsonlines → array',
      format: 'auto',
      type: 'application/jsonlines',
      body: '{"a":1}\n{"a":2}\n',
      expect: [{ a: 1 }, { a: 2 }],
    },
    { name: 'auto + text/csv → string', format: 'auto', type: 'text/csv', body: '1,2\n3,4', expect: '1,2\n3,4' },
    { name: 'auto + text/plain → string', format: 'auto', type: 'text/plain', body: 'hello', expect: 'hello' },
    { name: 'auto + other type → Buffer', format: 'auto', type: 'image/png', body: 'PNG', expect: Buffer.from('PNG') },
    { name: 'json forces parsing whatever the type', format: 'json', type: 'application/octet-stream', body: '{"x":1}', expect: { x: 1 } },
    { name: 'text forces a string', format: 'text', type: 'application/json', body: '{"x":1}', expect: '{"x":1}' },
    { name: 'buffer forces a Buffer', format: 'buffer', type: 'application/json', body: '{"x":1}', expect: Buffer.from('{"x":1}') },
    {
      name: 'csv gives rows with numeric cells as numbers',
      format: 'csv',
      type: 'text/csv',
      body: '0.5,abc\n1,2\n',
      expect: [
        [0.5, 'abc'],
        [1, 2],
      ],
    },
  ];
  for (const c of responseFormats) {
    it(`response format ${c.name}`, async function () {
      // echo answers with the request's content type, so the request's ContentType picks the response's
      await load(flowFor(emu, { contentType: c.type, responseFormat: c.format }));
      const got = next('out');
      helper.getNode('inv').receive({ payload: Buffer.from(c.body) });
      const msg = await got;
      assert.strictEqual(msg.sagemaker.contentType, c.type);
      assert.deepStrictEqual(msg.payload, c.expect);
    });
  }

  it('output keeps the input message, sets msg.headers (lower-case) and msg.sagemaker metadata', async function () {
    await load(flowFor(emu, { responseFormat: 'auto', customAttributes: 'attr=1' }));
    const got = next('out');
    const req = { marker: 'request object' };
    helper.getNode('inv').receive({ payload: { v: 1 }, topic: 't', req, headers: { 'X-Not-A-Field': '1' } });
    const msg = await got;
    assert.strictEqual(msg.topic, 't');
    assert.deepStrictEqual(msg.req, req);
    assert.deepStrictEqual(msg.payload, { v: 1 });
    for (const k of Object.keys(msg.headers)) assert.strictEqual(k, k.toLowerCase());
    assert.strictEqual(msg.headers['content-type'], 'application/json');
    assert.ok(msg.headers['x-amzn-requestid']);
    const s = msg.sagemaker;
    assert.strictEqual(s.endpointName, 'echo');
    assert.strictEqual(s.contentType, 'application/json');
    assert.strictEqual(s.invokedProductionVariant, 'AllTraffic');
    assert.strictEqual(s.customAttributes, 'attr=1');
    assert.strictEqual(s.requestId, msg.headers['x-amzn-requestid']);
    assert.strictEqual(s.attempts, 1);
    assert.ok(typeof s.latencyMs === 'number' && s.latencyMs > 0);
    assert.ok(!('newSessionId' in s) && !('closedSessionId' in s), 'absent values are omitted');
  });

  it('evaluates the endpoint name per message from msg, flow, env and JSONata', async function () {
    emu.setEndpoint('typed-a', { model: 'echo' });
    process.env.SMR_TEST_ENDPOINT = 'typed-a';
    const cases = [
      { endpointNameType: 'msg', endpointName: 'target.ep', msg: { target: { ep: 'typed-a' } } },
      { endpointNameType: 'env', endpointName: 'SMR_TEST_ENDPOINT', msg: {} },
      { endpointNameType: 'jsonata', endpointName: '"typed-" & $lowercase(name)', msg: { name: 'A' } },
    ];
    for (const c of cases) {
      await load(flowFor(emu, { endpointName: c.endpointName, endpointNameType: c.endpointNameType }));
      const before = receivedFor(emu, 'typed-a').length;
      const got = next('out');
      helper.getNode('inv').receive({ payload: 'x', ...c.msg });
      const msg = await got;
      assert.strictEqual(msg.sagemaker.endpointName, 'typed-a', c.endpointNameType);
      assert.strictEqual(receivedFor(emu, 'typed-a').length, before + 1);
      await helper.unload();
    }
    await load(flowFor(emu, { endpointName: 'ep', endpointNameType: 'flow' }));
    helper.getNode('inv').context().flow.set('ep', 'typed-a');
    const got = next('out');
    helper.getNode('inv').receive({ payload: 'x' });
    assert.strictEqual((await got).sagemaker.endpointName, 'typed-a');
  });
});
