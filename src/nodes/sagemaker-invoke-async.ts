/**
 * sagemaker-invoke-async: InvokeEndpointAsync (SPEC §6). Output 1: "accepted" at once. Output 2:
 * the result read from S3, found by polling one ListObjectsV2 per prefix per round.
 *
 * Pending jobs are kept in a journal file in the user directory
 * (`<userDir>/sagemaker-invoke-async/<node id>.jsonl`, src/lib/job-journal.ts): a job is written
 * (fsync) before output 1 is sent, marked "sending" (fsync) before its outcome is sent, and
 * deleted right after. So after a crash no accepted job is lost, and an outcome that may already
 * have been sent is sent again with `msg.sagemaker.redelivered = true` (at-least-once; the
 * `inferenceId` is the key to de-duplicate). What is stored per job: the ids and locations, when
 * it started, and a JSON copy of the input message without `payload`, `req` and `res` (the output
 * replaces the payload; HTTP objects cannot be stored) — message properties must therefore be
 * JSON-serialisable to survive a restart (Buffers are restored as Buffers).
 *
 * `done` of an accepted message is called once: when its result (output 2) or error is final,
 * or — if the node closes while the job is still pending — at close; the job then resumes from
 * the journal and its outcome is sent by the next instance of the node (node.send / node.error).
 */
import { setMaxListeners } from 'node:events';
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { InvokeEndpointAsyncCommand, type InvokeEndpointAsyncCommandInput } from '@aws-sdk/client-sagemaker-runtime';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { AsyncPoller, type FoundObject, type PollJob, type PollOutcome } from '../lib/async-poller';
import type { AsyncNotification } from '../lib/async-notification';
import { jobResult, sqsQueueOps, type JobResult } from '../lib/async-result';
import type { Verdict } from '../lib/queue-consumer';
import { inferenceIdPrefixProblem, queueUrlProblem, SqsJobSource } from '../lib/sqs-job-source';
import { journalFileName, openFileJournal, openMemoryStore, type JobStore } from '../lib/job-journal';
import { warnLimiter } from '../lib/warn-limiter';
import { describeError, errorText, InputError, s3ErrorFields, s3ErrorText } from '../lib/errors';
import { decodeBody, RESPONSE_FORMATS, type ResponseFormat } from '../lib/payload';
import { mapRequest, validateSettings } from '../lib/request';
import { formatS3Uri, inputTargetProblem, keyProblem, parseS3Uri } from '../lib/s3-location';
import { busy, failed, ok } from '../lib/status';
import { translator } from './i18n';
import { attachConfig } from './config-api';
import { endpointNameSource, requestSettings } from './node-settings';
import type { DoneFn, Node, NodeDef, NodeMessage, RED, SendFn } from './red';

/** The API's limit for an inline Body (reference §1.2). */
const MAX_INLINE_BYTES = 128_000;
/** Failure objects are short texts; more than this is cut. */
const MAX_FAILURE_TEXT = 64 * 1024;
/** At most one warning of a kind (listing, reading) per this many ms. */
const WARN_INTERVAL_MS = 10_000;
/** The journal's folder in the user directory. */
const JOURNAL_DIR = 'sagemaker-invoke-async';

interface AsyncSettings {
  inputBucket: string;
  inputPrefix: string;
  waitForResult: boolean;
  pollMs: number;
  maxPollMs: number;
  maxWaitMs: number;
  maxResultBytes: number;
  responseFormat: ResponseFormat;
  /** `s3`: poll S3 (ListObjectsV2); `sqs`: notifications from `queueUrl`, no S3 listing. */
  resultSource: 's3' | 'sqs';
  queueUrl: string;
  inferenceIdPrefix: string;
}

/** One pending job as stored in context (JSON). */
interface StoredJob {
  inferenceId: string;
  endpointName: string;
  outputLocation: string;
  failureLocation?: string;
  startedAt: number;
  msg: Record<string, unknown>;
}

/** A job started by this instance: its live message and the handler's send/done. */
interface LiveJob {
  msg: NodeMessage;
  send: SendFn;
  done: DoneFn;
}

function blank(v: unknown): boolean {
  return v === undefined || v === null || String(v).trim() === '';
}

function bool(v: unknown, dflt: boolean): boolean {
  if (blank(v)) return dflt;
  return v === true || v === 'true';
}

/** Seconds field → ms; blank = default; fractional allowed, ≥ 0.1 s. */
function seconds(v: unknown, dflt: number, field: string): number {
  if (blank(v)) return dflt * 1000;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0.1) throw new Error(`${field} must be a number of seconds ≥ 0.1, got ${JSON.stringify(v)}`);
  return Math.round(n * 1000);
}

// JSON copies of messages for the context store; Buffers come back as Buffers.
function toJsonCopy(msg: NodeMessage): Record<string, unknown> {
  const { payload: _p, req: _req, res: _res, ...rest } = msg;
  return JSON.parse(JSON.stringify(rest)) as Record<string, unknown>;
}

/** Why a job read back from the journal cannot be resumed, or undefined. */
function storedJobProblem(v: unknown): string | undefined {
  const j = v as Partial<StoredJob> | null;
  if (!j || typeof j !== 'object') return 'not an object';
  if (typeof j.inferenceId !== 'string' || typeof j.outputLocation !== 'string' || typeof j.startedAt !== 'number') return 'missing fields';
  if (j.failureLocation !== undefined && typeof j.failureLocation !== 'string') return 'bad failureLocation';
  return undefined;
}

/** What a read of a listed object gives the outcome handler. */
type ReadResult = { kind: 'failure'; text: string } | { kind: 'output'; bytes?: Uint8Array; contentType?: string };

function fromJsonCopy(value: unknown): NodeMessage {
  return JSON.parse(JSON.stringify(value ?? {}), (_k, v) =>
    v && typeof v === 'object' && v.type === 'Buffer' && Array.isArray(v.data) && Object.keys(v).length === 2 ? Buffer.from(v.data) : v,
  ) as NodeMessage;
}

export = function (RED: RED) {
  const t = translator(RED, 'sagemaker-invoke-async');

  /** The node's journal in the user directory; in memory when there is none (or it cannot be written). */
  function openStore(node: Node): JobStore<StoredJob> {
    const userDir = RED.settings?.userDir;
    if (typeof userDir === 'string' && userDir !== '') {
      const file = path.join(userDir, JOURNAL_DIR, journalFileName(node.id));
      try {
        const j = openFileJournal<StoredJob>({ file, validate: storedJobProblem });
        for (const w of j.warnings) node.warn(t('warn.journal', { file, message: w }));
        return j;
      } catch (err) {
        node.warn(t('warn.journalOpen', { file, message: (err as Error).message }));
      }
    }
    return openMemoryStore<StoredJob>(node.id);
  }

  function parseSettings(n: NodeDef): AsyncSettings {
    const inputBucket = blank(n.inputBucket) ? '' : String(n.inputBucket).trim();
    const inputPrefix = blank(n.inputPrefix) ? '' : String(n.inputPrefix).trim();
    if (inputBucket) {
      const p = inputTargetProblem(inputBucket, inputPrefix);
      if (p) throw new Error(p);
    }
    const pollMs = seconds(n.pollInterval, 2, 'pollInterval');
    const maxPollMs = seconds(n.maxPollInterval, 30, 'maxPollInterval');
    if (maxPollMs < pollMs) throw new Error(`maxPollInterval (${maxPollMs / 1000} s) must not be below pollInterval (${pollMs / 1000} s)`);
    const maxWaitMs = seconds(n.maxWait, 900, 'maxWait');
    let maxResultBytes = 6 * 1024 * 1024;
    if (!blank(n.maxResultBytes)) {
      maxResultBytes = Number(n.maxResultBytes);
      if (!Number.isInteger(maxResultBytes) || maxResultBytes < 0) {
        throw new Error(`maxResultBytes must be a whole number of bytes ≥ 0, got ${JSON.stringify(n.maxResultBytes)}`);
      }
    }
    const responseFormat = (blank(n.responseFormat) ? 'auto' : String(n.responseFormat)) as ResponseFormat;
    if (!RESPONSE_FORMATS.includes(responseFormat)) {
      throw new Error(`responseFormat must be one of ${RESPONSE_FORMATS.join(', ')}, got ${JSON.stringify(responseFormat)}`);
    }
    const resultSource = blank(n.resultSource) ? 's3' : String(n.resultSource);
    if (resultSource !== 's3' && resultSource !== 'sqs') throw new Error(`resultSource must be s3 or sqs, got ${JSON.stringify(resultSource)}`);
    const queueUrl = blank(n.queueUrl) ? '' : String(n.queueUrl).trim();
    const queueProblem = resultSource === 'sqs' ? queueUrlProblem(queueUrl) : undefined;
    if (queueProblem) throw new Error(`queueUrl ${queueProblem} (result source sqs), got ${JSON.stringify(queueUrl)}`);
    const inferenceIdPrefix = n.inferenceIdPrefix === undefined || n.inferenceIdPrefix === null ? '' : String(n.inferenceIdPrefix);
    const prefixProblem = inferenceIdPrefixProblem(inferenceIdPrefix);
    if (prefixProblem) throw new Error(`inferenceIdPrefix ${prefixProblem}`);
    return {
      inputBucket, inputPrefix, waitForResult: bool(n.waitForResult, true), pollMs, maxPollMs, maxWaitMs, maxResultBytes, responseFormat,
      resultSource, queueUrl, inferenceIdPrefix,
    };
  }

  function SageMakerInvokeAsyncNode(this: Node, n: NodeDef): void {
    RED.nodes.createNode(this, n);
    const node = this;
    const endpointName = endpointNameSource(RED, node, n);
    const request = requestSettings('async', n);

    const attached = attachConfig(RED, node, n.config);
    let setupError: string | undefined = attached.error;
    let settings: AsyncSettings | undefined;
    if (!setupError) {
      try {
        settings = parseSettings(n);
        setupError = validateSettings('async', request) ?? endpointName.problem;
      } catch (err) {
        setupError = (err as Error).message;
      }
      if (setupError) node.status(failed(setupError));
    }
    const config = attached.config;

    const abort = new AbortController();
    // One signal is shared by every S3/SageMaker call of the node (hundreds may be in flight).
    setMaxListeners(0, abort.signal);
    let closing = false;
    const live = new Map<string, LiveJob>();
    const pending: Record<string, StoredJob> = {};
    /** Jobs restored with a "sending" mark: their outcome may have been sent before a crash. */
    const redeliver = new Set<string>();
    let inFlight = 0;
    const warnings = warnLimiter({ intervalMs: WARN_INTERVAL_MS, warn: (text) => node.warn(text) });
    const journal: JobStore<StoredJob> | undefined = settings && settings.waitForResult && !setupError ? openStore(node) : undefined;
    /** Journal writes not awaited by anyone (removals); close waits for them. */
    const writes = new Set<Promise<void>>();
    const journalWrite = (p: Promise<void>): Promise<void> => {
      const w = p.catch((err: Error) => warnings.warn('journal', t('warn.persist', { message: err.message })));
      writes.add(w);
      void w.finally(() => writes.delete(w));
      return w;
    };

    const showStatus = (): void => {
      if (setupError) return;
      const n = Object.keys(pending).length;
      if (n > 0) node.status(busy(t('status.pending', { count: n })));
      else if (inFlight > 0) node.status(busy(t('status.sending')));
      else node.status({});
    };

    const poller =
      config && settings && settings.resultSource === 's3'
        ? new AsyncPoller({
            pollIntervalMs: settings.pollMs,
            maxPollIntervalMs: settings.maxPollMs,
            list: async ({ bucket, prefix, startAfter, continuationToken, signal }) => {
              const r = await config
                .s3Client()
                .send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, StartAfter: startAfter, ContinuationToken: continuationToken }), {
                  abortSignal: signal,
                });
              return {
                objects: (r.Contents ?? []).map((o) => ({ key: o.Key ?? '', size: o.Size ?? 0 })),
                nextContinuationToken: r.IsTruncated ? r.NextContinuationToken : undefined,
              };
            },
            onOutcome: (job, outcome) => {
              void finish(job, outcome);
            },
            read: ({ found, signal }) => readObject(found, signal),
            onListError: (err, bucket, prefix) => {
              warnings.warn('list', t('warn.list', { bucket, prefix, message: (err as Error).message }));
            },
            onReadError: (err, job, found) => {
              const stored = pending[job.id];
              warnings.warn('read', t('warn.read', { id: stored?.inferenceId ?? job.id, location: formatS3Uri(found), message: s3ErrorText(err) }));
            },
          })
        : undefined;

    // Result source sqs: notifications from the queue, matched by inferenceId; no S3 listing.
    const sqsSource =
      config && settings && journal && settings.resultSource === 'sqs'
        ? new SqsJobSource({
            routerKey: `${config.id}\n${settings.queueUrl}`,
            ops: () => sqsQueueOps(() => config.sqsClient(), settings.queueUrl),
            deliver: (id, note, signal) => fromNotification(id, note, signal),
            expire: (id) => void expire(id),
            warn: (text) => warnings.warn('queue', t('warn.queue', { message: text })),
          })
        : undefined;
    /** Result source sqs: reads of an output object that failed, per job (the queue delivers the notification again). */
    const readFailures = new Map<string, { error: unknown; location: string; attempts: number }>();

    const watch = (id: string, job: StoredJob, checkNow: boolean): void => {
      if (sqsSource && settings) {
        sqsSource.watch(job.inferenceId, id, job.startedAt + settings.maxWaitMs);
        return;
      }
      if (!poller || !settings) return;
      const pj: PollJob = {
        id,
        outputLocation: job.outputLocation,
        failureLocation: job.failureLocation,
        startedAt: job.startedAt,
        maxWaitMs: settings.maxWaitMs,
      };
      poller.add(pj, checkNow);
    };

    /** The message an outcome is sent with: the live one, or one rebuilt from context. */
    const outcomeMessage = (id: string, job: StoredJob): NodeMessage => live.get(id)?.msg ?? fromJsonCopy(job.msg);

    /** Reads a listed object: the failure text, or the result's bytes (none when over maxResultBytes). */
    async function readObject(found: FoundObject, signal: AbortSignal): Promise<ReadResult> {
      const s3 = config!.s3Client();
      if (found.type === 'failure') {
        const got = await s3.send(new GetObjectCommand({ Bucket: found.bucket, Key: found.key, Range: `bytes=0-${MAX_FAILURE_TEXT - 1}` }), { abortSignal: signal });
        return { kind: 'failure', text: (await got.Body!.transformToString('utf-8')).trim() };
      }
      if (found.size > settings!.maxResultBytes) return { kind: 'output' };
      const got = await s3.send(new GetObjectCommand({ Bucket: found.bucket, Key: found.key }), { abortSignal: signal });
      return { kind: 'output', bytes: await got.Body!.transformToByteArray(), contentType: got.ContentType };
    }

    const settle = (id: string): void => {
      const job = pending[id];
      if (job && sqsSource) sqsSource.end(job.inferenceId, id);
      readFailures.delete(id);
      delete pending[id];
      live.delete(id);
      redeliver.delete(id);
      showStatus();
    };

    /** The job leaves the journal after its outcome is sent, once downstream nodes had their turn. */
    const forget = (id: string): Promise<void> => {
      if (!journal) return Promise.resolve();
      // Node-RED delivers a sent message in a later setImmediate; removing the job after it lets
      // nodes that handle the message synchronously finish before the job is marked done.
      const w = new Promise<void>((resolve) => setImmediate(resolve)).then(() => journal.remove(id));
      return journalWrite(w);
    };

    /** Adds `redelivered` when the outcome may have been sent before a crash. */
    const flagRedelivered = (id: string, sm: Record<string, unknown>): Record<string, unknown> =>
      redeliver.has(id) ? { ...sm, redelivered: true } : sm;

    /**
     * Marks the job "sending" in the journal, durably, before its outcome leaves the node. Returns
     * false when the node closed meanwhile: the mark is cleared and the next instance sends it.
     */
    async function beginSending(id: string): Promise<boolean> {
      // Registered with the other writes, so a close waits for it and for what follows it.
      if (journal) await journalWrite(journal.mark(id, true));
      if (closing) {
        if (journal) void journalWrite(journal.mark(id, false));
        return false;
      }
      return pending[id] !== undefined;
    }

    const errorFor = (name: string, message: string, info: Record<string, unknown>): Error & { info: Record<string, unknown> } =>
      Object.assign(new Error(message), { name, info });

    async function deliverError(id: string, job: StoredJob, err: Error & { info?: Record<string, unknown> }): Promise<void> {
      if (!(await beginSending(id))) return;
      const l = live.get(id);
      const msg = outcomeMessage(id, job);
      const base = (msg.sagemaker && typeof msg.sagemaker === 'object' ? msg.sagemaker : {}) as Record<string, unknown>;
      msg.sagemaker = flagRedelivered(id, {
        ...base,
        inferenceId: job.inferenceId,
        outputLocation: job.outputLocation,
        ...(job.failureLocation ? { failureLocation: job.failureLocation } : {}),
        error: { name: err.name, message: err.message, retryable: false, ...(err.info ?? {}) },
      });
      settle(id);
      node.status(failed(err.message));
      if (l) l.done(err);
      else node.error(err, msg);
      await forget(id);
    }

    async function finish(job: PollJob, outcome: PollOutcome): Promise<void> {
      const id = job.id;
      const stored = pending[id];
      if (!stored || !config || !settings) return;
      const waitedMs = Date.now() - stored.startedAt;
      if (outcome.type === 'timeout') {
        const where = stored.failureLocation
          ? `${stored.outputLocation} or ${stored.failureLocation}`
          : `${stored.outputLocation} (the endpoint has no failure location, so a failed job can only show up as this timeout)`;
        await deliverError(
          id,
          stored,
          errorFor('AsyncInferenceTimeout', `No result for inference ${stored.inferenceId} within maxWait ${settings.maxWaitMs / 1000} s at ${where}`, {
            waitedMs,
            polls: outcome.polls,
          }),
        );
        return;
      }
      const location = formatS3Uri({ bucket: outcome.bucket, key: outcome.key });
      if (outcome.type === 'unreadable') {
        const what = outcome.found === 'failure' ? 'failure object' : 'result';
        const cause = s3ErrorText(outcome.error);
        await deliverError(
          id,
          stored,
          errorFor('AsyncResultUnreadable',
            `The ${what} of inference ${stored.inferenceId} is at ${location} but could not be read within maxWait ${settings.maxWaitMs / 1000} s (${outcome.reads} attempts): ${cause}`,
            { location, s3Error: cause, ...s3ErrorFields(outcome.error), attempts: outcome.reads, waitedMs, polls: outcome.polls },
          ),
        );
        return;
      }
      const data = outcome.data as ReadResult;
      if (outcome.type === 'failure' || data.kind === 'failure') {
        const text = data.kind === 'failure' ? data.text : '';
        await deliverError(
          id,
          stored,
          errorFor('AsyncInferenceFailure', `Async inference ${stored.inferenceId} failed: ${text || '(empty failure object)'}`, {
            failureLocation: location,
            failureText: text,
            waitedMs,
            polls: outcome.polls,
          }),
        );
        return;
      }
      const msg = outcomeMessage(id, stored);
      if (data.bytes === undefined) {
        // Too large to hold in a message: hand over the location instead.
        msg.payload = location;
      } else {
        try {
          const decoded = decodeBody(data.bytes, data.contentType, settings.responseFormat);
          if (decoded.warning) node.warn(decoded.warning);
          msg.payload = decoded.value;
        } catch (err) {
          await deliverError(id, stored, err as Error);
          return;
        }
      }
      msg.sagemaker = flagRedelivered(id, {
        inferenceId: stored.inferenceId,
        outputLocation: location,
        waitedMs,
        polls: outcome.polls,
        endpointName: stored.endpointName,
        ...(data.contentType ? { contentType: data.contentType } : {}),
        ...(data.bytes === undefined ? { size: outcome.size } : {}),
      });
      if (!(await beginSending(id))) return;
      const l = live.get(id);
      settle(id);
      if (l) {
        l.send([null, msg]);
        l.done();
      } else node.send([null, msg]);
      void forget(id);
      if (Object.keys(pending).length === 0) node.status(ok(t('status.done')));
    }

    /**
     * Result source sqs: the outcome of job `id` from its notification — a Failed one gives the
     * error, a Completed one the included response or the output object (one GetObject). Resolves
     * `delete` once the outcome was sent and the job left the journal, `keep` when the queue should
     * deliver the notification again (the output could not be read, the node is closing).
     */
    async function fromNotification(id: string, note: AsyncNotification, signal: AbortSignal): Promise<Verdict> {
      const stored = pending[id];
      if (!stored || !config || !settings) return 'delete'; // ended meanwhile (max wait)
      if (closing) return 'keep';
      const waitedMs = Date.now() - stored.startedAt;
      const verdict = (): Verdict => (pending[id] === undefined ? 'delete' : 'keep');
      if (note.invocationStatus === 'Failed') {
        const reason = note.failureReason ?? '(no failureReason in the notification)';
        await deliverError(
          id,
          stored,
          errorFor('AsyncInferenceFailure', `Async inference ${stored.inferenceId} failed: ${reason}`, {
            failureReason: reason,
            ...(note.failureLocation ? { failureLocation: note.failureLocation } : {}),
            waitedMs,
          }),
        );
        return verdict();
      }
      let result: JobResult;
      try {
        const s3 = (): ReturnType<typeof config.s3Client> => config.s3Client();
        result = await jobResult(note, { s3, maxResultBytes: settings.maxResultBytes, responseFormat: settings.responseFormat, signal: AbortSignal.any([signal, abort.signal]) });
      } catch (err) {
        if ((err as Error).name === 'DecodeError') {
          await deliverError(id, stored, err as Error);
          return verdict();
        }
        if (closing || signal.aborted) return 'keep';
        const location = note.outputLocation ?? stored.outputLocation;
        readFailures.set(id, { error: err, location, attempts: (readFailures.get(id)?.attempts ?? 0) + 1 });
        warnings.warn('read', t('warn.readSqs', { id: stored.inferenceId, location, message: s3ErrorText(err) }));
        return 'keep';
      }
      if (result.warning) node.warn(result.warning);
      const msg = outcomeMessage(id, stored);
      msg.payload = result.payload;
      msg.sagemaker = flagRedelivered(id, {
        inferenceId: stored.inferenceId,
        outputLocation: note.outputLocation ?? stored.outputLocation,
        waitedMs,
        endpointName: stored.endpointName,
        ...(result.contentType ? { contentType: result.contentType } : {}),
        ...(result.size !== undefined ? { size: result.size } : {}),
      });
      if (!(await beginSending(id))) return verdict();
      const l = live.get(id);
      settle(id);
      if (l) {
        l.send([null, msg]);
        l.done();
      } else node.send([null, msg]);
      await forget(id);
      if (Object.keys(pending).length === 0) node.status(ok(t('status.done')));
      return 'delete';
    }

    /** Result source sqs: no notification within max wait (or only ones whose output could not be read). */
    async function expire(id: string): Promise<void> {
      const stored = pending[id];
      if (!stored || !settings) return;
      const waitedMs = Date.now() - stored.startedAt;
      const failure = readFailures.get(id);
      if (failure) {
        const cause = s3ErrorText(failure.error);
        await deliverError(
          id,
          stored,
          errorFor(
            'AsyncResultUnreadable',
            `The result of inference ${stored.inferenceId} is at ${failure.location} but could not be read within maxWait ${settings.maxWaitMs / 1000} s (${failure.attempts} attempts): ${cause}`,
            { location: failure.location, s3Error: cause, ...s3ErrorFields(failure.error), attempts: failure.attempts, waitedMs },
          ),
        );
        return;
      }
      await deliverError(
        id,
        stored,
        errorFor('AsyncInferenceTimeout', `No notification for inference ${stored.inferenceId} within maxWait ${settings.maxWaitMs / 1000} s on ${settings.queueUrl}`, {
          waitedMs,
          queueUrl: settings.queueUrl,
        }),
      );
    }

    // Resume jobs left pending by an earlier instance (redeploy, restart, crash).
    if ((poller || sqsSource) && journal) {
      for (const [id, r] of journal.restored) {
        pending[id] = r.job;
        if (r.sending) redeliver.add(id);
        try {
          watch(id, r.job, true);
        } catch (e) {
          node.warn(t('warn.journal', { file: journal.where, message: `dropped job ${r.job.inferenceId}: ${(e as Error).message}` }));
          delete pending[id];
          void journalWrite(journal.remove(id));
        }
      }
      // Jobs kept in the node context by earlier versions of this node move to the journal.
      const context = node.context();
      context.get('pending', undefined, (err, value) => {
        if (err || closing || !value || typeof value !== 'object') return;
        for (const [id, job] of Object.entries(value as Record<string, unknown>)) {
          if (pending[id] || storedJobProblem(job)) continue;
          pending[id] = job as StoredJob;
          void journalWrite(journal.put(id, job as StoredJob));
          try {
            watch(id, job as StoredJob, true);
          } catch {
            delete pending[id];
            void journalWrite(journal.remove(id));
          }
        }
        context.set('pending', undefined);
        showStatus();
      });
      // After the restored jobs: their notifications, still in the queue, are matched.
      sqsSource?.start();
      showStatus();
    }
    node.on('input', (msg: NodeMessage, send: SendFn, done: DoneFn) => {
      void handle(msg, send, done);
    });

    async function handle(msg: NodeMessage, send: SendFn, done: DoneFn): Promise<void> {
      const fail = (err: unknown): void => {
        const info = describeError(err);
        const base = (msg.sagemaker && typeof msg.sagemaker === 'object' ? msg.sagemaker : {}) as Record<string, unknown>;
        msg.sagemaker = { ...base, error: info };
        node.status(failed(errorText(info)));
        const e = err instanceof Error ? err : new Error(String(err));
        if (info.name !== 'InputError' && !(err instanceof InputError)) e.message = errorText(info);
        done(e);
      };
      if (setupError || !config || !settings) {
        fail(new InputError('config', setupError ?? 'node is not configured'));
        return;
      }
      inFlight += 1;
      showStatus();
      let expected: string | undefined;
      try {
        const name = await endpointName.resolve(msg);
        const mapped = mapRequest('async', name, request, msg);
        const params = { ...mapped.params } as Record<string, string | number>;
        // Chosen here, not by the service, so the id is known before the call (and keys the upload).
        const inferenceId = String(params.InferenceId ?? settings.inferenceIdPrefix + randomUUID());
        params.InferenceId = inferenceId;
        if (sqsSource) {
          if (!inferenceId.startsWith(settings.inferenceIdPrefix)) {
            throw new InputError('InferenceId', t('errors.prefix', { id: JSON.stringify(inferenceId), prefix: JSON.stringify(settings.inferenceIdPrefix) }));
          }
          // Registered before the call: the notification may come before the service's answer.
          if (!sqsSource.expect(inferenceId)) throw new InputError('InferenceId', t('errors.duplicateId', { id: JSON.stringify(inferenceId) }));
          expected = inferenceId;
        }

        const input: InvokeEndpointAsyncCommandInput = { EndpointName: mapped.endpointName, ...params };
        if (mapped.contentType) input.ContentType = mapped.contentType;
        if (params.InputLocation === undefined) {
          if (settings.inputBucket) {
            const key = settings.inputPrefix + inferenceId;
            const problem = keyProblem(key);
            if (problem) throw new InputError('InferenceId', `InferenceId ${JSON.stringify(inferenceId)} cannot be used as the input object name: ${problem}`);
            await config.s3Client().send(
              new PutObjectCommand({ Bucket: settings.inputBucket, Key: key, Body: mapped.body, ContentType: mapped.contentType }),
              { abortSignal: abort.signal },
            );
            input.InputLocation = formatS3Uri({ bucket: settings.inputBucket, key });
          } else if (mapped.body.length <= MAX_INLINE_BYTES) {
            input.Body = mapped.body;
          } else {
            throw new InputError(
              'msg.payload',
              `msg.payload is ${mapped.body.length} bytes encoded, over the ${MAX_INLINE_BYTES.toLocaleString('en-US')}-byte limit for an inline async request: ` +
                'set "Input bucket" in the node so the payload is uploaded to S3, or pass an s3:// URI of the input in msg.inputLocation',
            );
          }
        }

        const res = await config.runtimeClient().send(new InvokeEndpointAsyncCommand(input), { abortSignal: abort.signal });
        const accepted = {
          inferenceId: res.InferenceId ?? inferenceId,
          outputLocation: res.OutputLocation ?? '',
          ...(res.FailureLocation ? { failureLocation: res.FailureLocation } : {}),
        };
        if (!accepted.outputLocation) throw new Error('the service accepted the request but returned no OutputLocation');
        parseS3Uri(accepted.outputLocation, { field: 'OutputLocation' });

        // Output 1 gets a copy (without cloning a large payload); the original waits for output 2.
        const payload = msg.payload;
        msg.payload = undefined;
        const first = RED.util.cloneMessage(msg);
        msg.payload = payload;
        first.payload = { ...accepted };
        first.sagemaker = {
          ...accepted,
          endpointName: mapped.endpointName,
          ...(input.InputLocation ? { inputLocation: input.InputLocation } : {}),
          ...(res.$metadata.requestId ? { requestId: res.$metadata.requestId } : {}),
        };
        inFlight -= 1;

        if (!settings.waitForResult || !journal || closing) {
          if (expected) sqsSource?.abandon(expected);
          send([first, null]);
          showStatus();
          done();
          return;
        }
        const id = randomUUID();
        let copy: Record<string, unknown>;
        try {
          copy = toJsonCopy(msg);
        } catch (e) {
          node.warn(t('warn.serialise', { message: (e as Error).message }));
          copy = { _msgid: msg._msgid };
        }
        const job: StoredJob = {
          inferenceId: accepted.inferenceId,
          endpointName: mapped.endpointName,
          outputLocation: accepted.outputLocation,
          failureLocation: accepted.failureLocation,
          startedAt: Date.now(),
          msg: copy,
        };
        pending[id] = job;
        // Durable before output 1: once "accepted" is out, a crash must not lose the job.
        await journalWrite(journal.put(id, job));
        if (closing) {
          // The journal has it: the next instance of the node delivers the outcome.
          sqsSource?.abandon(accepted.inferenceId);
          send([first, null]);
          done();
          return;
        }
        live.set(id, { msg, send, done });
        send([first, null]);
        watch(id, job, false);
        showStatus();
      } catch (err) {
        inFlight = Math.max(0, inFlight - 1);
        if (expected) sqsSource?.abandon(expected);
        if (closing) {
          done(); // aborted by close; nothing was accepted from this message
          return;
        }
        fail(err);
        showStatus();
      }
    }

    node.on('close', (removed: boolean, done: () => void) => {
      closing = true;
      abort.abort();
      poller?.stop();
      // Aborts the long poll (when no other node reads the queue) and waits for outcomes being sent.
      const sqsClosed = sqsSource?.close();
      // Pending jobs stay in the journal and resume with the next instance; their messages end here.
      for (const l of live.values()) l.done();
      live.clear();
      const finished = async (): Promise<void> => {
        await sqsClosed;
        while (writes.size > 0) await Promise.all([...writes]);
        if (!journal) return;
        // A node deleted from the flows has nobody to deliver to: its journal goes with it.
        if (removed) await journal.destroy();
        else await journal.close();
      };
      finished().then(done, (err: Error) => {
        node.warn(t('warn.persist', { message: err.message }));
        done();
      });
    });
  }

  RED.nodes.registerType('sagemaker-invoke-async', SageMakerInvokeAsyncNode);
};
