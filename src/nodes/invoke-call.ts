/**
 * One InvokeEndpoint call of sagemaker-invoke, shared by single messages and batches: the SDK
 * call on the node's signal, the response headers, the latency, and the `msg.sagemaker` fields.
 */
import {
  InvokeEndpointCommand,
  type InvokeEndpointCommandInput,
  type InvokeEndpointCommandOutput,
} from '@aws-sdk/client-sagemaker-runtime';
import { signalled } from '../lib/call-hooks';
import { formatDuration } from '../lib/status';
import type { Worker } from './worker';

export interface Answer {
  out: InvokeEndpointCommandOutput;
  /** The HTTP response headers, lower-case names. */
  headers: Record<string, string>;
  latencyMs: number;
}

/** The answer, the error with the time it took, or undefined when close/redeploy aborted the call. */
export type Outcome = { answer: Answer } | { error: unknown; latencyMs: number } | undefined;

const roundedMs = (started: number): number => Math.round((performance.now() - started) * 1000) / 1000;

export async function invokeEndpoint(worker: Worker, input: InvokeEndpointCommandInput): Promise<Outcome> {
  const started = performance.now();
  try {
    const out = await worker.config.runtimeClient().send(signalled(new InvokeEndpointCommand(input), worker.signal));
    // Aborted by close/redeploy: the message ends quietly, with no output and no error.
    if (worker.closing) return undefined;
    const latencyMs = roundedMs(started);
    worker.status.done(formatDuration(latencyMs));
    return { answer: { out, headers: worker.config.responseHeaders(out), latencyMs } };
  } catch (err) {
    if (worker.closing) return undefined;
    return { error: err, latencyMs: roundedMs(started) };
  }
}

/** `msg.sagemaker` of an answer (absent values left out). */
export function answerMetadata(endpointName: string, { out, latencyMs }: Answer): Record<string, unknown> {
  const meta: Record<string, unknown> = { endpointName };
  if (out.ContentType) meta.contentType = out.ContentType;
  if (out.InvokedProductionVariant) meta.invokedProductionVariant = out.InvokedProductionVariant;
  if (out.CustomAttributes) meta.customAttributes = out.CustomAttributes;
  if (out.NewSessionId) meta.newSessionId = out.NewSessionId;
  if (out.ClosedSessionId) meta.closedSessionId = out.ClosedSessionId;
  if (out.$metadata.requestId) meta.requestId = out.$metadata.requestId;
  if (out.$metadata.attempts !== undefined) meta.attempts = out.$metadata.attempts;
  meta.latencyMs = latencyMs;
  return meta;
}
