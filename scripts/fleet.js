'use strict';
// The emulator's side of the "Fleet: async results through SQS" example (used by `npm start`):
// the SNS topics that an async endpoint notifies, a queue for this gateway's own jobs (filter
// policy on its inference ID prefix) and a queue shared by the fleet, each with a dead-letter
// queue — the set-up README "Scaling out" shows with the AWS CLI. Returns the environment
// variables the example's nodes read.
const { SQSClient, CreateQueueCommand, GetQueueAttributesCommand } = require('@aws-sdk/client-sqs');
const { SNSClient, CreateTopicCommand, SubscribeCommand } = require('@aws-sdk/client-sns');

/** The async endpoint of the example: sensor-anomaly, notifying the topics, responses included. */
const FLEET_ENDPOINT = 'sensor-anomaly-async';
/** Inference ID prefixes: this gateway's own jobs, and jobs any instance of the fleet may take. */
const GATEWAY_PREFIX = 'gw1-';
const FLEET_PREFIX = 'fleet-';

async function setUpFleet(
  emulator,
  { region = emulator.region || 'us-east-1', credentials = { accessKeyId: 'test', secretAccessKey: 'test' } } = {},
) {
  const sqs = new SQSClient({ region, endpoint: emulator.sqsUrl, credentials });
  const sns = new SNSClient({ region, endpoint: emulator.snsUrl, credentials });
  try {
    const topic = async (name) => (await sns.send(new CreateTopicCommand({ Name: name }))).TopicArn;
    const arnOf = async (url) =>
      (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))).Attributes.QueueArn;
    const success = await topic('sagemaker-async-success');
    const error = await topic('sagemaker-async-error');
    const queue = async (name, prefix) => {
      const dlq = (await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }))).QueueUrl;
      const url = (
        await sqs.send(
          new CreateQueueCommand({
            QueueName: name,
            Attributes: {
              VisibilityTimeout: '60',
              RedrivePolicy: JSON.stringify({ deadLetterTargetArn: await arnOf(dlq), maxReceiveCount: 5 }),
            },
          }),
        )
      ).QueueUrl;
      const arn = await arnOf(url);
      const attributes = {
        FilterPolicy: JSON.stringify({ inferenceId: [{ prefix }] }),
        FilterPolicyScope: 'MessageBody',
        RawMessageDelivery: 'true',
      };
      for (const t of [success, error])
        await sns.send(new SubscribeCommand({ TopicArn: t, Protocol: 'sqs', Endpoint: arn, Attributes: attributes }));
      return url;
    };
    const gateway = await queue('sagemaker-results-gw1', GATEWAY_PREFIX);
    const fleet = await queue('sagemaker-results-fleet', FLEET_PREFIX);
    emulator.setEndpoint(FLEET_ENDPOINT, {
      model: 'sensor-anomaly',
      async: {
        delayMs: 300,
        jitterMs: 700,
        successTopic: success,
        errorTopic: error,
        includeInferenceResponseIn: ['SUCCESS_NOTIFICATION_TOPIC'],
      },
    });
    return { SQS_ENDPOINT_URL: emulator.sqsUrl, GATEWAY_QUEUE_URL: gateway, FLEET_QUEUE_URL: fleet };
  } finally {
    sqs.destroy();
    sns.destroy();
  }
}

module.exports = { setUpFleet, FLEET_ENDPOINT, GATEWAY_PREFIX, FLEET_PREFIX };
