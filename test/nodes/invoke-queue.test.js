'use strict';
const assert = require('node:assert');
const { helper, useNodeRed, useEmulator, flowFor, load, collect, spyDone, sleep, until } = require('./invoke-helpers');

describe('sagemaker-invoke: concurrency, queue and close', function () {
  let emu;
  useEmulator({}, (e) => (emu = e));
  useNodeRed();

  it('100 messages at concurrency 4 give 100 outputs with never more than 4 in flight at the service', async function () {
    emu.setEndpoint('q-slow', { model: 'echo', latencyMs: 5 });
    await load(flowFor(emu, { endpointName: 'q-slow', concurrency: '4' }));
    emu.resetStats();
    const out = collect('out');
    const caught = collect('caught');
    const dones = spyDone('inv');
    for (let i = 0; i < 100; i++) helper.getNode('inv').receive({ payload: { i } });
    await until(() => out.length === 100, '100 outputs');
    assert.strictEqual(caught.length, 0);
    assert.strictEqual(dones.length, 100);
    assert.deepStrictEqual(
      out.map((m) => m.payload.i).sort((a, b) => a - b),
      Array.from({ length: 100 }, (_, i) => i),
    );
    const stats = emu.stats();
    assert.ok(stats.maxInFlight <= 4, `max in flight ${stats.maxInFlight}`);
    assert.ok(stats.maxInFlight >= 2, 'requests did overlap');
    assert.strictEqual(stats.requests.InvokeEndpoint, 100);
  });

  it('defaults to 4 in flight when concurrency is blank', async function () {
    emu.setEndpoint('q-default', { model: 'echo', latencyMs: 20 });
    await load(flowFor(emu, { endpointName: 'q-default', concurrency: '', queueSize: '' }));
    emu.resetStats();
    const out = collect('out');
    for (let i = 0; i < 12; i++) helper.getNode('inv').receive({ payload: i });
    await until(() => out.length === 12, '12 outputs');
    assert.strictEqual(emu.stats().maxInFlight, 4);
  });

  it('a message arriving at a full queue gets an error; the accepted ones all succeed', async function () {
    emu.setEndpoint('q-full', { model: 'echo', latencyMs: 150 });
    await load(flowFor(emu, { endpointName: 'q-full', concurrency: '1', queueSize: '2' }));
    const out = collect('out');
    const caught = collect('caught');
    for (let i = 0; i < 4; i++) helper.getNode('inv').receive({ payload: { i } });
    await until(() => out.length + caught.length === 4, 'four outcomes');
    assert.strictEqual(caught.length, 1);
    assert.deepStrictEqual(caught[0].payload, { i: 3 });
    const e = caught[0].sagemaker.error;
    assert.strictEqual(e.field, 'Queue size');
    assert.match(e.message, /Queue full: 2 messages already wait behind 1 in flight/);
    assert.deepStrictEqual(
      out.map((m) => m.payload.i),
      [0, 1, 2],
      'FIFO',
    );
  });

  it('close while 20 requests are in flight aborts them all, releases the queued ones, calls done once each and sends nothing afterwards', async function () {
    emu.setEndpoint('q-hang', { model: 'echo', faults: [{ kind: 'hang' }] });
    await load(flowFor(emu, { endpointName: 'q-hang', concurrency: '20', queueSize: '100' }));
    emu.resetStats();
    const out = collect('out');
    const caught = collect('caught');
    const dones = spyDone('inv');
    for (let i = 0; i < 25; i++) helper.getNode('inv').receive({ payload: i });
    await until(() => emu.stats().inFlight === 20, '20 requests in flight at the emulator');
    const outNode = helper.getNode('out');
    await helper.unload(); // stops the flows, as a redeploy does
    assert.strictEqual(dones.length, 25, 'done once for every accepted message');
    assert.ok(
      dones.every((d) => d.err === undefined),
      'ended without an error',
    );
    assert.strictEqual(new Set(dones.map((d) => d.msg.payload)).size, 25);
    await until(() => emu.stats().inFlight === 0, 'the emulator to see the aborts');
    await sleep(50);
    assert.strictEqual(out.length, 0);
    assert.strictEqual(caught.length, 0);
    assert.ok(outNode);
    assert.strictEqual(emu.stats().requests.InvokeEndpoint, 20, 'queued messages never reached the service');
  });

  it('shows "n in flight · m queued" while busy, then the last latency', async function () {
    emu.setEndpoint('q-status', { model: 'echo', latencyMs: 400 });
    await load(flowFor(emu, { endpointName: 'q-status', concurrency: '1' }));
    const statuses = [];
    const node = helper.getNode('inv');
    const orig = node.status;
    node.status = function (s) {
      statuses.push(s);
      return orig.call(this, s);
    };
    const out = collect('out');
    for (let i = 0; i < 3; i++) node.receive({ payload: i });
    await until(() => out.length === 3, 'three outputs');
    await until(() => statuses.length > 0 && statuses[statuses.length - 1].fill === 'green', 'the latency status');
    assert.ok(
      statuses.some((s) => s.fill === 'blue' && s.text === '1 in flight · 2 queued'),
      JSON.stringify(statuses),
    );
    assert.match(statuses[statuses.length - 1].text, /^\d+ ms$/);
  });
});
