'use strict';
// Pending jobs survive a restart (file-backed context store) and close leaves no timer behind.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { helper, startEmulator, flowFor, collect, spyDone, sleep, until, credentials } = require('./async-helpers');

const configNode = require('../../nodes/sagemaker-config.js');
const asyncNode = require('../../nodes/sagemaker-invoke-async.js');

// node-red-node-test-helper initialises the context module but never calls its load(), which is
// what creates the stores of settings.contextStorage; a module function given to load() runs
// after the init and before the flows start, so it can do that step.
const loadContextStores = () => helper._context.load();

function loadWithStores(flow) {
  return new Promise((resolve, reject) => {
    helper.load([loadContextStores, configNode, asyncNode], flow, credentials, (err) => (err ? reject(err) : resolve()));
  });
}

// helper.unload() also deletes every node's context (context.clean); a restart must keep it, so
// this does the rest of unload() and stops the flows (which closes the nodes).
async function stopKeepingContext() {
  helper._redNodes.clearRegistry();
  if (helper._logSpy) helper._logSpy.restore();
  helper._sandbox.restore();
  await helper._redNodes.stopFlows();
}

const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('sagemaker-invoke-async node: restart and close', function () {
  let emu;
  let dir;

  before(function (done) {
    helper.startServer(done);
  });
  before(async function () {
    emu = await startEmulator({ port: 0 });
  });
  after(async function () {
    if (emu) await emu.close();
  });
  after(function (done) {
    helper.stopServer(done);
  });
  beforeEach(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smr-async-ctx-'));
    helper.settings({ contextStorage: { default: { module: 'localfilesystem', config: { dir, flushInterval: 0 } } } });
  });
  afterEach(async function () {
    await helper.unload();
    await helper._context.close();
    helper.settings({});
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const flow = () => flowFor(emu, { pollInterval: '0.2', maxPollInterval: '0.2' });

  it('jobs pending at a restart are resumed from the file context store and each result is delivered exactly once', async function () {
    this.timeout(30000);
    await loadWithStores(flow());
    const accepted = collect('accepted');
    const firstResults = collect('results');
    const dones = spyDone('an');
    const node = helper.getNode('an');
    for (let i = 0; i < 6; i++) {
      // Three finish while Node-RED is down, three after it is back.
      const delay = i < 3 ? 1200 : 3500;
      node.receive({ payload: { i }, index: i, topic: `job-${i}`, headers: { 'x-amzn-sagemaker-custom-attributes': `delay=${delay}` } });
    }
    await until(() => accepted.length === 6, '6 accepted');
    await sleep(100);

    // "Stop Node-RED": close the nodes, then flush and close the context store.
    await stopKeepingContext();
    await helper._context.close();
    assert.equal(firstResults.length, 0);
    assert.equal(dones.length, 6, 'done() called for every accepted message at close');
    assert.ok(dones.every((d) => d.err === undefined));
    const files = fs.readdirSync(path.join(dir, 'context'), { recursive: true }).filter((f) => String(f).endsWith('.json'));
    const stored = files.map((f) => JSON.parse(fs.readFileSync(path.join(dir, 'context', String(f)), 'utf8'))).find((c) => c.pending);
    assert.equal(Object.keys(stored.pending).length, 6);
    assert.ok(Object.values(stored.pending).every((j) => j.msg.payload === undefined && j.msg.index !== undefined));

    await sleep(1800); // the first three results land while nothing runs

    await loadWithStores(flow());
    const results = collect('results');
    await until(() => results.length === 6, '6 results after the restart');
    await sleep(800);
    assert.equal(results.length, 6);
    const seen = new Set();
    for (const r of results) {
      assert.deepEqual(r.payload, { i: r.index });
      assert.equal(r.topic, `job-${r.index}`);
      assert.equal(r.headers['x-amzn-sagemaker-custom-attributes'] !== undefined, true);
      assert.ok(!seen.has(r.index), `job ${r.index} delivered twice`);
      seen.add(r.index);
    }
    const pending = await new Promise((resolve, reject) => helper.getNode('an').context().get('pending', (e, v) => (e ? reject(e) : resolve(v))));
    assert.deepEqual(pending, {});
  });

  it('close clears every timer and aborts polling: no Timeout handle is left behind', async function () {
    emu.setEndpoint('never-done', { model: 'echo', faults: [{ kind: 'async-never' }] });
    await sleep(50);
    const before = timeouts();
    await loadWithStores(flowFor(emu, { endpointName: 'never-done' }));
    const accepted = collect('accepted');
    for (let i = 0; i < 5; i++) helper.getNode('an').receive({ payload: i });
    await until(() => accepted.length === 5, '5 accepted');
    await sleep(250); // a polling round is under way or scheduled
    assert.ok(timeouts() > before, 'the node polls with a timer');
    await helper.clearFlows();
    await sleep(20);
    assert.ok(timeouts() <= before, `${timeouts() - before} timer(s) left after close`);
  });
});
