'use strict';
// sagemaker-stream against the emulator over real HTTP: parts cut anywhere (inside lines and
// multi-byte characters) come out intact in every mode, text presets, sequences a join node
// rebuilds, one error per failed stream, idle timeout, and close aborting open streams.
const assert = require('node:assert/strict');
const { helper, useNodeRed, coreNode: core } = require('../helper');
const { SageMakerRuntimeClient, InvokeEndpointWithResponseStreamCommand } = require('@aws-sdk/client-sagemaker-runtime');
const { useEmulator } = require('../support/emulator');
const configNode = require('../../nodes/sagemaker-config.js');
const streamNode = require('../../nodes/sagemaker-stream.js');

const catchNode = core('common/25-catch.js');
const joinNode = core('sequence/17-split.js');

const credentials = { c1: { accessKeyId: 'test', secretAccessKey: 'test' } };
const MIXED = 'Grüße, café ☕\r\n日本語のテキスト 🚀🙂\nplain ascii line\r\n€uro 5€ — 中文 👩‍💻\nlast line without ending';

function flow(emu, opts = {}) {
  return [
    { id: 'c1', type: 'sagemaker-config', region: 'us-east-1', credentialType: 'keys', endpoint: emu.url },
    {
      id: 's',
      type: 'sagemaker-stream',
      config: 'c1',
      endpointName: 'text-generator',
      endpointNameType: 'str',
      wires: [['parts'], ['done']],
      ...opts,
    },
    { id: 'parts', type: 'helper' },
    { id: 'done', type: 'helper' },
    { id: 'catcher', type: 'catch', scope: ['s'], uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper' },
  ];
}

function load(f, extra = []) {
  return new Promise((resolve, reject) => {
    helper.load([configNode, streamNode, catchNode, ...extra], f, credentials, (err) => (err ? reject(err) : resolve()));
  });
}

/** Sends one message and resolves with { parts, completion, error } once the stream has ended. */
function run(msg) {
  const parts = [];
  const s = helper.getNode('s');
  return new Promise((resolve) => {
    const partsNode = helper.getNode('parts');
    const onPart = (m) => parts.push(m);
    partsNode.on('input', onPart);
    const finish = (key) => (m) => {
      // Let any stray second outcome arrive before resolving, so the test sees it.
      setTimeout(() => {
        partsNode.off('input', onPart);
        resolve({ parts, [key]: m });
      }, 30);
    };
    helper.getNode('done').once('input', finish('completion'));
    helper.getNode('caught').once('input', finish('error'));
    s.receive(msg);
  });
}

/** The bytes the endpoint streams for a request, read with the raw SDK (no node involved). */
async function rawBytes(emu, endpointName, body, customAttributes) {
  const client = new SageMakerRuntimeClient({ region: 'us-east-1', endpoint: emu.url, credentials: credentials.c1 });
  try {
    const input = { EndpointName: endpointName, Body: body };
    if (customAttributes) input.CustomAttributes = customAttributes;
    const out = await client.send(new InvokeEndpointWithResponseStreamCommand(input));
    const chunks = [];
    for await (const e of out.Body) if (e.PayloadPart) chunks.push(Buffer.from(e.PayloadPart.Bytes));
    return Buffer.concat(chunks);
  } finally {
    client.destroy();
  }
}

function linesOf(text) {
  const pieces = text.split('\n');
  const last = pieces.pop();
  const lines = pieces.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  if (last !== '') lines.push(last);
  return lines;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(cond, what, ms = 10000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

describe('sagemaker-stream node', function () {
  let emu;

  useNodeRed();
  useEmulator(
    {
      endpoints: {
        'gen-error': { model: 'text-generator', textGenerator: { tokens: 10 }, faults: [{ kind: 'stream-error', afterParts: 3 }] },
        'gen-failure': { model: 'text-generator', textGenerator: { tokens: 10 }, faults: [{ kind: 'stream-failure', afterParts: 3 }] },
        'gen-reset': { model: 'text-generator', textGenerator: { tokens: 10 }, faults: [{ kind: 'stream-reset', afterParts: 3 }] },
        'gen-first': { model: 'text-generator', faults: [{ kind: 'stream-error', afterParts: 0 }] },
        'gen-stall': { model: 'text-generator', textGenerator: { tokens: 10 }, faults: [{ kind: 'stream-stall', afterParts: 2 }] },
      },
    },
    (e) => (emu = e),
  );

  describe('cutting parts anywhere', function () {
    for (const partBytes of [1, 2, 3, 4, 5, 6, 7]) {
      it(`string mode rebuilds the exact text from ${partBytes}-byte parts, never emitting a broken character`, async function () {
        await load(flow(emu, { endpointName: 'echo', decode: 'string', split: 'part' }));
        const r = await run({ payload: MIXED, headers: { 'X-Amzn-SageMaker-Custom-Attributes': `partBytes=${partBytes}` } });
        assert.equal(r.error, undefined);
        const pieces = r.parts.map((m) => m.payload);
        assert.ok(pieces.every((p) => typeof p === 'string' && p.length > 0 && !p.includes('\ufffd')));
        assert.equal(pieces.join(''), MIXED);
        assert.equal(r.completion.payload, MIXED);
        assert.equal(r.completion.sagemaker.bytes, Buffer.byteLength(MIXED));
        assert.equal(r.completion.sagemaker.payloadParts, Math.ceil(Buffer.byteLength(MIXED) / partBytes));
        assert.equal(r.completion.sagemaker.parts, r.parts.length);
      });

      it(`line mode emits exactly the original lines (\\n and \\r\\n stripped) from ${partBytes}-byte parts`, async function () {
        await load(flow(emu, { endpointName: 'echo', decode: 'string', split: 'line' }));
        const r = await run({ payload: MIXED, headers: { 'x-amzn-sagemaker-custom-attributes': `partBytes=${partBytes}` } });
        assert.deepEqual(
          r.parts.map((m) => m.payload),
          linesOf(MIXED),
        );
        assert.equal(r.completion.payload, MIXED);
      });
    }

    it('buffer mode parts concatenate to the original bytes, including a cut emoji', async function () {
      await load(flow(emu, { endpointName: 'echo', decode: 'buffer' }));
      const r = await run({ payload: MIXED, headers: { 'x-amzn-sagemaker-custom-attributes': 'partBytes=3' } });
      assert.ok(r.parts.every((m) => Buffer.isBuffer(m.payload) && m.payload.length <= 3));
      assert.ok(Buffer.concat(r.parts.map((m) => m.payload)).equals(Buffer.from(MIXED)));
      assert.ok(Buffer.isBuffer(r.completion.payload) && r.completion.payload.equals(Buffer.from(MIXED)));
    });

    it('buffer + line mode emits each line as bytes without its line ending', async function () {
      await load(flow(emu, { endpointName: 'echo', decode: 'buffer', split: 'line' }));
      const r = await run({ payload: MIXED, headers: { 'x-amzn-sagemaker-custom-attributes': 'partBytes=4' } });
      assert.deepEqual(
        r.parts.map((m) => m.payload.toString('utf8')),
        linesOf(MIXED),
      );
    });

    it('line mode over TGI JSON lines cut into 5-byte parts yields exactly the lines the model wrote', async function () {
      const raw = (await rawBytes(emu, 'text-generator', 'Tell me', 'tokens=30')).toString('utf8');
      await load(flow(emu, { decode: 'string', split: 'line' }));
      const r = await run({ payload: 'Tell me', headers: { 'x-amzn-sagemaker-custom-attributes': 'tokens=30;partBytes=5' } });
      assert.deepEqual(
        r.parts.map((m) => m.payload),
        linesOf(raw),
      );
    });
  });

  describe('text presets', function () {
    it('tgi: parts are token texts (multi-byte intact) and the completion is the joined text', async function () {
      const raw = (await rawBytes(emu, 'text-generator', 'Bonjour', 'format=tgi;tokens=25')).toString('utf8');
      const values = linesOf(raw).map((l) => JSON.parse(l));
      const tokens = values.map((v) => v.token.text);
      await load(flow(emu, { decode: 'json', text: 'tgi' }));
      const r = await run({ payload: 'Bonjour', headers: { 'x-amzn-sagemaker-custom-attributes': 'format=tgi;tokens=25;partBytes=3' } });
      assert.deepEqual(
        r.parts.map((m) => m.payload),
        tokens,
      );
      assert.equal(r.completion.payload, tokens.join(''));
      assert.equal(r.completion.payload, values[values.length - 1].generated_text);
    });

    it('openai: parts are delta contents, role and [DONE] events skipped, completion is the joined text', async function () {
      const raw = (await rawBytes(emu, 'text-generator', 'Hi', 'format=openai;tokens=20')).toString('utf8');
      const contents = raw
        .split('\n')
        .filter((l) => l.startsWith('data: {'))
        .map((l) => JSON.parse(l.slice(6)).choices[0].delta.content)
        .filter((c) => typeof c === 'string' && c !== '');
      assert.equal(contents.length, 20);
      assert.ok(raw.includes('data: [DONE]'));
      await load(flow(emu, { decode: 'json', text: 'openai' }));
      const r = await run({ payload: 'Hi', headers: { 'x-amzn-sagemaker-custom-attributes': 'format=openai;tokens=20;partBytes=7' } });
      assert.deepEqual(
        r.parts.map((m) => m.payload),
        contents,
      );
      assert.equal(r.completion.payload, contents.join(''));
    });

    it('plain text: string parts join to the generated text', async function () {
      const raw = (await rawBytes(emu, 'text-generator', 'Hey', 'format=text;tokens=40')).toString('utf8');
      assert.ok(/[^\x00-\x7f]/.test(raw), 'the generator emits multi-byte characters');
      await load(flow(emu, { decode: 'string' }));
      const r = await run({ payload: 'Hey', headers: { 'x-amzn-sagemaker-custom-attributes': 'format=text;tokens=40;partBytes=2' } });
      assert.equal(r.parts.map((m) => m.payload).join(''), raw);
      assert.equal(r.completion.payload, raw);
    });

    it('a JSONata text expression is applied to each JSON value (msg.payload = the value)', async function () {
      const raw = (await rawBytes(emu, 'text-generator', 'Hola', 'tokens=12')).toString('utf8');
      const expected = linesOf(raw).map((l) => `[${JSON.parse(l).token.text}]`);
      await load(flow(emu, { decode: 'json', text: '"[" & payload.token.text & "]"' }));
      const r = await run({ payload: 'Hola', headers: { 'x-amzn-sagemaker-custom-attributes': 'tokens=12;partBytes=4' } });
      assert.deepEqual(
        r.parts.map((m) => m.payload),
        expected,
      );
      assert.equal(r.completion.payload, expected.join(''));
    });

    it('json without a preset emits parsed values; a line that is not JSON is a warning and the stream goes on', async function () {
      await load(flow(emu, { endpointName: 'echo', decode: 'json' }));
      const warnings = [];
      const s = helper.getNode('s');
      const origWarn = s.warn;
      s.warn = function (w) {
        warnings.push(w);
        return origWarn.call(this, w);
      };
      const body = 'data: {"a":1}\n\nnot json at all\r\n{"b":[2,"é"]}\ndata: [DONE]\n';
      const r = await run({ payload: body, headers: { 'x-amzn-sagemaker-custom-attributes': 'partBytes=3' } });
      assert.deepEqual(
        r.parts.map((m) => m.payload),
        [{ a: 1 }, { b: [2, 'é'] }],
      );
      assert.deepEqual(r.completion.payload, [{ a: 1 }, { b: [2, 'é'] }]);
      assert.equal(warnings.length, 1);
      assert.match(String(warnings[0]), /not json at all/);
    });
  });

  describe('messages', function () {
    it('part and completion messages carry msg.sagemaker as specified and keep the input properties', async function () {
      await load(flow(emu, { decode: 'json', text: 'tgi' }));
      const r = await run({ payload: 'Hello', topic: 'chat-1', headers: { 'x-amzn-sagemaker-custom-attributes': 'tokens=5' } });
      assert.equal(r.parts.length, 5);
      r.parts.forEach((m, i) => {
        assert.equal(m.topic, 'chat-1');
        assert.deepEqual(Object.keys(m.sagemaker).sort(), ['contentType', 'endpointName', 'index', 'invokedProductionVariant', 'streamId']);
        assert.equal(m.sagemaker.index, i);
        assert.equal(m.sagemaker.endpointName, 'text-generator');
        assert.equal(m.sagemaker.contentType, 'application/jsonlines');
        assert.equal(m.sagemaker.invokedProductionVariant, 'AllTraffic');
        assert.equal(m.sagemaker.streamId, r.parts[0].sagemaker.streamId);
        assert.equal(m.parts, undefined);
      });
      const c = r.completion;
      assert.equal(c.topic, 'chat-1');
      assert.equal(c.sagemaker.parts, 5);
      assert.equal(c.sagemaker.payloadParts, 5);
      assert.ok(c.sagemaker.bytes > 0);
      assert.ok(c.sagemaker.timeToFirstPartMs >= 0 && c.sagemaker.durationMs >= c.sagemaker.timeToFirstPartMs);
      assert.equal(c.sagemaker.streamId, r.parts[0].sagemaker.streamId);
    });

    it('the request goes to the stream operation with Accept as X-Amzn-SageMaker-Accept', async function () {
      await load(flow(emu, { accept: 'text/event-stream', decode: 'json', text: 'openai' }));
      const r = await run({ payload: { inputs: 'x' }, headers: { 'x-amzn-sagemaker-custom-attributes': 'tokens=3' } });
      assert.equal(r.parts.length, 3);
      assert.equal(r.completion.sagemaker.contentType, 'text/event-stream');
      const req = emu
        .received()
        .filter((q) => q.operation === 'InvokeEndpointWithResponseStream')
        .pop();
      assert.equal(req.headers['x-amzn-sagemaker-accept'], 'text/event-stream');
      assert.equal(req.headers['content-type'], 'application/json');
    });

    it('completion payload off: no body on output 2, the counts are still there', async function () {
      await load(flow(emu, { completionPayload: false }));
      const r = await run({ payload: 'x', headers: { 'x-amzn-sagemaker-custom-attributes': 'tokens=6' } });
      assert.equal(r.completion.payload, undefined);
      assert.equal(r.completion.sagemaker.payloadParts, 6);
      assert.equal(r.parts.length, 6);
    });

    it('sequence + a core join node in automatic mode rebuilds the whole text and restores the input msg.parts', async function () {
      const f = flow(emu, { decode: 'json', text: 'tgi', sequence: true, wires: [['joiner', 'parts'], ['done']] });
      f.push({ id: 'joiner', type: 'join', mode: 'auto', build: 'string', property: 'payload', propertyType: 'msg', wires: [['joined']] });
      f.push({ id: 'joined', type: 'helper' });
      await load(f, [joinNode]);
      const joined = new Promise((resolve) => helper.getNode('joined').once('input', resolve));
      const outer = { id: 'outer', index: 2, count: 5, type: 'array' };
      const r = await run({ payload: 'Join me', parts: outer, headers: { 'x-amzn-sagemaker-custom-attributes': 'tokens=17;partBytes=6' } });
      const j = await joined;
      assert.equal(j.payload, r.completion.payload);
      assert.deepEqual(j.parts, outer);
      const last = r.parts[r.parts.length - 1];
      assert.equal(last.parts.count, 17);
      assert.ok(r.parts.slice(0, -1).every((m) => m.parts.count === undefined));
      assert.deepEqual(r.parts[0].parts.parts, outer);
      assert.equal(r.parts[0].parts.id, r.parts[0].sagemaker.streamId);
    });

    it('sequence in part/string mode also rebuilds the exact text (join char "")', async function () {
      const f = flow(emu, { endpointName: 'echo', sequence: true, wires: [['joiner'], ['done']] });
      f.push({ id: 'joiner', type: 'join', mode: 'auto', wires: [['joined']] });
      f.push({ id: 'joined', type: 'helper' });
      await load(f, [joinNode]);
      const joined = new Promise((resolve) => helper.getNode('joined').once('input', resolve));
      helper.getNode('s').receive({ payload: MIXED, headers: { 'x-amzn-sagemaker-custom-attributes': 'partBytes=5' } });
      assert.equal((await joined).payload, MIXED);
    });
  });

  describe('failures', function () {
    for (const [endpointName, name] of [
      ['gen-error', 'ModelStreamError'],
      ['gen-failure', 'InternalStreamFailure'],
    ]) {
      it(`${name} mid-stream gives exactly one error with partsReceived and no completion`, async function () {
        await load(flow(emu, { endpointName }));
        const completions = [];
        helper.getNode('done').on('input', (m) => completions.push(m));
        const r = await run({ payload: 'x' });
        await sleep(50);
        assert.equal(completions.length, 0);
        assert.equal(r.error.sagemaker.error.name, name);
        assert.equal(r.error.sagemaker.error.partsReceived, 3);
        assert.equal(r.parts.length, 3);
        assert.equal(r.error.error.message.includes(name), true);
      });
    }

    it('a reset mid-stream gives one error with partsReceived and no completion', async function () {
      await load(flow(emu, { endpointName: 'gen-reset' }));
      const completions = [];
      helper.getNode('done').on('input', (m) => completions.push(m));
      const r = await run({ payload: 'x' });
      await sleep(50);
      assert.equal(completions.length, 0);
      assert.ok(r.error.sagemaker.error.partsReceived <= 3);
      assert.equal(typeof r.error.sagemaker.error.partsReceived, 'number');
      assert.equal(r.error.sagemaker.error.name, 'StreamReset');
      assert.match(r.error.sagemaker.error.message, /^The connection was cut mid-stream after \d+ parts/);
    });

    it('an exception as the first event (send() rejects) gives one error with partsReceived 0', async function () {
      await load(flow(emu, { endpointName: 'gen-first' }));
      const r = await run({ payload: 'x' });
      assert.equal(r.error.sagemaker.error.name, 'ModelStreamError');
      assert.equal(r.error.sagemaker.error.partsReceived, 0);
      assert.equal(r.parts.length, 0);
    });

    it('a stall trips idleTimeout: one IdleTimeout error, the emulator sees the client go away', async function () {
      const before = emu.stats().streamsAborted;
      await load(flow(emu, { endpointName: 'gen-stall', idleTimeout: '0.3' }));
      const r = await run({ payload: 'x' });
      assert.equal(r.error.sagemaker.error.name, 'IdleTimeout');
      assert.equal(r.error.sagemaker.error.partsReceived, 2);
      assert.equal(r.completion, undefined);
      await until(() => emu.stats().streamsAborted === before + 1, 'streamsAborted');
    });

    it('an invalid endpoint name fails before any network call', async function () {
      const count = emu.received().length;
      await load(flow(emu, { endpointName: 'bad name!' }));
      const r = await run({ payload: 'x' });
      assert.match(r.error.error.message, /Endpoint name/);
      assert.equal(emu.received().length, count);
    });

    it('an unusable idle timeout setting shows a red ring and fails each message with the reason', async function () {
      await load(flow(emu, { idleTimeout: 'soon' }));
      const r = await run({ payload: 'x' });
      assert.match(r.error.error.message, /dle timeout/);
    });
  });

  describe('close', function () {
    it('redeploy during 20 open streams aborts them all, calls done once each, the emulator counts 20 aborted', async function () {
      await load(flow(emu));
      const s = helper.getNode('s');
      const dones = [];
      const orig = s._complete;
      s._complete = function (msg, err) {
        dones.push({ msg, err });
        return orig.call(this, msg, err);
      };
      const completions = [];
      const errors = [];
      helper.getNode('done').on('input', (m) => completions.push(m));
      helper.getNode('caught').on('input', (m) => errors.push(m));
      const firstParts = new Set();
      helper.getNode('parts').on('input', (m) => firstParts.add(m._msgid));
      const before = emu.stats().streamsAborted;
      for (let i = 0; i < 20; i++) {
        s.receive({ payload: `prompt ${i}`, headers: { 'x-amzn-sagemaker-custom-attributes': 'format=text;tokens=100000;delay=20' } });
      }
      await until(() => firstParts.size === 20, 'a part from each of the 20 streams');
      await helper.unload();
      assert.equal(dones.length, 20);
      assert.ok(dones.every((d) => d.err === undefined));
      assert.equal(new Set(dones.map((d) => d.msg._msgid)).size, 20);
      assert.equal(completions.length, 0);
      assert.equal(errors.length, 0);
      await until(() => emu.stats().streamsAborted === before + 20, 'the emulator to see 20 aborted streams');
    });
  });
});
