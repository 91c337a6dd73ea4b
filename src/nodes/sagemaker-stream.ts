/**
 * `sagemaker-stream`: InvokeEndpointWithResponseStream → Node-RED messages, one per PayloadPart
 * (or per line) on output 1, then one completion message on output 2 (README "sagemaker-stream").
 * What the parts become is in lib/stream-parts.ts; this file runs the call and sends.
 */
import { InvokeEndpointWithResponseStreamCommand } from '@aws-sdk/client-sagemaker-runtime';
import { signalled } from '../lib/call-hooks';
import type { MappedRequest } from '../lib/request';
import { formatDuration } from '../lib/status';
import { StreamParts, type TextOf } from '../lib/stream-parts';
import { isTextPreset } from '../lib/stream-text';
import type { DoneFn, JsonataExpression, NodeMessage, RED, SendFn } from './red';
import { completionInfo, isConnectionCut, named, partMessage, partSender, type OpenStream, type TextSetting } from './stream-messages';
import { defineWorker } from './worker';

// Node-RED delivers messages on setImmediate. Letting those deliveries run after the first part
// (its time to first message) and then every so many parts keeps a fast model from piling up
// undelivered messages (memory flat on endless streams).
const YIELD_EVERY_PARTS = 64;
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export = function (RED: RED) {
  /** An expression's text for one JSON value, evaluated against the part message. */
  const expressionText = (expr: JsonataExpression, input: NodeMessage): TextOf => {
    const message = partMessage(input);
    return (value) =>
      new Promise((resolve, reject) =>
        RED.util.evaluateJSONataExpression(expr, message(value, input.sagemaker), (err, v) => (err ? reject(err) : resolve(v))),
      );
  };

  defineWorker(RED, {
    type: 'sagemaker-stream',
    operation: 'stream',
    settings: (read, { node, t }) => {
      const decode = read.get('decode');
      const raw = read.string('text');
      let text: TextSetting = 'none';
      if (decode === 'json' && raw !== '' && raw !== 'none') {
        if (isTextPreset(raw)) text = raw;
        else {
          try {
            text = { expr: RED.util.prepareJSONataExpression(raw, node) };
          } catch (err) {
            read.check(t('errors.text', { message: (err as Error).message }));
          }
        }
      }
      return {
        split: decode === 'json' ? 'line' : read.get('split'),
        decode,
        text,
        sequence: read.get('sequence'),
        completionPayload: read.get('completionPayload'),
        idleMs: Math.round(read.get('idleTimeout') * 1000),
      };
    },

    start: (worker, s) => {
      const { t, status } = worker;
      const open = new Set<OpenStream>();

      async function run(stream: OpenStream, msg: NodeMessage, send: SendFn, done: DoneFn, req: MappedRequest): Promise<void> {
        const started = performance.now();
        let timeToFirstPartMs: number | undefined;
        let lastActivity = Date.now();
        const checkIdle = (): void => {
          const quiet = Date.now() - lastActivity;
          if (quiet < s.idleMs) idleTimer = setTimeout(checkIdle, s.idleMs - quiet);
          else {
            stream.idle = true;
            stream.abort.abort();
          }
        };
        let idleTimer = setTimeout(checkIdle, s.idleMs);
        let parts: StreamParts | undefined;
        try {
          const command = new InvokeEndpointWithResponseStreamCommand({
            ...req.params,
            EndpointName: req.endpointName,
            Body: req.body,
            ContentType: req.contentType,
          });
          const out = await worker.config.runtimeClient().send(signalled(command, stream.abort.signal));
          const meta = {
            endpointName: req.endpointName,
            streamId: RED.util.generateId(),
            contentType: out.ContentType,
            invokedProductionVariant: out.InvokedProductionVariant,
          };
          // Part messages are shallow copies of the input (a deep clone per part would cost more than the part).
          const sender = partSender(msg, send, meta, s);
          const text: TextOf = typeof s.text === 'object' ? expressionText(s.text.expr, msg) : s.text;
          parts = new StreamParts({
            ...s,
            text,
            emit: sender.emit,
            notJson: (line, error) => worker.node.warn(t('warn.notJson', { line, error })),
          });

          let yieldedAt = 0;
          status.update();
          for await (const event of out.Body ?? []) {
            const bytes = event.PayloadPart?.Bytes;
            if (!bytes) continue;
            lastActivity = Date.now();
            if (parts.parts === 0) timeToFirstPartMs = performance.now() - started;
            const pending = parts.push(bytes);
            if (pending) await pending;
            stream.parts = sender.sent;
            status.update();
            if (sender.sent > 0 && (yieldedAt === 0 || sender.sent - yieldedAt >= YIELD_EVERY_PARTS)) {
              yieldedAt = sender.sent;
              await nextTurn();
            }
          }
          if (worker.closing || stream.idle) throw new Error('aborted');
          const pending = parts.end();
          if (pending) await pending;
          sender.finish();
          clearTimeout(idleTimer);

          const durationMs = performance.now() - started;
          const counts = { parts: sender.sent, payloadParts: parts.parts, bytes: parts.bytes };
          msg.payload = parts.completion();
          msg.sagemaker = completionInfo(meta, out, counts, timeToFirstPartMs, durationMs);
          send([null, msg]);
          open.delete(stream);
          status.done(t('status.done', { parts: sender.sent, duration: formatDuration(durationMs) }));
          done();
        } catch (err) {
          clearTimeout(idleTimer);
          open.delete(stream);
          // Close/redeploy cut the stream on purpose: no completion and no error.
          if (worker.closing) return done();
          let error = err;
          const received = parts?.parts ?? 0;
          if (stream.idle) error = named(t('errors.idle', { seconds: s.idleMs / 1000, parts: received }), 'IdleTimeout');
          // The SDK reports a cut connection as "aborted" plus a deserialization error: say what happened.
          else if (isConnectionCut(err))
            error = named(t('errors.reset', { parts: received, detail: (err as Error).message.split('\n')[0] }), 'StreamReset');
          const previous = msg.sagemaker && typeof msg.sagemaker === 'object' ? msg.sagemaker : {};
          worker.fail(msg, done, error, { ...previous, endpointName: req.endpointName }, { partsReceived: received });
        }
      }

      return {
        input(msg, send, done, endpointName) {
          const req = worker.mapping.request(endpointName, msg);
          const stream: OpenStream = { abort: new AbortController(), idle: false, parts: 0, settled: Promise.resolve() };
          open.add(stream);
          stream.settled = run(stream, msg, send, done, req).catch((err: unknown) => worker.node.error(err, msg));
        },
        busyText() {
          if (open.size === 0) return undefined;
          let parts = 0;
          for (const s of open) parts += s.parts;
          return open.size > 1 ? t('status.streamingMany', { streams: open.size, parts }) : t('status.streaming', { parts });
        },
        close() {
          for (const s of open) s.abort.abort();
          return Promise.allSettled([...open].map((s) => s.settled)).then(() => undefined);
        },
      };
    },
  });
};
