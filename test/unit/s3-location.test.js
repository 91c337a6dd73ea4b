'use strict';
const assert = require('node:assert/strict');
const {
  parseS3Uri,
  formatS3Uri,
  isS3Uri,
  bucketNameProblem,
  keyProblem,
  joinKey,
  keyDirectory,
  inputTargetProblem,
} = require('../../dist/lib/s3-location.js');

describe('s3-location', function () {
  it('parses s3://bucket/key and formats it back unchanged', function () {
    const loc = parseS3Uri('s3://my-bucket/in/put/a.json');
    assert.deepEqual(loc, { bucket: 'my-bucket', key: 'in/put/a.json' });
    assert.equal(formatS3Uri(loc), 's3://my-bucket/in/put/a.json');
  });

  it('parses virtual-hosted and path-style https URLs, decoding the key', function () {
    assert.deepEqual(parseS3Uri('https://my-bucket.s3.eu-west-1.amazonaws.com/a%20b/c.csv'), { bucket: 'my-bucket', key: 'a b/c.csv' });
    assert.deepEqual(parseS3Uri('https://my-bucket.s3.amazonaws.com/k'), { bucket: 'my-bucket', key: 'k' });
    assert.deepEqual(parseS3Uri('https://s3.us-east-1.amazonaws.com/my-bucket/x/y'), { bucket: 'my-bucket', key: 'x/y' });
    assert.deepEqual(parseS3Uri('https://minio.local:9000/data-bucket/x'), { bucket: 'data-bucket', key: 'x' });
  });

  it('rejects malformed URIs with a message naming the field', function () {
    for (const bad of ['', 'http://b/k', 's3:/b/k', 'bucket/key', 's3://', 's3:///key']) {
      assert.throws(() => parseS3Uri(bad, { field: 'InputLocation' }), /InputLocation/);
    }
  });

  it('rejects bucket names that break the S3 naming rules', function () {
    for (const b of ['ab', 'A-bucket', 'my_bucket', '-abc', 'abc-', 'a..b', '192.168.1.1', 'xn--abc', 'x'.repeat(64), 'abc-s3alias']) {
      assert.ok(bucketNameProblem(b), b);
      assert.throws(() => parseS3Uri(`s3://${b}/k`), /bucket name/);
    }
    for (const b of ['abc', 'my.bucket-1', 'sagemaker-emulator']) assert.equal(bucketNameProblem(b), undefined, b);
  });

  it('refuses "." and ".." path segments (no traversal out of a prefix)', function () {
    assert.throws(() => parseS3Uri('s3://bucket/in/../secret'), /\.\./);
    assert.throws(() => parseS3Uri('s3://bucket/./x'), /segments/);
    assert.throws(() => parseS3Uri('https://bucket.s3.amazonaws.com/a/%2e%2e/b'), /segments/);
    assert.ok(keyProblem('a/../b'));
    assert.equal(keyProblem('a/..b/c..'), undefined);
  });

  it('refuses keys over 1024 bytes and control characters', function () {
    assert.throws(() => parseS3Uri(`s3://bucket/${'é'.repeat(513)}`), /1024/);
    assert.throws(() => parseS3Uri('s3://bucket/a\nb'), /control/);
  });

  it('requires an object key unless told a prefix is fine', function () {
    assert.throws(() => parseS3Uri('s3://bucket'), /object/);
    assert.throws(() => parseS3Uri('s3://bucket/'), /object/);
    assert.deepEqual(parseS3Uri('s3://bucket/', { requireKey: false }), { bucket: 'bucket', key: '' });
  });

  it('recognises s3:// and https:// URIs only', function () {
    assert.equal(isS3Uri('s3://b/k'), true);
    assert.equal(isS3Uri('https://b.s3.amazonaws.com/k'), true);
    assert.equal(isS3Uri('file:///etc/passwd'), false);
    assert.equal(isS3Uri({}), false);
  });

  it('joins prefixes and finds key directories', function () {
    assert.equal(joinKey('', 'a'), 'a');
    assert.equal(joinKey('p/', 'a'), 'p/a');
    assert.equal(joinKey('p', 'a'), 'p/a');
    assert.equal(keyDirectory('a/b/c.out'), 'a/b/');
    assert.equal(keyDirectory('c.out'), '');
  });

  it('validates the node input bucket and prefix', function () {
    assert.equal(inputTargetProblem('bucket', 'async-in/'), undefined);
    assert.match(inputTargetProblem('Bad', ''), /inputBucket/);
    assert.match(inputTargetProblem('bucket', '../x'), /inputPrefix/);
  });
});
