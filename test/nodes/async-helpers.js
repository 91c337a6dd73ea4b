'use strict';
// Shared setup of the sagemaker-invoke-async node tests: emulator, flows, counters.
const { helper, useNodeRed, coreNode, collect, spyDone, sleep, until: untilShared } = require('../helper');

const configNode = require('../../nodes/sagemaker-config.js');
const asyncNode = require('../../nodes/sagemaker-invoke-async.js');
const catchNode = coreNode('common/25-catch.js');
const { useEmulator, emulatorConfig } = require('../support/emulator');

const credentials = { c1: { accessKeyId: 'test', secretAccessKey: 'test' } };

/** async node `an` → helper `accepted` (output 1) and `results` (output 2); catch → `caught`. */
function flowFor(emu, node = {}) {
  return [
    { id: 'f1', type: 'tab', label: 'async tests' },
    emulatorConfig(emu),
    {
      id: 'an',
      z: 'f1',
      type: 'sagemaker-invoke-async',
      config: 'c1',
      endpointName: 'echo',
      endpointNameType: 'str',
      pollInterval: '0.1',
      maxPollInterval: '0.2',
      wires: [['accepted'], ['results']],
      ...node,
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

/** Waits for `cond`, failing after 15 s. */
function until(cond, what, ms = 15000) {
  return untilShared(cond, what, ms, 10);
}

module.exports = { helper, useNodeRed, useEmulator, flowFor, load, collect, spyDone, sleep, until, credentials };
