'use strict';
// Pending jobs survive a redeploy or restart (README, "sagemaker-invoke-async").
// With Node-RED's default settings (no contextStorage configured) the runtime deletes a node's
// context when the node closes (@node-red/runtime lib/nodes/Node.js close → context.delete, which
// only deletes "if there's no configured storage"), so a job accepted before a "modified nodes"
// redeploy must be carried over by other means. This pins that it is.
const assert = require('node:assert/strict');
const { helper, useNodeRed } = require('../helper');
const { useEmulator, emulatorConfig } = require('../support/emulator');
const { asyncNode, onTab, slowAsyncNode, NODES, KEYS, sleep, until } = require('./util');

(asyncNode ? describe : describe.skip)('reliability: async job pending across a redeploy (default context settings)', function () {
  this.timeout(20000);
  let emu;
  useEmulator({ endpoints: { 'slow-async': { model: 'echo', async: { delayMs: 600 } } } }, (e) => (emu = e));
  useNodeRed();

  const flow = (name) =>
    onTab([emulatorConfig(emu), slowAsyncNode(name), { id: 'accepted', type: 'helper' }, { id: 'result', type: 'helper' }]);

  it('a job accepted before a "modified nodes" redeploy delivers its result once, from the new instance', async function () {
    await new Promise((resolve, reject) => helper.load(NODES, flow('before'), { c1: KEYS }, (e) => (e ? reject(e) : resolve())));
    const accepted = [];
    const results = [];
    helper.getNode('accepted').on('input', (m) => accepted.push(m));
    helper.getNode('result').on('input', (m) => results.push(m));
    helper.getNode('asy').receive({ rid: 'job-1', payload: { reading: 42 } });
    await until(() => accepted.length === 1, 'the accepted message');
    await helper.setFlows(flow('after'), 'nodes', { c1: KEYS });
    await until(() => results.length >= 1, 'the result after the redeploy', 10000).catch(() => {});
    await sleep(300);
    console.log(
      `      async job across a redeploy: accepted ${accepted.length}, results ${results.length}, S3 calls ${JSON.stringify(emu.stats().s3)}`,
    );
    assert.equal(results.length, 1, 'the pending job was dropped by the redeploy');
    assert.equal(results[0].rid, 'job-1');
    assert.deepEqual(results[0].payload, { reading: 42 });
  });
});
