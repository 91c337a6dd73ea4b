/**
 * `sagemaker-invoke-async`: InvokeEndpointAsync (README "sagemaker-invoke-async"). Output 1:
 * "accepted" at once. Output 2: the result, found by polling S3 or from the endpoint's SQS
 * notifications (async-sources.ts).
 *
 * Pending jobs are kept in a journal in the user directory (async-jobs.ts): after a redeploy, a
 * restart or a crash no accepted job is lost. `done` of an accepted message is called once: when
 * its outcome is final, or at close while it is still pending; the job then resumes from the
 * journal and the next instance of the node sends its outcome (node.send / node.error).
 */
import { randomUUID } from 'node:crypto';
import { InvokeEndpointAsyncCommand, type InvokeEndpointAsyncCommandInput } from '@aws-sdk/client-sagemaker-runtime';
import { signalled } from '../lib/call-hooks';
import { openJobStore, toJsonCopy, type StoredJob } from '../lib/async-jobs';
import { asyncS3 } from '../lib/async-s3';
import { InputError } from '../lib/errors';
import { formatS3Uri, inputTargetProblem, keyProblem, parseS3Uri } from '../lib/s3-location';
import { inferenceIdPrefixProblem, queueUrlProblem, type SqsJobSource } from '../lib/sqs-job-source';
import { JobBook } from './async-jobs';
import { s3Source, sqsSource, type ResultSource } from './async-sources';
import type { NodeMessage, RED } from './red';
import { defineWorker } from './worker';

/** The API's limit for an inline Body (InvokeEndpointAsync, "Body"). */
const MAX_INLINE_BYTES = 128_000;

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

      async function invoke(
        msg: NodeMessage,
        req: ReturnType<typeof worker.mapping.request>,
      ): Promise<{ first: NodeMessage; job: StoredJob }> {
        const params: Record<string, string | number> = { ...req.params };
        // Chosen here, not by the service, so the id is known before the call (and keys the upload).
        const inferenceId = String(params.InferenceId ?? s.inferenceIdPrefix + randomUUID());
        params.InferenceId = inferenceId;
        const input: InvokeEndpointAsyncCommandInput = { EndpointName: req.endpointName, ...params };
        if (req.contentType) input.ContentType = req.contentType;
        if (params.InputLocation === undefined) {
          if (s.inputBucket) {
            const key = s.inputPrefix + inferenceId;
            const problem = keyProblem(key);
            if (problem) throw new InputError('InferenceId', t('errors.inputKey', { id: JSON.stringify(inferenceId), problem }));
            await s3.putInput(s.inputBucket, key, req.body, req.contentType, worker.signal);
            input.InputLocation = formatS3Uri({ bucket: s.inputBucket, key });
          } else if (req.body.length <= MAX_INLINE_BYTES) {
            input.Body = req.body;
          } else {
            throw new InputError(
              'msg.payload',
              t('errors.inline', { size: req.body.length, limit: MAX_INLINE_BYTES.toLocaleString('en-US') }),
            );
          }
        }
        const res = await config.runtimeClient().send(signalled(new InvokeEndpointAsyncCommand(input), worker.signal));
        const accepted = {
          inferenceId: res.InferenceId ?? inferenceId,
          outputLocation: res.OutputLocation ?? '',
          ...(res.FailureLocation ? { failureLocation: res.FailureLocation } : {}),
        };
        if (!accepted.outputLocation) throw new Error(t('errors.noOutputLocation'));
        parseS3Uri(accepted.outputLocation, { field: 'OutputLocation' });
        // Output 1 gets a copy (without cloning a large payload); the original waits for output 2.
        const payload = msg.payload;
        msg.payload = undefined;
        const first = RED.util.cloneMessage(msg);
        msg.payload = payload;
        first.payload = { ...accepted };
        first.sagemaker = {
          ...accepted,
          endpointName: req.endpointName,
          ...(input.InputLocation ? { inputLocation: input.InputLocation } : {}),
          ...(res.$metadata.requestId ? { requestId: res.$metadata.requestId } : {}),
        };
        let copy: Record<string, unknown>;
        try {
          copy = toJsonCopy(msg);
        } catch (e) {
          node.warn(t('warn.serialise', { message: e instanceof Error ? e.message : String(e) }));
          copy = { _msgid: msg._msgid };
        }
        return { first, job: { ...accepted, endpointName: req.endpointName, startedAt: Date.now(), msg: copy } };
      }

      return {
        input(msg, send, done, endpointName) {
          // A failed message keeps what msg.sagemaker held and gains the error.
          const fail = (err: unknown): void =>
            worker.fail(msg, done, err, msg.sagemaker && typeof msg.sagemaker === 'object' ? { ...msg.sagemaker } : {});
          let expected: string | undefined;
          sending += 1;
          status.update();
          void (async () => {
            try {
              const req = worker.mapping.request(endpointName, msg);
              if (sqsJobs) expected = expect(sqsJobs, req.params);
              const { first, job } = await invoke(msg, req);
              sending -= 1;
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
              sending -= 1;
              if (expected) sqsJobs?.abandon(expected);
              // Aborted by close: nothing was accepted from this message.
              if (worker.closing) return done();
              fail(err);
            } finally {
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
