'use strict';
// The emulator's SQS (JSON 1.0) and SNS (query) with the real @aws-sdk/client-sqs and client-sns,
// and the SageMaker async notifications it publishes when a job ends.
const assert = require('node:assert/strict');
const {
  SQSClient,
  CreateQueueCommand,
  GetQueueUrlCommand,
  SendMessageCommand,
  ReceiveMessageCommand,
  DeleteMessageCommand,
  DeleteMessageBatchCommand,
  ChangeMessageVisibilityCommand,
  GetQueueAttributesCommand,
  SetQueueAttributesCommand,
} = require('@aws-sdk/client-sqs');
const { SNSClient, CreateTopicCommand, SubscribeCommand, PublishCommand } = require('@aws-sdk/client-sns');
const { InvokeEndpointAsyncCommand } = require('@aws-sdk/client-sagemaker-runtime');
const { startEmulator } = require('../../dist/emulator');
const { runtimeClient, TEST_CREDENTIALS } = require('./util');

describe('emulator SQS and SNS', function () {
  let emu;
  let sqs;
  let sns;
  before(async function () {
    emu = await startEmulator({ port: 0 });
    sqs = new SQSClient({ region: 'us-east-1', endpoint: emu.sqsUrl, credentials: TEST_CREDENTIALS });
    sns = new SNSClient({ region: 'us-east-1', endpoint: emu.snsUrl, credentials: TEST_CREDENTIALS });
  });
  after(async function () {
    sqs?.destroy();
    sns?.destroy();
    if (emu) await emu.close();
  });

  let n = 0;
  const queue = async (attributes) => (await sqs.send(new CreateQueueCommand({ QueueName: `q${++n}`, Attributes: attributes }))).QueueUrl;
  const arnOf = async (url) =>
    (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))).Attributes.QueueArn;
  const receive = (url, extra = {}) =>
    sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, ...extra }));

  it('creates a queue, finds it by name, and sends / receives / deletes a message (MD5 checked by the SDK)', async function () {
    const url = await queue();
    assert.equal(url, `${emu.sqsUrl}/123456789012/q${n}`);
    assert.equal((await sqs.send(new GetQueueUrlCommand({ QueueName: `q${n}` }))).QueueUrl, url);
    const sent = await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'héllo' }));
    assert.match(sent.MessageId, /^[0-9a-f-]{36}$/);
    const got = await receive(url, { MessageSystemAttributeNames: ['ApproximateReceiveCount'] });
    assert.equal(got.Messages.length, 1);
    assert.equal(got.Messages[0].Body, 'héllo');
    assert.equal(got.Messages[0].Attributes.ApproximateReceiveCount, '1');
    await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: got.Messages[0].ReceiptHandle }));
    assert.equal((await receive(url)).Messages, undefined);
  });

  it('answers an unknown queue with QueueDoesNotExist', async function () {
    await assert.rejects(
      sqs.send(new GetQueueUrlCommand({ QueueName: 'nope' })),
      (e) => e.name === 'QueueDoesNotExist' && e.$metadata.httpStatusCode === 400,
    );
  });

  it('rejects a request signed with the wrong secret (403)', async function () {
    const bad = new SQSClient({
      region: 'us-east-1',
      endpoint: emu.sqsUrl,
      credentials: { accessKeyId: 'test', secretAccessKey: 'wrong' },
      maxAttempts: 1,
    });
    try {
      await assert.rejects(bad.send(new CreateQueueCommand({ QueueName: 'x' })), (e) => e.$metadata.httpStatusCode === 403);
    } finally {
      bad.destroy();
    }
  });

  it('long-polls: a receive waiting with WaitTimeSeconds gets a message sent meanwhile', async function () {
    const url = await queue();
    const waiting = receive(url, { WaitTimeSeconds: 20 });
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'late' }));
    const got = await waiting;
    assert.equal(got.Messages[0].Body, 'late');
  });

  it('hides a received message from other consumers for the visibility timeout; ChangeMessageVisibility 0 shows it again', async function () {
    const url = await queue();
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'one' }));
    const first = await receive(url, { VisibilityTimeout: 30 });
    assert.equal(first.Messages.length, 1);
    assert.equal((await receive(url)).Messages, undefined);
    const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }));
    assert.equal(attrs.Attributes.ApproximateNumberOfMessagesNotVisible, '1');
    await sqs.send(
      new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: first.Messages[0].ReceiptHandle, VisibilityTimeout: 0 }),
    );
    const again = await receive(url);
    assert.equal(again.Messages[0].MessageId, first.Messages[0].MessageId);
    // The first receipt handle is outdated now: deleting with it leaves the message in the queue.
    await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: first.Messages[0].ReceiptHandle }));
    const batch = await sqs.send(
      new DeleteMessageBatchCommand({ QueueUrl: url, Entries: [{ Id: 'a', ReceiptHandle: again.Messages[0].ReceiptHandle }] }),
    );
    assert.deepEqual(
      batch.Successful.map((e) => e.Id),
      ['a'],
    );
    const left = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    assert.deepEqual(left.Attributes, { ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' });
  });

  it('moves a message received maxReceiveCount times to the dead-letter queue', async function () {
    const dlq = await queue();
    const url = await queue();
    await sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: url,
        Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: await arnOf(dlq), maxReceiveCount: 2 }) },
      }),
    );
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'poison' }));
    for (let i = 1; i <= 2; i++) {
      const got = await receive(url, { MessageSystemAttributeNames: ['ApproximateReceiveCount'] });
      assert.equal(got.Messages[0].Attributes.ApproximateReceiveCount, String(i));
      await sqs.send(
        new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: got.Messages[0].ReceiptHandle, VisibilityTimeout: 0 }),
      );
    }
    assert.equal((await receive(url)).Messages, undefined);
    const dead = await receive(dlq);
    assert.equal(dead.Messages[0].Body, 'poison');
  });

  it('SNS delivers to subscribed queues in the envelope or raw, applying a MessageBody filter policy (exact, prefix, anything-but)', async function () {
    const topic = (await sns.send(new CreateTopicCommand({ Name: 'results' }))).TopicArn;
    assert.equal(topic, 'arn:aws:sns:us-east-1:123456789012:results');
    const a = await queue();
    const b = await queue();
    const c = await queue();
    const sub = (url, attrs) =>
      arnOf(url).then((arn) =>
        sns.send(new SubscribeCommand({ TopicArn: topic, Protocol: 'sqs', Endpoint: arn, Attributes: attrs, ReturnSubscriptionArn: true })),
      );
    const s = await sub(a, { FilterPolicy: JSON.stringify({ inferenceId: [{ prefix: 'gw1-' }] }), FilterPolicyScope: 'MessageBody' });
    assert.match(s.SubscriptionArn, /^arn:aws:sns:us-east-1:123456789012:results:[0-9a-f-]{36}$/);
    await sub(b, {
      FilterPolicy: JSON.stringify({ invocationStatus: ['Failed'], inferenceId: [{ 'anything-but': { prefix: 'gw1-' } }] }),
      FilterPolicyScope: 'MessageBody',
      RawMessageDelivery: 'true',
    });
    await sub(c, {});
    const publish = (doc) => sns.send(new PublishCommand({ TopicArn: topic, Message: JSON.stringify(doc) }));
    const p1 = await publish({ inferenceId: 'gw1-1', invocationStatus: 'Completed' });
    await publish({ inferenceId: 'gw2-1', invocationStatus: 'Failed' });
    await publish({ inferenceId: 'gw2-2', invocationStatus: 'Completed' });
    const bodies = async (url) => ((await receive(url)).Messages ?? []).map((m) => m.Body);
    const gotA = await bodies(a);
    assert.equal(gotA.length, 1);
    const env = JSON.parse(gotA[0]);
    assert.equal(env.Type, 'Notification');
    assert.equal(env.MessageId, p1.MessageId);
    assert.equal(env.TopicArn, topic);
    assert.deepEqual(JSON.parse(env.Message), { inferenceId: 'gw1-1', invocationStatus: 'Completed' });
    assert.deepEqual(await bodies(b), ['{"inferenceId":"gw2-1","invocationStatus":"Failed"}']);
    assert.equal((await bodies(c)).length, 3);
  });

  it('publishes SageMaker async notifications to the success and error topics when a job ends', async function () {
    const ok = (await sns.send(new CreateTopicCommand({ Name: 'async-ok' }))).TopicArn;
    const bad = (await sns.send(new CreateTopicCommand({ Name: 'async-bad' }))).TopicArn;
    const url = await queue();
    const arn = await arnOf(url);
    for (const t of [ok, bad])
      await sns.send(new SubscribeCommand({ TopicArn: t, Protocol: 'sqs', Endpoint: arn, Attributes: { RawMessageDelivery: 'true' } }));
    emu.setEndpoint('notify-echo', {
      model: 'echo',
      async: { delayMs: 0, jitterMs: 0, successTopic: ok, errorTopic: bad, includeInferenceResponseIn: ['SUCCESS_NOTIFICATION_TOPIC'] },
    });
    emu.setEndpoint('notify-fail', {
      model: 'echo',
      async: { delayMs: 0, jitterMs: 0, successTopic: ok, errorTopic: bad },
      faults: [{ kind: 'async-failure' }],
    });
    const rt = runtimeClient(emu);
    try {
      const before = Date.now();
      const r1 = await rt.send(
        new InvokeEndpointAsyncCommand({
          EndpointName: 'notify-echo',
          Body: Buffer.from('{"x":1}'),
          ContentType: 'application/json',
          InferenceId: 'n-ok',
        }),
      );
      await rt.send(
        new InvokeEndpointAsyncCommand({
          EndpointName: 'notify-fail',
          Body: Buffer.from('{}'),
          ContentType: 'application/json',
          InferenceId: 'n-bad',
        }),
      );
      const docs = [];
      while (docs.length < 2) {
        const got = await receive(url, { WaitTimeSeconds: 20 });
        for (const m of got.Messages ?? []) docs.push(JSON.parse(m.Body));
      }
      const okDoc = docs.find((d) => d.inferenceId === 'n-ok');
      const badDoc = docs.find((d) => d.inferenceId === 'n-bad');
      assert.deepEqual(Object.keys(okDoc), [
        'awsRegion',
        'eventTime',
        'receivedTime',
        'invocationStatus',
        'requestParameters',
        'responseParameters',
        'responseBody',
        'inferenceId',
        'eventVersion',
        'eventSource',
        'eventName',
      ]);
      assert.equal(okDoc.awsRegion, 'us-east-1');
      assert.equal(okDoc.invocationStatus, 'Completed');
      assert.deepEqual(okDoc.requestParameters, { contentType: 'application/json', endpointName: 'notify-echo' });
      assert.deepEqual(okDoc.responseParameters, { contentType: 'application/json', outputLocation: r1.OutputLocation });
      assert.equal(Buffer.from(okDoc.responseBody.content, 'base64').toString(), '{"x":1}');
      assert.equal(okDoc.responseBody.encoding, 'BASE64');
      assert.deepEqual([okDoc.eventVersion, okDoc.eventSource, okDoc.eventName], ['1.0', 'aws:sagemaker', 'InferenceResult']);
      assert.ok(Date.parse(okDoc.receivedTime) >= before - 1000 && Date.parse(okDoc.eventTime) >= Date.parse(okDoc.receivedTime));
      assert.equal(badDoc.invocationStatus, 'Failed');
      assert.match(badDoc.failureReason, /^ClientError: Received server error \(500\)/);
      assert.equal(badDoc.responseParameters, undefined);
      assert.equal(badDoc.responseBody, undefined);
    } finally {
      rt.destroy();
    }
  });
});
