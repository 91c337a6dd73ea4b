'use strict';
// Secrets: a real Node-RED (child process, adminAuth on, credentialSecret set) runs a
// flow deployed through the admin API that uses every credential mode — keys (with and without a
// session token), the SDK chain via environment variables, a profile from temporary shared files,
// an assumed role through the emulator's STS, an IoT device certificate — and hits the error paths (ModelError, throttling,
// signature mismatch, unknown endpoint, unknown profile, bad settings, a stream error, the Test
// connection route failing). Then the distinctive secret strings are looked for in the exported
// flow, flows.json, flows_cred.json (must be encrypted), every log line (status and debug
// messages are routed to the log by status/debug nodes), the Test connection answers and the
// child's stdout/stderr. The package's admin routes need a token with the right permission.
const assert = require('node:assert/strict');
const { fork } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { adminAuth, injectOnce, logEverything } = require('../support/admin-flows');

const KEYS = { accessKeyId: 'AKIARELKEYS0000001', secretAccessKey: 'relSecretKeys+AAAA/BBBB1111' };
const CHAIN = { accessKeyId: 'AKIARELCHAIN000002', secretAccessKey: 'relSecretChain+CCCC2222' };
const PROFILE = { accessKeyId: 'AKIARELPROF0000003', secretAccessKey: 'relSecretProfile+DDDD3333' };
const SESSION_TOKEN = 'relSessionTokenZZZZ9876';
const WRONG_SECRET = 'relSecretWrong+EEEE4444';
const CREDENTIAL_SECRET = 'rel-credential-secret-5555';
const PASSWORD = 'rel-admin-password-6666';
const SECRETS = [
  KEYS.secretAccessKey,
  CHAIN.secretAccessKey,
  PROFILE.secretAccessKey,
  SESSION_TOKEN,
  WRONG_SECRET,
  CREDENTIAL_SECRET,
  PASSWORD,
];
const KEY_IDS = [KEYS.accessKeyId, CHAIN.accessKeyId, PROFILE.accessKeyId];

function request(url, { method = 'GET', token, body, headers = {} } = {}) {
  return fetch(url, {
    method,
    headers: {
      ...(body ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: body ? JSON.stringify(body) : undefined,
  }).then(async (r) => ({ status: r.status, text: await r.text() }));
}

describe('reliability: secrets never leak; admin routes need permission', function () {
  this.timeout(60000);
  let child;
  let ready;
  let tmp;
  let userDir;
  const collected = { texts: {} };

  before(async function () {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smr-secrets-'));
    userDir = path.join(tmp, 'userDir');
    fs.mkdirSync(userDir);
    const credFile = path.join(tmp, 'aws-credentials');
    fs.writeFileSync(
      credFile,
      `[relprof]\naws_access_key_id = ${PROFILE.accessKeyId}\naws_secret_access_key = ${PROFILE.secretAccessKey}\n`,
    );
    fs.writeFileSync(path.join(tmp, 'aws-config'), '[profile relprof]\nregion = us-east-1\n');
    const env = { ...process.env };
    for (const k of Object.keys(env)) if (k.startsWith('AWS_')) delete env[k];
    Object.assign(env, {
      AWS_ACCESS_KEY_ID: CHAIN.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CHAIN.secretAccessKey,
      AWS_SHARED_CREDENTIALS_FILE: credFile,
      AWS_CONFIG_FILE: path.join(tmp, 'aws-config'),
    });
    const stdio = [];
    child = fork(
      path.join(__dirname, 'secrets-child.js'),
      [
        JSON.stringify({
          userDir,
          credentialSecret: CREDENTIAL_SECRET,
          adminAuth: adminAuth(PASSWORD, 'viewer'),
          keyPairs: [KEYS, CHAIN, PROFILE],
        }),
      ],
      {
        env,
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      },
    );
    child.stdout.on('data', (d) => stdio.push(d));
    child.stderr.on('data', (d) => stdio.push(d));
    collected.stdio = stdio;
    ready = await new Promise((resolve, reject) => {
      child.once('message', (m) => (m.type === 'ready' ? resolve(m) : reject(new Error(m.message))));
      child.once('exit', (code) => reject(new Error(`child exited with ${code}: ${Buffer.concat(stdio).toString()}`)));
    });
  });

  after(async function () {
    if (child && child.connected) {
      const exited = new Promise((r) => child.once('exit', r));
      child.disconnect();
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill();
    }
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  async function token(username = 'admin', scope = '*') {
    const r = await request(`${ready.url}auth/token`, {
      method: 'POST',
      body: { client_id: 'node-red-admin', grant_type: 'password', scope, username, password: PASSWORD },
    });
    assert.equal(r.status, 200, r.text);
    return JSON.parse(r.text).access_token;
  }

  it('POST /sagemaker-config/:id/test and /endpoints answer 401 without a token and for a read-only user (Node-RED needsPermission), and work with an admin token', async function () {
    const route = `${ready.url}sagemaker-config/new-node/test`;
    const body = { settings: { region: 'us-east-1', credentialType: 'keys', endpoint: ready.emulatorUrl }, credentials: KEYS };
    const anonymous = await request(route, { method: 'POST', body });
    assert.equal(anonymous.status, 401);
    const viewer = await request(route, { method: 'POST', body, token: await token('viewer', 'read') });
    assert.equal(viewer.status, 401); // Node-RED answers a missing permission with 401 too
    const admin = await request(route, { method: 'POST', body, token: await token() });
    assert.equal(admin.status, 200);
    const result = JSON.parse(admin.text);
    assert.equal(result.ok, true, admin.text);
    collected.texts['test route (ok)'] = admin.text;
    // The endpoint list route sends signed requests too: same permission.
    const listRoute = `${ready.url}sagemaker-config/new-node/endpoints`;
    const listAnonymous = await request(listRoute, { method: 'POST', body });
    assert.equal(listAnonymous.status, 401);
    const listViewer = await request(listRoute, { method: 'POST', body, token: await token('viewer', 'read') });
    assert.equal(listViewer.status, 401, listViewer.text);
    const listAdmin = await request(listRoute, { method: 'POST', body, token: await token() });
    assert.equal(listAdmin.status, 200, listAdmin.text);
    assert.equal(JSON.parse(listAdmin.text).ok, true, listAdmin.text);
    collected.texts['endpoints route'] = listAdmin.text;
    const flows = await request(`${ready.url}flows`);
    assert.equal(flows.status, 401, 'the admin API itself is protected too');
    console.log(
      `      admin routes: /test no token ${anonymous.status}, read-only ${viewer.status}, admin ${admin.status} (${result.arn}); /endpoints no token ${listAnonymous.status}, read-only ${listViewer.status}`,
    );
  });

  it('after a run with every credential mode and every error path, no secret appears in the flow export, flows.json, flows_cred.json, status, debug, errors or logs', async function () {
    const t = await token();
    const cfg = (id, extra, credentials) => ({
      id,
      type: 'sagemaker-config',
      region: 'us-east-1',
      endpoint: ready.emulatorUrl,
      s3Endpoint: ready.s3Url,
      s3ForcePathStyle: true,
      maxAttempts: '1',
      ...extra,
      ...(credentials ? { credentials } : {}),
    });
    let y = 40;
    const nodes = [];
    const worker = (id, type, config, endpointName, payload, extra = {}) => {
      y += 40;
      const wires = type === 'sagemaker-invoke' ? [['dbg']] : [['dbg'], ['dbg']];
      nodes.push(injectOnce(`in-${id}`, id, { y, payload, delay: 0.2 }));
      nodes.push({
        id,
        type,
        z: 'sec',
        x: 300,
        y,
        config,
        endpointName,
        endpointNameType: 'str',
        wires,
        ...(type === 'sagemaker-invoke-async' ? { waitForResult: false } : {}),
        ...extra,
      });
    };
    const configs = [
      cfg('cKeys', { credentialType: 'keys' }, { ...KEYS }),
      cfg('cKeysToken', { credentialType: 'keys' }, { ...KEYS, sessionToken: SESSION_TOKEN }),
      cfg('cChain', { credentialType: 'chain' }),
      cfg('cProfile', { credentialType: 'profile', profile: 'relprof' }),
      cfg('cRole', { credentialType: 'keys', roleArn: 'arn:aws:iam::123456789012:role/RelSecrets' }, { ...KEYS }),
      cfg('cWrong', { credentialType: 'keys' }, { accessKeyId: KEYS.accessKeyId, secretAccessKey: WRONG_SECRET }),
      cfg('cNoProfile', { credentialType: 'profile', profile: 'no-such-profile' }),
      cfg('cBadRegion', { credentialType: 'keys', region: 'nowhere!' }, { ...KEYS }),
      cfg(
        'cIot',
        { credentialType: 'iot', iotCredentialEndpoint: ready.iot.endpoint, iotRoleAlias: 'sagemaker-emulator', iotThingName: 'rel-thing' },
        { iotCert: ready.iot.cert, iotKey: ready.iot.key, iotCa: ready.iot.ca },
      ),
      cfg(
        'cIotWrongAlias',
        { credentialType: 'iot', iotCredentialEndpoint: ready.iot.endpoint, iotRoleAlias: 'no-such-alias', iotThingName: 'rel-thing' },
        { iotCert: ready.iot.cert, iotKey: ready.iot.key, iotCa: ready.iot.ca },
      ),
    ];
    for (const c of configs) worker(`ok-${c.id}`, 'sagemaker-invoke', c.id, 'echo', { mode: c.id });
    worker('modelError', 'sagemaker-invoke', 'cKeys', 'faulty', { x: 1 });
    worker('throttled', 'sagemaker-invoke', 'cKeys', 'throttled', { x: 1 });
    worker('notFound', 'sagemaker-invoke', 'cKeys', 'no-such-endpoint', { x: 1 });
    worker('badName', 'sagemaker-invoke', 'cKeys', 'bad_name', { x: 1 });
    worker('stream', 'sagemaker-stream', 'cKeysToken', 'text-generator', 'hi');
    worker('streamRole', 'sagemaker-stream', 'cRole', 'text-generator', 'hi');
    worker('streamError', 'sagemaker-stream', 'cChain', 'gen-error', 'hi');
    worker('async', 'sagemaker-invoke-async', 'cProfile', 'echo', { a: 1 });
    worker('asyncWrong', 'sagemaker-invoke-async', 'cWrong', 'echo', { a: 1 });
    const flow = [
      { id: 'sec', type: 'tab', label: 'secrets' },
      ...configs,
      ...nodes,
      // Status, outputs and errors all go to the log (debug node "console" output).
      ...logEverything({ statusY: 20, catchY: 10, debugX: 600, debugY: 20 }),
    ];
    const deploy = await request(`${ready.url}flows`, {
      method: 'POST',
      token: t,
      body: flow,
      headers: { 'Node-RED-Deployment-Type': 'full' },
    });
    assert.equal(deploy.status, 204, deploy.text);

    // Let every inject fire and every call finish (counts stop moving).
    const collect = () =>
      new Promise((resolve) => {
        child.once('message', resolve);
        child.send({ type: 'collect' });
      });
    let last = -1;
    let snap;
    for (let i = 0; i < 60; i++) {
      await new Promise((r) => setTimeout(r, 250));
      snap = await collect();
      const n = Object.values(snap.stats.requests).reduce((a, b) => a + b, 0) + snap.logs.length;
      if (n === last && i > 8) break;
      last = n;
    }

    // The Test connection route, failing with a wrong secret given in the form.
    const failing = await request(`${ready.url}sagemaker-config/cWrong/test`, {
      method: 'POST',
      token: t,
      body: {
        settings: { region: 'us-east-1', credentialType: 'keys', endpoint: ready.emulatorUrl },
        credentials: { accessKeyId: KEYS.accessKeyId, secretAccessKey: '__PWRD__' },
      },
    });
    assert.equal(JSON.parse(failing.text).ok, false, failing.text);
    collected.texts['test route (failing)'] = failing.text;
    snap = await collect();

    // Every mode really ran: requests signed with each key and with STS session credentials.
    const ops = snap.stats.requests;
    assert.ok(ops.AssumeRole >= 1, `AssumeRole ${JSON.stringify(ops)}`);
    assert.ok(snap.sessionTokens.includes(SESSION_TOKEN) || snap.stats.errors, 'the keys+token config was used');
    const issuedTokens = snap.sessionTokens.filter((s) => s !== SESSION_TOKEN);
    // One from the emulator's STS (assumed role), one from its IoT credentials provider.
    assert.ok(issuedTokens.length >= 2, `requests were signed with STS- and IoT-issued session credentials (${issuedTokens.length})`);

    const logs = snap.logs.join('\n');
    collected.texts.logs = logs;
    collected.texts['exported flow (GET /flows)'] = (await request(`${ready.url}flows`, { token: t })).text;
    collected.texts['flows.json'] = fs.readFileSync(path.join(userDir, 'flows.json'), 'utf8');
    const credFile = fs.readFileSync(path.join(userDir, 'flows_cred.json'), 'utf8');
    collected.texts['flows_cred.json'] = credFile;
    collected.texts['GET /credentials (editor)'] = (
      await request(`${ready.url}credentials/sagemaker-config/cKeysToken`, { token: t })
    ).text;
    collected.texts['child stdout/stderr'] = Buffer.concat(collected.stdio).toString('utf8');

    // flows_cred.json is encrypted with the credentialSecret.
    const cred = JSON.parse(credFile);
    assert.deepEqual(Object.keys(cred), ['$']);

    // What the run went through, from the log: each error path was hit.
    for (const expected of [
      'ModelError',
      'ThrottlingException',
      'not found',
      'bad_name',
      'no-such-profile',
      'nowhere!',
      'ModelStreamError',
      'InvalidSignatureException',
    ]) {
      assert.ok(logs.includes(expected), `the log shows no ${expected}`);
    }

    // The device's private key: its base64 body lines, any of which would give it away.
    const keyLines = ready.iot.key.split('\n').filter((l) => l.length >= 40 && !l.startsWith('-----'));
    assert.ok(keyLines.length > 0);
    const secrets = [...SECRETS, ...issuedTokens, ...keyLines];
    const findings = [];
    for (const [where, text] of Object.entries(collected.texts)) {
      for (const s of secrets) if (text.includes(s)) findings.push(`${where} contains secret ${s.slice(0, 8)}…`);
      if (!where.startsWith('GET /credentials') && !where.startsWith('test route')) {
        for (const id of KEY_IDS) if (text.includes(id)) findings.push(`${where} contains access key id ${id}`);
      }
    }
    const sizes = Object.entries(collected.texts)
      .map(([k, v]) => `${k} ${v.length} chars`)
      .join(', ');
    console.log(
      `      secrets: ${secrets.length} secret strings (incl. ${issuedTokens.length} STS/IoT session tokens, ${keyLines.length} IoT private-key lines) and ${KEY_IDS.length} key ids looked for in ${sizes}; ${snap.logs.length} log lines; found ${findings.length}`,
    );
    assert.deepEqual(findings, []);
  });
});
