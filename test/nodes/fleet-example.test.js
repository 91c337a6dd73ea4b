'use strict';
// The example "Fleet: async results through SQS" as exported, against the emulator set up the way
// `npm start` sets it up (scripts/fleet.js: topics, filtered queues, the notifying endpoint), with
// helper nodes in place of its debug nodes: this gateway's jobs come back through its own queue,
// the fleet's jobs through the shared queue, and nothing lists S3.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { helper, useNodeRed, coreNode, collect, until } = require('../helper');
const { useEmulator } = require('../support/emulator');
const { setUpFleet } = require('../../scripts/fleet');

const configNode = require('../../nodes/sagemaker-config.js');
const asyncNode = require('../../nodes/sagemaker-invoke-async.js');
const resultsNode = require('../../nodes/sagemaker-async-results.js');
const injectNode = coreNode('common/20-inject.js');
const splitNode = coreNode('sequence/17-split.js');
const commentNode = coreNode('common/90-comment.js');

const example = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'examples', 'Fleet - async results through SQS.json'), 'utf8'));
const byName = (name) => example.find((n) => n.name === name);

describe('example "Fleet: async results through SQS"', function () {
  this.timeout(30000);
  let emu;
  const saved = {};

  useNodeRed();
  useEmulator(
    {},
    async (e) => {
      emu = e;
      const env = await setUpFleet(emu);
      for (const [k, v] of Object.entries(env)) {
        saved[k] = process.env[k];
        process.env[k] = v;
      }
    },
    () => {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    },
  );

  it("scores this gateway's readings through its own queue (gw1- ids) and the fleet's through the shared queue (fleet- ids), with 0 S3 requests for results", async function () {
    // node-red-node-test-helper registers the catch module once per catch node: one catch, for every node.
    const catches = example.filter((n) => n.type === 'catch');
    const nodes = example.map((n) => {
      if (n.type === 'debug') return { id: n.id, z: n.z, type: 'helper' };
      if (n === catches[0]) return { ...n, scope: null };
      if (n.type === 'catch') return { id: n.id, z: n.z, type: 'helper' };
      if (n.type === 'sagemaker-config')
        return { ...n, region: 'us-east-1', credentialType: 'keys', endpoint: emu.url, s3Endpoint: emu.s3Url };
      return n;
    });
    const config = example.find((n) => n.type === 'sagemaker-config');
    await helper.load([configNode, asyncNode, resultsNode, injectNode, splitNode, commentNode], nodes, {
      [config.id]: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const own = collect(byName('result from the gateway queue').id);
    const fleet = collect(byName('a fleet job, taken here').id);
    const failures = collect(byName('failure').id);
    const reads = () => ['GetObject', 'HeadObject', 'ListObjectsV2'].reduce((a, op) => a + (emu.stats().s3[op] ?? 0), 0);
    const before = reads();
    helper.getNode(byName('score 3 readings here').id).receive({});
    helper.getNode(byName('hand 3 readings to the fleet').id).receive({});
    await until(() => own.length === 3 && fleet.length === 3, 'three results on each path', 20000, 20);
    assert.equal(failures.length, 0);
    assert.ok(own.every((m) => m.sagemaker.inferenceId.startsWith('gw1-') && typeof m.payload.anomaly === 'boolean'));
    assert.ok(fleet.every((m) => m.sagemaker.inferenceId.startsWith('fleet-') && m.sagemaker.endpointName === 'sensor-anomaly-async'));
    // The first reading set ends in an outlier (48): the model flags it.
    assert.ok(own.some((m) => m.payload.anomaly === true));
    assert.equal(reads(), before, 'responses come in the notifications');
  });
});
