'use strict';
// Shared test setup: node-red-node-test-helper on the Node-RED named by NODE_RED_PACKAGE
// (default `node-red`, 4.x; `node-red-5` for the second run in scripts/test.js), and the small
// flow utilities the node tests share.
const path = require('node:path');
const helper = require('node-red-node-test-helper');

const nodeRedPackage = process.env.NODE_RED_PACKAGE || 'node-red';
helper.init(require.resolve(nodeRedPackage));

/** A core node module of the Node-RED under test, e.g. coreNode('common/25-catch.js'). */
function coreNode(file) {
  const coreDir = path.dirname(require.resolve(nodeRedPackage));
  return require(require.resolve(`@node-red/nodes/core/${file}`, { paths: [coreDir] }));
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

/**
 * Registers the hooks every node test shares: the test helper's Node-RED started before the
 * suite and stopped after it, the flow unloaded after each test. Hooks a suite registers after
 * this call run after these (mocha keeps the order).
 */
function useNodeRed() {
  before(function (done) {
    helper.startServer(done);
  });
  afterEach(function () {
    return helper.unload();
  });
  after(function (done) {
    helper.stopServer(done);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every `every` ms until it holds; fails naming `what` after `ms`. */
async function until(cond, what, ms, every = 5) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(every);
  }
}

module.exports = { helper, nodeRedPackage, useNodeRed, coreNode, collect, spyDone, sleep, until };
