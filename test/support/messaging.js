'use strict';
// The emulator's SQS and SNS as the notification tests use them: clients, queues subscribed to
// the async topics (raw or in the SNS envelope, with a filter policy on the inference ID prefix, a
// dead-letter queue), and how many messages a queue holds.
const { SQSClient, CreateQueueCommand, GetQueueAttributesCommand } = require('@aws-sdk/client-sqs');
const { SNSClient, CreateTopicCommand, SubscribeCommand } = require('@aws-sdk/client-sns');
const { SageMakerRuntimeClient } = require('@aws-sdk/client-sagemaker-runtime');
const { useEmulator } = require('./emulator');

const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

/** SQS, SNS and SageMaker Runtime clients of the emulator; `destroy()` ends all three. */
function messagingClients(emu) {
  const sqs = new SQSClient({ region: 'us-east-1', endpoint: emu.sqsUrl, credentials: CREDENTIALS });
  const sns = new SNSClient({ region: 'us-east-1', endpoint: emu.snsUrl, credentials: CREDENTIALS });
  const rt = new SageMakerRuntimeClient({ region: 'us-east-1', endpoint: emu.url, credentials: CREDENTIALS });
  return {
    sqs,
    sns,
    rt,
    destroy() {
      for (const c of [sqs, sns, rt]) c.destroy();
    },
  };
}

async function queueArn(sqs, url) {
  return (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))).Attributes.QueueArn;
}

/**
 * Creates queue `name` and subscribes it to every topic in `topics`: `raw` for raw message
 * delivery, `prefix` for a filter policy on the inferenceId in the message body, `visibility`
 * (s) for its visibility timeout, `redrive` for a dead-letter queue `<name>-dlq` taking what was
 * received that many times. Resolves with { url, dlq }.
 */
async function subscribedQueue({ sqs, sns }, name, topics, { raw = false, prefix, visibility, redrive } = {}) {
  const attrs = {};
  let dlq;
  if (redrive) {
    dlq = (await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }))).QueueUrl;
    attrs.RedrivePolicy = JSON.stringify({ deadLetterTargetArn: await queueArn(sqs, dlq), maxReceiveCount: redrive });
  }
  if (visibility !== undefined) attrs.VisibilityTimeout = String(visibility);
  const url = (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attrs }))).QueueUrl;
  const arn = await queueArn(sqs, url);
  const attributes = { RawMessageDelivery: String(raw) };
  if (prefix !== undefined) {
    attributes.FilterPolicy = JSON.stringify({ inferenceId: [{ prefix }] });
    attributes.FilterPolicyScope = 'MessageBody';
  }
  for (const t of topics) await sns.send(new SubscribeCommand({ TopicArn: t, Protocol: 'sqs', Endpoint: arn, Attributes: attributes }));
  return { url, dlq };
}

/** How many messages queue `url` holds, visible or in flight. */
async function messagesIn(sqs, url) {
  const a = (
    await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    )
  ).Attributes;
  return Number(a.ApproximateNumberOfMessages) + Number(a.ApproximateNumberOfMessagesNotVisible);
}

/** Waits until queue `url` holds no message, asking every 25 ms; fails after `tries` asks. */
async function untilEmpty(sqs, url, tries) {
  for (let i = 0; i < tries; i++) {
    if ((await messagesIn(sqs, url)) === 0) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${url} to empty`);
}

/**
 * useEmulator for the suites about async notifications: the clients above, topics `ok` and
 * `bad`, and endpoints that notify them: `plain`, `include` (the response inside the success
 * notification) and `failing` (every job fails). `setup(env)` gets { emu, sqs, sns, rt,
 * okTopic, badTopic } once all is up; the clients end after the suite. Returns the suite's queue
 * helpers: `queue(options)`, a new queue `<name>-<n>` subscribed to both topics (options as
 * subscribedQueue takes them); `messagesIn(url)`; `untilEmpty(url, tries)`.
 */
function useNotifyingEmulator(name, setup) {
  let clients;
  let topics;
  let n = 0;
  useEmulator(
    {},
    async (emu) => {
      clients = messagingClients(emu);
      const okTopic = (await clients.sns.send(new CreateTopicCommand({ Name: 'ok' }))).TopicArn;
      const badTopic = (await clients.sns.send(new CreateTopicCommand({ Name: 'bad' }))).TopicArn;
      const base = { model: 'echo', async: { delayMs: 20, jitterMs: 20, successTopic: okTopic, errorTopic: badTopic } };
      emu.setEndpoint('plain', base);
      emu.setEndpoint('include', { ...base, async: { ...base.async, includeInferenceResponseIn: ['SUCCESS_NOTIFICATION_TOPIC'] } });
      emu.setEndpoint('failing', { ...base, faults: [{ kind: 'async-failure' }] });
      topics = [okTopic, badTopic];
      await setup({ emu, ...clients, okTopic, badTopic });
    },
    () => clients?.destroy(),
  );
  return {
    queue: (options) => subscribedQueue(clients, `${name}-${++n}`, topics, options),
    messagesIn: (url) => messagesIn(clients.sqs, url),
    untilEmpty: (url, tries) => untilEmpty(clients.sqs, url, tries),
  };
}

module.exports = { CREDENTIALS, messagingClients, subscribedQueue, messagesIn, untilEmpty, useNotifyingEmulator };
