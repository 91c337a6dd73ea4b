'use strict';
// Shared setup of the reliability tests: the three worker nodes and the core nodes they are
// wired to (catch, complete), outcome counting by message id, and resource counts.
const { helper, coreNode: core } = require('../helper');
const { startEmulator } = require('../../dist/emulator');

const catchNode = core('common/25-catch.js');
const completeNode = core('common/24-complete.js');

const configNode = require('../../nodes/sagemaker-config.js');
const invokeNode = require('../../nodes/sagemaker-invoke.js');
const streamNode = require('../../nodes/sagemaker-stream.js');
let asyncNode;
try {
  asyncNode = require('../../nodes/sagemaker-invoke-async.js');
} catch {
  asyncNode = undefined; // not built yet
}

const NODES = [configNode, invokeNode, streamNode, ...(asyncNode ? [asyncNode] : []), catchNode, completeNode];
const KEYS = { accessKeyId: 'test', secretAccessKey: 'test' };

/**
 * Puts every node of a flow on tab `tab` with x/y (Node-RED takes a node without x/y for a
 * config node); `tab` and `sagemaker-config` nodes stay as they are.
 */
function onTab(flow) {
  const out = [{ id: 'tab', type: 'tab', label: 'reliability' }];
  for (const n of flow) {
    if (n.type === 'tab') continue;
    out.push(n.type === 'sagemaker-config' ? n : { z: 'tab', x: 100, y: 100, ...n });
  }
  return out;
}

function load(flow, credentials = {}) {
  return new Promise((resolve, reject) => {
    helper.load(NODES, onTab(flow), credentials, (err) => (err ? reject(err) : resolve()));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(cond, what, ms = 15000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Total requests the emulator saw (every operation, plus S3 calls through its proxy). */
function requestCount(emu) {
  const s = emu.stats();
  const sum = (o) => Object.values(o || {}).reduce((a, b) => a + b, 0);
  return sum(s.requests) + sum(s.s3);
}

/**
 * Counts outcomes by a message property (`msg[key]`) on the given helper nodes:
 * `tally.by(name)` is a Map id → count.
 */
function tally(names, key = 'rid') {
  const maps = {};
  for (const name of names) {
    maps[name] = new Map();
    helper.getNode(name).on('input', (m) => {
      const id = m[key];
      maps[name].set(id, (maps[name].get(id) || 0) + 1);
    });
  }
  return {
    by: (name) => maps[name],
    total: (name) => [...maps[name].values()].reduce((a, b) => a + b, 0),
  };
}

/**
 * Checks that each id in `ids` ended exactly once across the outcome maps.
 * Returns { lost, duplicated, unknown } counts.
 */
function audit(ids, maps) {
  let lost = 0;
  let duplicated = 0;
  for (const id of ids) {
    let n = 0;
    for (const m of maps) n += m.get(id) || 0;
    if (n === 0) lost++;
    else if (n > 1) duplicated += n - 1;
  }
  const known = new Set(ids);
  let unknown = 0;
  for (const m of maps) for (const id of m.keys()) if (!known.has(id)) unknown++;
  return { lost, duplicated, unknown };
}

/** sagemaker-invoke-async `asy` named `name`, on endpoint slow-async, polling every 0.2 to 0.5 s → helpers `accepted`, `result`. */
function slowAsyncNode(name) {
  return {
    id: 'asy',
    name,
    type: 'sagemaker-invoke-async',
    config: 'c1',
    endpointName: 'slow-async',
    endpointNameType: 'str',
    pollInterval: '0.2',
    maxPollInterval: '0.5',
    wires: [['accepted'], ['result']],
  };
}

/** Counts of process.getActiveResourcesInfo() by kind. */
function resources() {
  const out = {};
  for (const r of process.getActiveResourcesInfo()) out[r] = (out[r] || 0) + 1;
  return out;
}

module.exports = {
  helper,
  startEmulator,
  asyncNode,
  load,
  onTab,
  slowAsyncNode,
  NODES,
  sleep,
  until,
  requestCount,
  tally,
  audit,
  resources,
  KEYS,
};
