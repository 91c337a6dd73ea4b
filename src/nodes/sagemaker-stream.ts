/**
 * sagemaker-stream: InvokeEndpointWithResponseStream as Node-RED messages — one per PayloadPart
 * (or per line) on output 1, then one completion message on output 2 (SPEC §5).
 */
import { InvokeEndpointWithResponseStreamCommand, type InvokeEndpointWithResponseStreamCommandInput } from '@aws-sdk/client-sagemaker-runtime';
import { describeError, errorText, InputError } from '../lib/errors';
import { mapRequest, validateSettings } from '../lib/request';
import { busy, failed, formatDuration, ok } from '../lib/status';
import { ByteLineSplitter, TextSplitter, type SplitMode } from '../lib/stream-splitter';
import { isTextPreset, parseJsonLine, presetText, toTextPiece } from '../lib/stream-text';
import { translator } from './i18n';
import { attachConfig } from './config-api';
import { endpointNameSource, requestSettings } from './node-settings';
import type { DoneFn, Node, NodeDef, NodeMessage, RED, SendFn } from './red';

type DecodeMode = 'string' | 'buffer' | 'json';

interface StreamSettings {
  split: SplitMode;
  decode: DecodeMode;
  /** 'none', a preset, or a prepared JSONata expression; only with decode json. */
  text: 'none' | 'tgi' | 'openai' | { expr: unknown };
  sequence: boolean;
  completionPayload: boolean;
  idleMs: number;
}

interface OpenStream {
  abort: AbortController;
  closing: boolean;
  idle: boolean;
  parts: number;
  settled: Promise<void>;
}

const STATUS_INTERVAL_MS = 250;
// Node-RED delivers messages on setImmediate. Letting those deliveries run every so many parts
// keeps a fast model from piling up undelivered messages (memory flat on endless streams).
const YIELD_EVERY_PARTS = 64;
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function bool(v: unknown, dflt: boolean): boolean {
  if (v === undefined || v === null || v === '') return dflt;
  return v === true || v === 'true';
}

/** A connection that ended mid-stream (reset, closed, truncated frame), as opposed to a service error. */
function isConnectionCut(err: unknown): boolean {
  const e = err as { name?: string; message?: string; code?: string; $metadata?: unknown } | null;
  if (!e || typeof e.message !== 'string') return false;
  if (e.code === 'ECONNRESET' || e.code === 'EPIPE') return true;
  return /^(aborted|socket hang up|Truncated event message)/i.test(e.message);
}

export = function (RED: RED) {
  const t = translator(RED, 'sagemaker-stream');

  function parseSettings(node: Node, n: NodeDef): { settings?: StreamSettings; error?: string } {
    const split = (n.split || 'part') as string;
    if (split !== 'part' && split !== 'line') return { error: t('errors.split', { value: split }) };
    const decode = (n.decode || 'string') as string;
    if (decode !== 'string' && decode !== 'buffer' && decode !== 'json') return { error: t('errors.decode', { value: decode }) };
    let idle = 60;
    const rawIdle = n.idleTimeout;
    if (rawIdle !== undefined && rawIdle !== null && String(rawIdle).trim() !== '') {
      idle = Number(rawIdle);
      if (!Number.isFinite(idle) || idle < 0.1) return { error: t('errors.idleTimeout', { value: String(rawIdle) }) };
    }
    let text: StreamSettings['text'] = 'none';
    const rawText = typeof n.text === 'string' ? n.text.trim() : '';
    if (decode === 'json' && rawText !== '' && rawText !== 'none') {
      if (isTextPreset(rawText)) text = rawText;
      else {
        try {
          text = { expr: RED.util.prepareJSONataExpression(rawText, node) };
        } catch (err) {
          return { error: t('errors.text', { message: (err as Error).message }) };
        }
      }
    }
    return {
      settings: {
        split: decode === 'json' ? 'line' : split,
        decode,
        text,
        sequence: bool(n.sequence, false),
        completionPayload: bool(n.completionPayload, true),
        idleMs: Math.round(idle * 1000),
      },
    };
  }

  function SageMakerStreamNode(this: Node, n: NodeDef): void {
    RED.nodes.createNode(this, n);
    const node = this;
    const open = new Set<OpenStream>();
    const endpointNameOf = endpointNameSource(RED, node, n);
    const request = requestSettings('stream', n);

    const attached = attachConfig(RED, node, n.config);
    const parsed = parseSettings(node, n);
    const setupError = attached.error ?? parsed.error ?? validateSettings('stream', request) ?? endpointNameOf.problem;
    if (setupError && !attached.error) node.status(failed(setupError));
    const settings = parsed.settings as StreamSettings;

    let lastStatusAt = 0;
    function showProgress(force = false): void {
      const now = Date.now();
      if (!force && now - lastStatusAt < STATUS_INTERVAL_MS) return;
      lastStatusAt = now;
      let parts = 0;
      for (const s of open) parts += s.parts;
      node.status(
        busy(open.size > 1 ? t('status.streamingMany', { streams: open.size, parts }) : t('status.streaming', { parts })),
      );
    }

    function evaluateText(expr: unknown, ctx: NodeMessage): Promise<unknown> {
      return new Promise((resolve, reject) => {
        RED.util.evaluateJSONataExpression(expr, ctx, (err, value) => (err ? reject(err) : resolve(value)));
      });
    }

    async function run(stream: OpenStream, msg: NodeMessage, send: SendFn, done: DoneFn): Promise<void> {
      const started = performance.now();
      let payloadParts = 0;
      let bytes = 0;
      let sentParts = 0;
      let timeToFirstPartMs: number | undefined;
      let endpointName: unknown = n.endpointNameType === 'str' || !n.endpointNameType ? n.endpointName : undefined;
      let lastActivity = Date.now();
      let idleTimer: NodeJS.Timeout | undefined;
      try {
        if (setupError) throw new InputError('settings', setupError);
        const { split, decode, text, sequence, completionPayload, idleMs } = settings;
        endpointName = await endpointNameOf.resolve(msg);
        const mapped = mapRequest('stream', endpointName, request, msg);
        endpointName = mapped.endpointName;
        const client = (attached.config as NonNullable<typeof attached.config>).runtimeClient();
        const input: InvokeEndpointWithResponseStreamCommandInput = {
          ...mapped.params,
          EndpointName: mapped.endpointName,
          Body: mapped.body,
          ContentType: mapped.contentType,
        };

        const checkIdle = (): void => {
          const quiet = Date.now() - lastActivity;
          if (quiet >= idleMs) {
            stream.idle = true;
            stream.abort.abort();
          } else idleTimer = setTimeout(checkIdle, idleMs - quiet);
        };
        idleTimer = setTimeout(checkIdle, idleMs);

        const out = await client.send(new InvokeEndpointWithResponseStreamCommand(input), { abortSignal: stream.abort.signal });
        const streamId = RED.util.generateId();
        const contentType = out.ContentType;
        const variant = out.InvokedProductionVariant;
        const inputParts = msg.parts;

        // Part messages: shallow copies of the input (no deep clone per part, for throughput).
        const base: NodeMessage = { ...msg };
        delete base.parts;
        let pending: NodeMessage | undefined;
        const seqType = decode === 'buffer' ? 'buffer' : decode === 'json' && text === 'none' ? 'array' : 'string';
        const seqCh = split === 'line' && text === 'none' && decode !== 'json' ? '\n' : seqType === 'string' ? '' : undefined;
        const emit = (payload: unknown): void => {
          const index = sentParts++;
          stream.parts = sentParts;
          const m: NodeMessage = { ...base, payload };
          m.sagemaker = { endpointName, streamId, index, contentType, invokedProductionVariant: variant };
          if (inputParts !== undefined) m.parts = inputParts;
          if (sequence) {
            const parts: Record<string, unknown> = { id: streamId, index, type: seqType };
            if (seqCh !== undefined) parts.ch = seqCh;
            if (inputParts !== undefined) parts.parts = inputParts;
            m.parts = parts;
            if (pending) send([pending, null]);
            pending = m;
          } else send([m, null]);
        };

        const body: Buffer[] = [];
        const values: unknown[] = [];
        const pieces: string[] = [];
        const textSplitter = decode === 'buffer' ? undefined : new TextSplitter(split);
        const byteLines = decode === 'buffer' && split === 'line' ? new ByteLineSplitter() : undefined;

        const takeValue = (value: unknown): void => {
          if (completionPayload) values.push(value);
          emit(value);
        };
        const takePiece = (piece: string | undefined): void => {
          if (piece === undefined || piece === '') return;
          if (completionPayload) pieces.push(piece);
          emit(piece);
        };
        // Synchronous unless a JSONata expression has to be evaluated: an await per part would
        // cost a microtask round for every token.
        const handleLine = (line: string): Promise<void> | undefined => {
          const r = parseJsonLine(line);
          if (r.kind === 'skip') return undefined;
          if (r.kind === 'invalid') {
            node.warn(t('warn.notJson', { line: r.line, error: r.error }));
            return undefined;
          }
          if (text === 'none') takeValue(r.value);
          else if (typeof text === 'string') takePiece(presetText(text, r.value));
          else return evaluateText(text.expr, { ...base, payload: r.value }).then((v) => takePiece(toTextPiece(v)));
          return undefined;
        };
        const handlePieces = async (out: string[]): Promise<void> => {
          for (const line of out) {
            const pending = handleLine(line);
            if (pending) await pending;
          }
        };

        let yieldedAt = 0;
        showProgress(true);
        for await (const event of out.Body ?? []) {
          const part = event.PayloadPart?.Bytes;
          if (!part) continue;
          lastActivity = Date.now();
          if (payloadParts++ === 0) timeToFirstPartMs = performance.now() - started;
          bytes += part.byteLength;
          if (completionPayload && decode !== 'json') body.push(Buffer.from(part.buffer, part.byteOffset, part.byteLength));
          if (textSplitter) {
            const out = textSplitter.push(part);
            if (decode !== 'json') for (let i = 0; i < out.length; i++) emit(out[i]);
            else
              for (let i = 0; i < out.length; i++) {
                const pending = handleLine(out[i]);
                if (pending) await pending;
              }
          } else if (byteLines) for (const line of byteLines.push(part)) emit(line);
          else if (part.byteLength > 0) emit(Buffer.from(part.buffer, part.byteOffset, part.byteLength));
          showProgress();
          if (sentParts - yieldedAt >= YIELD_EVERY_PARTS) {
            yieldedAt = sentParts;
            await nextTurn();
          }
        }
        if (stream.closing || stream.idle) throw new Error('aborted');
        if (textSplitter) {
          const rest = textSplitter.end();
          if (decode === 'json') await handlePieces(rest);
          else for (const piece of rest) emit(piece);
        }
        else if (byteLines) for (const line of byteLines.end()) emit(line);
        if (pending) {
          (pending.parts as Record<string, unknown>).count = sentParts;
          send([pending, null]);
          pending = undefined;
        }
        clearTimeout(idleTimer);

        const durationMs = performance.now() - started;
        let payload: unknown;
        if (completionPayload) {
          if (decode === 'json') payload = text === 'none' ? values : pieces.join('');
          else {
            const all = Buffer.concat(body, bytes);
            payload = decode === 'buffer' ? all : all.toString('utf8');
          }
        }
        msg.payload = payload;
        const info: Record<string, unknown> = { endpointName, streamId, contentType, invokedProductionVariant: variant };
        if (out.CustomAttributes) info.customAttributes = out.CustomAttributes;
        if (out.$metadata?.requestId) info.requestId = out.$metadata.requestId;
        Object.assign(info, {
          parts: sentParts,
          payloadParts,
          bytes,
          timeToFirstPartMs: timeToFirstPartMs === undefined ? undefined : Math.round(timeToFirstPartMs * 1000) / 1000,
          durationMs: Math.round(durationMs * 1000) / 1000,
        });
        if (info.timeToFirstPartMs === undefined) delete info.timeToFirstPartMs;
        msg.sagemaker = info;
        send([null, msg]);
        open.delete(stream);
        if (open.size === 0) node.status(ok(t('status.done', { parts: sentParts, duration: formatDuration(durationMs) })));
        else showProgress(true);
        done();
      } catch (err) {
        clearTimeout(idleTimer);
        open.delete(stream);
        if (stream.closing) {
          // Redeploy/close: the stream was cut on purpose; no completion and no error.
          done();
          return;
        }
        let error = err as Error;
        if (stream.idle) {
          error = new Error(t('errors.idle', { seconds: settings.idleMs / 1000, parts: payloadParts }));
          error.name = 'IdleTimeout';
        } else if (isConnectionCut(error)) {
          // The SDK reports a cut connection as "aborted" plus a deserialization error: say what happened.
          error = new Error(t('errors.reset', { parts: payloadParts, detail: error.message.split('\n')[0] }));
          error.name = 'StreamReset';
        }
        const info = { ...describeError(error), partsReceived: payloadParts };
        const previous = msg.sagemaker && typeof msg.sagemaker === 'object' ? (msg.sagemaker as Record<string, unknown>) : {};
        msg.sagemaker = { ...previous, endpointName, error: info };
        const message = errorText(info);
        node.status(failed(message));
        const out = new Error(message);
        out.name = info.name;
        done(out);
      }
    }

    node.on('input', (msg, send, done) => {
      const stream: OpenStream = { abort: new AbortController(), closing: false, idle: false, parts: 0, settled: Promise.resolve() };
      open.add(stream);
      stream.settled = run(stream, msg, send, done).catch((err) => {
        // run() reports its own failures; this only guards against a bug throwing past it.
        node.error(err, msg);
      });
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      const pending = [...open];
      for (const s of pending) {
        s.closing = true;
        s.abort.abort();
      }
      const finish = (): void => {
        node.status({});
        done();
      };
      if (pending.length === 0) return finish();
      const cap = setTimeout(finish, 5000);
      void Promise.allSettled(pending.map((s) => s.settled)).then(() => {
        clearTimeout(cap);
        finish();
      });
    });
  }

  RED.nodes.registerType('sagemaker-stream', SageMakerStreamNode);
};
