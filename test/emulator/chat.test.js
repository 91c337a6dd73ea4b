'use strict';
// The text-generator model with an OpenAI-style `messages` body (the chat format TGI, vLLM and
// LMI endpoints accept), read with the real SDK: the answer names the turn it answers, so a
// flow's test can see that the conversation history was sent.
const assert = require('node:assert/strict');
const { InvokeEndpointCommand, InvokeEndpointWithResponseStreamCommand } = require('@aws-sdk/client-sagemaker-runtime');
const { startEmulator } = require('../../dist/emulator');
const { runtimeClient } = require('./util');

const chat = (...turns) => JSON.stringify({ messages: turns.map(([role, content]) => ({ role, content })) });

describe('emulator: text-generator with chat messages', function () {
  let emu;
  let client;

  before(async function () {
    emu = await startEmulator({ port: 0 });
    client = runtimeClient(emu, { maxAttempts: 1 });
  });

  after(async function () {
    client.destroy();
    await emu.close();
  });

  /** Streams a request and returns the text pieces (TGI token texts or OpenAI deltas, or raw text). */
  async function stream(input) {
    const out = await client.send(
      new InvokeEndpointWithResponseStreamCommand({ EndpointName: 'text-generator', ContentType: 'application/json', ...input }),
    );
    const parts = [];
    for await (const e of out.Body) if (e.PayloadPart) parts.push(Buffer.from(e.PayloadPart.Bytes));
    const text = Buffer.concat(parts).toString('utf8');
    if (out.ContentType === 'application/jsonlines') {
      const events = text
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l));
      return { out, pieces: events.map((e) => e.token.text), events };
    }
    if (out.ContentType === 'text/event-stream') {
      const chunks = text
        .split('\n\n')
        .filter((e) => e && e !== 'data: [DONE]')
        .map((e) => JSON.parse(e.replace(/^data: /, '')));
      return { out, pieces: chunks.map((c) => c.choices[0].delta.content).filter((c) => c) };
    }
    return { out, pieces: [text] };
  }

  it('answers a one-message chat with "Turn 1:" as its first token, then the prompt\'s words (tokens counts the marker)', async function () {
    const r = await stream({ Body: chat(['user', 'Hello there']), CustomAttributes: 'tokens=6' });
    assert.equal(r.pieces.length, 6);
    assert.match(r.pieces[0], /^Turn 1: ?$/);
    const answer = r.pieces.join('');
    assert.match(answer, /^Turn 1:\s/, 'white space between the marker and the first word');
    assert.equal(r.events[5].generated_text, answer);
  });

  it('counts the user messages of the history: three user turns (with a system message and two answers) → "Turn 3:"', async function () {
    const body = chat(
      ['system', 'Be brief.'],
      ['user', 'Hi'],
      ['assistant', 'Turn 1: Hello'],
      ['user', 'And?'],
      ['assistant', 'Turn 2: ok'],
      ['user', 'Last one'],
    );
    const r = await stream({ Body: body, CustomAttributes: 'tokens=4' });
    assert.match(r.pieces.join(''), /^Turn 3:\s/);
  });

  it('the words after the marker depend on the last user message only, so a turn is repeatable', async function () {
    const first = await stream({ Body: chat(['user', 'Same question']), CustomAttributes: 'tokens=8' });
    const third = await stream({
      Body: chat(['user', 'a'], ['assistant', 'b'], ['user', 'c'], ['assistant', 'd'], ['user', 'Same question']),
      CustomAttributes: 'tokens=8',
    });
    assert.deepEqual(third.pieces.slice(1), first.pieces.slice(1));
    assert.match(third.pieces[0], /^Turn 3:/);
  });

  it('reads content given as an array of text parts', async function () {
    const body = JSON.stringify({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Same ' },
            { type: 'text', text: 'question' },
          ],
        },
      ],
    });
    const parts = await stream({ Body: body, CustomAttributes: 'tokens=8' });
    const plain = await stream({ Body: chat(['user', 'Same question']), CustomAttributes: 'tokens=8' });
    assert.deepEqual(parts.pieces, plain.pieces);
  });

  it('streams the chat answer as OpenAI chunks when Accept asks for text/event-stream', async function () {
    const r = await stream({
      Body: chat(['user', 'x'], ['assistant', 'y'], ['user', 'z']),
      Accept: 'text/event-stream',
      CustomAttributes: 'tokens=5',
    });
    assert.equal(r.out.ContentType, 'text/event-stream');
    assert.equal(r.pieces.length, 5);
    assert.match(r.pieces.join(''), /^Turn 2:\s/);
  });

  it('keeps the TGI `inputs` form as it was: no turn marker, the same tokens as a plain-text body with that prompt', async function () {
    const tgi = await stream({ Body: JSON.stringify({ inputs: 'Write a haiku' }), CustomAttributes: 'tokens=8' });
    const raw = await stream({ Body: 'Write a haiku', ContentType: 'text/plain', CustomAttributes: 'tokens=8' });
    assert.equal(tgi.pieces.length, 8);
    assert.doesNotMatch(tgi.pieces.join(''), /Turn/);
    assert.deepEqual(tgi.pieces, raw.pieces);
  });

  it('InvokeEndpoint answers a chat in one body that starts with the turn', async function () {
    const out = await client.send(
      new InvokeEndpointCommand({
        EndpointName: 'text-generator',
        ContentType: 'application/json',
        Body: chat(['user', 'a'], ['assistant', 'b'], ['user', 'c']),
      }),
    );
    const lines = Buffer.from(out.Body)
      .toString('utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.match(lines[lines.length - 1].generated_text, /^Turn 2:\s/);
  });

  for (const [label, body] of [
    ['messages that are not objects', JSON.stringify({ messages: [1, 'two', null] })],
    ['a message without text content', JSON.stringify({ messages: [{ role: 'user', content: { image: 'x' } }] })],
    ['an empty messages list', JSON.stringify({ messages: [] })],
  ]) {
    it(`treats a body with ${label} as a plain prompt (an answer, no turn marker)`, async function () {
      const r = await stream({ Body: body, CustomAttributes: 'tokens=3' });
      assert.equal(r.pieces.length, 3);
      assert.doesNotMatch(r.pieces.join(''), /Turn/);
    });
  }
});
