'use strict';
// Emulator robustness: a seeded, bounded fuzz over loopback. Malformed HTTP on raw
// sockets (garbage request lines, huge headers, bad chunked encoding, truncated bodies) gets a
// 4xx or a clean close; well-formed HTTP with bad signatures, wrong methods and random paths gets
// a 4xx/5xx in the service's error shape (x-amzn-ErrorType + JSON body). After every batch a
// valid InvokeEndpoint through the real SDK still succeeds.
const assert = require('node:assert/strict');
const http = require('node:http');
const net = require('node:net');
const { InvokeEndpointCommand } = require('@aws-sdk/client-sagemaker-runtime');
const { SignatureV4 } = require('@smithy/signature-v4');
const crypto = require('node:crypto');
const { startEmulator } = require('./util');
const { runtimeClient } = require('../emulator/util');

const SEED = 8008;

/** The hash constructor SignatureV4 takes, on node:crypto. */
class Sha256 {
  constructor(secret) {
    this.hash = secret ? crypto.createHmac('sha256', Buffer.from(secret)) : crypto.createHash('sha256');
  }
  update(data) {
    this.hash.update(typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data));
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
}

/** A SigV4 signer for SageMaker with access key `test` and `secret`. */
function sagemakerSigner(secret = 'test') {
  return new SignatureV4({
    service: 'sagemaker',
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: secret },
    sha256: Sha256,
  });
}
const PER_BATCH = 40;

function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Sends raw bytes, optionally ends the socket, and resolves with what came back (or how it closed). */
function raw(port, chunks, { end = true, ms = 3000 } = {}) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const got = [];
    let settled = false;
    const finish = (how) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ how, text: Buffer.concat(got).toString('latin1') });
    };
    const timer = setTimeout(() => finish('timeout'), ms);
    socket.on('data', (d) => got.push(d));
    socket.on('end', () => finish('end'));
    socket.on('close', () => finish('close'));
    socket.on('error', () => finish('error'));
    socket.on('connect', () => {
      for (const c of chunks) socket.write(c);
      if (end) socket.end();
    });
  });
}

/** One HTTP request with node:http; resolves with { status, headers, body }. */
function request(port, { method = 'POST', path = '/', headers = {}, body }) {
  return new Promise((resolve, reject) => {
    // An explicit Content-Length: Node sends a DELETE body without framing otherwise.
    const framed =
      body === undefined || headers['content-length'] ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) };
    const req = http.request({ host: '127.0.0.1', port, method, path, headers: framed, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

/** A 4xx/5xx in the service's error shape: x-amzn-ErrorType and a JSON (or STS XML) body with a message. */
function assertServiceError(r, what) {
  assert.ok(r.status >= 400 && r.status < 600, `${what}: status ${r.status}`);
  const type = r.headers['x-amzn-errortype'];
  assert.ok(type && /^[A-Za-z]+$/.test(type), `${what}: x-amzn-ErrorType ${type}`);
  assert.ok(r.headers['x-amzn-requestid'], `${what}: x-amzn-RequestId`);
  if (/xml/.test(r.headers['content-type'] || '')) {
    assert.match(r.body, /<Code>[A-Za-z]+<\/Code>/, what);
  } else {
    const json = JSON.parse(r.body);
    assert.equal(typeof (json.message ?? json.Message), 'string', `${what}: message`);
  }
  return type;
}

const isRawReject = (r) => r.how !== 'timeout' && (r.text === '' || /^HTTP\/1\.[01] 4\d\d /.test(r.text));

describe('reliability: emulator fuzz', function () {
  this.timeout(60000);
  let emu;
  let port;
  let client;
  const random = rng(SEED);
  const pick = (arr) => arr[Math.floor(random() * arr.length)];
  const randomBytes = (n) => Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));
  const randomText = (n, alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789-_./%~') =>
    Array.from({ length: n }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
  const figures = {};
  const count = (k) => (figures[k] = (figures[k] || 0) + 1);

  before(async function () {
    emu = await startEmulator({ port: 0 });
    port = Number(new URL(emu.url).port);
    client = runtimeClient(emu, { maxAttempts: 1 });
  });
  after(async function () {
    console.log(
      `      emulator fuzz (seed ${SEED}): ${Object.entries(figures)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
    client.destroy();
    await emu.close();
  });
  afterEach(async function () {
    // Still serving: a valid, signed InvokeEndpoint succeeds after every batch.
    const out = await client.send(
      new InvokeEndpointCommand({ EndpointName: 'echo', Body: Buffer.from('{"alive":true}'), ContentType: 'application/json' }),
    );
    assert.equal(Buffer.from(out.Body).toString(), '{"alive":true}');
    count('healthy invokes after a batch');
  });

  it('garbage request lines get 400 or a clean close', async function () {
    for (let i = 0; i < PER_BATCH; i++) {
      const line =
        i % 2
          ? randomBytes(1 + Math.floor(random() * 200))
          : Buffer.from(`${randomText(5, 'ABCXYZ')} ${randomText(10)} HTTP/${pick(['1.1', '9.9', 'x'])}\r\n`);
      const r = await raw(port, [line, '\r\n\r\n']);
      assert.ok(isRawReject(r), `garbage line ${i}: ${r.how} ${JSON.stringify(r.text.slice(0, 60))}`);
      count('garbage request lines');
    }
  });

  it('huge headers (64 KB) get 4xx or a clean close', async function () {
    for (let i = 0; i < 5; i++) {
      const r = await raw(port, [`POST /endpoints/echo/invocations HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`]);
      assert.ok(isRawReject(r), `huge header: ${r.how} ${r.text.slice(0, 60)}`);
      count('huge headers');
    }
  });

  it('bad chunked encoding gets 400 or a clean close', async function () {
    const bodies = [
      'zz\r\nabc\r\n0\r\n\r\n',
      '5\r\nabc\r\n0\r\n\r\n',
      '-1\r\n\r\n',
      'ffffffffffffffffff\r\n',
      '3\r\nabcdef',
      '3;ext=\u0000\r\nabc\r\n',
    ];
    for (const b of bodies) {
      const r = await raw(port, [
        `POST /endpoints/echo/invocations HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n`,
        b,
      ]);
      assert.ok(r.how !== 'timeout', `chunked ${JSON.stringify(b)} hung`);
      // Either rejected as malformed, or (for a body that merely ends early) answered in the service's shape.
      if (!isRawReject(r)) assert.match(r.text, /^HTTP\/1\.1 (4|5)\d\d [\s\S]*x-amzn-ErrorType: /i, `chunked ${JSON.stringify(b)}`);
      count('bad chunked bodies');
    }
  });

  it('truncated bodies (Content-Length larger than sent, then close) end cleanly', async function () {
    for (let i = 0; i < PER_BATCH / 2; i++) {
      const declared = 100 + Math.floor(random() * 100000);
      const sent = Math.floor(random() * Math.min(declared, 2000));
      const r = await raw(port, [
        `POST /endpoints/echo/invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: ${declared}\r\n\r\n`,
        randomBytes(sent),
      ]);
      assert.ok(r.how !== 'timeout', 'truncated body hung');
      if (r.text) assert.match(r.text, /^HTTP\/1\.1 [45]\d\d /);
      count('truncated bodies');
    }
  });

  it('unsigned, mis-signed and tampered requests get 403 in the service error shape', async function () {
    const signer = sagemakerSigner;
    const base = (body) => ({
      method: 'POST',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port,
      path: '/endpoints/echo/invocations',
      headers: { host: `127.0.0.1:${port}`, 'content-type': 'text/plain', 'content-length': String(Buffer.byteLength(body)) },
      body,
    });
    const types = new Set();
    for (let i = 0; i < PER_BATCH / 2; i++) {
      const body = randomText(20);
      const variant = i % 5;
      let headers;
      let sendBody = body;
      if (variant === 0)
        headers = base(body).headers; // no Authorization at all
      else if (variant === 1) headers = (await signer('wrong-secret').sign(base(body))).headers;
      else if (variant === 2) {
        headers = (await signer('test').sign(base(body))).headers;
        sendBody = body.slice(1) + 'X'; // same length, other bytes
      } else if (variant === 3) headers = { ...base(body).headers, authorization: `AWS4-HMAC-SHA256 ${randomText(40)}` };
      else {
        const signed = (await signer('test').sign(base(body))).headers;
        headers = { ...signed, 'x-amz-date': '20000101T000000Z' }; // stale date, signature no longer matches
      }
      const r = await request(port, { path: '/endpoints/echo/invocations', headers, body: sendBody });
      assert.equal(r.status, 403, `variant ${variant}: ${r.status} ${r.body}`);
      types.add(assertServiceError(r, `signature variant ${variant}`));
      count('bad signatures');
    }
    console.log(`      bad-signature error types: ${[...types].join(', ')}`);
  });

  it('wrong methods on the operation paths get 405 in the service error shape', async function () {
    for (const method of ['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      for (const op of ['invocations', 'invocations-response-stream', 'async-invocations']) {
        const r = await request(port, { method, path: `/endpoints/echo/${op}` });
        assert.equal(r.status, 405);
        assert.equal(assertServiceError(r, `${method} ${op}`), 'MethodNotAllowedException');
        count('wrong methods');
      }
    }
  });

  it('random paths and methods get 4xx in the service error shape', async function () {
    for (let i = 0; i < PER_BATCH; i++) {
      const path = `/${randomText(1 + Math.floor(random() * 40))}${random() < 0.3 ? `?${randomText(8)}=${randomText(8)}` : ''}`;
      const method = pick(['GET', 'POST', 'PUT', 'DELETE', 'HEAD']);
      if (path === '/ping') continue;
      const r = await request(port, {
        method,
        path,
        headers: { 'content-type': 'application/json' },
        body: method === 'GET' || method === 'HEAD' ? undefined : randomText(30),
      });
      if (method === 'HEAD') {
        assert.ok(r.status >= 400 && r.status < 500 && r.headers['x-amzn-errortype'], `HEAD ${path}: ${r.status}`);
      } else {
        assert.ok(r.status >= 400 && r.status < 500, `${method} ${path}: ${r.status}`);
        assertServiceError(r, `${method} ${path}`);
      }
      count('random paths');
    }
  });

  it('signed requests with malformed endpoint names, headers and oversized bodies get 4xx in the service error shape', async function () {
    const sign = sagemakerSigner();
    const cases = [
      { path: `/endpoints/${'a'.repeat(64)}/invocations`, headers: {} },
      { path: '/endpoints/bad_name/invocations', headers: {} },
      { path: '/endpoints/%E0%A4%A/invocations', headers: {} },
      { path: '/endpoints/no-such-endpoint/invocations', headers: {} },
      { path: '/endpoints/echo/invocations', headers: { 'x-amzn-sagemaker-custom-attributes': 'a'.repeat(1025) } },
      { path: '/endpoints/echo/async-invocations', headers: { 'x-amzn-sagemaker-requestttlseconds': '5' } },
      { path: '/endpoints/echo/invocations', headers: {}, size: 6_291_457 },
    ];
    for (const c of cases) {
      const body = c.size ? Buffer.alloc(c.size, 0x61) : Buffer.from('x');
      const reqDef = {
        method: 'POST',
        protocol: 'http:',
        hostname: '127.0.0.1',
        port,
        path: c.path,
        headers: { host: `127.0.0.1:${port}`, 'content-type': 'text/plain', 'content-length': String(body.length), ...c.headers },
        body,
      };
      const signed = await sign.sign(reqDef);
      const r = await request(port, { path: c.path, headers: signed.headers, body });
      assert.ok(r.status >= 400 && r.status < 500, `${c.path}: ${r.status} ${r.body.slice(0, 200)}`);
      assertServiceError(r, c.path);
      count('signed malformed requests');
    }
  });
});

// Emulator hardening: the S3 side checks SigV4 like the runtime side and keeps keys
// inside its folder; unauthenticated traffic leaves no trace in memory; slow clients are dropped
// while a stream that keeps sending is not; stream-reset delivers exactly its N parts.
describe('reliability: emulator hardening', function () {
  this.timeout(120000);
  const fs = require('node:fs');
  const os = require('node:os');
  const path = require('node:path');
  const { PutObjectCommand, GetObjectCommand, ListObjectsV2Command, DeleteObjectCommand } = require('@aws-sdk/client-s3');
  const { InvokeEndpointWithResponseStreamCommand } = require('@aws-sdk/client-sagemaker-runtime');
  const BUCKET = 'sagemaker-emulator';
  const TIMEOUTS = { headersMs: 500, requestMs: 1000, idleMs: 2000, keepAliveMs: 500 };
  let parent;
  let storage;
  let emu;
  let s3Port;
  let s3;
  const figures = {};
  const count = (k) => (figures[k] = (figures[k] || 0) + 1);

  const s3Signer = (secret = 'test', accessKeyId = 'test') =>
    new SignatureV4({
      service: 's3',
      region: 'us-east-1',
      credentials: { accessKeyId, secretAccessKey: secret },
      sha256: Sha256,
      uriEscapePath: false,
      applyChecksum: false,
    });
  const sha256hex = (b) => crypto.createHash('sha256').update(b).digest('hex');
  /** A SigV4-signed S3 request as the SDK would build it; `payloadHash` defaults to the body's hash. */
  async function signedS3(method, rawPath, body = '', { secret, accessKeyId, payloadHash } = {}) {
    const headers = { host: `127.0.0.1:${s3Port}`, 'x-amz-content-sha256': payloadHash ?? sha256hex(body) };
    if (method === 'PUT') headers['content-length'] = String(Buffer.byteLength(body));
    const signed = await s3Signer(secret, accessKeyId).sign({
      method,
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: s3Port,
      path: rawPath,
      query: {},
      headers,
      body,
    });
    return signed.headers;
  }
  /** Every file under `dir`, relative. */
  const filesUnder = (dir) => fs.readdirSync(dir, { recursive: true }).map(String).sort();

  before(async function () {
    parent = fs.mkdtempSync(path.join(os.tmpdir(), 'emu-harden-'));
    storage = path.join(parent, 'store');
    fs.mkdirSync(storage);
    emu = await startEmulator({
      port: 0,
      s3: { directory: storage },
      timeouts: TIMEOUTS,
      endpoints: {
        'long-stream': { model: 'text-generator', textGenerator: { tokens: 30, delayMs: 100 } },
        ...Object.fromEntries(
          [1, 2, 3, 5].map((n) => [
            `reset-${n}`,
            { model: 'text-generator', textGenerator: { tokens: 10 }, faults: [{ kind: 'stream-reset', afterParts: n }] },
          ]),
        ),
      },
    });
    s3Port = Number(new URL(emu.s3Url).port);
    s3 = emu.s3Client();
  });
  after(async function () {
    console.log(
      `      emulator hardening: ${Object.entries(figures)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
    s3?.destroy();
    await emu?.close();
    if (parent) fs.rmSync(parent, { recursive: true, force: true });
  });

  it('anonymous and badly signed S3 calls get 403 in S3 XML and neither store, read nor count anything', async function () {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'secret.txt', Body: 'top secret' }));
    emu.resetStats();
    const key = '/sagemaker-emulator/anon.txt';
    const cases = [
      ['PUT without Authorization', { method: 'PUT', path: key, headers: {}, body: 'anon' }, 'AccessDenied'],
      ['GET without Authorization', { method: 'GET', path: '/sagemaker-emulator/secret.txt', headers: {} }, 'AccessDenied'],
      ['list without Authorization', { method: 'GET', path: '/sagemaker-emulator?list-type=2', headers: {} }, 'AccessDenied'],
      ['DELETE without Authorization', { method: 'DELETE', path: '/sagemaker-emulator/secret.txt', headers: {} }, 'AccessDenied'],
      [
        'PUT signed with a wrong secret',
        { method: 'PUT', path: key, headers: await signedS3('PUT', key, 'anon', { secret: 'wrong' }), body: 'anon' },
        'SignatureDoesNotMatch',
      ],
      [
        'GET signed with a wrong secret',
        {
          method: 'GET',
          path: '/sagemaker-emulator/secret.txt',
          headers: await signedS3('GET', '/sagemaker-emulator/secret.txt', '', { secret: 'wrong' }),
        },
        'SignatureDoesNotMatch',
      ],
      [
        'PUT with an unknown access key',
        { method: 'PUT', path: key, headers: await signedS3('PUT', key, 'anon', { accessKeyId: 'nobody' }), body: 'anon' },
        'InvalidAccessKeyId',
      ],
      [
        'PUT with a garbled Authorization',
        {
          method: 'PUT',
          path: key,
          headers: { authorization: 'AWS4-HMAC-SHA256 nonsense', 'x-amz-date': '20260101T000000Z' },
          body: 'anon',
        },
        'AuthorizationHeaderMalformed',
      ],
    ];
    for (const [what, req, code] of cases) {
      const r = await request(s3Port, req);
      assert.ok(r.status === 403 || (code === 'AuthorizationHeaderMalformed' && r.status === 400), `${what}: ${r.status}`);
      assert.match(r.headers['content-type'], /xml/, what);
      assert.match(r.body, new RegExp(`<Code>${code}</Code>`), `${what}: ${r.body}`);
      assert.doesNotMatch(r.body, /top secret/, what);
      count('refused S3 calls');
    }
    // A signed payload hash that does not match the body is refused (S3: 400 XAmzContentSHA256Mismatch).
    const tampered = await request(s3Port, { method: 'PUT', path: key, headers: await signedS3('PUT', key, 'good'), body: 'evil' });
    assert.equal(tampered.status, 400);
    assert.match(tampered.body, /<Code>XAmzContentSHA256Mismatch<\/Code>/);
    assert.deepEqual(emu.stats().s3, { PutObject: 1 }, 'only the authenticated (tampered) PUT is counted');
    const list = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    assert.deepEqual(
      list.Contents.map((o) => o.Key),
      ['secret.txt'],
    );
    // UNSIGNED-PAYLOAD is accepted as on S3 (the signature covers the headers, not the body).
    const unsigned = await request(s3Port, {
      method: 'PUT',
      path: key,
      headers: await signedS3('PUT', key, 'later', { payloadHash: 'UNSIGNED-PAYLOAD' }),
      body: 'later',
    });
    assert.equal(unsigned.status, 200);
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'anon.txt' }));
  });

  it('unsigned and badly signed SQS and SNS calls get 403, are not counted, and an unsigned 6 MiB body is not kept', async function () {
    const sqsPort = Number(new URL(emu.sqsUrl).port);
    emu.resetStats();
    const before = emu.stats().requests;
    const sqsCall = {
      method: 'POST',
      path: '/',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.CreateQueue' },
      body: '{"QueueName":"anon"}',
    };
    const snsCall = {
      method: 'POST',
      path: '/',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=CreateTopic&Name=anon',
    };
    const garbled = {
      authorization: 'AWS4-HMAC-SHA256 Credential=nobody/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=00',
      'x-amz-date': '20260101T000000Z',
    };
    for (const [what, req] of [
      ['SQS without Authorization', sqsCall],
      ['SNS without Authorization', snsCall],
      ['SQS with an unknown key', { ...sqsCall, headers: { ...sqsCall.headers, ...garbled } }],
      ['SQS with 6 MiB and no Authorization', { ...sqsCall, body: Buffer.alloc(6 * 1024 * 1024, 'a') }],
    ]) {
      const r = await request(sqsPort, req).catch((err) => ({ status: 0, body: String(err) }));
      // A refused request may be answered before its body is read, or the socket closed under it.
      assert.ok(r.status === 403 || r.status === 400 || r.status === 0, `${what}: ${r.status} ${r.body}`);
      assert.doesNotMatch(r.body, /QueueUrl|TopicArn/, what);
      count('refused SQS/SNS calls');
    }
    assert.deepEqual(emu.stats().requests, before, 'refused calls are not counted');
  });

  it('the runtime side refuses a body swapped under UNSIGNED-PAYLOAD (SageMaker hashes the body it gets)', async function () {
    const signer = sagemakerSigner();
    const port = Number(new URL(emu.url).port);
    const p = '/endpoints/echo/invocations';
    const signed = await signer.sign({
      method: 'POST',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port,
      path: p,
      query: {},
      headers: {
        host: `127.0.0.1:${port}`,
        'content-type': 'text/plain',
        'content-length': '4',
        'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
      },
      body: 'good',
    });
    const r = await request(port, { path: p, headers: signed.headers, body: 'evil' });
    assert.equal(r.status, 403);
    assert.equal(r.headers['x-amzn-errortype'], 'InvalidSignatureException');
  });

  it('traversal keys in every encoding stay inside the storage folder, round-trip intact and delete only themselves', async function () {
    const before = filesUnder(parent);
    const keys = [
      '../../escape.txt',
      '..\\..\\escape.txt',
      '%2e%2e/%2e%2e/escape.txt',
      '..%2F..%2Fescape.txt',
      '%252e%252e%252fescape.txt',
      '/abs/escape.txt',
      '....//escape.txt',
      'a/../../../escape.txt',
      '\u0000nul.txt',
      'ünï/çødé/€.txt',
      'x'.repeat(1000),
    ];
    for (const [i, Key] of keys.entries()) {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: `body ${i}` }));
    }
    // Raw paths a client could send without encoding: `..` segments, encoded slashes and dots, backslashes.
    const rawPaths = [
      '/sagemaker-emulator/../../raw-escape.txt',
      '/sagemaker-emulator/..%2F..%2Fraw-escape.txt',
      '/sagemaker-emulator/%2E%2E%2F%2E%2E%2Fraw-escape.txt',
      '/sagemaker-emulator/..%5C..%5Craw-escape.txt',
      '/sagemaker-emulator%2F..%2F..%2Fraw-escape.txt',
      '/..%2Fraw-escape.txt/x',
    ];
    for (const p of rawPaths) {
      const r = await request(s3Port, { method: 'PUT', path: p, headers: await signedS3('PUT', p, 'raw'), body: 'raw' });
      assert.ok([200, 400, 404].includes(r.status), `${p}: ${r.status} ${r.body}`);
      count('traversal paths');
    }
    // Nothing new beside the storage folder, and inside it only hashed names.
    assert.deepEqual(
      filesUnder(parent).filter((f) => !f.startsWith('store')),
      before.filter((f) => !f.startsWith('store')),
    );
    for (const f of filesUnder(storage)) assert.match(f, /^(\.tmp|\.uploads|sagemaker-emulator(\/[0-9a-f]{64}\.(json|[0-9a-f]{16}))?)$/, f);
    for (const [i, Key] of keys.entries()) {
      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key }));
      assert.equal(await got.Body.transformToString(), `body ${i}`, JSON.stringify(Key));
      count('traversal keys');
    }
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    for (const Key of keys)
      assert.ok(
        listed.Contents.some((o) => o.Key === Key),
        `listed ${JSON.stringify(Key)}`,
      );
    for (const Key of keys) await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key }));
    const left = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    for (const Key of keys) assert.ok(!(left.Contents || []).some((o) => o.Key === Key), `deleted ${JSON.stringify(Key)}`);
    assert.deepEqual(
      filesUnder(parent).filter((f) => !f.startsWith('store')),
      before.filter((f) => !f.startsWith('store')),
    );
  });

  it('100 unauthenticated 6 MiB bodies: refused, not recorded or counted, RSS grows under 50 MB', async function () {
    const port = Number(new URL(emu.url).port);
    const body = Buffer.alloc(6 * 1024 * 1024, 0x61);
    const stats0 = emu.stats();
    const received0 = emu.received().length;
    // What is retained, not the garbage of 100 refused bodies awaiting collection.
    require('node:v8').setFlagsFromString('--expose-gc');
    const gc = require('node:vm').runInNewContext('gc');
    gc();
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    for (let i = 0; i < 100; i++) {
      const p = `/endpoints/unauth-${i}/invocations`;
      let headers = { 'content-type': 'application/octet-stream', 'content-length': String(body.length) };
      if (i % 3 === 1)
        headers.authorization = `AWS4-HMAC-SHA256 Credential=nobody/20260101/us-east-1/sagemaker/aws4_request, SignedHeaders=host, Signature=${'0'.repeat(64)}`;
      if (i % 3 === 2) {
        const signer = sagemakerSigner('wrong');
        headers = (
          await signer.sign({
            method: 'POST',
            protocol: 'http:',
            hostname: '127.0.0.1',
            port,
            path: p,
            query: {},
            headers: { host: `127.0.0.1:${port}`, ...headers },
            body,
          })
        ).headers;
      }
      const r = await request(port, { path: p, headers, body });
      assert.equal(r.status, 403, `body ${i}: ${r.status}`);
      peak = Math.max(peak, process.memoryUsage().rss);
      count('unauthenticated 6 MiB bodies');
    }
    const stats1 = emu.stats();
    assert.deepEqual(stats1.requests, stats0.requests, 'nothing counted');
    assert.deepEqual(stats1.byEndpoint, stats0.byEndpoint, 'no endpoint names kept');
    assert.equal(emu.received().length, received0, 'nothing recorded');
    gc();
    const growth = (process.memoryUsage().rss - rss0) / 1e6;
    console.log(
      `      RSS ${(rss0 / 1e6).toFixed(0)} MB → ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB after 100 unauthenticated 6 MiB bodies (peak ${(peak / 1e6).toFixed(0)} MB)`,
    );
    assert.ok(growth < 50, `RSS grew ${growth.toFixed(1)} MB`);
  });

  /** Opens a connection that trickles bytes (headers or body) until the server closes it. */
  function slowClient(port, head, trickle) {
    return new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      let timer;
      const bound = setTimeout(() => finish('still open'), 15000);
      function finish(how) {
        clearInterval(timer);
        clearTimeout(bound);
        socket.destroy();
        resolve(how);
      }
      socket.on('connect', () => {
        socket.write(head);
        timer = setInterval(() => socket.write(trickle), 100);
      });
      socket.on('data', () => {});
      socket.on('close', () => finish('closed by the server'));
      socket.on('error', () => finish('closed by the server'));
    });
  }

  it('slow-header, slow-body and idle keep-alive clients are closed by the server, on the runtime and the S3 side', async function () {
    const port = Number(new URL(emu.url).port);
    const jobs = [];
    for (const p of [port, s3Port]) {
      for (let i = 0; i < 5; i++) {
        jobs.push(slowClient(p, 'POST /endpoints/echo/invocations HTTP/1.1\r\nHost: x\r\n', 'X-Slow: 1\r\n'));
        jobs.push(slowClient(p, 'PUT /sagemaker-emulator/slow HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n', 'a'));
      }
      // A kept-alive connection that then says nothing.
      jobs.push(slowClient(p, 'GET /ping HTTP/1.1\r\nHost: x\r\n\r\n', ''));
    }
    const outcomes = await Promise.all(jobs);
    assert.deepEqual([...new Set(outcomes)], ['closed by the server']);
    count('slow clients closed');
  });

  it('a stream that keeps sending for longer than the request and idle timeouts is not cut', async function () {
    const c = runtimeClient(emu, { maxAttempts: 1 });
    try {
      const out = await c.send(new InvokeEndpointWithResponseStreamCommand({ EndpointName: 'long-stream', Body: 'go' }));
      let parts = 0;
      for await (const e of out.Body) if (e.PayloadPart) parts++;
      assert.equal(parts, 30);
    } finally {
      c.destroy();
    }
  });

  it('stream-reset with afterParts N delivers exactly N complete parts, then the connection breaks', async function () {
    const c = runtimeClient(emu, { maxAttempts: 1 });
    try {
      for (const n of [1, 2, 3, 5]) {
        for (let round = 0; round < 10; round++) {
          let parts = 0;
          let failed = false;
          try {
            const out = await c.send(new InvokeEndpointWithResponseStreamCommand({ EndpointName: `reset-${n}`, Body: `round ${round}` }));
            for await (const e of out.Body) if (e.PayloadPart) parts++;
          } catch {
            failed = true;
          }
          assert.ok(failed, `reset-${n}: the stream ended without an error`);
          assert.equal(parts, n, `reset-${n} round ${round}`);
          count('stream resets');
        }
      }
    } finally {
      c.destroy();
    }
  });
});
