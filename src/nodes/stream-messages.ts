/**
 * The messages of sagemaker-stream: the part messages (output 1) and the completion's
 * `msg.sagemaker` (output 2), and the names of the errors a stream can end with.
 */
import type { InvokeEndpointWithResponseStreamCommandOutput } from '@aws-sdk/client-sagemaker-runtime';
import type { JsonataExpression, NodeMessage, SendFn } from './red';

/** With decode json: the whole value, a preset, or a prepared JSONata expression. */
export type TextSetting = 'none' | 'tgi' | 'openai' | { expr: JsonataExpression };

export interface PartMeta {
  endpointName: string;
  streamId: string;
  contentType?: string;
  invokedProductionVariant?: string;
}

export interface OpenStream {
  abort: AbortController;
  /** The idle timeout cut it. */
  idle: boolean;
  /** Part messages sent, for the status. */
  parts: number;
  settled: Promise<void>;
}

/** A connection that ended mid-stream (reset, closed, truncated frame), as opposed to a service error. */
export function isConnectionCut(err: unknown): boolean {
  const e = err as { message?: unknown; code?: unknown } | null;
  if (!e || typeof e.message !== 'string') return false;
  if (e.code === 'ECONNRESET' || e.code === 'EPIPE') return true;
  return /^(aborted|socket hang up|Truncated event message)/i.test(e.message);
}

export const named = (message: string, name: string): Error => Object.assign(new Error(message), { name });

const rounded = (ms: number): number => Math.round(ms * 1000) / 1000;

/** The completion message's `msg.sagemaker`. */
export function completionInfo(
  meta: PartMeta,
  out: Pick<InvokeEndpointWithResponseStreamCommandOutput, 'CustomAttributes' | '$metadata'>,
  counts: { parts: number; payloadParts: number; bytes: number },
  timeToFirstPartMs: number | undefined,
  durationMs: number,
): Record<string, unknown> {
  const info: Record<string, unknown> = { ...meta };
  if (out.CustomAttributes) info.customAttributes = out.CustomAttributes;
  if (out.$metadata?.requestId) info.requestId = out.$metadata.requestId;
  Object.assign(info, counts);
  if (timeToFirstPartMs !== undefined) info.timeToFirstPartMs = rounded(timeToFirstPartMs);
  info.durationMs = rounded(durationMs);
  return info;
}

/**
 * A maker of part messages: shallow copies of the input as it was when the stream started
 * (without `msg.parts`), with the part's payload and `msg.sagemaker`.
 *
 * Built key by key rather than with `{ ...input, payload, sagemaker }`: V8 gives an object spread
 * that then gains a property a map of its own, so every part message would cost about 1 µs more
 * to build and be slow to read in every node downstream. Copies built key by key in the same order
 * share one map.
 */
export function partMessage(input: NodeMessage): (payload: unknown, sagemaker: unknown) => NodeMessage {
  const keys = Reflect.ownKeys(input).filter((k) => k !== 'parts' && Object.prototype.propertyIsEnumerable.call(input, k));
  const values = keys.map((k) => input[k as string]);
  return (payload, sagemaker) => {
    const m: Record<string | symbol, unknown> = {};
    for (let i = 0; i < keys.length; i++) m[keys[i]] = values[i];
    m.payload = payload;
    m.sagemaker = sagemaker;
    return m as NodeMessage;
  };
}

/**
 * Sends the part messages of one stream: copies of `input` with the payload and `msg.sagemaker`
 * of the part, and `msg.parts` for a join node when asked. With `sequence`, each message is held
 * until the next one is known, so the last can carry `parts.count`.
 */
export function partSender(
  input: NodeMessage,
  send: SendFn,
  meta: PartMeta,
  s: { split: string; decode: string; text: TextSetting; sequence: boolean },
) {
  const seqType = s.decode === 'buffer' ? 'buffer' : s.decode === 'json' && s.text === 'none' ? 'array' : 'string';
  const seqCh = s.split === 'line' && s.text === 'none' && s.decode !== 'json' ? '\n' : seqType === 'string' ? '' : undefined;
  const inputParts = input.parts;
  const message = partMessage(input);
  let held: NodeMessage | undefined;
  const sender = {
    sent: 0,
    emit(payload: unknown): void {
      const index = sender.sent++;
      const { endpointName, streamId, contentType, invokedProductionVariant } = meta;
      const m = message(payload, { endpointName, streamId, index, contentType, invokedProductionVariant });
      if (!s.sequence) {
        if (inputParts !== undefined) m.parts = inputParts;
        return send([m, null]);
      }
      const parts: Record<string, unknown> = { id: meta.streamId, index, type: seqType };
      if (seqCh !== undefined) parts.ch = seqCh;
      if (inputParts !== undefined) parts.parts = inputParts;
      m.parts = parts;
      if (held) send([held, null]);
      held = m;
    },
    /** Sends the held last message with `parts.count`. */
    finish(): void {
      if (!held) return;
      (held.parts as Record<string, unknown>).count = sender.sent;
      send([held, null]);
      held = undefined;
    },
  };
  return sender;
}
