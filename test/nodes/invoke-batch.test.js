'use strict';
// Micro-batching in sagemaker-invoke against the emulator over real HTTP: rows in csv, json and
// jsonlines, flushed by size or window, split back per message; bad rows, mismatched answers,
// service errors and close each end every message once.
const assert = require('node:assert');
const { helper, useNodeRed, useEmulator, flowFor, load, collect, spyDone, until, receivedFor } = require('./invoke-helpers');

// Windows that never end during a test: a flush then proves the size was reached.
const NEVER = '60000';

function series(i, spike) {
  const s = Array.from({ length: 12 }, (_, k) => 20 + ((i + k) % 3) * 0.1);
  if (spike) s[11] = 90;
  return s;
}

describe('sagemaker-invoke: micro-batching', function () {
  let emu;
  useEmulator({}, (e) => (emu = e));
  useNodeRed();

  async function scoreAlone(row) {
    // The same row sent on its own (batching off) is the reference for the batched answer.
    const out = collect('out');
    helper.getNode('inv').receive({ payload: row });
    await until(() => out.length === 1, 'one output');
    return out[0].payload;
  }

  for (const [format, contentType] of [
    ['json', 'application/json'],
    ['csv', 'text/csv'],
    ['jsonlines', 'application/jsonlines'],
  ]) {
    it(`${format}: 10 messages at batch size 5 make 2 requests of 5 rows, and each message gets its own row's result`, async function () {
      const rows = Array.from({ length: 10 }, (_, i) => series(i, i === 3 || i === 8));
      await load(flowFor(emu, { endpointName: 'sensor-anomaly', requestFormat: 'json' }));
      const alone = [];
      for (const r of rows) alone.push(await scoreAlone(r));
      await helper.unload();

      await load(flowFor(emu, { endpointName: 'sensor-anomaly', requestFormat: format, batchSize: '5', batchWindow: NEVER }));
      const before = receivedFor(emu, 'sensor-anomaly').length;
      const out = collect('out');
      const caught = collect('caught');
      const dones = spyDone('inv');
      rows.forEach((r, i) => helper.getNode('inv').receive({ payload: r, i }));
      await until(() => out.length === 10, '10 outputs');
      assert.strictEqual(caught.length, 0);
      assert.strictEqual(dones.length, 10);
      assert.ok(dones.every((d) => !d.err));
      const requests = receivedFor(emu, 'sensor-anomaly').slice(before);
      assert.strictEqual(requests.length, 2);
      assert.ok(
        requests.every((r) => r.headers['content-type'] === contentType),
        requests.map((r) => r.headers['content-type']).join(),
      );
      for (const m of out) {
        assert.deepStrictEqual(m.payload, alone[m.i], `message ${m.i}`);
        assert.deepStrictEqual(m.sagemaker.batch, { size: 5, index: m.i % 5 });
        assert.strictEqual(m.sagemaker.endpointName, 'sensor-anomaly');
        assert.ok(m.sagemaker.requestId);
      }
      assert.deepStrictEqual(
        out
          .filter((m) => m.payload.anomaly)
          .map((m) => m.i)
          .sort(),
        [3, 8],
      );
    });
  }

  it('csv with Accept text/csv: each message gets its own CSV line', async function () {
    await load(
      flowFor(emu, {
        endpointName: 'sensor-anomaly',
        requestFormat: 'csv',
        accept: 'text/csv',
        responseFormat: 'csv',
        batchSize: '3',
        batchWindow: NEVER,
      }),
    );
    const out = collect('out');
    [series(0, false), series(1, true), series(2, false)].forEach((r, i) => helper.getNode('inv').receive({ payload: r, i }));
    await until(() => out.length === 3, '3 outputs');
    assert.deepStrictEqual(
      out.sort((a, b) => a.i - b.i).map((m) => m.payload[0]),
      [0, 1, 0],
    );
  });

  it('a partial batch is sent when its window ends', async function () {
    await load(flowFor(emu, { endpointName: 'echo', requestFormat: 'json', batchSize: '100', batchWindow: '30' }));
    const before = receivedFor(emu, 'echo').length;
    const out = collect('out');
    for (let i = 0; i < 3; i++) helper.getNode('inv').receive({ payload: { i } });
    await until(() => out.length === 3, '3 outputs');
    const requests = receivedFor(emu, 'echo').slice(before);
    assert.strictEqual(requests.length, 1);
    assert.strictEqual(requests[0].body.toString(), '[{"i":0},{"i":1},{"i":2}]');
    assert.deepStrictEqual(
      out.map((m) => [m.payload, m.sagemaker.batch]),
      [0, 1, 2].map((i) => [{ i }, { size: 3, index: i }]),
    );
  });

  it('messages with different request fields go in different batches', async function () {
    await load(flowFor(emu, { endpointName: 'echo', requestFormat: 'json', batchSize: '2', batchWindow: NEVER }));
    const before = receivedFor(emu, 'echo').length;
    const out = collect('out');
    const inv = helper.getNode('inv');
    inv.receive({ payload: 1, headers: { 'X-Amzn-SageMaker-Custom-Attributes': 'a' } });
    inv.receive({ payload: 2, headers: { 'X-Amzn-SageMaker-Custom-Attributes': 'b' } });
    inv.receive({ payload: 3, headers: { 'X-Amzn-SageMaker-Custom-Attributes': 'a' } });
    inv.receive({ payload: 4, headers: { 'X-Amzn-SageMaker-Custom-Attributes': 'b' } });
    await until(() => out.length === 4, '4 outputs');
    const bodies = receivedFor(emu, 'echo')
      .slice(before)
      .map((r) => [r.headers['x-amzn-sagemaker-custom-attributes'], r.body.toString()])
      .sort();
    assert.deepStrictEqual(bodies, [
      ['a', '[1,3]'],
      ['b', '[2,4]'],
    ]);
  });

  it('a message that cannot be encoded fails alone; the others are batched and answered', async function () {
    await load(flowFor(emu, { endpointName: 'echo', requestFormat: 'csv', batchSize: '4', batchWindow: NEVER }));
    const out = collect('out');
    const caught = collect('caught');
    const dones = spyDone('inv');
    const inv = helper.getNode('inv');
    inv.receive({ payload: [1, 2], i: 0 });
    inv.receive({ payload: { not: 'a row' }, i: 1 });
    inv.receive({ payload: [3, 4], i: 2 });
    inv.receive({ payload: '5,6', i: 3 });
    inv.receive({ payload: [7, 8], i: 4 });
    await until(() => out.length === 4 && caught.length === 1, '4 outputs and 1 error');
    assert.strictEqual(caught[0].i, 1);
    assert.strictEqual(caught[0].sagemaker.error.name, 'InputError');
    assert.strictEqual(caught[0].sagemaker.error.field, 'msg.payload');
    assert.deepStrictEqual(
      out.map((m) => [m.i, m.payload]),
      [
        [0, '1,2'],
        [2, '3,4'],
        [3, '5,6'],
        [4, '7,8'],
      ],
    );
    assert.strictEqual(dones.length, 5);
  });

  it('a response with the wrong number of rows gives each message of the batch a BatchSizeMismatch error with both counts', async function () {
    // Three single readings make one series for sensor-anomaly: one result for three messages.
    await load(flowFor(emu, { endpointName: 'sensor-anomaly', requestFormat: 'json', batchSize: '3', batchWindow: NEVER }));
    const out = collect('out');
    const caught = collect('caught');
    const dones = spyDone('inv');
    for (let i = 0; i < 3; i++) helper.getNode('inv').receive({ payload: 20 + i, i });
    await until(() => caught.length === 3, '3 errors');
    assert.strictEqual(out.length, 0);
    assert.strictEqual(dones.length, 3);
    for (const m of caught) {
      const e = m.sagemaker.error;
      assert.strictEqual(e.name, 'BatchSizeMismatch');
      assert.match(e.message, /1 row .* batch of 3 messages/);
      assert.strictEqual(e.batchSize, 3);
      assert.strictEqual(e.responseRows, 1);
      assert.deepStrictEqual(m.sagemaker.batch, { size: 3, index: m.i });
      assert.match(m.error.message, /^BatchSizeMismatch: /);
    }
  });

  it('a service error reaches the Catch node once for each message of the batch, done once each', async function () {
    emu.setEndpoint('b-fail', { model: 'echo', faults: [{ kind: 'model-error', originalStatusCode: 500, originalMessage: 'boom' }] });
    await load(flowFor(emu, { endpointName: 'b-fail', requestFormat: 'json', batchSize: '4', batchWindow: NEVER }, { maxAttempts: '1' }));
    const out = collect('out');
    const caught = collect('caught');
    const dones = spyDone('inv');
    for (let i = 0; i < 8; i++) helper.getNode('inv').receive({ payload: { i }, i });
    await until(() => caught.length === 8, '8 errors');
    assert.strictEqual(out.length, 0);
    assert.strictEqual(dones.length, 8);
    assert.ok(dones.every((d) => d.err && d.err.name === 'ModelError'));
    assert.deepStrictEqual(caught.map((m) => m.i).sort(), [0, 1, 2, 3, 4, 5, 6, 7]);
    for (const m of caught) {
      assert.strictEqual(m.sagemaker.error.name, 'ModelError');
      assert.strictEqual(m.sagemaker.error.originalMessage, 'boom');
      assert.deepStrictEqual(m.sagemaker.batch, { size: 4, index: m.i % 4 });
    }
  });

  it('close while a batch fills sends nothing and ends each waiting message once, quietly', async function () {
    await load(flowFor(emu, { endpointName: 'echo', requestFormat: 'json', batchSize: '50', batchWindow: NEVER }));
    const before = receivedFor(emu, 'echo').length;
    const out = collect('out');
    const caught = collect('caught');
    const dones = spyDone('inv');
    for (let i = 0; i < 7; i++) helper.getNode('inv').receive({ payload: i });
    await new Promise((r) => setImmediate(r)); // the messages are accepted (endpoint name resolved), the batch is open
    await helper.unload();
    assert.strictEqual(dones.length, 7);
    assert.ok(dones.every((d) => !d.err));
    assert.strictEqual(out.length + caught.length, 0);
    assert.strictEqual(receivedFor(emu, 'echo').length, before);
  });

  it('a batch setting the node cannot use: red ring, and each message fails with the reason', async function () {
    await load(flowFor(emu, { requestFormat: 'text', batchSize: '10' }));
    const caught = collect('caught');
    helper.getNode('inv').receive({ payload: 'x' });
    await until(() => caught.length === 1, 'one error');
    assert.match(caught[0].sagemaker.error.message, /Batching needs request format csv, json or jsonlines/);
    await helper.unload();
    await load(flowFor(emu, { batchSize: '1001' }));
    const caught2 = collect('caught');
    helper.getNode('inv').receive({ payload: 'x' });
    await until(() => caught2.length === 1, 'one error');
    assert.match(caught2[0].sagemaker.error.message, /Batch size must be a whole number from 1 to 1000, got "1001"/);
  });
});
