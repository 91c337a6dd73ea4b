'use strict';
// Issue 7, bad input: an example imported into a Node-RED without the demo's environment
// variables (no region, no credentials anywhere) fails each message with an error that says
// what to configure, not a stack trace.
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { helper, coreNode } = require('../helper');

const configNode = require('../../nodes/sagemaker-config.js');
const invokeNode = require('../../nodes/sagemaker-invoke.js');
const catchNode = coreNode('common/25-catch.js');

const ENV = [
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_CONFIG_FILE',
  'AWS_EC2_METADATA_DISABLED',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'SAGEMAKER_ENDPOINT_URL',
  'S3_ENDPOINT_URL',
];

describe('examples without the demo environment', function () {
  this.timeout(20000);
  const saved = {};
  let dir;

  before(function (done) {
    for (const k of ENV) saved[k] = process.env[k];
    for (const k of ENV) delete process.env[k];
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smr-noenv-'));
    // No shared files, and no instance metadata lookups (they would wait for a timeout here).
    process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(dir, 'credentials');
    process.env.AWS_CONFIG_FILE = path.join(dir, 'config');
    process.env.AWS_EC2_METADATA_DISABLED = 'true';
    helper.startServer(done);
  });

  after(function (done) {
    for (const k of ENV) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    fs.rmSync(dir, { recursive: true, force: true });
    helper.stopServer(done);
  });

  afterEach(function () {
    return helper.unload();
  });

  function exampleFlow() {
    const flow = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'examples', 'Invoke a JSON model.json'), 'utf8'));
    const inv = flow.find((n) => n.type === 'sagemaker-invoke');
    const tab = flow.find((n) => n.type === 'tab');
    const config = flow.find((n) => n.type === 'sagemaker-config');
    // Only the example's config and invoke node, with a catch node and a helper in place of its wiring.
    const nodes = [
      tab,
      config,
      { ...inv, wires: [['out']] },
      { id: 'out', z: tab.id, x: 0, y: 0, type: 'helper' },
      { id: 'catch', z: tab.id, x: 0, y: 0, type: 'catch', scope: [inv.id], uncaught: false, wires: [['caught']] },
      { id: 'caught', z: tab.id, x: 0, y: 0, type: 'helper' },
    ];
    return { nodes, invokeId: inv.id };
  }

  async function firstError() {
    const { nodes, invokeId } = exampleFlow();
    await helper.load([configNode, invokeNode, catchNode], nodes);
    const caught = new Promise((resolve) => helper.getNode('caught').once('input', resolve));
    helper.getNode(invokeId).receive({ payload: { instances: [[1, 2, 3]] } });
    return caught;
  }

  it('"Invoke a JSON model" with no region anywhere: each message fails with "set Region … or AWS_REGION"', async function () {
    const msg = await firstError();
    assert.match(msg.error.message, /^Error: Region is missing: set Region in the sagemaker-config node, or AWS_REGION/);
    assert.match(msg.error.message, /AWS_REGION|config node/);
    assert.doesNotMatch(msg.error.message, /\n\s+at /, 'no stack trace');
  });

  it('"Invoke a JSON model" with a region but no credentials anywhere: the error says where to set them', async function () {
    process.env.AWS_REGION = 'us-east-1';
    try {
      const msg = await firstError();
      assert.match(
        msg.error.message,
        /Could not load credentials from any providers: choose Access keys, a profile or a role in the sagemaker-config node/,
      );
      assert.doesNotMatch(msg.error.message, /\n\s+at /, 'no stack trace');
    } finally {
      delete process.env.AWS_REGION;
    }
  });
});
