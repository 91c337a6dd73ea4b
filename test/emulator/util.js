'use strict';
// Shared helpers of the emulator tests: SDK clients and hand-signed raw requests over node:http.
const http = require('node:http');
const crypto = require('node:crypto');
const assert = require('node:assert/strict');
const { SignatureV4 } = require('@smithy/signature-v4');
const { SageMakerRuntimeClient } = require('@aws-sdk/client-sagemaker-runtime');

class Sha256 {
  constructor(secret) {
    this.h = secret === undefined ? crypto.createHash('sha256') : crypto.createHmac('sha256', Buffer.from(secret));
  }
  update(d) {
    this.h.update(typeof d === 'string' ? d : Buffer.from(d));
  }
  async digest() {
    return new Uint8Array(this.h.digest());
  }
}

const TEST_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

function runtimeClient(emu, extra = {}) {
  return new SageMakerRuntimeClient({ region: 'us-east-1', endpoint: emu.url, credentials: TEST_CREDENTIALS, ...extra });
}

/** Captures the raw HTTP response headers of every call made through `client`. */
function captureResponses(client) {
  const seen = [];
  client.middlewareStack.add(
    (next) => async (args) => {
      const out = await next(args);
      seen.push(out.response);
      return out;
    },
    { step: 'deserialize', name: 'captureRawResponse' },
  );
  return seen;
}

/**
 * Signs a request with SigV4 like the SDK does, then lets `tamper` change it before it is sent.
 * Resolves to { status, headers, body: string }.
 */
async function signedRequest(emu, opts = {}) {
  const url = new URL(emu.url);
  const body = Buffer.from(opts.body ?? '');
  const request = {
    method: opts.method ?? 'POST',
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: opts.path ?? '/endpoints/echo/invocations',
    query: {},
    headers: {
      host: url.host,
      'content-type': opts.contentType ?? 'application/octet-stream',
      'content-length': String(body.length),
      ...(opts.headers ?? {}),
    },
    body,
  };
  const signer = new SignatureV4({
    credentials: opts.credentials ?? TEST_CREDENTIALS,
    region: opts.region ?? 'us-east-1',
    service: opts.service ?? 'sagemaker',
    sha256: Sha256,
  });
  const signed = await signer.sign(request, { signingDate: opts.signingDate ?? new Date() });
  if (opts.tamper) opts.tamper(signed);
  return rawRequest(emu, { method: signed.method, path: signed.path, headers: signed.headers, body: signed.body });
}

/** Resolves with the error `promise` rejects with; fails the test when it fulfils. */
async function rejection(promise) {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  assert.fail('expected the call to fail');
}

/** A stand-in model container on 127.0.0.1, port 0, answering with `handler`; resolves with { url, close() }. */
async function startContainer(handler) {
  const server = http.createServer(handler);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

/** A plain HTTP request to the emulator. */
function rawRequest(emu, { method = 'GET', path = '/', headers = {}, body } = {}) {
  const url = new URL(emu.url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

module.exports = { Sha256, TEST_CREDENTIALS, runtimeClient, captureResponses, signedRequest, rawRequest, rejection, startContainer };
