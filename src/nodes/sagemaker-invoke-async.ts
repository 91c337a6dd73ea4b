/**
 * `sagemaker-invoke-async`: InvokeEndpointAsync (README "sagemaker-invoke-async"). Output 1:
 * "accepted" at once (the call: async-accept.ts). Output 2: the result, found by polling S3 or
 * from the endpoint's SQS notifications (async-sources.ts).
 *
 * Pending jobs are kept in a journal in the user directory (async-jobs.ts): after a redeploy, a
 * restart or a crash no accepted job is lost. `done` of an accepted message is called once: when
 * its outcome is final, or at close while it is still pending; the job then resumes from the
 * journal and the next instance of the node sends its outcome (node.send / node.error).
 */
import { randomUUID } from 'node:crypto';
import { openJobStore } from '../lib/async-jobs';
import { asyncS3 } from '../lib/async-s3';
import { InputError } from '../lib/errors';
import { inputTargetProblem } from '../lib/s3-location';
import { inferenceIdPrefixProblem, queueUrlProblem, type SqsJobSource } from '../lib/sqs-job-source';
import { acceptStep } from './async-accept';
import { JobBook } from './async-jobs';
import { s3Source, sqsSource, type ResultSource } from './async-sources';
import type { RED } from './red';
import { defineWorker } from './worker';

const seconds = (s: number): number => Math.round(s * 1000);

export = function (RED: RED) {
  defineWorker(RED, {
    type: 'sagemaker-invoke-async',
    operation: 'async',
    settings: (read, { t }) => {
      const inputBucket = read.string('inputBucket');
      const inputPrefix = read.string('inputPrefix');
      if (inputBucket) read.check(inputTargetProblem(inputBucket, inputPrefix));
      const pollMs = seconds(read.get('pollInterval'));
      const maxPollMs = seconds(read.get('maxPollInterval'));
      if (maxPollMs < pollMs) read.check(t('errors.pollRange', { max: maxPollMs / 1000, min: pollMs / 1000 }));
      const resultSource = read.get('resultSource');
      const queueUrl = read.string('queueUrl');
      const queueProblem = resultSource === 'sqs' ? queueUrlProblem(queueUrl) : undefined;
      if (queueProblem) read.check(t('errors.queueUrl', { problem: queueProblem, value: JSON.stringify(queueUrl) }));
      const inferenceIdPrefix = read.raw('inferenceIdPrefix');
      const prefixProblem = inferenceIdPrefixProblem(inferenceIdPrefix);
      if (prefixProblem) read.check(t('errors.idPrefix', { problem: prefixProblem }));
      return {
        inputBucket,
        inputPrefix,
        waitForResult: read.get('waitForResult'),
        pollMs,
        maxPollMs,
        maxWaitMs: seconds(read.get('maxWait')),
        maxResultBytes: read.get('maxResultBytes'),
        responseFormat: read.get('responseFormat'),
        resultSource,
        queueUrl,
        inferenceIdPrefix,
      };
    },

    start: (worker, s) => {
      const { node, config, t, status } = worker;
      const s3 = asyncS3(() => config.s3Client());
      const accept = acceptStep(RED, worker, s3, s);
      let sending = 0;
      let book: JobBook | undefined;
      let source: ResultSource | undefined;
      let sqsJobs: SqsJobSource | undefined;
      if (s.waitForResult) {
        const warn = (kind: 'journal' | 'journalOpen', file: string, message: string): void =>
          node.warn(t(`warn.${kind}`, { file, message }));
        book = new JobBook(worker, openJobStore(RED.settings?.userDir, node.id, warn));
        if (s.resultSource === 'sqs') ({ source, jobs: sqsJobs } = sqsSource(worker, book, s));
        else source = s3Source(worker, book, s3, s);
        book.resume(source);
      }

      /** Result source sqs: the job's InferenceId, registered before the call (the notification may come before the answer). */
      function expect(jobs: SqsJobSource, params: Record<string, string | number>): string {
        const id = params.InferenceId === undefined ? s.inferenceIdPrefix + randomUUID() : String(params.InferenceId);
        if (!id.startsWith(s.inferenceIdPrefix)) {
          throw new InputError('InferenceId', t('errors.prefix', { id: JSON.stringify(id), prefix: JSON.stringify(s.inferenceIdPrefix) }));
        }
        if (!jobs.expect(id)) throw new InputError('InferenceId', t('errors.duplicateId', { id: JSON.stringify(id) }));
        params.InferenceId = id;
        return id;
      }

      return {
        input(msg, send, done, endpointName) {
          // A failed message keeps what msg.sagemaker held and gains the error.
          const fail = (err: unknown): void =>
            worker.fail(msg, done, err, msg.sagemaker && typeof msg.sagemaker === 'object' ? { ...msg.sagemaker } : {});
          let expected: string | undefined;
          // "sending" until the job is accepted and kept (or the message failed).
          sending += 1;
          status.update();
          void (async () => {
            try {
              const req = worker.mapping.request(endpointName, msg);
              if (sqsJobs) expected = expect(sqsJobs, req.params);
              const { first, job } = await accept(msg, req);
              if (!book || worker.closing) {
                if (expected) sqsJobs?.abandon(expected);
                send([first, null]);
                return done();
              }
              const id = randomUUID();
              // Durable before output 1: once "accepted" is out, a crash must not lose the job.
              await book.add(id, job);
              if (worker.closing) {
                // The journal has it: the next instance of the node delivers the outcome.
                sqsJobs?.abandon(job.inferenceId);
                send([first, null]);
                return done();
              }
              book.attach(id, msg, send, done);
              send([first, null]);
              source?.watch(id, job, false);
            } catch (err) {
              if (expected) sqsJobs?.abandon(expected);
              // Aborted by close: nothing was accepted from this message.
              if (worker.closing) return done();
              fail(err);
            } finally {
              sending -= 1;
              status.update();
            }
          })();
        },
        busyText() {
          const pending = book?.pending.size ?? 0;
          if (pending > 0) return t('status.pending', { count: pending });
          return sending > 0 ? t('status.sending') : undefined;
        },
        async close(removed) {
          // Aborts the long poll (when no other node reads the queue) and waits for outcomes being sent.
          await book?.close(removed, source?.stop());
        },
      };
    },
  });
};
