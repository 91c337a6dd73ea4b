'use strict';
const assert = require('node:assert/strict');
const { requestMapper } = require('../../dist/lib/request.js');

describe("request mapper: one node's settings, prepared once", function () {
  it('maps messages like mapRequest: node fields win, blank ones come from msg.headers', function () {
    const map = requestMapper('invoke', { customAttributes: 'node', accept: '' });
    const r = map.request('ep', { payload: { a: 1 }, headers: { 'X-Amzn-SageMaker-Custom-Attributes': 'header', Accept: 'text/csv' } });
    assert.equal(r.endpointName, 'ep');
    assert.deepEqual(r.params, { CustomAttributes: 'node', Accept: 'text/csv' });
    assert.equal(r.contentType, 'application/json');
    assert.equal(String(r.body), '{"a":1}');
  });

  it('an unusable node field fails every message with the field named, before anything is encoded', function () {
    const map = requestMapper('invoke', { customAttributes: 'a'.repeat(1025) });
    for (let i = 0; i < 2; i++) {
      assert.throws(
        () => map.request('ep', { payload: 'x' }),
        (e) => e.name === 'InputError' && /CustomAttributes \(node setting\) must be at most 1024/.test(e.message),
      );
    }
  });

  it('an unknown request format fails every message', function () {
    assert.throws(
      () => requestMapper('stream', { requestFormat: 'yaml' }).request('ep', { payload: 'x' }),
      /Request format must be one of/,
    );
  });

  it('fields() leaves the body out (batching groups messages by it)', function () {
    const f = requestMapper('invoke', { contentType: 'text/csv' }).fields(' ep ', { headers: { 'x-amzn-sagemaker-target-variant': 'v1' } });
    assert.deepEqual(f, { endpointName: 'ep', contentType: 'text/csv', params: { TargetVariant: 'v1' } });
  });
});
