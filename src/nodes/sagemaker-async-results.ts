/**
 * sagemaker-async-results: consumes an SQS queue of SageMaker async notifications (SNS → SQS) and
 * emits one message per finished job, with the result included in the notification or read from
 * S3. Several instances may consume one queue (competing consumers): a queue message is deleted
 * only after its outcome was sent, so one that cannot be processed becomes visible again after
 * the queue's visibility timeout and ends in the queue's dead-letter queue after its redrive
 * count (README, "Scaling out").
 */
import { jobResult, sqsQueueOps } from '../lib/async-result';
import type { AsyncNotification } from '../lib/async-notification';
import { QUEUE_URL } from '../lib/fields';
import { QueueConsumer, type Verdict } from '../lib/queue-consumer';
import type { NodeMessage, RED } from './red';
import { defineWorker } from './worker';

export = function (RED: RED) {
  defineWorker(RED, {
    type: 'sagemaker-async-results',
    settings: (read, { t }) => {
      const queueUrl = read.string('queueUrl');
      if (!QUEUE_URL.test(queueUrl)) read.check(t('errors.queueUrl', { value: JSON.stringify(queueUrl) }));
      return { queueUrl, maxResultBytes: read.get('maxResultBytes') };
    },

    start: (worker, { queueUrl, maxResultBytes }) => {
      const { node, config, status, t } = worker;
      let failures = 0;
      let lastError: string | undefined;
      const progress = (): string => t('status.consuming', { done: consumer.stats.handled, failed: failures });
      const showStatus = (): void => {
        if (lastError) status.error(lastError);
        else if (consumer.stats.handled > 0) status.done(progress());
        else status.update();
      };
      const deliver = async (note: AsyncNotification, signal: AbortSignal): Promise<Verdict> => {
        const sagemaker: Record<string, unknown> = { inferenceId: note.inferenceId, invocationStatus: note.invocationStatus };
        for (const k of ['endpointName', 'outputLocation', 'contentType', 'receivedTime', 'eventTime'] as const) {
          if (note[k] !== undefined) sagemaker[k] = note[k];
        }
        if (note.invocationStatus === 'Failed') {
          const reason = note.failureReason ?? 'no failureReason in the notification';
          const err = Object.assign(new Error(`Async inference ${note.inferenceId} failed: ${reason}`), { name: 'AsyncInferenceFailure' });
          const msg: NodeMessage = {
            _msgid: RED.util.generateId(),
            payload: note.includedResponse ? note.includedResponse.toString('utf8') : undefined,
            sagemaker: {
              ...sagemaker,
              ...(note.failureLocation ? { failureLocation: note.failureLocation } : {}),
              error: { name: err.name, message: err.message, failureReason: reason, retryable: false },
            },
          };
          failures += 1;
          node.error(err, msg);
          return 'delete';
        }
        let result;
        try {
          result = await jobResult(note, { s3: () => config.s3Client(), maxResultBytes, signal });
        } catch (err) {
          const e = err as Error;
          if (e.name === 'DecodeError') {
            // The bytes will never decode: that is this job's outcome.
            failures += 1;
            node.error(e, {
              _msgid: RED.util.generateId(),
              payload: note.outputLocation,
              sagemaker: { ...sagemaker, error: { name: e.name, message: e.message, retryable: false } },
            });
            return 'delete';
          }
          // Reading the output failed (network, permissions): the queue redelivers it later.
          if (!signal.aborted) {
            lastError = t('warn.read', { id: note.inferenceId, message: e.message });
            node.warn(lastError);
          }
          return 'keep';
        }
        if (result.warning) node.warn(result.warning);
        if (result.contentType) sagemaker.contentType = result.contentType;
        if (result.size !== undefined) sagemaker.size = result.size;
        lastError = undefined;
        node.send({ _msgid: RED.util.generateId(), payload: result.payload, sagemaker });
        return 'delete';
      };

      const consumer = new QueueConsumer({
        ops: sqsQueueOps(() => config.sqsClient(), queueUrl),
        handle: (note, _message, signal) => deliver(note, signal),
        onInvalid: (err, message) => {
          lastError = t('warn.invalid', { id: message.messageId, message: err.message });
          node.warn(lastError);
          return 'keep'; // visible again later, then the dead-letter queue
        },
        onError: (err, where) => {
          lastError = t('warn.queue', { where, message: (err as Error)?.message ?? String(err) });
          node.warn(lastError);
          showStatus();
        },
        onStats: () => showStatus(),
        onReceive: (count) => {
          // The queue answers again: a receive error no longer applies.
          if (count === 0 && lastError) {
            lastError = undefined;
            showStatus();
          }
        },
      });
      showStatus();
      consumer.start();
      return {
        busyText: () => (consumer.stats.handled === 0 && !lastError ? progress() : undefined),
        close: () => consumer.close(),
      };
    },
  });
};
