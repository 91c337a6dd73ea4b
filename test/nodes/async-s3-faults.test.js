'use strict';
// sagemaker-invoke-async when S3 lists a result but will not hand it out: a small proxy in front
// of the emulator's S3 passes every request through, except GetObject, which it answers with
// 403 AccessDenied, 500 InternalError or a connection reset. Over real HTTP, with the real SDK.
const assert = require('node:assert/strict');
const http = require('node:http');
const { helper, useNodeRed, useEmulator, flowFor, load, collect, spyDone, sleep, until } = require('./async-helpers');

/** The fault-injecting S3 proxy. `mode`: 'pass' | '403' | '500' | 'reset'. */
async function startS3Proxy(target) {
  const upstream = new URL(target);
  const counts = { list: 0, get: 0, other: 0 };
  const state = { mode: 'pass', counts };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const parts = url.pathname.split('/').filter(Boolean);
    const isList = req.method === 'GET' && parts.length === 1 && url.searchParams.get('list-type') === '2';
    const isGet = req.method === 'GET' && parts.length >= 2;
    if (isList) counts.list += 1;
    else if (isGet) counts.get += 1;
    else counts.other += 1;
    if (isGet && state.mode !== 'pass') {
      req.resume();
      if (state.mode === 'reset') {
        req.socket.destroy();
        return;
      }
      const [status, code, message] =
        state.mode === '403'
          ? [403, 'AccessDenied', 'Access Denied']
          : [500, 'InternalError', 'We encountered an internal error. Please try again.'];
      const body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message><RequestId>proxy-1</RequestId></Error>`;
      res.writeHead(status, {
        'Content-Type': 'application/xml',
        'Content-Length': Buffer.byteLength(body),
        'x-amz-request-id': 'proxy-1',
      });
      res.end(body);
      return;
    }
    const fwd = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode, up.headers);
        up.pipe(res);
      },
    );
    fwd.on('error', () => res.destroy());
    req.pipe(fwd);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    state,
    url: `http://127.0.0.1:${server.address().port}`,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe('sagemaker-invoke-async node: S3 lists a result but refuses to hand it out', function () {
  let emu;
  let proxy;

  useEmulator(
    {},
    async (e) => {
      emu = e;
      emu.setEndpoint('fails-async', { model: 'echo', faults: [{ kind: 'async-failure' }], async: { delayMs: 20, jitterMs: 0 } });
      proxy = await startS3Proxy(emu.s3Url);
    },
    async () => {
      if (proxy) await proxy.close();
    },
  );
  afterEach(function () {
    // Before useNodeRed's unload: the flow closes with the proxy passing requests through.
    proxy.state.mode = 'pass';
  });
  useNodeRed();

  const flow = (node = {}) => {
    const f = flowFor(emu, { pollInterval: '0.1', maxPollInterval: '0.4', maxWait: '2', ...node });
    f.find((n) => n.id === 'c1').s3Endpoint = proxy.url;
    return f;
  };
  const warnings = () =>
    helper
      .log()
      .args.filter((a) => a[0] && a[0].level === helper.log().WARN)
      .map((a) => String(a[0].msg));

  const cases = [
    ['403 AccessDenied', '403', /AccessDenied \(HTTP 403\): Access Denied/],
    ['500 InternalError', '500', /InternalError \(HTTP 500\)/],
    ['a connection reset', 'reset', /ECONNRESET|socket hang up/],
  ];
  for (const [name, mode, pattern] of cases) {
    it(`GetObject answering ${name}: each job ends at maxWait in exactly one AsyncResultUnreadable naming the location and the S3 error; S3 requests and warnings stay bounded`, async function () {
      await load(flow());
      proxy.state.mode = mode;
      const accepted = collect('accepted');
      const results = collect('results');
      const caught = collect('caught');
      const dones = spyDone('an');
      const base = { ...proxy.state.counts };
      const n = 5;
      for (let i = 0; i < n; i++) helper.getNode('an').receive({ payload: { i }, index: i });
      await until(() => caught.length === n, `${n} errors`);
      const atEnd = { list: proxy.state.counts.list - base.list, get: proxy.state.counts.get - base.get };
      await sleep(1000); // 2.5 × maxPollInterval: nothing more may happen
      assert.equal(caught.length, n);
      assert.equal(results.length, 0);
      assert.equal(dones.length, n);
      assert.ok(dones.every((d) => d.err && d.err.name === 'AsyncResultUnreadable'));
      for (const m of caught) {
        const a = accepted.find((x) => x.index === m.index);
        const e = m.sagemaker.error;
        assert.equal(e.name, 'AsyncResultUnreadable');
        assert.equal(e.location, a.payload.outputLocation);
        assert.ok(e.message.includes(a.payload.outputLocation), e.message);
        assert.match(e.message, /within maxWait 2 s/);
        assert.match(e.message, pattern);
        assert.match(e.s3Error, pattern);
        assert.ok(e.attempts >= 2, `attempts ${e.attempts}`);
        // maxWait counts from acceptance: the error comes at 2 s, not 2 s after the result landed.
        assert.ok(e.waitedMs >= 2000 && e.waitedMs < 4000, `waitedMs ${e.waitedMs}`);
      }
      const after = { list: proxy.state.counts.list - base.list, get: proxy.state.counts.get - base.get };
      assert.deepEqual(after, atEnd, 'no S3 request after the jobs ended');
      // Reads at +0.1 s, then 0.1, 0.15, 0.225, 0.34, 0.4, 0.4 … s apart, the last at 2 s: ≤ 9 per
      // job, each tried at most 3 times by the SDK (its retries of 500 and resets).
      const perJob = after.get / n;
      assert.ok(perJob <= 9 * 3, `${after.get} GetObject for ${n} jobs`);
      assert.ok(after.list <= 2 * 8, `${after.list} ListObjectsV2`); // output + failure prefix, a round per poll until found
      const readWarnings = warnings().filter((w) => /will retry until maxWait/.test(w));
      console.log(
        `      GetObject ${name}: ${after.list} ListObjectsV2, ${after.get} GetObject (${perJob} per job), ${readWarnings.length} read warning(s)`,
      );
      // One per 10 s for the node, however many jobs and retries.
      assert.equal(readWarnings.length, 1, readWarnings.join('\n'));
    });
  }

  it('an unreadable failure object: one AsyncResultUnreadable that says it is the failure object', async function () {
    await load(flow({ endpointName: 'fails-async', maxWait: '1' }));
    proxy.state.mode = '403';
    const caught = collect('caught');
    const accepted = collect('accepted');
    helper.getNode('an').receive({ payload: 'x' });
    await until(() => caught.length === 1, 'the error');
    await sleep(600);
    assert.equal(caught.length, 1);
    const e = caught[0].sagemaker.error;
    assert.equal(e.name, 'AsyncResultUnreadable');
    assert.equal(e.location, accepted[0].payload.failureLocation);
    assert.match(e.message, /failure object .* is at s3:\/\/.*-error\.out but could not be read/);
  });

  it('S3 that refuses reads for a while, then recovers before maxWait: the result is delivered once', async function () {
    await load(flow({ maxWait: '20' }));
    proxy.state.mode = '500';
    const results = collect('results');
    const caught = collect('caught');
    const base = proxy.state.counts.get;
    helper.getNode('an').receive({ payload: { ok: 1 } });
    await until(() => proxy.state.counts.get - base >= 3, 'a few refused reads');
    proxy.state.mode = 'pass';
    await until(() => results.length === 1, 'the result');
    await sleep(500);
    assert.equal(results.length, 1);
    assert.equal(caught.length, 0);
    assert.deepEqual(results[0].payload, { ok: 1 });
  });
});
