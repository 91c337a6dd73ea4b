'use strict';
// Shared setup of the sagemaker-invoke-async node tests: emulator, flows, counters.
const path = require('node:path');
const { helper, nodeRedPackage } = require('../helper');

const configNode = require('../../nodes/sagemaker-config.js');
const asyncNode = require('../../nodes/sagemaker-invoke-async.js');
const coreDir = path.dirname(require.resolve(nodeRedPackage));
const catchNode = require(require.resolve('@node-red/nodes/core/common/25-catch.js', { paths: [coreDir] }));
const { startEmulator } = require('../../dist/emulator');

const credentials = { c1: { accessKeyId: 'test', secretAccessKey: 'test' } };

/** async node `an` → helper `accepted` (output 1) and `results` (output 2); catch → `caught`. */
function flowFor(emu, node = {}) {
  return [
    { id: 'f1', type: 'tab', label: 'async tests' },
    { id: 'c1', type: 'sagemaker-config', region: 'us-east-1', credentialType: 'keys', endpoint: emu.url, s3Endpoint: emu.s3Url, s3ForcePathStyle: true },
    {
      id: 'an', z: 'f1', type: 'sagemaker-invoke-async', config: 'c1', endpointName: 'echo', endpointNameType: 'str',
      pollInterval: '0.1', maxPollInterval: '0.2', wires: [['accepted'], ['results']], ...node,
    },
    { id: 'accepted', z: 'f1', type: 'helper' },
    { id: 'results', z: 'f1', type: 'helper' },
    { id: 'catcher', z: 'f1', type: 'catch', scope: ['an'], uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
}

function load(flow) {
  return new Promise((resolve, reject) => {
    helper.load([configNode, asyncNode, catchNode], flow, credentials, (err) => (err ? reject(err) : resolve()));
  });
}

/** Collects every message a helper node receives. */
function collect(id) {
  const got = [];
  helper.getNode(id).on('input', (m) => got.push(m));
  return got;
}

/** Counts done() calls of a node (Node-RED routes done(err) and done() through _complete). */
function spyDone(id) {
  const node = helper.getNode(id);
  const calls = [];
  const orig = node._complete;
  node._complete = function (msg, err) {
    calls.push({ msg, err });
    return orig.call(this, msg, err);
  };
  return calls;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(cond, what, ms = 15000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

module.exports = { helper, startEmulator, flowFor, load, collect, spyDone, sleep, until, credentials };
