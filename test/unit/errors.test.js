'use strict';
const assert = require('node:assert');
const { InputError, describeError, isRetryable, logsUrlFromArn, errorText, errorAttempts, toError } = require('../../dist/lib/errors.js');

function sdkError(name, status, extra = {}) {
  const e = new Error(extra.message || `${name} happened`);
  e.name = name;
  e.$metadata = { httpStatusCode: status, requestId: 'req-1', attempts: extra.attempts || 1 };
  Object.assign(e, extra.fields || {});
  return e;
}

describe('lib/errors', function () {
  it('InputError carries the field and is never retryable', function () {
    const e = new InputError('CustomAttributes', 'too long');
    assert.strictEqual(e.name, 'InputError');
    assert.strictEqual(e.field, 'CustomAttributes');
    const info = describeError(e);
    assert.deepStrictEqual(info, { name: 'InputError', message: 'too long', retryable: false, field: 'CustomAttributes' });
    assert.strictEqual(errorText(info), 'too long');
  });

  it('ModelError keeps original status, message, log stream ARN and builds the CloudWatch link', function () {
    const arn = 'arn:aws:logs:eu-west-1:123456789012:log-group:/aws/sagemaker/Endpoints/my-ep:log-stream:AllTraffic/i-0abc';
    const info = describeError(
      sdkError('ModelError', 424, { fields: { OriginalStatusCode: 400, OriginalMessage: 'bad input', LogStreamArn: arn } }),
    );
    assert.strictEqual(info.name, 'ModelError');
    assert.strictEqual(info.statusCode, 424);
    assert.strictEqual(info.requestId, 'req-1');
    assert.strictEqual(info.retryable, false);
    assert.strictEqual(info.originalStatusCode, 400);
    assert.strictEqual(info.originalMessage, 'bad input');
    assert.strictEqual(info.logStreamArn, arn);
    assert.strictEqual(
      info.logsUrl,
      'https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:log-groups/log-group/$252Faws$252Fsagemaker$252FEndpoints$252Fmy-ep/log-events/AllTraffic$252Fi-0abc',
    );
    assert.strictEqual(errorText(info), 'ModelError happened (HTTP 424)');
    assert.strictEqual(String(toError(info)), 'ModelError: ModelError happened (HTTP 424)');
  });

  it('a log-group ARN without a stream links to the group only', function () {
    assert.strictEqual(
      logsUrlFromArn('arn:aws:logs:us-east-1:1:log-group:/aws/sagemaker/Endpoints/x:*'),
      'https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#logsV2:log-groups/log-group/$252Faws$252Fsagemaker$252FEndpoints$252Fx',
    );
    assert.strictEqual(logsUrlFromArn('not an arn'), undefined);
    assert.strictEqual(logsUrlFromArn(undefined), undefined);
  });

  it('absent fields are omitted rather than undefined', function () {
    const info = describeError(sdkError('ValidationError', 400));
    assert.deepStrictEqual(Object.keys(info).sort(), ['message', 'name', 'requestId', 'retryable', 'statusCode']);
  });

  it('classifies throttling, 5xx, timeouts and resets as retryable; ModelError, ValidationError, 530 not', function () {
    assert.strictEqual(isRetryable(sdkError('ThrottlingException', 400)), true);
    assert.strictEqual(isRetryable(sdkError('ModelNotReadyException', 429)), true);
    assert.strictEqual(isRetryable(sdkError('InternalFailure', 500)), true);
    assert.strictEqual(isRetryable(sdkError('ServiceUnavailable', 503)), true);
    assert.strictEqual(isRetryable(Object.assign(new Error('x'), { name: 'TimeoutError' })), true);
    assert.strictEqual(isRetryable(Object.assign(new Error('x'), { code: 'ECONNRESET' })), true);
    assert.strictEqual(isRetryable(sdkError('ModelError', 424)), false);
    assert.strictEqual(isRetryable(sdkError('ValidationError', 400)), false);
    assert.strictEqual(isRetryable(sdkError('InternalDependencyException', 530)), false);
    assert.strictEqual(isRetryable('a string'), false);
  });

  it('replaces the SDK UnknownError placeholder with the status', function () {
    const info = describeError(sdkError('Unknown', 500, { message: 'UnknownError' }));
    assert.strictEqual(errorText(info), 'the service answered HTTP 500 without details (HTTP 500)');
  });

  it('reads attempts from $metadata', function () {
    assert.strictEqual(errorAttempts(sdkError('ThrottlingException', 400, { attempts: 3 })), 3);
    assert.strictEqual(errorAttempts(new Error('x')), undefined);
  });

  it('describes non-Error throwables', function () {
    assert.deepStrictEqual(describeError('boom'), { name: 'Error', message: 'boom', retryable: false });
  });
});
