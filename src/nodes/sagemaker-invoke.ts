/**
 * `sagemaker-invoke`: one InvokeEndpoint call per message (SPEC §4), with a per-node
 * concurrency limit and a bounded FIFO queue; with a batch size above 1, messages for the same
 * endpoint and request fields share one call (README "Micro-batching").
 */
import { InvokeEndpointCommand, type InvokeEndpointCommandInput, type InvokeEndpointCommandOutput } from '@aws-sdk/client-sagemaker-runtime';
import { batchBody, batchContentType, batchFormatFor, BatchSizeMismatch, DEFAULT_BATCH_WINDOW_MS, encodeRow, MAX_BATCH_SIZE, MAX_BATCH_WINDOW_MS, rowBytes, splitResponse } from '../lib/batch';
import { Batcher, type Batch } from '../lib/batcher';
import { describeError, errorAttempts, errorText, InputError, toError } from '../lib/errors';
import { decodeBody, RESPONSE_FORMATS, type ResponseFormat } from '../lib/payload';
import { mapFields, mapRequest, MAX_BODY_BYTES, validateSettings, type MappedRequest } from '../lib/request';
import { busy, failed, formatDuration, ok } from '../lib/status';
import { WorkQueue } from '../lib/work-queue';
import { translator } from './i18n';
import { attachConfig, responseHeaders } from './config-api';
import { endpointNameSource, requestSettings } from './node-settings';
import type { DoneFn, Node, NodeDef, NodeMessage, RED, SendFn } from './red';

const TYPE = 'sagemaker-invoke';
const DEFAULT_CONCURRENCY = 4;
const DEFAULT_QUEUE_SIZE = 1000;
const STATUS_INTERVAL_MS = 250; // status updates are throttled: each one is pushed to every open editor
const ERROR_STATUS_MS = 3000;

/** A whole number within [min, max]; blank → fallback; otherwise undefined (invalid). */
function intSetting(value: unknown, fallback: number, min: number, max: number): number | undefined {
  if (value === undefined || value === null || String(value).trim() === '') return fallback;
  const n = Number(value);
  return Number.isInteger(n) && n >= min && n <= max ? n : undefined;
}

function omitUndefined<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined || o[k] === '') delete o[k];
  return o;
}

export = function (RED: RED) {
  function SageMakerInvokeNode(this: Node, n: NodeDef) {
    RED.nodes.createNode(this, n);
    const node = this;
    const t = translator(RED, TYPE);

    const settings = requestSettings('invoke', n);
    const endpointName = endpointNameSource(RED, node, n);
    const responseFormat = String(n.responseFormat || 'auto') as ResponseFormat;
    const concurrency = intSetting(n.concurrency, DEFAULT_CONCURRENCY, 1, 1000);
    const queueSize = intSetting(n.queueSize, DEFAULT_QUEUE_SIZE, 0, 1_000_000);
    const batchSize = intSetting(n.batchSize, 1, 1, MAX_BATCH_SIZE);
    const batchWindow = intSetting(n.batchWindow, DEFAULT_BATCH_WINDOW_MS, 0, MAX_BATCH_WINDOW_MS);
    const batchFormat = batchFormatFor(settings.requestFormat);

    // A setting the node cannot use still lets it start: red ring, and each message fails with the reason.
    let setupError: string | undefined =
      validateSettings('invoke', settings) ??
      endpointName.problem ??
      (!RESPONSE_FORMATS.includes(responseFormat) ? `Response format must be one of ${RESPONSE_FORMATS.join(', ')}, got ${JSON.stringify(responseFormat)}` : undefined) ??
      (concurrency === undefined ? `Concurrency must be a whole number from 1 to 1000, got ${JSON.stringify(n.concurrency)}` : undefined) ??
      (queueSize === undefined ? `Queue size must be a whole number from 0 to 1000000, got ${JSON.stringify(n.queueSize)}` : undefined) ??
      (batchSize === undefined ? `Batch size must be a whole number from 1 to ${MAX_BATCH_SIZE}, got ${JSON.stringify(n.batchSize)}` : undefined) ??
      (batchWindow === undefined ? `Batch window must be a whole number of milliseconds from 0 to ${MAX_BATCH_WINDOW_MS}, got ${JSON.stringify(n.batchWindow)}` : undefined) ??
      ((batchSize ?? 1) > 1 && !batchFormat ? `Batching needs request format csv, json or jsonlines, got ${JSON.stringify(settings.requestFormat)}` : undefined);

    const attached = attachConfig(RED, node, n.config);
    const config = attached.config;
    if (!config) setupError = attached.error;
    else if (setupError) node.status(failed(setupError));

    // --- status -----------------------------------------------------------------------------
    let lastLatency: number | undefined;
    let errorStatus: string | undefined;
    let errorUntil = 0;
    let lastRender = 0;
    let statusTimer: NodeJS.Timeout | undefined;
    let closing = false;

    const queue = new WorkQueue({
      concurrency: concurrency ?? DEFAULT_CONCURRENCY,
      queueSize: queueSize ?? DEFAULT_QUEUE_SIZE,
      onChange: () => scheduleStatus(),
    });

    function render(): void {
      lastRender = Date.now();
      if (closing || setupError) return;
      if (errorStatus !== undefined && Date.now() < errorUntil) {
        node.status(failed(errorStatus));
      } else if (queue.running + queue.queued + (batcher?.pending ?? 0) > 0) {
        node.status(busy(t('status.busy', { inFlight: queue.running, queued: queue.queued + (batcher?.pending ?? 0) })));
      } else if (lastLatency !== undefined) {
        node.status(ok(formatDuration(lastLatency)));
      } else {
        node.status({});
      }
    }

    function scheduleStatus(delay?: number): void {
      if (statusTimer || closing) return;
      const wait = delay ?? Math.max(0, lastRender + STATUS_INTERVAL_MS - Date.now());
      if (wait === 0) return render();
      statusTimer = setTimeout(() => {
        statusTimer = undefined;
        render();
      }, wait);
    }

    function showError(text: string): void {
      errorStatus = text;
      errorUntil = Date.now() + ERROR_STATUS_MS;
      if (statusTimer) clearTimeout(statusTimer);
      statusTimer = undefined;
      render();
      scheduleStatus(ERROR_STATUS_MS);
    }

    // --- outcome helpers ----------------------------------------------------------------------
    function fail(msg: NodeMessage, done: DoneFn, err: unknown, meta: Record<string, unknown> = {}, errorExtra: Record<string, unknown> = {}): void {
      const info = describeError(err);
      msg.sagemaker = omitUndefined({ ...meta, attempts: meta.attempts ?? errorAttempts(err), error: { ...info, ...errorExtra } });
      if (!closing) showError(info.name === 'InputError' ? errorText(info) : info.name);
      done(toError(info));
    }

    interface Answer {
      out: InvokeEndpointCommandOutput;
      headers: Record<string, string>;
      latencyMs: number;
    }

    type Outcome = { answer: Answer } | { error: unknown; latencyMs: number } | undefined;

    /** One InvokeEndpoint call; undefined when close/redeploy aborted it. */
    async function call(input: InvokeEndpointCommandInput, signal: AbortSignal): Promise<Outcome> {
      const started = performance.now();
      try {
        const out = await config!.runtimeClient().send(new InvokeEndpointCommand(input), { abortSignal: signal });
        if (closing || signal.aborted) return undefined;
        const headers: Record<string, string> = {};
        const raw = responseHeaders(out);
        if (raw) for (const k of Object.keys(raw)) headers[k.toLowerCase()] = raw[k];
        const latencyMs = Math.round((performance.now() - started) * 1000) / 1000;
        lastLatency = latencyMs;
        return { answer: { out, headers, latencyMs } };
      } catch (err) {
        // Aborted by close/redeploy: the message ends quietly, with no output and no error.
        if (closing || signal.aborted) return undefined;
        const latencyMs = Math.round((performance.now() - started) * 1000) / 1000;
        return { error: err, latencyMs };
      }
    }

    function metadata(endpoint: string, { out, latencyMs }: Answer): Record<string, unknown> {
      return omitUndefined({
        endpointName: endpoint,
        contentType: out.ContentType,
        invokedProductionVariant: out.InvokedProductionVariant,
        customAttributes: out.CustomAttributes,
        newSessionId: out.NewSessionId,
        closedSessionId: out.ClosedSessionId,
        requestId: out.$metadata.requestId,
        attempts: out.$metadata.attempts,
        latencyMs,
      });
    }

    async function invoke(msg: NodeMessage, send: SendFn, done: DoneFn, req: MappedRequest, signal: AbortSignal): Promise<void> {
      try {
        const outcome = await call({ EndpointName: req.endpointName, Body: req.body, ContentType: req.contentType, ...req.params }, signal);
        if (!outcome) return done();
        if ('error' in outcome) return fail(msg, done, outcome.error, { endpointName: req.endpointName, latencyMs: outcome.latencyMs });
        const { answer } = outcome;
        const decoded = decodeBody(answer.out.Body, answer.out.ContentType, responseFormat);
        if (decoded.warning) node.warn(decoded.warning);
        msg.payload = decoded.value;
        msg.headers = answer.headers;
        msg.sagemaker = metadata(req.endpointName, answer);
        send(msg);
        done();
      } catch (err) {
        fail(msg, done, err, { endpointName: req.endpointName });
      }
    }

    // --- batching -----------------------------------------------------------------------------
    interface Pending {
      msg: NodeMessage;
      send: SendFn;
      done: DoneFn;
      fields: Omit<MappedRequest, 'body'>;
    }

    async function invokeBatch(batch: Batch<Pending>, signal: AbortSignal): Promise<void> {
      const { fields } = batch.items[0];
      const size = batch.items.length;
      const batchOf = (index: number) => ({ size, index });
      let ended = 0; // messages already ended, so an unexpected throw ends only the rest
      try {
        const input: InvokeEndpointCommandInput = {
          EndpointName: fields.endpointName,
          Body: batchBody(batch.rows, batchFormat!),
          ContentType: fields.contentType || batchContentType(batchFormat!),
          ...fields.params,
        };
        const outcome = await call(input, signal);
        if (!outcome) {
          for (const p of batch.items) p.done();
          return;
        }
        if ('error' in outcome) {
          const { error, latencyMs } = outcome;
          batch.items.forEach((p, index) => fail(p.msg, p.done, error, { endpointName: fields.endpointName, latencyMs, batch: batchOf(index) }));
          return;
        }
        const { answer } = outcome;
        let values: unknown[];
        try {
          values = splitResponse(answer.out.Body, answer.out.ContentType, responseFormat, size);
        } catch (err) {
          const extra = err instanceof BatchSizeMismatch ? { batchSize: err.batchSize, responseRows: err.responseRows } : {};
          batch.items.forEach((p, index) => fail(p.msg, p.done, err, { ...metadata(fields.endpointName, answer), batch: batchOf(index) }, extra));
          return;
        }
        batch.items.forEach((p, index) => {
          p.msg.payload = values[index];
          p.msg.headers = { ...answer.headers };
          p.msg.sagemaker = { ...metadata(fields.endpointName, answer), batch: batchOf(index) };
          p.send(p.msg);
          ended++;
          p.done();
        });
      } catch (err) {
        batch.items.slice(ended).forEach((p, i) => fail(p.msg, p.done, err, { endpointName: fields.endpointName, batch: batchOf(ended + i) }));
      }
    }

    const batcher =
      (batchSize ?? 1) > 1 && !setupError
        ? new Batcher<Pending>({
            size: batchSize!,
            windowMs: batchWindow ?? DEFAULT_BATCH_WINDOW_MS,
            maxBytes: MAX_BODY_BYTES,
            onBatch: (batch) => {
              const queued = queue.push({ run: (signal) => invokeBatch(batch, signal), release: () => batch.items.forEach((p) => p.done()) });
              if (!queued) {
                const err = new InputError('Queue size', t('errors.queueFull', { queueSize: queue.queueSize, concurrency: queue.concurrency }));
                batch.items.forEach((p, index) => fail(p.msg, p.done, err, { endpointName: p.fields.endpointName, batch: { size: batch.items.length, index } }));
              }
              scheduleStatus();
            },
          })
        : undefined;

    function acceptRow(msg: NodeMessage, send: SendFn, done: DoneFn, endpointName: unknown): void {
      let fields: Omit<MappedRequest, 'body'>;
      let row: string;
      try {
        fields = mapFields('invoke', endpointName, settings, msg);
        row = encodeRow(msg.payload, batchFormat!);
      } catch (err) {
        return fail(msg, done, err, { endpointName: typeof endpointName === 'string' ? endpointName : undefined });
      }
      const bytes = rowBytes(row);
      if (bytes + 2 > MAX_BODY_BYTES) {
        return fail(
          msg,
          done,
          new InputError('msg.payload', `msg.payload is ${bytes} bytes encoded, over the ${MAX_BODY_BYTES}-byte (6 MB) limit of real-time inference; use sagemaker-invoke-async for larger inputs`),
          { endpointName: fields.endpointName },
        );
      }
      const key = JSON.stringify([fields.endpointName, fields.contentType, Object.entries(fields.params).sort(([a], [b]) => (a < b ? -1 : 1))]);
      batcher!.add(key, row, bytes, { msg, send, done, fields });
      scheduleStatus();
    }

    function accept(msg: NodeMessage, send: SendFn, done: DoneFn, endpointName: unknown): void {
      let req: MappedRequest;
      try {
        req = mapRequest('invoke', endpointName, settings, msg);
      } catch (err) {
        return fail(msg, done, err, { endpointName: typeof endpointName === 'string' ? endpointName : undefined });
      }
      const queued = queue.push({ run: (signal) => invoke(msg, send, done, req, signal), release: () => done() });
      if (!queued) {
        fail(msg, done, new InputError('Queue size', t('errors.queueFull', { queueSize: queue.queueSize, concurrency: queue.concurrency })), {
          endpointName: req.endpointName,
        });
      }
    }

    node.on('input', (msg, send, done) => {
      try {
        if (setupError) return fail(msg, done, new InputError('config', setupError));
        if (closing) return done();
        endpointName.resolve(msg).then(
          (value) => {
            try {
              if (closing) return done();
              if (batcher) acceptRow(msg, send, done, value);
              else accept(msg, send, done, value);
            } catch (err) {
              fail(msg, done, err);
            }
          },
          (err: unknown) => fail(msg, done, err),
        );
      } catch (err) {
        fail(msg, done, err);
      }
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      closing = true;
      // Rows waiting for their batch are not sent: they end like queued messages.
      if (batcher) for (const p of batcher.close()) p.done();
      if (statusTimer) clearTimeout(statusTimer);
      statusTimer = undefined;
      queue.close().then(
        () => done(),
        () => done(),
      );
    });
  }

  RED.nodes.registerType(TYPE, SageMakerInvokeNode);
};
