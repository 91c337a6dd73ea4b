'use strict';
// Security of the sagemaker-config admin routes: each known attack replayed
// against a real Node-RED (child process, started from code as `npm start` does) with adminAuth —
// an `admin` user and a `reader` with permission `read` — and against one without adminAuth (the
// cross-site case). A capture server on 127.0.0.1 counts every TCP connection made to it: no
// attack may reach it. Every answer and log line is searched for every secret: stored keys and
// session token, the host's own chain and profile credentials, the IoT private key, values of
// environment variables, URL credentials. The admin's legitimate Test connection and endpoint
// list keep working against the emulator, including for a config whose fields are ${ENV}.
const assert = require('node:assert/strict');
const { fork } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { adminAuth, injectOnce, logEverything } = require('../support/admin-flows');

const STORED = { accessKeyId: 'AKIASECSTORED00001', secretAccessKey: 'secStoredSecret+AAAA/1111' };
const STORED_TOKEN = 'secStoredSessionToken+BBBB2222';
const CHAIN = { accessKeyId: 'AKIASECCHAIN000002', secretAccessKey: 'secChainSecret+CCCC3333' };
const CHAIN_TOKEN = 'secChainSessionToken+DDDD4444';
const PROFILE = { accessKeyId: 'AKIASECPROFILE0003', secretAccessKey: 'secProfileSecret+EEEE5555' };
const TYPED = { accessKeyId: 'AKIASECTYPED000004', secretAccessKey: 'secTypedSecret+FFFF6666' };
const ENV_SECRET = 'secEnvOnlyValue+GGGG7777';
const QUERY_SECRET = 'secQueryApiKey8888';
const FRAGMENT_SECRET = 'secFragment9999';
const PASSWORD = 'sec-admin-password-0000';
const CREDENTIAL_SECRET = 'sec-credential-secret-1111';
const SECRETS = [
  STORED.secretAccessKey,
  STORED_TOKEN,
  CHAIN.secretAccessKey,
  CHAIN_TOKEN,
  PROFILE.secretAccessKey,
  ENV_SECRET,
  QUERY_SECRET,
  FRAGMENT_SECRET,
  PASSWORD,
  CREDENTIAL_SECRET,
];
const ROUTES = ['test', 'endpoints'];

/** An HTTP server that counts connections and answers 403 with everything it received (JSON, or XML for STS). */
async function startCapture() {
  const state = { connections: 0, requests: [] };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      state.requests.push({ method: req.method, url: req.url, headers: req.headers, body });
      // The reflection of the issue: whatever arrived comes back in the error message.
      const echo = JSON.stringify({ url: req.url, headers: req.headers, body }).replace(/[<>&]/g, ' ');
      if (!body.startsWith('Action=')) {
        res.writeHead(403, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': 'UnrecognizedClientException' });
        res.end(JSON.stringify({ __type: 'UnrecognizedClientException', message: `captured ${echo}` }));
      } else {
        res.writeHead(403, { 'content-type': 'text/xml' });
        res.end(
          `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>captured ${echo}</Message></Error><RequestId>r1</RequestId></ErrorResponse>`,
        );
      }
    });
  });
  server.on('connection', () => (state.connections += 1));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${server.address().port}`;
  state.hostPort = `127.0.0.1:${server.address().port}`;
  state.reset = () => {
    state.connections = 0;
    state.requests = [];
  };
  state.close = async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  return state;
}

/** A Node-RED with this package and the emulator in a child process (test/reliability/secrets-child.js). */
async function startChild(tmp, { adminAuth, env }) {
  const userDir = path.join(tmp, `userDir-${adminAuth ? 'auth' : 'open'}`);
  fs.mkdirSync(userDir);
  const stdio = [];
  const child = fork(
    path.join(__dirname, '..', 'reliability', 'secrets-child.js'),
    [
      JSON.stringify({
        userDir,
        credentialSecret: CREDENTIAL_SECRET,
        adminAuth,
        keyPairs: [STORED, { ...CHAIN, sessionToken: CHAIN_TOKEN }, PROFILE, TYPED],
        emulatorUrlEnv: 'SEC_EMULATOR_URL',
      }),
    ],
    { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] },
  );
  child.stdout.on('data', (d) => stdio.push(d));
  child.stderr.on('data', (d) => stdio.push(d));
  const ready = await new Promise((resolve, reject) => {
    child.once('message', (m) => (m.type === 'ready' ? resolve(m) : reject(new Error(m.message))));
    child.once('exit', (code) => reject(new Error(`child exited with ${code}: ${Buffer.concat(stdio).toString()}`)));
  });
  return {
    ...ready,
    stdio: () => Buffer.concat(stdio).toString('utf8'),
    collect: () =>
      new Promise((resolve) => {
        child.once('message', resolve);
        child.send({ type: 'collect' });
      }),
    stop: async () => {
      if (!child.connected) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.disconnect();
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill();
    },
  };
}

function request(url, { method = 'POST', token, json, raw, contentType, headers = {} } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  let body;
  if (json !== undefined) {
    h['content-type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (raw !== undefined) {
    h['content-type'] = contentType;
    body = raw;
  }
  return fetch(url, { method, headers: h, body }).then(async (r) => ({ status: r.status, headers: r.headers, text: await r.text() }));
}

/** What a page on another site can send without a CORS preflight: a form post. */
function formEncode(body) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(body.settings || {})) p.append(`settings[${k}]`, String(v));
  for (const [k, v] of Object.entries(body.credentials || {})) p.append(`credentials[${k}]`, String(v));
  return p.toString();
}

function childEnv(tmp) {
  const credFile = path.join(tmp, 'aws-credentials');
  fs.writeFileSync(credFile, `[secprof]\naws_access_key_id = ${PROFILE.accessKeyId}\naws_secret_access_key = ${PROFILE.secretAccessKey}\n`);
  fs.writeFileSync(path.join(tmp, 'aws-config'), '[profile secprof]\nregion = us-east-1\n');
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('AWS_') || k.startsWith('SEC_')) delete env[k];
  return Object.assign(env, {
    AWS_ACCESS_KEY_ID: CHAIN.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CHAIN.secretAccessKey,
    AWS_SESSION_TOKEN: CHAIN_TOKEN,
    AWS_SHARED_CREDENTIALS_FILE: credFile,
    AWS_CONFIG_FILE: path.join(tmp, 'aws-config'),
    AWS_EC2_METADATA_DISABLED: 'true',
    SEC_REGION: 'us-east-1',
    SEC_ENV_ONLY: ENV_SECRET,
  });
}

/** Findings of any secret (or IoT private-key line) in a text. */
function leaks(where, text, extra = []) {
  return [...SECRETS, ...extra].filter((s) => text.includes(s)).map((s) => `${where} contains ${s.slice(0, 10)}…`);
}

describe('security: sagemaker-config admin routes with adminAuth (admin and read-only users)', function () {
  this.timeout(60000);
  let tmp;
  let red;
  let capture;
  let leaky;
  let tokens;
  let keyLines;
  const answers = [];

  before(async function () {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smr-security-'));
    capture = await startCapture();
    leaky = await startCapture();
    red = await startChild(tmp, { adminAuth: adminAuth(PASSWORD, 'reader'), env: childEnv(tmp) });
    keyLines = red.iot.key.split('\n').filter((l) => l.length >= 40 && !l.startsWith('-----'));
    tokens = {};
    for (const [user, scope] of [
      ['admin', '*'],
      ['reader', 'read'],
    ]) {
      const r = await request(`${red.url}auth/token`, {
        json: { client_id: 'node-red-admin', grant_type: 'password', scope, username: user, password: PASSWORD },
      });
      assert.equal(r.status, 200, r.text);
      tokens[user] = JSON.parse(r.text).access_token;
    }
    fs.writeFileSync(path.join(tmp, 'device.crt'), red.iot.cert);
    fs.writeFileSync(path.join(tmp, 'device.key'), red.iot.key, { mode: 0o600 });
    fs.writeFileSync(path.join(tmp, 'ca.crt'), red.iot.ca);

    // What an admin deployed: keys with a session token, the examples' ${ENV} config with the
    // host's chain credentials, IoT from pasted PEM and from files, a chain config whose
    // endpoint echoes what it receives, and one whose endpoint URL carries an API key.
    const iotBase = iotSettings();
    /** Inject `in<s>` sends {"a":1} once, just after the deploy, to sagemaker-invoke `inv<s>` (config `config`, endpoint echo) → `dbg`. */
    const injectedInvoke = (s, config, y) => [
      injectOnce(`in${s}`, `inv${s}`, { y, payload: { a: 1 }, delay: 0.1 }),
      {
        id: `inv${s}`,
        type: 'sagemaker-invoke',
        z: 'sec',
        x: 300,
        y,
        config,
        endpointName: 'echo',
        endpointNameType: 'str',
        wires: [['dbg']],
      },
    ];
    const flow = [
      { id: 'sec', type: 'tab', label: 'security' },
      {
        id: 'cKeys',
        type: 'sagemaker-config',
        credentialType: 'keys',
        region: 'us-east-1',
        endpoint: red.emulatorUrl,
        maxAttempts: '1',
        credentials: { ...STORED, sessionToken: STORED_TOKEN },
      },
      {
        id: 'cKeysNoToken',
        type: 'sagemaker-config',
        credentialType: 'keys',
        region: 'us-east-1',
        endpoint: red.emulatorUrl,
        maxAttempts: '1',
        credentials: { ...STORED },
      },
      {
        id: 'cEnv',
        type: 'sagemaker-config',
        credentialType: 'chain',
        region: '${SEC_REGION}',
        endpoint: '${SEC_EMULATOR_URL}',
        maxAttempts: '1',
      },
      { id: 'cIot', type: 'sagemaker-config', ...iotBase, credentials: { iotCert: red.iot.cert, iotKey: red.iot.key, iotCa: red.iot.ca } },
      {
        id: 'cIotFile',
        type: 'sagemaker-config',
        ...iotBase,
        iotCertFile: path.join(tmp, 'device.crt'),
        iotKeyFile: path.join(tmp, 'device.key'),
        iotCaFile: path.join(tmp, 'ca.crt'),
      },
      { id: 'cLeaky', type: 'sagemaker-config', credentialType: 'chain', region: 'us-east-1', endpoint: leaky.url, maxAttempts: '1' },
      {
        id: 'cQuery',
        type: 'sagemaker-config',
        credentialType: 'keys',
        region: 'us-east-1',
        endpoint: `${red.emulatorUrl}/?apikey=${QUERY_SECRET}#${FRAGMENT_SECRET}`,
        credentials: { ...STORED },
      },
      ...injectedInvoke('Q', 'cQuery', 40),
      // A worker on the echoing endpoint: its message error quotes the chain's session token.
      ...injectedInvoke('L', 'cLeaky', 160),
      ...logEverything({ statusY: 80, catchY: 120, debugX: 500, debugY: 80 }),
    ];
    const deploy = await request(`${red.url}flows`, { token: tokens.admin, json: flow, headers: { 'Node-RED-Deployment-Type': 'full' } });
    assert.equal(deploy.status, 204, deploy.text);
  });

  after(async function () {
    if (red) await red.stop();
    if (capture) await capture.close();
    if (leaky) await leaky.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  function post(route, id, body, token) {
    return request(`${red.url}sagemaker-config/${encodeURIComponent(id)}/${route}`, { token, json: body });
  }

  /** The attacks of the issue, as bodies posted for a config id. */
  /** The settings of the deployed IoT configs (`extra` changes some). */
  function iotSettings(extra = {}) {
    return {
      credentialType: 'iot',
      region: 'us-east-1',
      endpoint: red.emulatorUrl,
      iotCredentialEndpoint: red.iot.endpoint,
      iotRoleAlias: 'sagemaker-emulator',
      iotThingName: 'rel-thing',
      ...extra,
    };
  }

  function attacks() {
    const typed = { accessKeyId: TYPED.accessKeyId, secretAccessKey: TYPED.secretAccessKey };
    // Settings that name `file` as the IoT certificate and key.
    const fileProbe = (file) => ({
      settings: {
        region: 'us-east-1',
        credentialType: 'iot',
        iotCredentialEndpoint: capture.hostPort,
        iotRoleAlias: 'a',
        iotCertFile: file,
        iotKeyFile: file,
      },
    });
    // The deployed IoT configs' settings, with the credentials endpoint moved to the capture host.
    const iotAtCapture = iotSettings({ iotCredentialEndpoint: capture.hostPort });
    return [
      // 1. environment values through ${…} in posted settings (no config node needed)
      [
        'region ${AWS_SECRET_ACCESS_KEY}',
        'any-id',
        { settings: { region: '${AWS_SECRET_ACCESS_KEY}', credentialType: 'keys' }, credentials: typed },
      ],
      ['region ${SEC_ENV_ONLY}', 'any-id', { settings: { region: '${SEC_ENV_ONLY}', credentialType: 'chain' } }],
      [
        'profile ${AWS_SESSION_TOKEN}',
        'any-id',
        { settings: { region: 'us-east-1', credentialType: 'profile', profile: '${AWS_SESSION_TOKEN}' } },
      ],
      [
        'endpoint path ${AWS_SECRET_ACCESS_KEY}',
        'any-id',
        {
          settings: { region: 'us-east-1', credentialType: 'keys', endpoint: `${capture.url}/\${AWS_SECRET_ACCESS_KEY}` },
          credentials: typed,
        },
      ],
      // 2. stored and host credentials aimed at another host
      [
        'stored keys + token to the capture host',
        'cKeys',
        {
          settings: { region: 'us-east-1', credentialType: 'keys', endpoint: capture.url },
          credentials: { accessKeyId: STORED.accessKeyId, secretAccessKey: '__PWRD__', sessionToken: '__PWRD__' },
        },
      ],
      [
        'stored keys, body without credentials',
        'cKeys',
        { settings: { region: 'us-east-1', credentialType: 'keys', endpoint: capture.url } },
      ],
      ['chain to the capture host', 'any-id', { settings: { region: 'us-east-1', credentialType: 'chain', endpoint: capture.url } }],
      [
        'chain of a deployed ${ENV} config to the capture host',
        'cEnv',
        { settings: { region: '${SEC_REGION}', credentialType: 'chain', endpoint: capture.url } },
      ],
      [
        'profile to the capture host',
        'any-id',
        { settings: { region: 'us-east-1', credentialType: 'profile', profile: 'secprof', endpoint: capture.url } },
      ],
      [
        'AssumeRole signed with the chain, at the capture host',
        'any-id',
        {
          settings: {
            region: 'us-east-1',
            credentialType: 'chain',
            endpoint: capture.url,
            roleArn: 'arn:aws:iam::123456789012:role/Attack',
          },
        },
      ],
      [
        'stored IoT certificate to the capture host, attacker CA',
        'cIot',
        {
          settings: iotAtCapture,
          credentials: { iotCert: red.iot.cert, iotKey: '__PWRD__', iotCa: red.iot.ca },
        },
      ],
      [
        'deployed IoT files to the capture host',
        'cIotFile',
        {
          settings: {
            ...iotAtCapture,
            iotCertFile: path.join(tmp, 'device.crt'),
            iotKeyFile: path.join(tmp, 'device.key'),
          },
        },
      ],
      ['file probe: an existing file', 'any-id', fileProbe('/etc/passwd')],
      ['file probe: a missing file', 'any-id', fileProbe('/no/such/file')],
    ];
  }

  it('a read-only user and an anonymous caller get 401/403 from both routes for every attack, and nothing reaches the capture server', async function () {
    capture.reset();
    const statuses = new Set();
    for (const [name, id, body] of attacks()) {
      for (const route of ROUTES) {
        for (const [who, token] of [
          ['reader', tokens.reader],
          ['anonymous', undefined],
        ]) {
          const r = await post(route, id, body, token);
          statuses.add(r.status);
          assert.ok(r.status === 401 || r.status === 403, `${who} ${route} "${name}": HTTP ${r.status} ${r.text}`);
          answers.push([`${who} ${route} ${name}`, r.text]);
        }
      }
    }
    assert.equal(capture.connections, 0, 'connections to the capture server');
    console.log(
      `      reader/anonymous: ${attacks().length} attacks × 2 routes × 2 callers → HTTP ${[...statuses].join('/')}; capture server connections ${capture.connections}`,
    );
  });

  it('form-urlencoded and text/plain bodies get 415 from both routes, whoever sends them, before anything is sent', async function () {
    capture.reset();
    let n = 0;
    for (const [name, id, body] of attacks()) {
      for (const route of ROUTES) {
        for (const [who, token] of [
          ['admin', tokens.admin],
          ['reader', tokens.reader],
          ['anonymous', undefined],
        ]) {
          const url = `${red.url}sagemaker-config/${id}/${route}`;
          const form = await request(url, { token, raw: formEncode(body), contentType: 'application/x-www-form-urlencoded' });
          assert.equal(form.status, 415, `${who} ${route} "${name}" as a form: ${form.text}`);
          const text = await request(url, { token, raw: JSON.stringify(body), contentType: 'text/plain' });
          assert.equal(text.status, 415, `${who} ${route} "${name}" as text/plain: ${text.text}`);
          const none = await request(url, { token });
          assert.equal(none.status, 415, `${who} ${route} with no body`);
          answers.push([`${who} ${route} ${name} (form)`, form.text + text.text]);
          n += 3;
        }
      }
    }
    assert.equal(capture.connections, 0, 'connections to the capture server');
    console.log(`      non-JSON bodies: ${n} posts → 415; capture server connections ${capture.connections}`);
  });

  it('an admin replaying the attacks gets a clear refusal: no environment value, stored or host secret in any answer, nothing sent to the capture server', async function () {
    capture.reset();
    const results = {};
    for (const [name, id, body] of attacks()) {
      for (const route of ROUTES) {
        const r = await post(route, id, body, tokens.admin);
        assert.equal(r.status, 200, `${route} "${name}": ${r.text}`);
        const answer = JSON.parse(r.text);
        assert.equal(answer.ok, false, `${route} "${name}" must be refused: ${r.text}`);
        results[`${route} ${name}`] = answer.error;
        answers.push([`admin ${route} ${name}`, r.text]);
      }
    }
    assert.equal(capture.connections, 0, 'connections to the capture server');
    assert.match(results['test region ${AWS_SECRET_ACCESS_KEY}'], /^Region holds \$\{…\}/);
    assert.match(results['endpoints endpoint path ${AWS_SECRET_ACCESS_KEY}'], /^Endpoint URL holds \$\{…\}/);
    assert.match(
      results['test stored keys + token to the capture host'],
      /stored credentials are used only with the deployed endpoint URL/,
    );
    assert.match(results['test chain to the capture host'], /Credential type "chain" uses the credentials of the Node-RED host/);
    assert.match(results['endpoints profile to the capture host'], /Credential type "profile"/);
    assert.match(results['test stored IoT certificate to the capture host, attacker CA'], /stored credentials are used only/);
    assert.match(results['test deployed IoT files to the capture host'], /IoT certificate file is read only as deployed/);
    // No file-existence oracle: the same answer for a file that exists and one that does not.
    for (const route of ROUTES)
      assert.equal(results[`${route} file probe: an existing file`], results[`${route} file probe: a missing file`]);
    console.log(`      admin replay: ${Object.keys(results).length} refusals; capture server connections ${capture.connections}`);
  });

  it('the admin’s Test connection and endpoint list work against the emulator: typed keys, stored keys, a ${ENV} config with the host’s chain, IoT from PEM and from files', async function () {
    const before = (await red.collect()).stats.requests;
    const cases = [
      [
        'typed keys, new node',
        'new-node',
        { settings: { region: 'us-east-1', credentialType: 'keys', endpoint: red.emulatorUrl }, credentials: { ...TYPED } },
      ],
      [
        'stored keys (editor shows __PWRD__)',
        'cKeysNoToken',
        {
          settings: { region: 'us-east-1', credentialType: 'keys', endpoint: red.emulatorUrl, maxAttempts: '1' },
          credentials: { accessKeyId: STORED.accessKeyId, secretAccessKey: '__PWRD__', sessionToken: '__PWRD__' },
        },
      ],
      [
        '${ENV} fields as deployed, chain',
        'cEnv',
        { settings: { region: '${SEC_REGION}', credentialType: 'chain', endpoint: '${SEC_EMULATOR_URL}', maxAttempts: '1' } },
      ],
      [
        'worker editor: the deployed ${ENV} config’s properties, no credentials',
        'cEnv',
        { settings: { region: '${SEC_REGION}', credentialType: 'chain', endpoint: '${SEC_EMULATOR_URL}' }, credentials: {} },
      ],
      [
        'IoT, stored PEM',
        'cIot',
        {
          settings: iotSettings(),
          credentials: { iotCert: red.iot.cert, iotKey: '__PWRD__', iotCa: red.iot.ca },
        },
      ],
      [
        'IoT, deployed file paths',
        'cIotFile',
        {
          settings: iotSettings({
            iotCertFile: path.join(tmp, 'device.crt'),
            iotKeyFile: path.join(tmp, 'device.key'),
            iotCaFile: path.join(tmp, 'ca.crt'),
          }),
        },
      ],
    ];
    for (const [name, id, body] of cases) {
      const t = await post('test', id, body, tokens.admin);
      assert.equal(t.status, 200, t.text);
      const test = JSON.parse(t.text);
      assert.equal(test.ok, true, `Test connection, ${name}: ${t.text}`);
      assert.equal(test.account, '123456789012');
      const l = await post('endpoints', id, body, tokens.admin);
      const list = JSON.parse(l.text);
      assert.equal(list.ok, true, `endpoint list, ${name}: ${l.text}`);
      for (const e of ['echo', 'sensor-anomaly', 'text-generator']) assert.ok(list.endpoints.includes(e), `${name}: ${l.text}`);
      answers.push([`admin ok ${name}`, t.text + l.text]);
    }
    const snap = await red.collect();
    const after = snap.stats.requests;
    assert.equal((after.GetCallerIdentity ?? 0) - (before.GetCallerIdentity ?? 0), cases.length);
    assert.equal((after.ListEndpoints ?? 0) - (before.ListEndpoints ?? 0), cases.length);
    console.log(
      `      admin legitimate use: ${cases.length} configurations × Test connection + endpoint list → all ok against the emulator`,
    );
  });

  it('secrets echoed back by an endpoint are scrubbed from answers: the host’s chain token at a deployed endpoint, keys the admin typed', async function () {
    leaky.reset();
    // cLeaky: a deployed chain config whose endpoint reflects the request (its own choice).
    const body = { settings: { region: 'us-east-1', credentialType: 'chain', endpoint: leaky.url, maxAttempts: '1' } };
    for (const route of ROUTES) {
      const r = await post(route, 'cLeaky', body, tokens.admin);
      const answer = JSON.parse(r.text);
      assert.equal(answer.ok, false, r.text);
      assert.match(answer.error, /captured/, 'the reflected text itself comes back');
      assert.ok(!r.text.includes(CHAIN_TOKEN) && !r.text.includes(CHAIN.secretAccessKey), `${route}: ${r.text}`);
      answers.push([`admin leaky ${route}`, r.text]);
    }
    assert.ok(
      leaky.requests.some((q) => q.headers['x-amz-security-token'] === CHAIN_TOKEN),
      'the deployed endpoint received the chain token (so the scrub was needed)',
    );

    // Keys typed in the form are the admin's own and may go to any host; the answer still hides them.
    capture.reset();
    const typed = {
      settings: { region: 'us-east-1', credentialType: 'keys', endpoint: capture.url, maxAttempts: '1' },
      credentials: { ...TYPED, sessionToken: 'secTypedSessionToken+HHHH' },
    };
    for (const route of ROUTES) {
      const r = await post(route, 'cKeys', typed, tokens.admin);
      assert.equal(JSON.parse(r.text).ok, false);
      assert.ok(!r.text.includes(TYPED.secretAccessKey) && !r.text.includes('secTypedSessionToken+HHHH'), `${route}: ${r.text}`);
      answers.push([`admin typed ${route}`, r.text]);
    }
    assert.ok(capture.requests.length >= 2);
    const received = JSON.stringify(capture.requests);
    for (const s of [STORED.accessKeyId, STORED_TOKEN, CHAIN.accessKeyId, CHAIN_TOKEN, PROFILE.accessKeyId]) {
      assert.ok(!received.includes(s), `the capture server received ${s.slice(0, 10)}…`);
    }
    console.log(
      `      reflected secrets: deployed chain endpoint got the token ${leaky.requests.length}× and the answers hid it; typed keys reached the admin's host ${capture.requests.length}× with no stored or host credential`,
    );
  });

  it('no secret or URL credential appears in any answer, log line, status, message error or the child’s output', async function () {
    const snap = await red.collect();
    const logs = snap.logs.join('\n');
    // The config with an API key in its endpoint URL: its warning, status and message error.
    assert.match(
      logs,
      /Endpoint URL must be an http:\/\/ or https:\/\/ URL without user name, password, query or fragment: http:\/\/127\.0\.0\.1:\d+\?\*\*\*#\*\*\*/,
    );
    // The worker on the echoing endpoint: the error arrived (with the echo), the token did not.
    assert.match(logs, /UnrecognizedClientException/);
    assert.match(logs, /captured/);
    const findings = [];
    for (const [where, text] of answers) findings.push(...leaks(where, text, keyLines));
    findings.push(...leaks('log', logs, keyLines));
    findings.push(...leaks('child stdout/stderr', red.stdio(), keyLines));
    console.log(
      `      swept ${answers.length} answers, ${snap.logs.length} log lines and the child's output for ${SECRETS.length + keyLines.length} secrets: ${findings.length} found`,
    );
    assert.deepEqual(findings, []);
  });
});

describe('security: sagemaker-config admin routes without adminAuth (cross-site pages)', function () {
  this.timeout(60000);
  let tmp;
  let red;
  let capture;

  before(async function () {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smr-security-open-'));
    capture = await startCapture();
    red = await startChild(tmp, { adminAuth: undefined, env: childEnv(tmp) });
  });
  after(async function () {
    if (red) await red.stop();
    if (capture) await capture.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('a form, text/plain or multipart post (what any web page can send) gets 415, a cross-site JSON post 403, and nothing is sent; the editor’s own call works', async function () {
    const body = { settings: { region: 'us-east-1', credentialType: 'chain', endpoint: capture.url } };
    const origin = 'https://attacker.example';
    let preflightAllowed;
    for (const route of ROUTES) {
      const url = `${red.url}sagemaker-config/any-id/${route}`;
      const form = await request(url, { raw: formEncode(body), contentType: 'application/x-www-form-urlencoded', headers: { origin } });
      assert.equal(form.status, 415, form.text);
      const text = await request(url, { raw: JSON.stringify(body), contentType: 'text/plain', headers: { origin } });
      assert.equal(text.status, 415, text.text);
      const multipart = await request(url, {
        raw: '--b\r\nContent-Disposition: form-data; name="settings"\r\n\r\nx\r\n--b--\r\n',
        contentType: 'multipart/form-data; boundary=b',
        headers: { origin },
      });
      assert.equal(multipart.status, 415, multipart.text);
      // A JSON body from a page needs a CORS preflight, which Node-RED's admin API grants to
      // any origin; the browser then marks the request cross-site, and the route refuses it.
      const preflight = await request(url, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });
      preflightAllowed = preflight.headers.get('access-control-allow-origin');
      for (const site of ['cross-site', 'same-site']) {
        const json = await request(url, { json: body, headers: { origin, 'sec-fetch-site': site, 'sec-fetch-mode': 'cors' } });
        assert.equal(json.status, 403, json.text);
      }
    }
    // Even same-origin JSON with the host's chain towards a host no deployed node names is refused.
    const json = await request(`${red.url}sagemaker-config/any-id/test`, { json: body });
    assert.match(JSON.parse(json.text).error, /Credential type "chain"/);
    assert.equal(capture.connections, 0);
    const snap = await red.collect();
    assert.deepEqual(leaks('log', snap.logs.join('\n')), []);
    // The editor's own call (same origin) still works.
    const own = await request(`${red.url}sagemaker-config/new-node/endpoints`, {
      json: { settings: { region: 'us-east-1', credentialType: 'keys', endpoint: red.emulatorUrl }, credentials: { ...TYPED } },
      headers: { 'sec-fetch-site': 'same-origin' },
    });
    assert.equal(JSON.parse(own.text).ok, true, own.text);
    console.log(
      `      no adminAuth: form, text/plain and multipart posts → 415; CORS preflight answered with allow-origin ${preflightAllowed}, then cross-site JSON → 403; capture server connections ${capture.connections}`,
    );
  });
});
