'use strict';
const assert = require('node:assert');
const { parseJsonLine, presetText, isTextPreset, toTextPiece } = require('../../dist/lib/stream-text.js');

describe('stream-text', function () {
  it('parses a plain JSON line', function () {
    assert.deepStrictEqual(parseJsonLine('{"a":1}'), { kind: 'value', value: { a: 1 } });
  });

  it('strips an SSE data: prefix with or without a space', function () {
    assert.deepStrictEqual(parseJsonLine('data: {"a":1}'), { kind: 'value', value: { a: 1 } });
    assert.deepStrictEqual(parseJsonLine('data:[1,2]'), { kind: 'value', value: [1, 2] });
  });

  it('skips blank lines, [DONE], SSE comments and other SSE fields', function () {
    for (const line of ['', '   ', 'data: [DONE]', '[DONE]', ': keep-alive', 'event: message', 'id: 7', 'retry: 100', 'data:']) {
      assert.deepStrictEqual(parseJsonLine(line), { kind: 'skip' }, line);
    }
  });

  it('reports a line that is not JSON as invalid with the line text', function () {
    const r = parseJsonLine('data: {oops');
    assert.strictEqual(r.kind, 'invalid');
    assert.strictEqual(r.line, '{oops');
    assert.ok(r.error.length > 0);
  });

  it('tgi preset takes token.text and skips special tokens', function () {
    assert.strictEqual(presetText('tgi', { token: { text: ' café', special: false } }), ' café');
    assert.strictEqual(presetText('tgi', { token: { text: '</s>', special: true } }), undefined);
    assert.strictEqual(presetText('tgi', { generated_text: 'x' }), undefined);
    assert.strictEqual(presetText('tgi', 'str'), undefined);
  });

  it('openai preset takes choices[0].delta.content, else choices[0].text', function () {
    assert.strictEqual(presetText('openai', { choices: [{ delta: { content: '日本' } }] }), '日本');
    assert.strictEqual(presetText('openai', { choices: [{ text: 'hi' }] }), 'hi');
    assert.strictEqual(presetText('openai', { choices: [{ delta: {}, finish_reason: 'stop' }] }), undefined);
    assert.strictEqual(presetText('openai', { choices: [] }), undefined);
    assert.strictEqual(presetText('openai', null), undefined);
  });

  it('knows the preset names and turns JSONata results into text pieces', function () {
    assert.ok(isTextPreset('tgi') && isTextPreset('openai') && isTextPreset('none'));
    assert.ok(!isTextPreset('token.text'));
    assert.strictEqual(toTextPiece(undefined), undefined);
    assert.strictEqual(toTextPiece(null), undefined);
    assert.strictEqual(toTextPiece(42), '42');
    assert.strictEqual(toTextPiece({ a: 1 }), '{"a":1}');
  });
});
