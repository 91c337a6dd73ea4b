'use strict';
// The flow that the child Node-RED runtimes of the async crash and fleet tests
// (async-crash-child.js) run.
const { emulatorConfig } = require('../support/emulator');

/**
 * POST /job → function `prep` (code `prep`) → sagemaker-invoke-async `an` (settings `an`) on config
 * node `cfg` (chain credentials, the emulator; `config` adds to it). `record(id, kind, wires)`
 * builds the function nodes that write each outcome down: accepted (then the HTTP response),
 * result, and what a Catch of `an` gets. `extra` nodes join the tab.
 */
function jobFlow(emu, { label, config = {}, prep, an, record, extra = [] }) {
  // Flow nodes need x and y: Node-RED treats a node without them as a config node.
  const placed = (nodes) => nodes.map((n, i) => (n.z ? { x: 100 + 150 * i, y: 100, ...n } : n));
  return placed([
    { id: 'tab1', type: 'tab', label },
    emulatorConfig(emu, { id: 'cfg', credentialType: 'chain', ...config }),
    { id: 'in', type: 'http in', z: 'tab1', url: '/job', method: 'post', wires: [['prep']] },
    { id: 'prep', type: 'function', z: 'tab1', outputs: 1, wires: [['an']], func: prep },
    {
      id: 'an',
      type: 'sagemaker-invoke-async',
      z: 'tab1',
      config: 'cfg',
      maxWait: '120',
      wires: [['rec-acc'], ['rec-res']],
      ...an,
    },
    record('rec-acc', 'accepted', ['resp']),
    { id: 'resp', type: 'http response', z: 'tab1', statusCode: '200', wires: [] },
    record('rec-res', 'result', []),
    { id: 'catch', type: 'catch', z: 'tab1', scope: ['an'], uncaught: false, wires: [['rec-err']] },
    record('rec-err', 'error', []),
    ...extra,
  ]);
}

module.exports = { jobFlow };
