'use strict';
const assert = require('node:assert/strict');
const { InvokeEndpointCommand } = require('@aws-sdk/client-sagemaker-runtime');
const { startEmulator } = require('../../dist/emulator');
const { runtimeClient, captureResponses, rawRequest, rejection, startContainer } = require('./util');

const invoke = (client, input) => client.send(new InvokeEndpointCommand({ Body: 'x', ...input }));

describe('emulator InvokeEndpoint (real SDK over HTTP)', function () {
  let emu;
  let client;
  let container;
  let containerUrl;

  before(async function () {
    // A tiny model container: GET /ping, POST /invocations (body "fail" → 500).
    container = await startContainer((req, res) => {
      if (req.method === 'GET' && req.url === '/ping') return res.end();
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        if (body === 'fail') {
          res.writeHead(500, { 'content-type': 'text/plain' });
          return res.end('model crashed');
        }
        res.writeHead(200, { 'content-type': 'application/json', 'x-amzn-sagemaker-custom-attributes': 'from-container' });
        res.end(
          JSON.stringify({
            got: body,
            contentType: req.headers['content-type'],
            accept: req.headers.accept,
            attrs: req.headers['x-amzn-sagemaker-custom-attributes'],
          }),
        );
      });
    });
    containerUrl = container.url;
    emu = await startEmulator({
      port: 0,
      seed: 7,
      endpoints: {
        'my-container': { model: 'proxy', proxyUrl: containerUrl },
        'dead-container': { model: 'proxy', proxyUrl: 'http://127.0.0.1:1' },
        slow: { model: 'echo', latencyMs: 150 },
      },
    });
    client = runtimeClient(emu);
  });

  after(async function () {
    client.destroy();
    await emu.close();
    await container.close();
  });

  it('round-trips every InvokeEndpoint field through echo and reflects each SageMaker header', async function () {
    const c = runtimeClient(emu);
    const raw = captureResponses(c);
    const out = await invoke(c, {
      EndpointName: 'echo',
      Body: '{"a":1}',
      ContentType: 'application/json',
      Accept: 'application/json',
      CustomAttributes: 'trace=abc',
      TargetModel: 'model-a.tar.gz',
      TargetVariant: 'variant-b',
      TargetContainerHostname: 'container-1',
      InferenceId: 'inf-42',
      EnableExplanations: '`true`',
      InferenceComponentName: 'component-1',
      SessionId: 'NEW_SESSION',
      PrefixAwareId: 'prefix-9',
    });
    assert.equal(Buffer.from(out.Body).toString(), '{"a":1}');
    assert.equal(out.ContentType, 'application/json');
    assert.equal(out.CustomAttributes, 'trace=abc');
    assert.equal(out.InvokedProductionVariant, 'variant-b');
    assert.match(out.NewSessionId, /^[0-9a-f-]{36}; Expires=\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    const h = raw[0].headers;
    const echoed = {
      'content-type': 'application/json',
      accept: 'application/json',
      'x-amzn-sagemaker-custom-attributes': 'trace=abc',
      'x-amzn-sagemaker-target-model': 'model-a.tar.gz',
      'x-amzn-sagemaker-target-variant': 'variant-b',
      'x-amzn-sagemaker-target-container-hostname': 'container-1',
      'x-amzn-sagemaker-inference-id': 'inf-42',
      'x-amzn-sagemaker-enable-explanations': '`true`',
      'x-amzn-sagemaker-inference-component': 'component-1',
      'x-amzn-sagemaker-session-id': 'NEW_SESSION',
      'x-amzn-sagemaker-prefix-aware-id': 'prefix-9',
    };
    for (const [name, value] of Object.entries(echoed)) assert.equal(h[`x-emulator-echo-${name}`], value, name);
    assert.ok(h['x-amzn-requestid']);
    assert.ok(!Number.isNaN(Date.parse(h.date)), 'a real Date header');
    assert.ok(Math.abs(Date.parse(h.date) - Date.now()) < 5000);

    const sessionId = out.NewSessionId.split(';')[0];
    const closed = await invoke(c, { EndpointName: 'echo', SessionId: sessionId, CustomAttributes: 'close-session' });
    assert.equal(closed.ClosedSessionId, sessionId);
    c.destroy();
  });

  it('sends application/octet-stream when ContentType is omitted and answers AllTraffic by default', async function () {
    const out = await invoke(client, { EndpointName: 'echo', Body: Buffer.from([0, 1, 2, 255]) });
    assert.deepEqual([...out.Body], [0, 1, 2, 255]);
    assert.equal(out.ContentType, 'application/octet-stream');
    assert.equal(out.InvokedProductionVariant, 'AllTraffic');
  });

  it('answers an unknown endpoint with the service ValidationError naming endpoint and account', async function () {
    const err = await rejection(invoke(client, { EndpointName: 'no-such-endpoint' }));
    assert.equal(err.name, 'ValidationError');
    assert.equal(err.message, 'Endpoint no-such-endpoint of account 123456789012 not found.');
    assert.equal(err.$metadata.httpStatusCode, 400);
    assert.ok(err.$metadata.requestId);
  });

  it('rejects an endpoint name that breaks the pattern and header values over their limits', async function () {
    let err = await rejection(invoke(client, { EndpointName: 'bad name/x' }));
    assert.equal(err.name, 'ValidationError');
    assert.match(err.message, /endpointName.*regular expression/);
    err = await rejection(invoke(client, { EndpointName: 'echo', CustomAttributes: 'a'.repeat(1025) }));
    assert.equal(err.name, 'ValidationError');
    assert.match(err.message, /customAttributes.*1024/);
    err = await rejection(invoke(client, { EndpointName: 'echo', InferenceId: 'i'.repeat(65) }));
    assert.match(err.message, /inferenceId.*64/);
    err = await rejection(invoke(client, { EndpointName: 'echo', SessionId: 'not a session' }));
    assert.match(err.message, /sessionId/);
  });

  it('rejects a body over 6 MiB with ValidationError', async function () {
    const err = await rejection(invoke(client, { EndpointName: 'echo', Body: Buffer.alloc(6 * 1024 * 1024 + 1) }));
    assert.equal(err.name, 'ValidationError');
    assert.equal(err.$metadata.httpStatusCode, 413);
    assert.match(err.message, /6291456/);
  });

  describe('error shapes and SDK retries', function () {
    const cases = [
      ['throttle', 'ThrottlingException', 400, 'Rate exceeded'],
      ['not-ready', 'ModelNotReadyException', 429],
      ['internal', 'InternalFailure', 500],
      ['unavailable', 'ServiceUnavailable', 503],
      ['dependency', 'InternalDependencyException', 530],
    ];
    for (const [kind, name, status, message] of cases) {
      it(`fault ${kind} arrives as ${name} with HTTP ${status}`, async function () {
        emu.setEndpoint(`fault-${kind}`, { model: 'echo', faults: [{ kind }] });
        const c = runtimeClient(emu, { maxAttempts: 1 });
        const err = await rejection(invoke(c, { EndpointName: `fault-${kind}` }));
        c.destroy();
        assert.equal(err.name, name);
        assert.equal(err.$metadata.httpStatusCode, status);
        assert.ok(err.$metadata.requestId);
        if (message) assert.equal(err.message, message);
      });
    }

    it('ModelError carries OriginalStatusCode, OriginalMessage and LogStreamArn and is not retried', async function () {
      emu.setEndpoint('broken-model', {
        model: 'echo',
        faults: [{ kind: 'model-error', originalStatusCode: 400, originalMessage: 'bad tensor shape' }],
      });
      const err = await rejection(invoke(client, { EndpointName: 'broken-model' }));
      assert.equal(err.name, 'ModelError');
      assert.equal(err.$fault, 'client');
      assert.equal(err.OriginalStatusCode, 400);
      assert.equal(err.OriginalMessage, 'bad tensor shape');
      assert.match(
        err.LogStreamArn,
        /^arn:aws:logs:us-east-1:123456789012:log-group:\/aws\/sagemaker\/Endpoints\/broken-model:log-stream:AllTraffic\//,
      );
      assert.match(err.message, /^Received client error \(400\) from primary with message "bad tensor shape"/);
      assert.equal(err.$metadata.httpStatusCode, 424);
      assert.equal(err.$metadata.attempts, 1);
    });

    it('retries throttling: two injected ThrottlingExceptions then success take 3 attempts', async function () {
      emu.setEndpoint('flaky', { model: 'echo', faults: [{ kind: 'throttle', times: 2 }] });
      const out = await invoke(client, { EndpointName: 'flaky', Body: 'ok' });
      assert.equal(Buffer.from(out.Body).toString(), 'ok');
      assert.equal(out.$metadata.attempts, 3);
    });

    it('retries a connection reset and then succeeds', async function () {
      emu.setEndpoint('resetting', { model: 'echo', faults: [{ kind: 'reset', times: 1 }] });
      const out = await invoke(client, { EndpointName: 'resetting', Body: 'ok' });
      assert.equal(Buffer.from(out.Body).toString(), 'ok');
      assert.equal(out.$metadata.attempts, 2);
    });

    it('a hanging model is cut by the client request timeout', async function () {
      emu.setEndpoint('hung', { model: 'echo', faults: [{ kind: 'hang' }] });
      const c = runtimeClient(emu, { maxAttempts: 1, requestHandler: { requestTimeout: 300, throwOnRequestTimeout: true } });
      const err = await rejection(invoke(c, { EndpointName: 'hung' }));
      c.destroy();
      assert.equal(err.name, 'TimeoutError');
    });

    it('applies seeded rate faults deterministically', async function () {
      const outcomes = async (seed) => {
        const e = await startEmulator({ port: 0, seed, endpoints: { half: { model: 'echo', faults: [{ kind: 'internal', rate: 0.5 }] } } });
        const c = runtimeClient(e, { maxAttempts: 1 });
        const seen = [];
        for (let i = 0; i < 12; i++)
          seen.push(
            await invoke(c, { EndpointName: 'half' }).then(
              () => 'ok',
              (err) => err.name,
            ),
          );
        c.destroy();
        await e.close();
        return seen;
      };
      const a = await outcomes(42);
      assert.deepEqual(await outcomes(42), a);
      assert.ok(a.includes('ok') && a.includes('InternalFailure'), a.join());
    });
  });

  describe('models', function () {
    it('sensor-anomaly flags the outlier in a JSON batch', async function () {
      const readings = [20.1, 20.3, 19.8, 20.0, 20.2, 19.9, 20.1, 20.0, 19.7, 20.4, 20.2, 20.0, 95.0, 20.1];
      const out = await invoke(client, {
        EndpointName: 'sensor-anomaly',
        ContentType: 'application/json',
        Body: JSON.stringify({ readings }),
      });
      assert.equal(out.ContentType, 'application/json');
      const result = JSON.parse(Buffer.from(out.Body).toString());
      assert.equal(result.scores.length, readings.length);
      assert.deepEqual(result.anomalies, [12]);
      assert.equal(result.anomaly, true);
      assert.ok(result.scores[12] > 3);
    });

    it('sensor-anomaly scores CSV rows row by row, each as if it were sent alone', async function () {
      const rows = [
        [20, 21, 19, 20, 21, 20, 19, 20, 21, 20, 20, 35],
        [1, 2, 1, 2],
      ];
      const alone = [];
      for (const r of rows) {
        const o = await invoke(client, { EndpointName: 'sensor-anomaly', ContentType: 'application/json', Body: JSON.stringify(r) });
        alone.push(JSON.parse(Buffer.from(o.Body).toString()));
      }
      const out = await invoke(client, {
        EndpointName: 'sensor-anomaly',
        ContentType: 'text/csv',
        Body: rows.map((r) => r.join(',')).join('\n') + '\n',
      });
      assert.deepEqual(JSON.parse(Buffer.from(out.Body).toString()), { predictions: alone });
      assert.equal(alone[0].anomaly, true);
      assert.equal(alone[1].anomaly, false);
      const csv = await invoke(client, {
        EndpointName: 'sensor-anomaly',
        ContentType: 'text/csv',
        Accept: 'text/csv',
        Body: rows.map((r) => r.join(',')).join('\n'),
      });
      assert.equal(csv.ContentType, 'text/csv');
      assert.deepEqual(
        Buffer.from(csv.Body)
          .toString()
          .trim()
          .split('\n')
          .map((l) => l.split(',')[0]),
        ['1', '0'],
      );
    });

    it('sensor-anomaly answers a JSON array of rows with an array and JSON Lines with JSON Lines, one result per row', async function () {
      const rows = [
        [5, 5, 6, 5],
        [1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3, 30],
      ];
      const arr = await invoke(client, { EndpointName: 'sensor-anomaly', ContentType: 'application/json', Body: JSON.stringify(rows) });
      const results = JSON.parse(Buffer.from(arr.Body).toString());
      assert.deepEqual(
        results.map((r) => r.anomaly),
        [false, true],
      );
      const jl = await invoke(client, {
        EndpointName: 'sensor-anomaly',
        ContentType: 'application/jsonlines',
        Body: rows.map((r) => JSON.stringify(r)).join('\n'),
      });
      assert.equal(jl.ContentType, 'application/jsonlines');
      assert.deepEqual(
        Buffer.from(jl.Body)
          .toString()
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l)),
        results,
      );
      const wrapped = await invoke(client, {
        EndpointName: 'sensor-anomaly',
        ContentType: 'application/json',
        Body: JSON.stringify({ instances: rows }),
      });
      assert.deepEqual(JSON.parse(Buffer.from(wrapped.Body).toString()), { predictions: results });
    });

    it('sensor-anomaly answers invalid input with ModelError 424 / OriginalStatusCode 400', async function () {
      const err = await rejection(invoke(client, { EndpointName: 'sensor-anomaly', ContentType: 'text/csv', Body: '1,2\nabc,4\n' }));
      assert.equal(err.name, 'ModelError');
      assert.equal(err.OriginalStatusCode, 400);
      assert.match(err.OriginalMessage, /row 2/);
    });

    it('text-generator answers the concatenated tokens in one body', async function () {
      const out = await invoke(client, { EndpointName: 'text-generator', Body: '{"inputs":"Hello"}', ContentType: 'application/json' });
      assert.ok(out.ContentType);
      assert.ok(Buffer.from(out.Body).length > 0);
    });

    it('proxy forwards body, Content-Type, Accept and CustomAttributes to the container', async function () {
      const out = await invoke(client, {
        EndpointName: 'my-container',
        Body: 'ping-pong',
        ContentType: 'text/plain',
        Accept: 'application/json',
        CustomAttributes: 'c=1',
      });
      assert.deepEqual(JSON.parse(Buffer.from(out.Body).toString()), {
        got: 'ping-pong',
        contentType: 'text/plain',
        accept: 'application/json',
        attrs: 'c=1',
      });
      assert.equal(out.CustomAttributes, 'from-container');
    });

    it('proxy maps a container 500 to ModelError 424 with the container status and message', async function () {
      const err = await rejection(invoke(client, { EndpointName: 'my-container', Body: 'fail' }));
      assert.equal(err.name, 'ModelError');
      assert.equal(err.$metadata.httpStatusCode, 424);
      assert.equal(err.OriginalStatusCode, 500);
      assert.equal(err.OriginalMessage, 'model crashed');
      assert.match(err.message, /^Received server error \(500\)/);
    });

    it('proxy to an unreachable container is a ModelError naming the container URL', async function () {
      const err = await rejection(invoke(client, { EndpointName: 'dead-container' }));
      assert.equal(err.name, 'ModelError');
      assert.match(err.OriginalMessage, /127\.0\.0\.1:1/);
    });

    it('pingContainer checks GET /ping of a container', async function () {
      const { pingContainer } = require('../../dist/emulator');
      assert.equal(await pingContainer(containerUrl), true);
      assert.equal(await pingContainer('http://127.0.0.1:1', 500), false);
    });
  });

  describe('counters and robustness', function () {
    it('counts concurrent invocations in flight and their maximum', async function () {
      emu.resetStats();
      await Promise.all(Array.from({ length: 6 }, () => invoke(client, { EndpointName: 'slow' })));
      const s = emu.stats();
      assert.equal(s.maxInFlight, 6);
      assert.equal(s.inFlight, 0);
      assert.equal(s.requests.InvokeEndpoint, 6);
      assert.equal(s.byEndpoint.slow, 6);
    });

    it('records received requests with their headers and body', async function () {
      await invoke(client, { EndpointName: 'echo', Body: 'remember me', InferenceId: 'rec-1' });
      const last = emu.received().at(-1);
      assert.equal(last.operation, 'InvokeEndpoint');
      assert.equal(last.endpointName, 'echo');
      assert.equal(last.headers['x-amzn-sagemaker-inference-id'], 'rec-1');
      assert.equal(last.body.toString(), 'remember me');
    });

    it('answers random paths, wrong methods and malformed requests with 4xx and keeps serving', async function () {
      let r = await rawRequest(emu, { method: 'GET', path: '/nothing/here' });
      assert.equal(r.status, 404);
      assert.ok(r.headers['x-amzn-errortype']);
      assert.ok(r.headers['x-amzn-requestid']);
      assert.ok(JSON.parse(r.body).message);
      r = await rawRequest(emu, { method: 'GET', path: '/endpoints/echo/invocations' });
      assert.equal(r.status, 405);
      r = await rawRequest(emu, { method: 'POST', path: '/', headers: { 'content-type': 'application/json' }, body: '{not json' });
      assert.equal(r.status, 400);
      r = await rawRequest(emu, {
        method: 'POST',
        path: '/',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: '%%%&&&=',
      });
      assert.equal(r.status, 400);
      r = await rawRequest(emu, { method: 'POST', path: '/endpoints/%E0%A4%A/invocations', body: 'x' });
      assert.equal(r.status, 400);
      r = await rawRequest(emu, { method: 'POST', path: '/endpoints/echo/invocations', body: 'x' });
      assert.equal(r.status, 403, 'unsigned request');
      await new Promise((resolve) => {
        const net = require('node:net');
        const u = new URL(emu.url);
        const s = net.connect(Number(u.port), u.hostname, () => s.end('GARBAGE\r\n\r\n'));
        s.on('data', () => {});
        s.on('close', resolve);
        s.on('error', resolve);
      });
      const out = await invoke(client, { EndpointName: 'echo', Body: 'still here' });
      assert.equal(Buffer.from(out.Body).toString(), 'still here');
    });
  });
});
