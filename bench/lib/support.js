'use strict';
// Shared by the benchmarks: the emulator in a child process (so its CPU is not counted against
// either side of a comparison) and Node-RED through node-red-node-test-helper without its spies.
const path = require('node:path');
const { spawn } = require('node:child_process');

const root = path.join(__dirname, '..', '..');

/** Starts `sagemaker-emulator` in a child process; resolves to { url, s3Url, sqsUrl, child }. */
function startEmulatorProcess(args = ['--no-auth']) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'dist/emulator/cli.js'), '--port', '0', ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      const s3 = /S3 listening on (http:\/\/\S+)/.exec(out);
      const sqs = /SQS and SNS listening on (http:\/\/\S+)/.exec(out);
      if (m && s3 && sqs) resolve({ url: m[1], s3Url: s3[1], sqsUrl: sqs[1], child });
    });
    child.on('exit', (code) => reject(new Error(`emulator exited with ${code}`)));
  });
}

/**
 * Starts the minimal stand-in server (bench/lib/standin-server.js) in a child process; resolves
 * to { url, child }. For figures about the client side, where the emulator's own work
 * (signature checks, models, statistics) would hide what the node adds.
 */
function startStandIn() {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, 'standin-server.js')], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ url: m[1], child });
    });
    child.on('exit', (code) => reject(new Error(`stand-in server exited with ${code}`)));
  });
}

/** The test helper on Node-RED 4, with the original Node methods remembered for unspyNodes. */
function startHelper() {
  const helper = require('node-red-node-test-helper');
  helper.init(require.resolve('node-red'));
  const methods = {};
  for (const m of ['log', 'status', 'warn', 'error', 'debug', 'trace', 'send']) methods[m] = helper._NodePrototype[m];
  return new Promise((resolve) => helper.startServer(() => resolve({ helper, methods })));
}

/**
 * The test helper wraps Node.prototype methods in sinon spies that keep every call (every
 * message): fine for tests, but it would dominate time and memory in a benchmark. A deployed
 * node has none. Call after each helper.load(); `ids` are the nodes that send.
 */
function unspyNodes({ helper, methods }, ids) {
  for (const [m, fn] of Object.entries(methods)) {
    Object.defineProperty(helper._NodePrototype, m, { value: fn, writable: true, configurable: true });
  }
  helper._sandbox.restore();
  // Node-RED copies the (spied) prototype send onto each wired node when it starts.
  for (const id of ids) helper.getNode(id).send = methods.send;
}

/** The test keys of the benches' config node `c1` (the emulator and the stand-in accept them). */
const CREDENTIALS = { c1: { accessKeyId: 'test', secretAccessKey: 'test' } };

/** A keys-mode sagemaker-config node `c1` for the server at `url`, plus `extra` settings. */
const configFor = (url, extra = {}) => ({
  id: 'c1',
  type: 'sagemaker-config',
  region: 'us-east-1',
  credentialType: 'keys',
  endpoint: url,
  ...extra,
});

/**
 * Replaces the deployed flow with `flow` (tab `t`, config `c1` with the test keys, then `nodes` on
 * that tab), and takes the helper's spies off the nodes in `senders` (see unspyNodes).
 */
async function loadFlow(red, types, config, nodes, senders) {
  await red.helper.unload();
  await red.helper.load(types, [{ id: 't', type: 'tab' }, config, ...nodes.map((n) => ({ z: 't', x: 0, y: 0, ...n }))], CREDENTIALS);
  unspyNodes(red, senders);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

module.exports = { root, startEmulatorProcess, startStandIn, startHelper, unspyNodes, CREDENTIALS, configFor, loadFlow, median };
