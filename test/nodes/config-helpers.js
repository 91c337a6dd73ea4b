'use strict';
// Shared setup of the sagemaker-config tests: Node-RED, an emulator that accepts the suite's own
// keys besides test/test, every test cut off from the machine's AWS environment and ~/.aws files,
// and no unhandled rejection during the suite.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { helper, useNodeRed } = require('../helper');
const { useEmulator } = require('../support/emulator');
const configNode = require('../../nodes/sagemaker-config.js');

/** What the SDK (and these tests) read from the environment; cleared for every test. */
const AWS_VARS = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_CONFIG_FILE',
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_SAGEMAKER',
  'AWS_ENDPOINT_URL_STS',
  'AWS_ROLE_ARN',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_EC2_METADATA_DISABLED',
  'SMR_TEST_EMULATOR_URL',
];

/**
 * Registers the hooks of a config-node suite: Node-RED; an emulator (`emulator` options) that
 * accepts `keys` ({ accessKeyId, secretAccessKey }) as well as test/test; before each test the
 * variables above cleared, the shared credentials and config files pointed at files that do not
 * exist and instance metadata off, all restored after it; after the suite, a check that no
 * promise was rejected unhandled. `setup(emu, tmp)` runs once the emulator is up; `tmp` is a
 * folder of the suite's own, removed after it.
 */
function useIsolatedAws(keys, emulator, setup) {
  const rejections = [];
  const onRejection = (reason) => rejections.push(reason);
  let tmp;
  let savedEnv;
  useNodeRed();
  before(function () {
    process.on('unhandledRejection', onRejection);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smr-config-'));
  });
  useEmulator({ credentials: [{ accessKeyId: 'test', secretAccessKey: 'test' }, keys], ...emulator }, (emu) => setup(emu, tmp));
  beforeEach(function () {
    savedEnv = {};
    for (const k of AWS_VARS) {
      savedEnv[k] = process.env[k];
      delete process.env[k];
    }
    process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(tmp, 'none-credentials');
    process.env.AWS_CONFIG_FILE = path.join(tmp, 'none-config');
    process.env.AWS_EC2_METADATA_DISABLED = 'true';
  });
  afterEach(function () {
    for (const k of AWS_VARS) {
      if (savedEnv[k] === undefined) delete process.env[k];
      else process.env[k] = savedEnv[k];
    }
  });
  after(function () {
    process.removeListener('unhandledRejection', onRejection);
    fs.rmSync(tmp, { recursive: true, force: true });
    assert.deepEqual(rejections.map(String), [], 'no unhandled rejections');
  });
}

/**
 * useIsolatedAws for a suite about one of the config node's editor routes,
 * POST /sagemaker-config/:id/<route>. Returns what its tests send: `form(extra)`, the settings a
 * form holds for the emulator; `post(id, body)`, the route's JSON answer (status 200); and
 * `deployed()`, which deploys config node `c1` with `keys` stored as its credentials.
 */
function useConfigRoute(route, keys, emulator, onStart) {
  let emu;
  useIsolatedAws(keys, emulator, (e) => {
    emu = e;
    onStart(e);
  });
  return {
    form(extra = {}) {
      return { region: 'us-east-1', credentialType: 'keys', endpoint: emu.url, maxAttempts: '1', ...extra };
    },
    async post(id, body) {
      const res = await helper.request().post(`/sagemaker-config/${id}/${route}`).send(body).expect(200);
      return res.body;
    },
    async deployed() {
      await helper.load(
        configNode,
        [{ id: 'c1', type: 'sagemaker-config', region: 'us-east-1', credentialType: 'keys', endpoint: emu.url }],
        { c1: keys },
      );
    },
  };
}

module.exports = { useIsolatedAws, useConfigRoute };
