'use strict';
// Emulator robustness (issue 8 §5): a seeded, bounded fuzz over loopback. Malformed HTTP on raw
// sockets (garbage request lines, huge headers, bad chunked encoding, truncated bodies) gets a
// 4xx or a clean close; well-formed HTTP with bad signatures, wrong methods and random paths gets
// a 4xx/5xx in the service's error shape (x-amzn-ErrorType + JSON body). After every batch a
// valid InvokeEndpoint through the real SDK still succeeds.
const assert = require('node:assert/strict');
const http = require('node:http');
const net = require('node:net');
const { SageMakerRuntimeClient, InvokeEndpointCommand } = require('@aws-sdk/client-sagemaker-runtime');
const { SignatureV4 } = require('@smithy/signature-v4');
const crypto = require('node:crypto');
const { startEmulator } = require('./util');

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
    const framed = body === undefined || headers['content-length'] ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) };
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
    client = new SageMakerRuntimeClient({ region: 'us-east-1', endpoint: emu.url, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
  });
  after(async function () {
    console.log(`      emulator fuzz (seed ${SEED}): ${Object.entries(figures).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    client.destroy();
    await emu.close();
  });
  afterEach(async function () {
    // Still serving: a valid, signed InvokeEndpoint succeeds after every batch.
    const out = await client.send(new InvokeEndpointCommand({ EndpointName: 'echo', Body: Buffer.from('{"alive":true}'), ContentType: 'application/json' }));
    assert.equal(Buffer.from(out.Body).toString(), '{"alive":true}');
    count('healthy invokes after a batch');
  });

  it('garbage request lines get 400 or a clean close', async function () {
    for (let i = 0; i < PER_BATCH; i++) {
      const line = i % 2 ? randomBytes(1 + Math.floor(random() * 200)) : Buffer.from(`${randomText(5, 'ABCXYZ')} ${randomText(10)} HTTP/${pick(['1.1', '9.9', 'x'])}\r\n`);
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
    const bodies = ['zz\r\nabc\r\n0\r\n\r\n', '5\r\nabc\r\n0\r\n\r\n', '-1\r\n\r\n', 'ffffffffffffffffff\r\n', '3\r\nabcdef', '3;ext=\u0000\r\nabc\r\n'];
    for (const b of bodies) {
      const r = await raw(port, [`POST /endpoints/echo/invocations HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n`, b]);
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
      const r = await raw(port, [`POST /endpoints/echo/invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: ${declared}\r\n\r\n`, randomBytes(sent)]);
      assert.ok(r.how !== 'timeout', 'truncated body hung');
      if (r.text) assert.match(r.text, /^HTTP\/1\.1 [45]\d\d /);
      count('truncated bodies');
    }
  });

  it('unsigned, mis-signed and tampered requests get 403 in the service error shape', async function () {
    const signer = (secret) =>
      new SignatureV4({ service: 'sagemaker', region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: secret }, sha256: Sha256 });
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
      if (variant === 0) headers = base(body).headers; // no Authorization at all
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
      const r = await request(port, { method, path, headers: { 'content-type': 'application/json' }, body: method === 'GET' || method === 'HEAD' ? undefined : randomText(30) });
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
    const sign = new SignatureV4({ service: 'sagemaker', region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, sha256: Sha256 });
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
