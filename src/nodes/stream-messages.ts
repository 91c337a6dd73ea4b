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
 * Sends the part messages of one stream: `base` with the payload and `msg.sagemaker` of the part,
 * and `msg.parts` for a join node when asked. With `sequence`, each message is held until the
 * next one is known, so the last can carry `parts.count`.
 */
export function partSender(
  base: NodeMessage,
  inputParts: unknown,
  send: SendFn,
  meta: PartMeta,
  s: { split: string; decode: string; text: TextSetting; sequence: boolean },
) {
  const seqType = s.decode === 'buffer' ? 'buffer' : s.decode === 'json' && s.text === 'none' ? 'array' : 'string';
  const seqCh = s.split === 'line' && s.text === 'none' && s.decode !== 'json' ? '\n' : seqType === 'string' ? '' : undefined;
  let held: NodeMessage | undefined;
  const sender = {
    sent: 0,
    emit(payload: unknown): void {
      const index = sender.sent++;
      const { endpointName, streamId, contentType, invokedProductionVariant } = meta;
      const sagemaker = { endpointName, streamId, index, contentType, invokedProductionVariant };
      // One literal per message: properties added afterwards would reshape every part message.
      const m: NodeMessage =
        inputParts === undefined ? { ...base, payload, sagemaker } : { ...base, payload, sagemaker, parts: inputParts };
      if (!s.sequence) return send([m, null]);
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
