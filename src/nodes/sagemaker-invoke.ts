/**
 * `sagemaker-invoke`: one InvokeEndpoint call per message (README "sagemaker-invoke"), with a
 * per-node concurrency limit and a bounded FIFO queue; with a batch size above 1, messages for the
 * same endpoint and request fields share one call (invoke-batching.ts).
 */
import { batchFormatFor } from '../lib/batch';
import { InputError } from '../lib/errors';
import { decodeBody } from '../lib/payload';
import type { MappedRequest } from '../lib/request';
import { WorkQueue } from '../lib/work-queue';
import { createBatching } from './invoke-batching';
import { answerMetadata, invokeEndpoint } from './invoke-call';
import type { DoneFn, NodeMessage, RED, SendFn } from './red';
import { defineWorker } from './worker';

export = function (RED: RED) {
  defineWorker(RED, {
    type: 'sagemaker-invoke',
    operation: 'invoke',
    settings: (read, { t }) => {
      const settings = {
        responseFormat: read.get('responseFormat'),
        concurrency: read.get('concurrency'),
        queueSize: read.get('queueSize'),
        batchSize: read.get('batchSize'),
        batchWindow: read.get('batchWindow'),
        // auto → json; text and binary have no row boundaries.
        batchFormat: batchFormatFor(read.string('requestFormat')),
      };
      if (settings.batchSize > 1 && !settings.batchFormat) {
        read.check(t('errors.batchFormat', { value: JSON.stringify(read.string('requestFormat') || 'auto') }));
      }
      return settings;
    },

    start: (worker, s) => {
      const { t, status, fail } = worker;
      const queue = new WorkQueue({
        concurrency: s.concurrency,
        queueSize: s.queueSize,
        signal: worker.signal,
        onChange: () => status.update(),
      });
      const queueFull = (): InputError =>
        new InputError('Queue size', t('errors.queueFull', { queueSize: queue.queueSize, concurrency: queue.concurrency }));
      const batching =
        s.batchSize > 1 && s.batchFormat
          ? createBatching(worker, {
              format: s.batchFormat,
              size: s.batchSize,
              windowMs: s.batchWindow,
              responseFormat: s.responseFormat,
              queue,
              queueFull,
            })
          : undefined;

      async function invoke(msg: NodeMessage, send: SendFn, done: DoneFn, req: MappedRequest): Promise<void> {
        try {
          const outcome = await invokeEndpoint(worker, {
            EndpointName: req.endpointName,
            Body: req.body,
            ContentType: req.contentType,
            ...req.params,
          });
          if (!outcome) return done();
          if ('error' in outcome) return fail(msg, done, outcome.error, { endpointName: req.endpointName, latencyMs: outcome.latencyMs });
          const { answer } = outcome;
          const decoded = decodeBody(answer.out.Body, answer.out.ContentType, s.responseFormat);
          if (decoded.warning) worker.node.warn(decoded.warning);
          msg.payload = decoded.value;
          msg.headers = answer.headers;
          msg.sagemaker = answerMetadata(req.endpointName, answer);
          send(msg);
          done();
        } catch (err) {
          fail(msg, done, err, { endpointName: req.endpointName });
        }
      }

      return {
        input(msg, send, done, endpointName) {
          if (batching) return batching.accept(msg, send, done, endpointName);
          const req = worker.mapping.request(endpointName, msg);
          const queued = queue.push({ run: () => invoke(msg, send, done, req), release: () => done() });
          if (!queued) fail(msg, done, queueFull(), { endpointName: req.endpointName });
        },
        busyText() {
          const queued = queue.queued + (batching?.pending ?? 0);
          return queue.running + queued > 0 ? t('status.busy', { inFlight: queue.running, queued }) : undefined;
        },
        close() {
          // Rows waiting for their batch are not sent: they end like queued messages.
          batching?.close();
          return queue.close();
        },
      };
    },
  });
};
