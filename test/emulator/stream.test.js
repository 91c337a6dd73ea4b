'use strict';
// InvokeEndpointWithResponseStream in the emulator, read with the real SDK: event-stream framing,
// headers, the text-generator formats, re-cutting parts anywhere, echo/proxy relays, faults.
const assert = require('node:assert/strict');
const { InvokeEndpointWithResponseStreamCommand } = require('@aws-sdk/client-sagemaker-runtime');
const { startEmulator } = require('../../dist/emulator');
const { runtimeClient, startContainer } = require('./util');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe('emulator: response streaming', function () {
  let emu;
  let client;
  let container;
  let containerUrl;

  before(async function () {
    // A model container answering /invocations with a chunked response, chunk by chunk.
    container = await startContainer((req, res) => {
      if (req.url === '/ping') return res.end();
      const body = [];
      req.on('data', (c) => body.push(c));
      req.on('end', async () => {
        if (Buffer.concat(body).toString() === 'fail') {
          res.writeHead(500, { 'content-type': 'text/plain' });
          return res.end('container exploded');
        }
        res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        for (const chunk of ['{"n":1}\n', '{"n":', '2}\n', '{"n":3,"s":"日本"}\n']) {
          res.write(chunk);
          await sleep(15);
        }
        res.end();
      });
    });
    containerUrl = container.url;
    emu = await startEmulator({
      port: 0,
      endpoints: {
        relay: { model: 'proxy', proxyUrl: containerUrl, variant: 'Blue' },
        'err-after-2': { model: 'text-generator', faults: [{ kind: 'stream-error', afterParts: 2 }] },
        'fail-after-2': { model: 'text-generator', faults: [{ kind: 'stream-failure', afterParts: 2 }] },
        'reset-after-2': { model: 'text-generator', faults: [{ kind: 'stream-reset', afterParts: 2 }] },
        'stall-after-1': { model: 'text-generator', faults: [{ kind: 'stream-stall', afterParts: 1 }] },
        'err-first': { model: 'text-generator', faults: [{ kind: 'stream-failure', afterParts: 0 }] },
        'gen-openai': { model: 'text-generator', textGenerator: { format: 'openai', tokens: 4 } },
      },
    });
    client = runtimeClient(emu, { maxAttempts: 1 });
  });

  after(async function () {
    client.destroy();
    await emu.close();
    await container.close();
  });

  async function stream(input, opts) {
    const out = await client.send(new InvokeEndpointWithResponseStreamCommand({ Body: 'hello', ...input }), opts);
    const parts = [];
    let error;
    try {
      for await (const e of out.Body) if (e.PayloadPart) parts.push(Buffer.from(e.PayloadPart.Bytes));
    } catch (err) {
      error = err;
    }
    return { out, parts, error, text: Buffer.concat(parts).toString('utf8') };
  }

  it('answers with event-stream framing and the stream headers (content type, variant, custom attributes)', async function () {
    const r = await stream({ EndpointName: 'text-generator', CustomAttributes: 'tokens=5' });
    assert.equal(r.error, undefined);
    assert.equal(r.parts.length, 5);
    assert.equal(r.out.ContentType, 'application/jsonlines');
    assert.equal(r.out.InvokedProductionVariant, 'AllTraffic');
    assert.equal(r.out.CustomAttributes, 'tokens=5');
    const lines = r.text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(lines.length, 5);
    assert.equal(lines[4].generated_text, lines.map((l) => l.token.text).join(''));
    const req = emu.received().pop();
    assert.equal(req.operation, 'InvokeEndpointWithResponseStream');
  });

  it('text-generator is deterministic per prompt and includes multi-byte tokens (accents, €, CJK, emoji)', async function () {
    const a = await stream({ EndpointName: 'text-generator', CustomAttributes: 'format=text;tokens=30', Body: 'same prompt' });
    const b = await stream({ EndpointName: 'text-generator', CustomAttributes: 'format=text;tokens=30', Body: 'same prompt' });
    assert.equal(a.text, b.text);
    assert.match(a.text, /[\u00e0-\u00ff]/);
    assert.match(a.text, /€/);
    assert.match(a.text, /[\u4e00-\u9fff]/);
    assert.match(a.text, /\p{Extended_Pictographic}/u);
    assert.equal(a.out.ContentType, 'text/plain; charset=utf-8');
  });

  it('OpenAI format: SSE data lines with delta contents, a stop chunk and data: [DONE]', async function () {
    const r = await stream({ EndpointName: 'gen-openai' });
    assert.equal(r.out.ContentType, 'text/event-stream');
    const events = r.text.split('\n\n').filter(Boolean);
    assert.equal(events[events.length - 1], 'data: [DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.replace(/^data: /, '')));
    assert.equal(chunks.filter((c) => c.choices[0].delta.content).length, 4);
    assert.equal(chunks[chunks.length - 1].choices[0].finish_reason, 'stop');
  });

  it('X-Amzn-SageMaker-Accept picks the format; CustomAttributes override it', async function () {
    const sse = await stream({ EndpointName: 'text-generator', Accept: 'text/event-stream', CustomAttributes: 'tokens=2' });
    assert.equal(sse.out.ContentType, 'text/event-stream');
    assert.equal(emu.received().pop().headers['x-amzn-sagemaker-accept'], 'text/event-stream');
    const text = await stream({ EndpointName: 'text-generator', Accept: 'text/event-stream', CustomAttributes: 'format=text;tokens=2' });
    assert.match(text.out.ContentType, /^text\/plain/);
  });

  for (const partBytes of [1, 3, 7]) {
    it(`partBytes=${partBytes} re-cuts the same bytes into parts of exactly that size (inside lines and characters)`, async function () {
      const whole = await stream({ EndpointName: 'text-generator', CustomAttributes: 'tokens=12' });
      const cut = await stream({ EndpointName: 'text-generator', CustomAttributes: `tokens=12;partBytes=${partBytes}` });
      assert.ok(Buffer.concat(cut.parts).equals(Buffer.concat(whole.parts)));
      assert.ok(cut.parts.slice(0, -1).every((p) => p.length === partBytes));
      assert.ok(cut.parts[cut.parts.length - 1].length <= partBytes);
    });
  }

  it('echo streams the request body back, cut by partBytes', async function () {
    const body = 'héllo 🌍 wörld\r\n中文';
    const r = await stream({ EndpointName: 'echo', Body: body, ContentType: 'text/plain', CustomAttributes: 'partBytes=4' });
    assert.equal(r.text, body);
    assert.equal(r.parts.length, Math.ceil(Buffer.byteLength(body) / 4));
    assert.equal(r.out.ContentType, 'text/plain');
  });

  it('proxy relays the container chunked response part by part with its content type and the variant', async function () {
    const r = await stream({ EndpointName: 'relay', Body: 'go' });
    assert.equal(r.error, undefined);
    assert.deepEqual(
      r.parts.map((p) => p.toString('utf8')),
      ['{"n":1}\n', '{"n":', '2}\n', '{"n":3,"s":"日本"}\n'],
    );
    assert.equal(r.out.ContentType, 'application/x-ndjson');
    assert.equal(r.out.InvokedProductionVariant, 'Blue');
  });

  it('proxy maps a container 5xx to a 424 ModelError before the stream starts', async function () {
    await assert.rejects(stream({ EndpointName: 'relay', Body: 'fail' }), (err) => {
      assert.equal(err.name, 'ModelError');
      assert.equal(err.$metadata.httpStatusCode, 424);
      assert.equal(err.OriginalStatusCode, 500);
      assert.equal(err.OriginalMessage, 'container exploded');
      return true;
    });
  });

  it('sensor-anomaly answers through the stream as one part', async function () {
    const r = await stream({ EndpointName: 'sensor-anomaly', Body: JSON.stringify([1, 2, 3, 50]), ContentType: 'application/json' });
    assert.equal(r.error, undefined);
    assert.ok(r.parts.length >= 1);
    JSON.parse(r.text);
  });

  it('stream-error fault: the parts before it, then ModelStreamError with ErrorCode from the for-await', async function () {
    const r = await stream({ EndpointName: 'err-after-2' });
    assert.equal(r.parts.length, 2);
    assert.equal(r.error.name, 'ModelStreamError');
    assert.equal(r.error.ErrorCode, 'ModelInvocationTimeExceeded');
  });

  it('stream-failure fault: InternalStreamFailure after N parts', async function () {
    const r = await stream({ EndpointName: 'fail-after-2' });
    assert.equal(r.parts.length, 2);
    assert.equal(r.error.name, 'InternalStreamFailure');
  });

  it('a fault as the first event makes send() reject', async function () {
    await assert.rejects(stream({ EndpointName: 'err-first' }), { name: 'InternalStreamFailure' });
  });

  it('stream-reset fault: the connection breaks mid-stream and the SDK fails (send() or the for-await)', async function () {
    // Parts written just before the socket is destroyed may or may not reach the client.
    let r;
    try {
      r = await stream({ EndpointName: 'reset-after-2' });
    } catch (err) {
      r = { error: err, parts: [] };
    }
    assert.ok(r.error, 'the SDK reports the broken connection');
    assert.ok(r.parts.length <= 2);
  });

  it('stream-stall fault keeps the socket open; a client that gives up is counted in streamsAborted', async function () {
    const before = emu.stats().streamsAborted;
    const ac = new AbortController();
    const pending = stream({ EndpointName: 'stall-after-1' }, { abortSignal: ac.signal });
    await sleep(150);
    ac.abort();
    const r = await pending;
    assert.equal(r.parts.length, 1);
    assert.ok(r.error);
    const end = Date.now() + 5000;
    while (emu.stats().streamsAborted !== before + 1 && Date.now() < end) await sleep(10);
    assert.equal(emu.stats().streamsAborted, before + 1);
  });

  it('a client leaving a slow stream stops the emulator writing (counted once)', async function () {
    const before = emu.stats().streamsAborted;
    const ac = new AbortController();
    const out = await client.send(
      new InvokeEndpointWithResponseStreamCommand({ EndpointName: 'text-generator', Body: 'x', CustomAttributes: 'tokens=1000;delay=10' }),
      { abortSignal: ac.signal },
    );
    let n = 0;
    try {
      for await (const e of out.Body) {
        if (e.PayloadPart && ++n === 3) ac.abort();
      }
    } catch {
      // aborted on purpose
    }
    const end = Date.now() + 5000;
    while (emu.stats().streamsAborted !== before + 1 && Date.now() < end) await sleep(10);
    assert.equal(emu.stats().streamsAborted, before + 1);
    assert.equal(emu.stats().inFlight, 0);
  });
});
