/**
 * `sagemaker-invoke`: one InvokeEndpoint call per message (SPEC §4), with a per-node
 * concurrency limit and a bounded FIFO queue.
 */
import { InvokeEndpointCommand, type InvokeEndpointCommandInput } from '@aws-sdk/client-sagemaker-runtime';
import { describeError, errorAttempts, errorText, InputError, toError } from '../lib/errors';
import { decodeBody, RESPONSE_FORMATS, type ResponseFormat } from '../lib/payload';
import { mapRequest, validateSettings, type MappedRequest } from '../lib/request';
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

    // A setting the node cannot use still lets it start: red ring, and each message fails with the reason.
    let setupError: string | undefined =
      validateSettings('invoke', settings) ??
      endpointName.problem ??
      (!RESPONSE_FORMATS.includes(responseFormat) ? `Response format must be one of ${RESPONSE_FORMATS.join(', ')}, got ${JSON.stringify(responseFormat)}` : undefined) ??
      (concurrency === undefined ? `Concurrency must be a whole number from 1 to 1000, got ${JSON.stringify(n.concurrency)}` : undefined) ??
      (queueSize === undefined ? `Queue size must be a whole number from 0 to 1000000, got ${JSON.stringify(n.queueSize)}` : undefined);

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
      } else if (queue.running + queue.queued > 0) {
        node.status(busy(t('status.busy', { inFlight: queue.running, queued: queue.queued })));
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
    function fail(msg: NodeMessage, done: DoneFn, err: unknown, meta: Record<string, unknown> = {}): void {
      const info = describeError(err);
      msg.sagemaker = omitUndefined({ ...meta, attempts: meta.attempts ?? errorAttempts(err), error: info });
      if (!closing) showError(info.name === 'InputError' ? errorText(info) : info.name);
      done(toError(info));
    }

    async function invoke(msg: NodeMessage, send: SendFn, done: DoneFn, req: MappedRequest, signal: AbortSignal): Promise<void> {
      const started = performance.now();
      try {
        const input: InvokeEndpointCommandInput = { EndpointName: req.endpointName, Body: req.body, ContentType: req.contentType, ...req.params };
        const out = await config!.runtimeClient().send(new InvokeEndpointCommand(input), { abortSignal: signal });
        const headers = responseHeaders(out);
        if (closing || signal.aborted) return done();
        const latencyMs = Math.round((performance.now() - started) * 1000) / 1000;
        lastLatency = latencyMs;
        const decoded = decodeBody(out.Body, out.ContentType, responseFormat);
        if (decoded.warning) node.warn(decoded.warning);
        msg.payload = decoded.value;
        const lower: Record<string, string> = {};
        if (headers) for (const k of Object.keys(headers)) lower[k.toLowerCase()] = headers[k];
        msg.headers = lower;
        msg.sagemaker = omitUndefined({
          endpointName: req.endpointName,
          contentType: out.ContentType,
          invokedProductionVariant: out.InvokedProductionVariant,
          customAttributes: out.CustomAttributes,
          newSessionId: out.NewSessionId,
          closedSessionId: out.ClosedSessionId,
          requestId: out.$metadata.requestId,
          attempts: out.$metadata.attempts,
          latencyMs,
        });
        send(msg);
        done();
      } catch (err) {
        // Aborted by close/redeploy: the message ends quietly, with no output and no error.
        if (closing || signal.aborted) return done();
        const latencyMs = Math.round((performance.now() - started) * 1000) / 1000;
        fail(msg, done, err, { endpointName: req.endpointName, latencyMs });
      }
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
              accept(msg, send, done, value);
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
