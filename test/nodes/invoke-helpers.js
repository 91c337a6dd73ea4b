'use strict';
// Shared setup of the sagemaker-invoke node tests: emulator, flows, counters.
const path = require('node:path');
const { helper, nodeRedPackage } = require('../helper');

const configNode = require('../../nodes/sagemaker-config.js');
const invokeNode = require('../../nodes/sagemaker-invoke.js');
const coreDir = path.dirname(require.resolve(nodeRedPackage));
const catchNode = require(require.resolve('@node-red/nodes/core/common/25-catch.js', { paths: [coreDir] }));
const { startEmulator } = require('../../dist/emulator');

const credentials = { c1: { accessKeyId: 'test', secretAccessKey: 'test' } };

function configFor(emu, extra = {}) {
  return { id: 'c1', type: 'sagemaker-config', region: 'us-east-1', credentialType: 'keys', endpoint: emu.url, ...extra };
}

/** invoke node `inv` → helper `out`; catch node `catch` → helper `caught`. */
function flowFor(emu, invoke = {}, config = {}) {
  return [
    { id: 'f1', type: 'tab', label: 'invoke tests' },
    configFor(emu, config),
    { id: 'inv', z: 'f1', x: 0, y: 0, type: 'sagemaker-invoke', config: 'c1', endpointName: 'echo', endpointNameType: 'str', wires: [['out']], ...invoke },
    { id: 'out', z: 'f1', x: 0, y: 0, type: 'helper' },
    { id: 'catch', z: 'f1', x: 0, y: 0, type: 'catch', scope: ['inv'], uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', x: 0, y: 0, type: 'helper' },
  ];
}

function load(flow) {
  return new Promise((resolve, reject) => {
    helper.load([configNode, invokeNode, catchNode], flow, credentials, (err) => (err ? reject(err) : resolve()));
  });
}

/** Resolves with the next message a helper node receives. */
function next(id) {
  return new Promise((resolve) => helper.getNode(id).once('input', resolve));
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

async function until(cond, what, ms = 10000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** Requests the emulator received for one endpoint since `since` (a received().length). */
function receivedFor(emu, endpointName) {
  return emu.received().filter((r) => r.endpointName === endpointName);
}

module.exports = { helper, startEmulator, configFor, flowFor, load, next, collect, spyDone, sleep, until, receivedFor, credentials };
