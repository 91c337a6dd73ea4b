'use strict';
const assert = require('node:assert/strict');
const { parseNotification, unwrapSqsBody, NotificationError } = require('../../dist/lib/async-notification.js');

// The success and error documents as the SageMaker Developer Guide shows them ("Check prediction
// results"), and the SNS envelope SQS receives without raw message delivery.
const SUCCESS = {
  awsRegion: 'us-east-1',
  eventTime: '2022-01-25T22:46:00.608Z',
  receivedTime: '2022-01-25T22:46:00.455Z',
  invocationStatus: 'Completed',
  requestParameters: { contentType: 'text/csv', endpointName: 'my-endpoint', inputLocation: 's3://bucket/in/input-data.csv' },
  responseParameters: { contentType: 'text/csv; charset=utf-8', outputLocation: 's3://bucket/out/prediction.out' },
  inferenceId: '11111111-2222-3333-4444-555555555555',
  eventVersion: '1.0',
  eventSource: 'aws:sagemaker',
  eventName: 'InferenceResult',
};
const FAILURE = {
  awsRegion: 'us-east-1',
  eventTime: '2022-01-25T22:46:00.608Z',
  receivedTime: '2022-01-25T22:46:00.455Z',
  invocationStatus: 'Failed',
  failureReason:
    'ClientError: Received server error (500) from model. See the SageMaker Endpoint logs in your account for more information.',
  requestParameters: { endpointName: 'my-endpoint', inputLocation: 's3://bucket/in/input-data.csv' },
  inferenceId: 'job-2',
  eventVersion: '1.0',
  eventSource: 'aws:sagemaker',
  eventName: 'InferenceResult',
};
const envelope = (doc) =>
  JSON.stringify({
    Type: 'Notification',
    MessageId: 'c9cafd57-db5c-5f85-9c8f-a1b1e8b5a527',
    TopicArn: 'arn:aws:sns:us-east-1:123456789012:success',
    Message: JSON.stringify(doc),
    Timestamp: '2022-01-25T22:46:00.700Z',
    SignatureVersion: '1',
  });

describe('async-notification', function () {
  it('parses a success notification inside the SNS envelope', function () {
    const n = parseNotification(envelope(SUCCESS));
    assert.equal(n.inferenceId, SUCCESS.inferenceId);
    assert.equal(n.invocationStatus, 'Completed');
    assert.equal(n.outputLocation, 's3://bucket/out/prediction.out');
    assert.equal(n.endpointName, 'my-endpoint');
    assert.equal(n.contentType, 'text/csv; charset=utf-8');
    assert.equal(n.eventTime, SUCCESS.eventTime);
    assert.equal(n.receivedTime, SUCCESS.receivedTime);
    assert.equal(n.topicArn, 'arn:aws:sns:us-east-1:123456789012:success');
    assert.equal(n.includedResponse, undefined);
    assert.equal(n.raw.eventName, 'InferenceResult');
  });

  it('parses a raw-delivered failure notification with its failureReason', function () {
    const n = parseNotification(JSON.stringify(FAILURE));
    assert.equal(n.invocationStatus, 'Failed');
    assert.match(n.failureReason, /^ClientError: Received server error \(500\)/);
    assert.equal(n.outputLocation, undefined);
    assert.equal(n.topicArn, undefined);
  });

  it('decodes an included response (responseBody with BASE64 encoding)', function () {
    const doc = { ...SUCCESS, responseBody: { content: Buffer.from('{"a":1}').toString('base64'), message: 'm', encoding: 'BASE64' } };
    const n = parseNotification(envelope(doc));
    assert.equal(n.includedResponse.toString(), '{"a":1}');
  });

  it('takes responseBody content without an encoding as UTF-8 text', function () {
    const n = parseNotification(JSON.stringify({ ...SUCCESS, responseBody: { content: 'héllo' } }));
    assert.equal(n.includedResponse.toString('utf8'), 'héllo');
  });

  it('keeps an optional responseParameters.failureLocation', function () {
    const n = parseNotification(JSON.stringify({ ...FAILURE, responseParameters: { failureLocation: 's3://b/f/job-2-error.out' } }));
    assert.equal(n.failureLocation, 's3://b/f/job-2-error.out');
  });

  for (const [what, body, pattern] of [
    ['a body that is not JSON', 'hello', /not JSON/],
    ['an envelope whose Message is not JSON', JSON.stringify({ Type: 'Notification', Message: 'plain text' }), /SNS Message is not JSON/],
    ['a JSON array', '[1,2]', /not a JSON object/],
    ["another service's event", JSON.stringify({ ...SUCCESS, eventSource: 'aws:s3' }), /not a SageMaker notification/],
    ['no inferenceId', JSON.stringify({ ...SUCCESS, inferenceId: '' }), /no inferenceId/],
    ['an unknown status', JSON.stringify({ ...SUCCESS, invocationStatus: 'InProgress' }), /Completed or Failed/],
    ['a success without output location or response', JSON.stringify({ ...SUCCESS, responseParameters: {} }), /neither/],
    ['bad base64 in responseBody', JSON.stringify({ ...SUCCESS, responseBody: { content: '%%%', encoding: 'BASE64' } }), /base64/],
  ]) {
    it(`rejects ${what} with a NotificationError`, function () {
      assert.throws(
        () => parseNotification(body),
        (err) => err instanceof NotificationError && pattern.test(err.message),
      );
    });
  }

  it('unwrapSqsBody leaves a raw document as it is', function () {
    assert.deepEqual(unwrapSqsBody('{"x":1}'), { document: { x: 1 } });
  });
});
