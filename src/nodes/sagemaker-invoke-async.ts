/**
 * sagemaker-invoke-async: InvokeEndpointAsync (SPEC §6). Output 1: "accepted" at once. Output 2:
 * the result read from S3, found by polling one ListObjectsV2 per prefix per round.
 *
 * Pending jobs live in the node context under `pending` (persistent with a persistent context
 * store), so polling resumes after a redeploy or restart. What is stored per job: the ids and
 * locations, when it started, and a JSON copy of the input message without `payload`, `req` and
 * `res` (the output replaces the payload; HTTP objects cannot be stored) — message properties
 * must therefore be JSON-serialisable to survive a restart (Buffers are restored as Buffers).
 *
 * `done` of an accepted message is called once: when its result (output 2) or error is final,
 * or — if the node closes while the job is still pending — at close; the job then resumes from
 * context and its outcome is sent by the next instance of the node (node.send / node.error).
 */
import { setMaxListeners } from 'node:events';
import { randomUUID } from 'node:crypto';
import { InvokeEndpointAsyncCommand, type InvokeEndpointAsyncCommandInput } from '@aws-sdk/client-sagemaker-runtime';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { AsyncPoller, type PollJob, type PollOutcome } from '../lib/async-poller';
import { describeError, errorText, InputError } from '../lib/errors';
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

interface AsyncSettings {
  inputBucket: string;
  inputPrefix: string;
  waitForResult: boolean;
  pollMs: number;
  maxPollMs: number;
  maxWaitMs: number;
  maxResultBytes: number;
  responseFormat: ResponseFormat;
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

function fromJsonCopy(value: unknown): NodeMessage {
  return JSON.parse(JSON.stringify(value ?? {}), (_k, v) =>
    v && typeof v === 'object' && v.type === 'Buffer' && Array.isArray(v.data) && Object.keys(v).length === 2 ? Buffer.from(v.data) : v,
  ) as NodeMessage;
}

export = function (RED: RED) {
  const t = translator(RED, 'sagemaker-invoke-async');
  // Node-RED deletes a node's context when it closes unless a context store is configured, so
  // jobs pending at a redeploy are also handed to the next instance of the same node here.
  const carriedOver = new Map<string, Record<string, StoredJob>>();

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
    return { inputBucket, inputPrefix, waitForResult: bool(n.waitForResult, true), pollMs, maxPollMs, maxWaitMs, maxResultBytes, responseFormat };
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
    let pending: Record<string, StoredJob> = {};
    let inFlight = 0;
    const store = node.context();

    const persist = (): void => {
      store.set('pending', { ...pending }, undefined, (err) => {
        if (err) node.warn(t('warn.persist', { message: err.message }));
      });
    };

    const showStatus = (): void => {
      if (setupError) return;
      const n = Object.keys(pending).length;
      if (n > 0) node.status(busy(t('status.pending', { count: n })));
      else if (inFlight > 0) node.status(busy(t('status.sending')));
      else node.status({});
    };

    const poller =
      config && settings
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
            onListError: (err, bucket, prefix) => {
              node.warn(t('warn.list', { bucket, prefix, message: (err as Error).message }));
            },
          })
        : undefined;

    const watch = (id: string, job: StoredJob, checkNow: boolean): void => {
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

    const settle = (id: string): void => {
      delete pending[id];
      live.delete(id);
      persist();
      showStatus();
    };

    const deliverError = (id: string, job: StoredJob, err: Error & { info?: Record<string, unknown> }): void => {
      const l = live.get(id);
      const msg = outcomeMessage(id, job);
      const base = (msg.sagemaker && typeof msg.sagemaker === 'object' ? msg.sagemaker : {}) as Record<string, unknown>;
      msg.sagemaker = {
        ...base,
        inferenceId: job.inferenceId,
        outputLocation: job.outputLocation,
        ...(job.failureLocation ? { failureLocation: job.failureLocation } : {}),
        error: { name: err.name, message: err.message, retryable: false, ...(err.info ?? {}) },
      };
      settle(id);
      node.status(failed(err.message));
      if (l) l.done(err);
      else node.error(err, msg);
    };

    async function finish(job: PollJob, outcome: PollOutcome): Promise<void> {
      const id = job.id;
      const stored = pending[id];
      if (!stored || !config || !settings) return;
      const s3 = config.s3Client();
      const waitedMs = Date.now() - stored.startedAt;
      try {
        if (outcome.type === 'timeout') {
          const where = stored.failureLocation
            ? `${stored.outputLocation} or ${stored.failureLocation}`
            : `${stored.outputLocation} (the endpoint has no failure location, so a failed job can only show up as this timeout)`;
          const err = Object.assign(new Error(`No result for inference ${stored.inferenceId} within maxWait ${settings.maxWaitMs / 1000} s at ${where}`), {
            name: 'AsyncInferenceTimeout',
            info: { waitedMs, polls: outcome.polls },
          });
          deliverError(id, stored, err);
          return;
        }
        const location = formatS3Uri({ bucket: outcome.bucket, key: outcome.key });
        if (outcome.type === 'failure') {
          const got = await s3.send(new GetObjectCommand({ Bucket: outcome.bucket, Key: outcome.key, Range: `bytes=0-${MAX_FAILURE_TEXT - 1}` }), {
            abortSignal: abort.signal,
          });
          const text = (await got.Body!.transformToString('utf-8')).trim();
          const err = Object.assign(new Error(`Async inference ${stored.inferenceId} failed: ${text || '(empty failure object)'}`), {
            name: 'AsyncInferenceFailure',
            info: { failureLocation: location, failureText: text, waitedMs, polls: outcome.polls },
          });
          deliverError(id, stored, err);
          return;
        }
        const msg = outcomeMessage(id, stored);
        let contentType: string | undefined;
        if (outcome.size > settings.maxResultBytes) {
          // Too large to hold in a message: hand over the location instead.
          msg.payload = location;
        } else {
          const got = await s3.send(new GetObjectCommand({ Bucket: outcome.bucket, Key: outcome.key }), { abortSignal: abort.signal });
          contentType = got.ContentType;
          const bytes = await got.Body!.transformToByteArray();
          const decoded = decodeBody(bytes, contentType, settings.responseFormat);
          if (decoded.warning) node.warn(decoded.warning);
          msg.payload = decoded.value;
        }
        msg.sagemaker = {
          inferenceId: stored.inferenceId,
          outputLocation: location,
          waitedMs,
          polls: outcome.polls,
          endpointName: stored.endpointName,
          ...(contentType ? { contentType } : {}),
          ...(outcome.size > settings.maxResultBytes ? { size: outcome.size } : {}),
        };
        const l = live.get(id);
        settle(id);
        if (l) {
          l.send([null, msg]);
          l.done();
        } else node.send([null, msg]);
        if (Object.keys(pending).length === 0) node.status(ok(t('status.done')));
      } catch (err) {
        if (closing) return; // stays in context; the next start resumes it
        const e = err as Error;
        if (e.name === 'DecodeError') {
          deliverError(id, stored, e);
          return;
        }
        // Reading the object failed (network, permissions): look again next round.
        node.warn(t('warn.read', { id: stored.inferenceId, message: e.message }));
        watch(id, stored, false);
      }
    }

    // Resume jobs left pending by an earlier instance (redeploy, restart).
    const carried = carriedOver.get(node.id) ?? {};
    carriedOver.delete(node.id);
    if (poller) {
      store.get('pending', undefined, (err, value) => {
        if (err) node.warn(t('warn.restore', { message: err.message }));
        const stored = !err && value && typeof value === 'object' ? (value as Record<string, StoredJob>) : {};
        if (closing) return;
        for (const [id, job] of Object.entries({ ...carried, ...stored })) {
          if (pending[id] || !job || typeof job.outputLocation !== 'string') continue;
          pending[id] = job;
          try {
            watch(id, job, true);
          } catch (e) {
            node.warn(`dropping unreadable pending job ${id}: ${(e as Error).message}`);
            delete pending[id];
          }
        }
        persist();
        showStatus();
      });
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
      try {
        const name = await endpointName.resolve(msg);
        const mapped = mapRequest('async', name, request, msg);
        const params = { ...mapped.params } as Record<string, string | number>;
        // Chosen here, not by the service, so the id is known before the call (and keys the upload).
        const inferenceId = String(params.InferenceId ?? randomUUID());
        params.InferenceId = inferenceId;

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

        if (!settings.waitForResult || closing) {
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
        live.set(id, { msg, send, done });
        persist();
        send([first, null]);
        watch(id, job, false);
        showStatus();
      } catch (err) {
        inFlight = Math.max(0, inFlight - 1);
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
      if (!removed && Object.keys(pending).length > 0) carriedOver.set(node.id, { ...pending });
      // Pending jobs stay in context and resume with the next instance; their messages end here.
      for (const l of live.values()) l.done();
      live.clear();
      done();
    });
  }

  RED.nodes.registerType('sagemaker-invoke-async', SageMakerInvokeAsyncNode);
};
