'use strict';
const assert = require('node:assert');
const {
  mapRequest,
  validateSettings,
  validateEndpointName,
  FIELDS,
  FIELDS_BY_OPERATION,
  MAX_BODY_BYTES,
  checkS3Uri,
} = require('../../dist/lib/request.js');
const { HEADER_OF } = require('../support/headers');

const inputError = (field, re) => (e) => e.name === 'InputError' && e.field === field && re.test(e.message);

const ALL_INVOKE = {
  contentType: 'application/x-test',
  accept: 'application/json',
  customAttributes: 'trace=1',
  targetModel: 'model-a.tar.gz',
  targetVariant: 'variant-1',
  targetContainerHostname: 'container-1',
  inferenceId: 'inf-1',
  enableExplanations: '`true`',
  inferenceComponentName: 'comp-1',
  sessionId: 'NEW_SESSION',
  prefixAwareId: 'prefix-1',
};
const PARAMS = {
  Accept: 'application/json',
  CustomAttributes: 'trace=1',
  TargetModel: 'model-a.tar.gz',
  TargetVariant: 'variant-1',
  TargetContainerHostname: 'container-1',
  InferenceId: 'inf-1',
  EnableExplanations: '`true`',
  InferenceComponentName: 'comp-1',
  SessionId: 'NEW_SESSION',
  PrefixAwareId: 'prefix-1',
};

describe('lib/request', function () {
  it('each operation offers exactly its fields', function () {
    assert.deepStrictEqual([...FIELDS_BY_OPERATION.invoke].sort(), Object.keys(ALL_INVOKE).sort());
    assert.ok(!FIELDS_BY_OPERATION.stream.includes('targetModel'));
    assert.ok(!FIELDS_BY_OPERATION.stream.includes('enableExplanations'));
    for (const k of [
      'targetModel',
      'targetVariant',
      'targetContainerHostname',
      'inferenceComponentName',
      'sessionId',
      'prefixAwareId',
      'enableExplanations',
    ]) {
      assert.ok(!FIELDS_BY_OPERATION.async.includes(k), k);
    }
    for (const k of [
      'inputLocation',
      'requestTTLSeconds',
      'invocationTimeoutSeconds',
      's3OutputPathExtension',
      'filename',
      'inferenceId',
    ]) {
      assert.ok(FIELDS_BY_OPERATION.async.includes(k), k);
    }
  });

  it('maps every invoke field from the node settings', function () {
    const r = mapRequest('invoke', 'my-ep', ALL_INVOKE, { payload: { x: 1 } });
    assert.strictEqual(r.endpointName, 'my-ep');
    assert.strictEqual(r.contentType, 'application/x-test');
    assert.deepStrictEqual(r.params, PARAMS);
    assert.strictEqual(r.body.toString(), '{"x":1}');
  });

  it('maps every invoke field from msg.headers, case-insensitively, when the node fields are blank', function () {
    const headers = {};
    for (const [k, h] of Object.entries(HEADER_OF)) headers[k === 'accept' ? h.toUpperCase() : h.toLowerCase()] = ALL_INVOKE[k];
    const r = mapRequest('invoke', 'my-ep', {}, { payload: 'x', headers });
    assert.strictEqual(r.contentType, 'application/x-test');
    assert.deepStrictEqual(r.params, PARAMS);
  });

  it('a node field beats the header', function () {
    const r = mapRequest(
      'invoke',
      'ep',
      { customAttributes: 'node' },
      { payload: 'x', headers: { 'X-Amzn-SageMaker-Custom-Attributes': 'header', 'content-type': 'text/x' } },
    );
    assert.strictEqual(r.params.CustomAttributes, 'node');
    assert.strictEqual(r.contentType, 'text/x');
  });

  it('ignores other headers, authentication headers included', function () {
    const r = mapRequest(
      'invoke',
      'ep',
      {},
      {
        payload: 'x',
        headers: { Authorization: 'AWS4 x', Host: 'evil', 'X-Amz-Date': '1', 'X-Amz-Security-Token': 't', 'user-agent': 'u', cookie: 'c' },
      },
    );
    assert.deepStrictEqual(r.params, {});
    assert.strictEqual(r.contentType, 'text/plain');
  });

  it('stream reads Accept from X-Amzn-SageMaker-Accept or Accept, and takes no TargetModel header', function () {
    assert.strictEqual(
      mapRequest('stream', 'ep', {}, { payload: 'x', headers: { 'x-amzn-sagemaker-accept': 'a/b', accept: 'c/d' } }).params.Accept,
      'a/b',
    );
    assert.strictEqual(mapRequest('stream', 'ep', {}, { payload: 'x', headers: { accept: 'c/d' } }).params.Accept, 'c/d');
    assert.deepStrictEqual(mapRequest('stream', 'ep', {}, { payload: 'x', headers: { 'x-amzn-sagemaker-target-model': 'm' } }).params, {});
    assert.throws(() => mapRequest('stream', 'ep', { sessionId: 'NEW_SESSION' }, { payload: 'x' }), inputError('SessionId', /NEW_SESSION/));
  });

  it('async reads X-Amzn-SageMaker-Content-Type before Content-Type and maps its own fields', function () {
    const r = mapRequest(
      'async',
      'ep',
      {},
      {
        payload: [1, 2],
        headers: {
          'content-type': 'text/plain',
          'X-Amzn-SageMaker-Content-Type': 'text/csv',
          'x-amzn-sagemaker-requestttlseconds': '120',
          'X-Amzn-SageMaker-InvocationTimeoutSeconds': 30,
          'x-amzn-sagemaker-s3outputpathextension': 'runs/a',
          'x-amzn-sagemaker-filename': 'out.json',
        },
      },
    );
    assert.strictEqual(r.contentType, 'text/csv');
    assert.deepStrictEqual(r.params, {
      RequestTTLSeconds: 120,
      InvocationTimeoutSeconds: 30,
      S3OutputPathExtension: 'runs/a',
      Filename: 'out.json',
    });
  });

  it('async with an input location (node field, msg.inputLocation, header) sends no body', function () {
    const a = mapRequest(
      'async',
      'ep',
      { inputLocation: 's3://bucket-a/in/x.json' },
      { payload: undefined, inputLocation: 's3://bucket-b/y' },
    );
    assert.strictEqual(a.params.InputLocation, 's3://bucket-a/in/x.json');
    assert.strictEqual(a.body.length, 0);
    assert.strictEqual(a.contentType, '');
    const b = mapRequest(
      'async',
      'ep',
      {},
      { inputLocation: 's3://bucket-b/y', headers: { 'x-amzn-sagemaker-inputlocation': 's3://bucket-c/z' } },
    );
    assert.strictEqual(b.params.InputLocation, 's3://bucket-b/y');
    const c = mapRequest('async', 'ep', { contentType: 'text/csv' }, { headers: { 'x-amzn-sagemaker-inputlocation': 's3://bucket-c/z' } });
    assert.strictEqual(c.params.InputLocation, 's3://bucket-c/z');
    assert.strictEqual(c.contentType, 'text/csv');
    assert.throws(
      () => mapRequest('async', 'ep', {}, { inputLocation: 's3://Bad_Bucket/x' }),
      inputError('InputLocation', /msg.inputLocation names an invalid bucket/),
    );
    assert.throws(
      () => mapRequest('async', 'ep', {}, { inputLocation: 42 }),
      inputError('InputLocation', /must be an s3:\/\/ URI string, got number/),
    );
  });

  it('async does not apply the 6 MB limit (the node decides inline vs S3)', function () {
    const big = Buffer.alloc(MAX_BODY_BYTES + 1);
    assert.strictEqual(mapRequest('async', 'ep', {}, { payload: big }).body.length, MAX_BODY_BYTES + 1);
  });

  it('request formats set the default content type; an explicit ContentType wins', function () {
    assert.strictEqual(
      mapRequest(
        'invoke',
        'ep',
        { requestFormat: 'csv' },
        {
          payload: [
            [1, 2],
            [3, 4],
          ],
        },
      ).contentType,
      'text/csv',
    );
    assert.strictEqual(
      mapRequest('invoke', 'ep', { requestFormat: 'csv', contentType: 'text/csv; label_size=0' }, { payload: [1] }).contentType,
      'text/csv; label_size=0',
    );
    assert.strictEqual(mapRequest('invoke', 'ep', {}, { payload: Buffer.from('a') }).contentType, 'application/octet-stream');
  });

  describe('bad input: each a clear InputError naming the field', function () {
    it('endpoint name: empty, too long, badly formed, not a string', function () {
      assert.throws(() => mapRequest('invoke', '', {}, { payload: 'x' }), inputError('Endpoint name', /empty/));
      assert.throws(
        () => mapRequest('invoke', 'a'.repeat(64), {}, { payload: 'x' }),
        inputError('Endpoint name', /at most 63 characters, got 64/),
      );
      assert.throws(() => mapRequest('invoke', 'bad name/x', {}, { payload: 'x' }), inputError('Endpoint name', /not valid/));
      assert.throws(() => mapRequest('invoke', '-ep', {}, { payload: 'x' }), inputError('Endpoint name', /not valid/));
      assert.throws(
        () => mapRequest('invoke', 42, {}, { payload: 'x' }),
        inputError('Endpoint name', /^Endpoint name must be a string, got number$/),
      );
      assert.throws(() => mapRequest('invoke', undefined, {}, { payload: 'x' }), inputError('Endpoint name', /got undefined/));
      assert.strictEqual(validateEndpointName('a'.repeat(63)), undefined);
    });
    it('body over 6 MB points to sagemaker-invoke-async', function () {
      assert.doesNotThrow(() => mapRequest('invoke', 'ep', {}, { payload: Buffer.alloc(MAX_BODY_BYTES) }));
      assert.throws(
        () => mapRequest('invoke', 'ep', {}, { payload: Buffer.alloc(MAX_BODY_BYTES + 1) }),
        inputError('msg.payload', /6291456-byte.*sagemaker-invoke-async/),
      );
      assert.throws(
        () => mapRequest('stream', 'ep', {}, { payload: 'x'.repeat(MAX_BODY_BYTES + 1) }),
        inputError('msg.payload', /sagemaker-invoke-async/),
      );
    });
    it('undefined, empty and circular payloads', function () {
      assert.throws(() => mapRequest('invoke', 'ep', {}, {}), inputError('msg.payload', /undefined/));
      assert.throws(() => mapRequest('invoke', 'ep', {}, { payload: '' }), inputError('msg.payload', /empty/));
      const o = {};
      o.o = o;
      assert.throws(() => mapRequest('invoke', 'ep', {}, { payload: o }), inputError('msg.payload', /circular/));
    });
    it('CustomAttributes over 1024 characters or non-ASCII, from the node or a header', function () {
      assert.throws(
        () => mapRequest('invoke', 'ep', { customAttributes: 'a'.repeat(1025) }, { payload: 'x' }),
        inputError('CustomAttributes', /CustomAttributes \(node setting\) must be at most 1024 characters, got 1025/),
      );
      assert.throws(
        () => mapRequest('invoke', 'ep', {}, { payload: 'x', headers: { 'x-amzn-sagemaker-custom-attributes': 'café' } }),
        inputError('CustomAttributes', /msg.headers.*US-ASCII/),
      );
      assert.doesNotThrow(() => mapRequest('invoke', 'ep', { customAttributes: 'a'.repeat(1024) }, { payload: 'x' }));
    });
    it('header values with control characters', function () {
      assert.throws(
        () => mapRequest('invoke', 'ep', {}, { payload: 'x', headers: { accept: 'a/b\r\nX-Evil: 1' } }),
        inputError('Accept', /control/),
      );
    });
    it('InferenceId over 64', function () {
      assert.throws(
        () => mapRequest('invoke', 'ep', { inferenceId: 'i'.repeat(65) }, { payload: 'x' }),
        inputError('InferenceId', /at most 64 characters, got 65/),
      );
    });
    it('TargetVariant and InferenceComponentName patterns', function () {
      assert.throws(
        () => mapRequest('invoke', 'ep', { targetVariant: 'bad_variant' }, { payload: 'x' }),
        inputError('TargetVariant', /letters, digits and hyphens/),
      );
      assert.throws(
        () => mapRequest('invoke', 'ep', { inferenceComponentName: 'comp-' }, { payload: 'x' }),
        inputError('InferenceComponentName', /letters, digits and hyphens/),
      );
    });
    it('csv format with a nested object', function () {
      assert.throws(
        () => mapRequest('invoke', 'ep', { requestFormat: 'csv' }, { payload: [[1, { a: 1 }]] }),
        inputError('msg.payload', /row 1 column 2 is an object/),
      );
    });
    it('async TTL, timeout, S3 output path extension and filename limits', function () {
      assert.throws(
        () => mapRequest('async', 'ep', { requestTTLSeconds: 59 }, { payload: 'x' }),
        inputError('RequestTTLSeconds', /from 60 to 21600, got "59"/),
      );
      assert.throws(
        () => mapRequest('async', 'ep', { requestTTLSeconds: '90.5' }, { payload: 'x' }),
        inputError('RequestTTLSeconds', /whole number/),
      );
      assert.throws(
        () => mapRequest('async', 'ep', {}, { payload: 'x', headers: { 'x-amzn-sagemaker-invocationtimeoutseconds': '3601' } }),
        inputError('InvocationTimeoutSeconds', /from 1 to 3600/),
      );
      assert.throws(
        () => mapRequest('async', 'ep', { s3OutputPathExtension: 's3://x' }, { payload: 'x' }),
        inputError('S3OutputPathExtension', /must be/),
      );
      assert.throws(
        () => mapRequest('async', 'ep', { s3OutputPathExtension: 'a/../b' }, { payload: 'x' }),
        inputError('S3OutputPathExtension', /\.\./),
      );
      assert.throws(() => mapRequest('async', 'ep', { filename: 'a.b.c' }, { payload: 'x' }), inputError('Filename', /at most one dot/));
      assert.throws(() => mapRequest('async', 'ep', { filename: 'f'.repeat(33) }, { payload: 'x' }), inputError('Filename', /at most 32/));
    });
    it('S3 URIs must be s3://bucket/key with a valid bucket and no .. segments', function () {
      assert.strictEqual(checkS3Uri('s3://my-bucket/a/b.json'), undefined);
      assert.match(checkS3Uri('https://x/y'), /S3 URI like s3:\/\/bucket\/key/);
      assert.match(checkS3Uri('s3://ab/x'), /invalid bucket/);
      assert.match(checkS3Uri('s3://my-bucket/'), /object key/);
      assert.match(checkS3Uri('s3://my-bucket/a/../b'), /"\.\."/);
    });
  });

  it('validateSettings flags configured values the node cannot use, naming the field', function () {
    assert.strictEqual(validateSettings('invoke', ALL_INVOKE), undefined);
    assert.strictEqual(validateSettings('invoke', { customAttributes: '', targetVariant: '' }), undefined);
    assert.match(validateSettings('invoke', { inferenceId: 'x'.repeat(65) }), /^InferenceId must be at most 64/);
    assert.match(validateSettings('invoke', { requestFormat: 'xml' }), /Request format must be one of/);
    assert.match(validateSettings('async', { requestTTLSeconds: '5' }), /^RequestTTLSeconds/);
    // fields the operation does not have are not checked
    assert.strictEqual(validateSettings('async', { targetVariant: 'bad_variant' }), undefined);
  });

  it('documents a header name for every field', function () {
    for (const f of FIELDS) assert.ok(f.headerName && Object.keys(f.headers).length > 0, f.key);
  });
});
