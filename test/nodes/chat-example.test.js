'use strict';
// The flow of the example "Chat with a streaming model" without a browser and without Dashboard
// 2.0: its function, stream, catch and debug nodes as exported, against the emulator with the
// demo's endpoints, and a helper node in place of the page (the ui-template). Covers what the
// page relies on: parts then one "done" per question, addressed to the asking client, history
// per client in the `messages` format, a readable error, and forgetting a closed tab.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { helper, useNodeRed, coreNode, collect, until } = require('../helper');
const { useEmulator } = require('../support/emulator');

const configNode = require('../../nodes/sagemaker-config.js');
const streamNode = require('../../nodes/sagemaker-stream.js');
const functionNode = coreNode('function/10-function.js');
const catchNode = coreNode('common/25-catch.js');
const debugNode = coreNode('common/21-debug.js');
const commentNode = coreNode('common/90-comment.js');

const root = path.join(__dirname, '..', '..');
const example = JSON.parse(fs.readFileSync(path.join(root, 'examples', 'Chat with a streaming model.json'), 'utf8'));
const demoEndpoints = JSON.parse(fs.readFileSync(path.join(root, 'scripts', 'demo-emulator.json'), 'utf8')).endpoints;
const byName = (name) => example.find((n) => n.name === name);

describe('example "Chat with a streaming model" (flow logic, no dashboard)', function () {
  let emu;
  let page; // what the flow sends to the page
  let requests; // the stream requests the model received in this test

  useNodeRed();
  useEmulator({ endpoints: demoEndpoints }, (e) => (emu = e));

  beforeEach(async function () {
    const template = example.find((n) => n.type === 'ui-template');
    const nodes = example
      .filter((n) => !/^ui-/.test(n.type))
      .map((n) => {
        if (n.type === 'sagemaker-config') return { ...n, region: 'us-east-1', credentialType: 'keys', endpoint: emu.url, s3Endpoint: '' };
        if (n.type === 'sagemaker-stream') return { ...n, customAttributes: 'tokens=6' };
        return n;
      });
    nodes.push({ id: template.id, z: template.z, type: 'helper' });
    const config = example.find((n) => n.type === 'sagemaker-config');
    await helper.load([configNode, streamNode, functionNode, catchNode, debugNode, commentNode], nodes, {
      [config.id]: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    page = collect(template.id);
    const earlier = emu.received().length;
    requests = () =>
      emu
        .received()
        .slice(earlier)
        .filter((r) => r.operation === 'InvokeEndpointWithResponseStream');
  });

  /** Sends a question as the page does and resolves to what the page got for it. */
  async function ask(socketId, question, endpoint) {
    const from = page.length;
    helper.getNode(byName('question → request').id).receive({ payload: question, endpoint, _client: { socketId } });
    await until(() => page.slice(from).some((m) => m.topic !== 'part'), `the end of the answer to "${question}"`, 15000);
    const got = page.slice(from);
    return { got, parts: got.filter((m) => m.topic === 'part').map((m) => m.payload), end: got[got.length - 1] };
  }

  it('sends the page the parts, then one "done" with the completion, only with the asking client and topic/payload', async function () {
    const a = await ask('tab-1', 'What does the café serve?');
    assert.ok(a.parts.length >= 3);
    assert.equal(a.end.topic, 'done');
    assert.equal(a.end.payload, a.parts.join(''));
    assert.match(a.end.payload, /^Turn 1:\s/);
    for (const m of a.got)
      assert.deepEqual(
        Object.keys(m)
          .filter((k) => k !== '_msgid')
          .sort(),
        ['_client', 'payload', 'topic'],
      );
    assert.ok(a.got.every((m) => m._client.socketId === 'tab-1'));
    const body = JSON.parse(requests().pop().body);
    assert.deepEqual(body.messages.slice(1), [{ role: 'user', content: 'What does the café serve?' }]);
    assert.equal(body.messages[0].role, 'system');
  });

  it('sends the history of this client with the next question, in the OpenAI-style messages format', async function () {
    const first = await ask('tab-1', 'First?');
    const second = await ask('tab-1', 'Second?');
    assert.match(second.end.payload, /^Turn 2:\s/);
    const body = JSON.parse(requests().pop().body);
    assert.deepEqual(body.messages.slice(1), [
      { role: 'user', content: 'First?' },
      { role: 'assistant', content: first.end.payload },
      { role: 'user', content: 'Second?' },
    ]);
    assert.equal(body.stream, true);
  });

  it('keeps one conversation per client, and forgets a client whose tab closed', async function () {
    await ask('tab-1', 'One');
    assert.match((await ask('tab-2', 'Other tab')).end.payload, /^Turn 1:\s/);
    assert.match((await ask('tab-1', 'Two')).end.payload, /^Turn 2:\s/);
    helper.getNode(byName('forget closed tabs').id).receive({ payload: 'lost', _client: { socketId: 'tab-1' } });
    assert.match((await ask('tab-1', 'Three')).end.payload, /^Turn 1:\s/, 'a reconnected page starts over');
    assert.match((await ask('tab-2', 'Again')).end.payload, /^Turn 2:\s/);
  });

  it('turns a mid-stream failure into one readable "error" for the page; the failed turn stays out of the history', async function () {
    const a = await ask('tab-1', 'Tell me a story', 'text-generator-flaky');
    assert.equal(a.end.topic, 'error');
    assert.match(a.end.payload, /^The answer stopped after 3 parts: \S/);
    assert.doesNotMatch(a.end.payload, /undefined|\[object Object\]|\n\s+at /);
    assert.equal(a.got.filter((m) => m.topic !== 'part').length, 1);
    assert.match((await ask('tab-1', 'Try again')).end.payload, /^Turn 1:\s/);
  });

  it('ignores blank questions, messages without a dashboard client, and endpoints not on its list', async function () {
    const node = helper.getNode(byName('question → request').id);
    node.receive({ payload: '   ', _client: { socketId: 'tab-1' } });
    node.receive({ payload: 'no client' });
    const a = await ask('tab-1', 'Which endpoint?', 'some-other-endpoint');
    assert.equal(a.end.topic, 'done');
    assert.equal(requests().length, 1, 'only the valid question reached the model');
    assert.equal(requests()[0].endpointName, 'text-generator');
  });
});
