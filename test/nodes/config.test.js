'use strict';
// sagemaker-config over real HTTP: each credential mode signs requests the emulator accepts,
// assume role goes through the emulator's STS, the timeout cuts a hung model, bad settings
// become configError, and secrets stay out of the flow and the log.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { helper } = require('../helper');
const { useIsolatedAws } = require('./config-helpers');
const { InvokeEndpointCommand, InvokeEndpointWithResponseStreamCommand } = require('@aws-sdk/client-sagemaker-runtime');
const { ListObjectsV2Command } = require('@aws-sdk/client-s3');
const configNode = require('../../nodes/sagemaker-config.js');

const SECRET = 'S3cr3t-Sh0uld-N3ver-Appear-In-Logs';
const TOKEN = 'T0ken-Sh0uld-N3ver-Appear-Either';
const KEY_ID = 'AKIANODEREDTEST0001';

function invokeEcho(node, body = 'hello') {
  return node.runtimeClient().send(new InvokeEndpointCommand({ EndpointName: 'echo', Body: body, ContentType: 'text/plain' }));
}

function lastInvoke(emu) {
  return emu
    .received()
    .filter((r) => r.operation === 'InvokeEndpoint')
    .pop();
}

function logText() {
  return JSON.stringify(helper.log().args);
}

describe('sagemaker-config node', function () {
  let emu;
  let tmp;
  useIsolatedAws({ accessKeyId: KEY_ID, secretAccessKey: SECRET }, {}, (e, dir) => {
    emu = e;
    tmp = dir;
  });

  /** Opens a response stream through the runtime client of config node `c1`. */
  function openStream(endpointName) {
    const input = { EndpointName: endpointName, Body: '{"inputs":"x"}', ContentType: 'application/json' };
    return helper.getNode('c1').runtimeClient().send(new InvokeEndpointWithResponseStreamCommand(input));
  }

  function keysFlow(extra = {}) {
    return [{ id: 'c1', type: 'sagemaker-config', name: 'emu', region: 'us-east-1', credentialType: 'keys', endpoint: emu.url, ...extra }];
  }

  it('loads without errors, with the documented defaults', async function () {
    await helper.load(configNode, [{ id: 'c1', type: 'sagemaker-config' }]);
    const n = helper.getNode('c1');
    assert.ok(n);
    assert.equal(n.configError, undefined);
    assert.equal(n.region, undefined);
    assert.equal(n.timeoutMs, 70000);
  });

  it('keys mode signs requests the emulator accepts, and builds each client once', async function () {
    await helper.load(configNode, keysFlow(), { c1: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const n = helper.getNode('c1');
    const r = await invokeEcho(n, 'ping');
    assert.equal(Buffer.from(r.Body).toString(), 'ping');
    assert.equal(n.runtimeClient(), n.runtimeClient());
    assert.equal(n.s3Client(), n.s3Client());
    assert.equal(await n.resolveRegion(), 'us-east-1');
    const auth = lastInvoke(emu).headers.authorization;
    assert.match(auth, /^AWS4-HMAC-SHA256 Credential=test\/\d{8}\/us-east-1\/sagemaker\/aws4_request/);
  });

  it('a trailing slash on the endpoint URL is removed (no // in the request path)', async function () {
    await helper.load(configNode, keysFlow({ endpoint: `${emu.url}/` }), { c1: { accessKeyId: 'test', secretAccessKey: 'test' } });
    await invokeEcho(helper.getNode('c1'));
    assert.equal(lastInvoke(emu).path, '/endpoints/echo/invocations');
  });

  it('a wrong secret gives a clear 403 error, and the secret is in no log line', async function () {
    const bad = `${SECRET}-wrong`;
    await helper.load(configNode, keysFlow({ maxAttempts: '1' }), { c1: { accessKeyId: KEY_ID, secretAccessKey: bad } });
    const err = await invokeEcho(helper.getNode('c1')).then(
      () => null,
      (e) => e,
    );
    assert.ok(err, 'the call must fail');
    assert.equal(err.$metadata.httpStatusCode, 403);
    assert.match(`${err.name} ${err.message}`, /signature/i);
    assert.doesNotMatch(String(err.message), new RegExp(bad));
    assert.doesNotMatch(logText(), /S3cr3t/);
  });

  it('deployed credentials are kept out of the flow definition and the node properties', async function () {
    await helper.load(configNode, []);
    await helper.setFlows(
      [
        {
          id: 'c1',
          type: 'sagemaker-config',
          region: 'us-east-1',
          credentialType: 'keys',
          endpoint: emu.url,
          credentials: { accessKeyId: KEY_ID, secretAccessKey: SECRET, sessionToken: '' },
        },
      ],
      'full',
    );
    const n = helper.getNode('c1');
    const r = await invokeEcho(n, 'deployed');
    assert.equal(Buffer.from(r.Body).toString(), 'deployed');
    const exported = JSON.stringify(helper._redNodes.getFlows());
    assert.doesNotMatch(exported, /S3cr3t/);
    const def = exported && helper._redNodes.getFlows().flows.find((f) => f.id === 'c1');
    assert.equal(def.credentials, undefined);
    const ownProps = Object.keys(n).filter((k) => k !== 'credentials' && k !== '_events' && k !== '_flow' && k !== '_alias');
    for (const k of ownProps) {
      let text;
      try {
        text = JSON.stringify(n[k]);
      } catch {
        text = '';
      }
      assert.doesNotMatch(String(text), /S3cr3t/, `node property ${k}`);
    }
    assert.doesNotMatch(logText(), /S3cr3t/);
  });

  it('keys mode sends the session token', async function () {
    // The emulator refuses (and records nothing of) a token it did not issue, so a bare server
    // on 127.0.0.1 captures what the node puts on the wire.
    const http = require('node:http');
    const seen = [];
    const capture = http.createServer((req, res) => {
      seen.push(req.headers);
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'));
    });
    await new Promise((resolve) => capture.listen(0, '127.0.0.1', resolve));
    try {
      const endpoint = `http://127.0.0.1:${capture.address().port}`;
      await helper.load(configNode, keysFlow({ maxAttempts: '1', endpoint }), {
        c1: { accessKeyId: 'test', secretAccessKey: 'test', sessionToken: TOKEN },
      });
      await invokeEcho(helper.getNode('c1'));
      assert.equal(seen.length, 1);
      assert.equal(seen[0]['x-amz-security-token'], TOKEN);
      assert.doesNotMatch(logText(), new RegExp(TOKEN));
    } finally {
      capture.closeAllConnections();
      await new Promise((resolve) => capture.close(resolve));
    }
  });

  it('profile mode reads a temporary shared credentials file, region from the profile', async function () {
    const credFile = path.join(tmp, 'credentials-profile');
    const cfgFile = path.join(tmp, 'config-profile');
    fs.writeFileSync(credFile, '[emu]\naws_access_key_id = test\naws_secret_access_key = test\n');
    fs.writeFileSync(cfgFile, '[profile emu]\nregion = us-east-1\n');
    process.env.AWS_SHARED_CREDENTIALS_FILE = credFile;
    process.env.AWS_CONFIG_FILE = cfgFile;
    await helper.load(configNode, [{ id: 'c1', type: 'sagemaker-config', credentialType: 'profile', profile: 'emu', endpoint: emu.url }]);
    const n = helper.getNode('c1');
    assert.equal(n.configError, undefined);
    const r = await invokeEcho(n, 'from profile');
    assert.equal(Buffer.from(r.Body).toString(), 'from profile');
    assert.equal(await n.resolveRegion(), 'us-east-1');
  });

  it('an unknown profile fails the first call with a message naming the profile, without crashing', async function () {
    const credFile = path.join(tmp, 'credentials-other');
    fs.writeFileSync(credFile, '[other]\naws_access_key_id = test\naws_secret_access_key = test\n');
    process.env.AWS_SHARED_CREDENTIALS_FILE = credFile;
    await helper.load(configNode, [
      { id: 'c1', type: 'sagemaker-config', region: 'us-east-1', credentialType: 'profile', profile: 'no-such-profile', endpoint: emu.url },
    ]);
    const n = helper.getNode('c1');
    assert.equal(n.configError, undefined);
    const before = emu.stats().requests.InvokeEndpoint ?? 0;
    await assert.rejects(invokeEcho(n), /no-such-profile/);
    assert.equal(emu.stats().requests.InvokeEndpoint ?? 0, before, 'nothing was sent');
  });

  it('chain mode takes AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY and AWS_REGION from the environment', async function () {
    process.env.AWS_ACCESS_KEY_ID = KEY_ID;
    process.env.AWS_SECRET_ACCESS_KEY = SECRET;
    process.env.AWS_REGION = 'us-east-1';
    await helper.load(configNode, [{ id: 'c1', type: 'sagemaker-config', region: '', credentialType: 'chain', endpoint: emu.url }]);
    const n = helper.getNode('c1');
    const r = await invokeEcho(n, 'from env');
    assert.equal(Buffer.from(r.Body).toString(), 'from env');
    assert.equal(await n.resolveRegion(), 'us-east-1');
    assert.match(lastInvoke(emu).headers.authorization, new RegExp(`Credential=${KEY_ID}/`));
  });

  it('roleArn assumes the role through the STS at AWS_ENDPOINT_URL_STS and signs with session credentials', async function () {
    process.env.AWS_ENDPOINT_URL_STS = emu.url;
    emu.resetStats();
    await helper.load(
      configNode,
      keysFlow({
        roleArn: 'arn:aws:iam::123456789012:role/NodeRedTest',
        externalId: 'ext-42',
        s3Endpoint: emu.s3Url,
        s3ForcePathStyle: true,
      }),
      { c1: { accessKeyId: 'test', secretAccessKey: 'test' } },
    );
    const n = helper.getNode('c1');
    await invokeEcho(n, 'one');
    await invokeEcho(n, 'two');
    const invoke = lastInvoke(emu);
    assert.ok(invoke.headers['x-amz-security-token'], 'session token on the invoke');
    assert.match(invoke.headers.authorization, /Credential=ASIA/);
    await n.s3Client().send(new ListObjectsV2Command({ Bucket: 'sagemaker-emulator', MaxKeys: 1 }));
    assert.equal(emu.stats().requests.AssumeRole, 1, 'one AssumeRole shared by both clients');
    const assume = emu
      .received()
      .filter((r) => r.operation === 'AssumeRole')
      .pop();
    const params = new URLSearchParams(assume.body.toString());
    assert.equal(params.get('RoleArn'), 'arn:aws:iam::123456789012:role/NodeRedTest');
    assert.equal(params.get('ExternalId'), 'ext-42');
    assert.equal(params.get('RoleSessionName'), 'node-red-c1');
  });

  it('roleArn without AWS_ENDPOINT_URL_STS uses the custom (non-AWS) endpoint for STS', async function () {
    emu.resetStats();
    await helper.load(configNode, keysFlow({ roleArn: 'arn:aws:iam::123456789012:role/Other', roleSessionName: 'my-session' }), {
      c1: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    await invokeEcho(helper.getNode('c1'));
    assert.ok(emu.stats().requests.AssumeRole >= 1);
    assert.ok(lastInvoke(emu).headers['x-amz-security-token']);
    const assume = emu
      .received()
      .filter((r) => r.operation === 'AssumeRole')
      .pop();
    assert.equal(new URLSearchParams(assume.body.toString()).get('RoleSessionName'), 'my-session');
  });

  it('the timeout cuts a model that never answers with a TimeoutError', async function () {
    emu.setEndpoint('hung', { model: 'echo', faults: [{ kind: 'hang' }] });
    await helper.load(configNode, keysFlow({ timeout: '0.5', maxAttempts: '1' }), { c1: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const n = helper.getNode('c1');
    assert.equal(n.timeoutMs, 500);
    const err = await n
      .runtimeClient()
      .send(new InvokeEndpointCommand({ EndpointName: 'hung', Body: 'x' }))
      .then(
        () => null,
        (e) => e,
      );
    assert.ok(err, 'the call must fail');
    assert.equal(err.name, 'TimeoutError');
    assert.match(err.message, /timed out/);
  });

  it('the timeout is an idle timeout: a stream longer than it that keeps sending parts completes', async function () {
    // 8 parts 200 ms apart (≈1.5 s in all) with a 0.5 s timeout.
    emu.setEndpoint('slow-gen', { model: 'text-generator', textGenerator: { tokens: 8, delayMs: 200 } });
    await helper.load(configNode, keysFlow({ timeout: '0.5', maxAttempts: '1' }), { c1: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const r = await openStream('slow-gen');
    let parts = 0;
    for await (const event of r.Body) if (event.PayloadPart) parts += 1;
    assert.equal(parts, 8);
  });

  it('the timeout cuts a stream that stalls after its first parts', async function () {
    emu.setEndpoint('stalled-gen', {
      model: 'text-generator',
      textGenerator: { tokens: 8 },
      faults: [{ kind: 'stream-stall', afterParts: 2 }],
    });
    await helper.load(configNode, keysFlow({ timeout: '0.5', maxAttempts: '1' }), { c1: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const r = await openStream('stalled-gen');
    let parts = 0;
    const err = await (async () => {
      for await (const event of r.Body) if (event.PayloadPart) parts += 1;
    })().then(
      () => null,
      (e) => e,
    );
    assert.ok(err, 'the stream must fail');
    assert.equal(parts, 2);
    assert.match(`${err.name} ${err.message}`, /TimeoutError|timed out/);
  });

  describe('bad settings', function () {
    async function loadBad(def, creds) {
      await helper.load(configNode, [{ id: 'c1', type: 'sagemaker-config', ...def }], creds ? { c1: creds } : {});
      const n = helper.getNode('c1');
      assert.ok(n.configError, 'configError is set');
      assert.throws(
        () => n.runtimeClient(),
        (e) => e instanceof Error && e.message === n.configError,
      );
      assert.throws(
        () => n.s3Client(),
        (e) => e.message === n.configError,
      );
      await assert.rejects(n.resolveRegion(), (e) => e.message === n.configError);
      const warnings = helper
        .log()
        .args.map((a) => a[0])
        .filter((e) => e.level === helper.log().WARN && e.id === 'c1');
      assert.equal(warnings.length, 1, 'one warning in the log');
      assert.equal(warnings[0].msg, n.configError);
      return n;
    }

    it('a malformed region becomes configError naming it', async function () {
      const n = await loadBad({ region: 'moon-base' });
      assert.match(n.configError, /moon-base/);
      assert.equal(n.region, 'moon-base');
    });

    it('a malformed endpoint URL becomes configError naming the field', async function () {
      const n = await loadBad({ region: 'us-east-1', endpoint: 'localhost:9080' });
      assert.match(n.configError, /Endpoint URL/);
      const m = await (async () => {
        await helper.unload();
        return loadBad({ s3Endpoint: 'ftp://x' });
      })();
      assert.match(m.configError, /S3 endpoint URL/);
    });

    it('keys mode with no key becomes configError, without secrets in it or in the log', async function () {
      const n = await loadBad({ credentialType: 'keys' }, { secretAccessKey: SECRET });
      assert.match(n.configError, /access key ID/);
      assert.doesNotMatch(logText(), /S3cr3t/);
    });

    it('an out-of-range timeout or maxAttempts becomes configError', async function () {
      const n = await loadBad({ timeout: '0.01' });
      assert.match(n.configError, /Timeout/);
      await helper.unload();
      const m = await loadBad({ maxAttempts: '20' });
      assert.match(m.configError, /Max attempts/);
    });

    /** The status node `id` showed last. */
    function lastStatus(id) {
      const node = helper.getNode(id);
      return helper._NodePrototype.status
        .getCalls()
        .filter((c) => c.thisValue === node)
        .pop().args[0];
    }
    /** Sends node `id` a message; resolves with the text of the error it fails with. */
    async function errorOfNext(id) {
      const node = helper.getNode(id);
      const failed = new Promise((resolve) => node.on('call:error', (call) => resolve(call)));
      node.receive({ payload: 'x' });
      const call = await failed;
      return String(call.args[0].message ?? call.args[0]);
    }

    it('a worker node using an unusable config shows a red ring with the reason and fails each message with it', async function () {
      const invokeNode = require('../../nodes/sagemaker-invoke.js');
      await helper.load(
        [configNode, invokeNode],
        [
          { id: 'c1', type: 'sagemaker-config', region: 'moon-base' },
          { id: 'w1', type: 'sagemaker-invoke', config: 'c1', endpointName: 'echo', endpointNameType: 'str', wires: [[]] },
        ],
      );
      const status = lastStatus('w1');
      assert.equal(status.fill, 'red');
      assert.equal(status.shape, 'ring');
      assert.match(status.text, /moon-base/);
      assert.match(await errorOfNext('w1'), /moon-base/);
    });

    it('a worker node whose config node is missing shows a red ring and fails each message', async function () {
      const invokeNode = require('../../nodes/sagemaker-invoke.js');
      await helper.load(
        [configNode, invokeNode],
        [{ id: 'w1', type: 'sagemaker-invoke', config: 'gone', endpointName: 'echo', endpointNameType: 'str', wires: [[]] }],
      );
      assert.equal(lastStatus('w1').fill, 'red');
      assert.match(await errorOfNext('w1'), /sagemaker-config/);
    });

    it('closing a config node that never built a client is fine', async function () {
      await loadBad({ region: 'nowhere' });
      await helper.unload();
    });
  });
});
