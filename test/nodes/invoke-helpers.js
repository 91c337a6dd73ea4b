'use strict';
// Shared setup of the sagemaker-invoke node tests: emulator, flows, counters.
const { helper, useNodeRed, coreNode, collect, spyDone, sleep, until: untilShared } = require('../helper');

const configNode = require('../../nodes/sagemaker-config.js');
const invokeNode = require('../../nodes/sagemaker-invoke.js');
const catchNode = coreNode('common/25-catch.js');
const { useEmulator } = require('../support/emulator');

const credentials = { c1: { accessKeyId: 'test', secretAccessKey: 'test' } };

function configFor(emu, extra = {}) {
  return { id: 'c1', type: 'sagemaker-config', region: 'us-east-1', credentialType: 'keys', endpoint: emu.url, ...extra };
}

/** invoke node `inv` → helper `out`; catch node `catch` → helper `caught`. */
function flowFor(emu, invoke = {}, config = {}) {
  return [
    { id: 'f1', type: 'tab', label: 'invoke tests' },
    configFor(emu, config),
    {
      id: 'inv',
      z: 'f1',
      x: 0,
      y: 0,
      type: 'sagemaker-invoke',
      config: 'c1',
      endpointName: 'echo',
      endpointNameType: 'str',
      wires: [['out']],
      ...invoke,
    },
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

/** Waits for `cond`, failing after 10 s. */
function until(cond, what, ms = 10000) {
  return untilShared(cond, what, ms, 5);
}

/** Requests the emulator received for one endpoint since `since` (a received().length). */
function receivedFor(emu, endpointName) {
  return emu.received().filter((r) => r.endpointName === endpointName);
}

module.exports = {
  helper,
  useNodeRed,
  useEmulator,
  configFor,
  flowFor,
  load,
  next,
  collect,
  spyDone,
  sleep,
  until,
  receivedFor,
  credentials,
};
