/**
 * Where `sagemaker-invoke-async` learns that a job ended (README "sagemaker-invoke-async",
 * result source): `s3` polls the output and failure prefixes (one ListObjectsV2 per prefix per
 * round, lib/async-poller.ts); `sqs` matches the endpoint's SNS notifications by inferenceId
 * (lib/sqs-job-source.ts). Both turn what they find into the job's outcome through the JobBook.
 */
import { AsyncPoller, type PollOutcome } from '../lib/async-poller';
import type { AsyncNotification } from '../lib/async-notification';
import { jobResult, sqsQueueOps } from '../lib/async-result';
import type { AsyncS3, ReadResult } from '../lib/async-s3';
import type { StoredJob } from '../lib/async-jobs';
import { s3ErrorFields, s3ErrorText } from '../lib/errors';
import { decodeBody, type ResponseFormat } from '../lib/payload';
import type { Verdict } from '../lib/queue-consumer';
import { formatS3Uri } from '../lib/s3-location';
import { SqsJobSource } from '../lib/sqs-job-source';
import { jobError, type JobBook } from './async-jobs';
import type { Worker } from './worker';

export interface SourceSettings {
  pollMs: number;
  maxPollMs: number;
  maxWaitMs: number;
  maxResultBytes: number;
  responseFormat: ResponseFormat;
  queueUrl: string;
}

/** A result source: `watch` a job until its outcome, `start` after the restored jobs, `stop` at close. */
export interface ResultSource {
  watch(id: string, job: StoredJob, checkNow: boolean): void;
  start(): void;
  stop(): Promise<void>;
}

const isError = (e: unknown): e is Error => e instanceof Error;

/** Polls S3 for the jobs' output or failure objects. */
export function s3Source(worker: Worker, book: JobBook, s3: AsyncS3, s: SourceSettings): ResultSource {
  const { t } = worker;
  const poller = new AsyncPoller({
    pollIntervalMs: s.pollMs,
    maxPollIntervalMs: s.maxPollMs,
    list: (req) => s3.list(req),
    read: ({ found, signal }) => s3.read(found, s.maxResultBytes, signal),
    onOutcome: (job, outcome) => void finish(job.id, outcome),
    onListError: (err, bucket, prefix) =>
      book.warnings.warn('list', t('warn.list', { bucket, prefix, message: isError(err) ? err.message : String(err) })),
    onReadError: (err, job, found) => {
      const id = book.pending.get(job.id)?.inferenceId ?? job.id;
      book.warnings.warn('read', t('warn.read', { id, location: formatS3Uri(found), message: s3ErrorText(err) }));
    },
  });

  async function finish(id: string, outcome: PollOutcome): Promise<void> {
    const job = book.pending.get(id);
    if (!job) return;
    const waitedMs = Date.now() - job.startedAt;
    const maxWait = `maxWait ${s.maxWaitMs / 1000} s`;
    if (outcome.type === 'timeout') {
      const where = job.failureLocation
        ? `${job.outputLocation} or ${job.failureLocation}`
        : `${job.outputLocation} (the endpoint has no failure location, so a failed job can only show up as this timeout)`;
      const text = `No result for inference ${job.inferenceId} within ${maxWait} at ${where}`;
      return book.fail(id, jobError('AsyncInferenceTimeout', text, { waitedMs, polls: outcome.polls }));
    }
    const location = formatS3Uri({ bucket: outcome.bucket, key: outcome.key });
    if (outcome.type === 'unreadable') {
      const what = outcome.found === 'failure' ? 'failure object' : 'result';
      const cause = s3ErrorText(outcome.error);
      const text = `The ${what} of inference ${job.inferenceId} is at ${location} but could not be read within ${maxWait} (${outcome.reads} attempts): ${cause}`;
      const info = { location, s3Error: cause, ...s3ErrorFields(outcome.error), attempts: outcome.reads, waitedMs, polls: outcome.polls };
      return book.fail(id, jobError('AsyncResultUnreadable', text, info));
    }
    const data = outcome.data as ReadResult;
    if (outcome.type === 'failure' || data.kind === 'failure') {
      const failureText = data.kind === 'failure' ? data.text : '';
      const text = `Async inference ${job.inferenceId} failed: ${failureText || '(empty failure object)'}`;
      return book.fail(
        id,
        jobError('AsyncInferenceFailure', text, { failureLocation: location, failureText, waitedMs, polls: outcome.polls }),
      );
    }
    // Too large to hold in a message: the payload is the location instead.
    let payload: unknown = location;
    if (data.bytes !== undefined) {
      try {
        const decoded = decodeBody(data.bytes, data.contentType, s.responseFormat);
        if (decoded.warning) worker.node.warn(decoded.warning);
        payload = decoded.value;
      } catch (err) {
        return book.fail(id, isError(err) ? err : new Error(String(err)));
      }
    }
    await book.succeed(id, payload, {
      inferenceId: job.inferenceId,
      outputLocation: location,
      waitedMs,
      polls: outcome.polls,
      endpointName: job.endpointName,
      ...(data.contentType ? { contentType: data.contentType } : {}),
      ...(data.bytes === undefined ? { size: outcome.size } : {}),
    });
  }

  return {
    watch: (id, job, checkNow) => {
      const { outputLocation, failureLocation, startedAt } = job;
      poller.add({ id, outputLocation, failureLocation, startedAt, maxWaitMs: s.maxWaitMs }, checkNow);
    },
    start: () => undefined,
    stop: async () => poller.stop(),
  };
}

/** Matches the queue's notifications to the jobs; the SqsJobSource is shared with `input` (expect/abandon). */
export function sqsSource(worker: Worker, book: JobBook, s: SourceSettings): { source: ResultSource; jobs: SqsJobSource } {
  const { t, config } = worker;
  /** Reads of an output object that failed, per job (the queue delivers the notification again). */
  const readFailures = new Map<string, { error: unknown; location: string; attempts: number }>();
  const jobs = new SqsJobSource({
    routerKey: `${config.id}\n${s.queueUrl}`,
    ops: () => sqsQueueOps(() => config.sqsClient(), s.queueUrl),
    deliver: (id, note, signal) => fromNotification(id, note, signal),
    expire: (id) => void expire(id),
    warn: (text) => book.warnings.warn('queue', t('warn.queue', { message: text })),
  });
  book.onSettle = (id, job) => {
    jobs.end(job.inferenceId, id);
    readFailures.delete(id);
  };

  /**
   * The outcome of job `id` from its notification: a Failed one gives the error, a Completed one
   * the included response or the output object (one GetObject). `delete` once the outcome was
   * sent and the job left the journal; `keep` when the queue should deliver it again.
   */
  async function fromNotification(id: string, note: AsyncNotification, signal: AbortSignal): Promise<Verdict> {
    const job = book.pending.get(id);
    if (!job) return 'delete'; // ended meanwhile (max wait)
    if (worker.closing) return 'keep';
    const waitedMs = Date.now() - job.startedAt;
    const verdict = (): Verdict => (book.pending.has(id) ? 'keep' : 'delete');
    if (note.invocationStatus === 'Failed') {
      const reason = note.failureReason ?? '(no failureReason in the notification)';
      const info = { failureReason: reason, ...(note.failureLocation ? { failureLocation: note.failureLocation } : {}), waitedMs };
      await book.fail(id, jobError('AsyncInferenceFailure', `Async inference ${job.inferenceId} failed: ${reason}`, info));
      return verdict();
    }
    let result;
    try {
      const both = AbortSignal.any([signal, worker.signal]);
      result = await jobResult(note, {
        s3: () => config.s3Client(),
        maxResultBytes: s.maxResultBytes,
        responseFormat: s.responseFormat,
        signal: both,
      });
    } catch (err) {
      if (isError(err) && err.name === 'DecodeError') {
        await book.fail(id, err);
        return verdict();
      }
      if (worker.closing || signal.aborted) return 'keep';
      const location = note.outputLocation ?? job.outputLocation;
      readFailures.set(id, { error: err, location, attempts: (readFailures.get(id)?.attempts ?? 0) + 1 });
      book.warnings.warn('read', t('warn.readSqs', { id: job.inferenceId, location, message: s3ErrorText(err) }));
      return 'keep';
    }
    if (result.warning) worker.node.warn(result.warning);
    const sent = await book.succeed(id, result.payload, {
      inferenceId: job.inferenceId,
      outputLocation: note.outputLocation ?? job.outputLocation,
      waitedMs,
      endpointName: job.endpointName,
      ...(result.contentType ? { contentType: result.contentType } : {}),
      ...(result.size !== undefined ? { size: result.size } : {}),
    });
    return sent ? 'delete' : verdict();
  }

  /** No notification within max wait (or only ones whose output could not be read). */
  async function expire(id: string): Promise<void> {
    const job = book.pending.get(id);
    if (!job) return;
    const waitedMs = Date.now() - job.startedAt;
    const maxWait = `maxWait ${s.maxWaitMs / 1000} s`;
    const failure = readFailures.get(id);
    if (failure) {
      const cause = s3ErrorText(failure.error);
      const text = `The result of inference ${job.inferenceId} is at ${failure.location} but could not be read within ${maxWait} (${failure.attempts} attempts): ${cause}`;
      const info = { location: failure.location, s3Error: cause, ...s3ErrorFields(failure.error), attempts: failure.attempts, waitedMs };
      return book.fail(id, jobError('AsyncResultUnreadable', text, info));
    }
    const text = `No notification for inference ${job.inferenceId} within ${maxWait} on ${s.queueUrl}`;
    return book.fail(id, jobError('AsyncInferenceTimeout', text, { waitedMs, queueUrl: s.queueUrl }));
  }

  const source: ResultSource = {
    watch: (id, job) => jobs.watch(job.inferenceId, id, job.startedAt + s.maxWaitMs),
    start: () => jobs.start(),
    stop: () => jobs.close(),
  };
  return { source, jobs };
}
