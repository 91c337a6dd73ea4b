/**
 * The call of `sagemaker-invoke-async`: the input by S3 upload, given location or inline body,
 * InvokeEndpointAsync, and what it answers as the "accepted" message (output 1) and the job to
 * keep until its outcome (README "sagemaker-invoke-async").
 */
import { randomUUID } from 'node:crypto';
import { InvokeEndpointAsyncCommand, type InvokeEndpointAsyncCommandInput } from '@aws-sdk/client-sagemaker-runtime';
import { toJsonCopy, type StoredJob } from '../lib/async-jobs';
import type { AsyncS3 } from '../lib/async-s3';
import { signalled } from '../lib/call-hooks';
import { InputError } from '../lib/errors';
import type { MappedRequest } from '../lib/request';
import { formatS3Uri, keyProblem, parseS3Uri } from '../lib/s3-location';
import type { NodeMessage, RED } from './red';
import type { Worker } from './worker';

/** The API's limit for an inline Body (InvokeEndpointAsync, "Body"). */
const MAX_INLINE_BYTES = 128_000;

export interface AcceptSettings {
  /** Upload inputs here (blank: inline body up to MAX_INLINE_BYTES). */
  inputBucket: string;
  inputPrefix: string;
  inferenceIdPrefix: string;
}

export interface Accepted {
  /** Output 1: a copy of the input with the accepted job's locations. */
  first: NodeMessage;
  /** What the journal keeps until the outcome. */
  job: StoredJob;
}

/** Returns the node's accept step: one message and its mapped request → the accepted job. */
export function acceptStep(RED: RED, worker: Worker, s3: AsyncS3, s: AcceptSettings) {
  const { node, config, t } = worker;

  return async function accept(msg: NodeMessage, req: MappedRequest): Promise<Accepted> {
    const params: Record<string, string | number> = { ...req.params };
    // Chosen here, not by the service, so the id is known before the call (and keys the upload).
    const inferenceId = String(params.InferenceId ?? s.inferenceIdPrefix + randomUUID());
    params.InferenceId = inferenceId;
    const input: InvokeEndpointAsyncCommandInput = { EndpointName: req.endpointName, ...params };
    if (req.contentType) input.ContentType = req.contentType;
    if (params.InputLocation === undefined) {
      if (s.inputBucket) {
        const key = s.inputPrefix + inferenceId;
        const problem = keyProblem(key);
        if (problem) throw new InputError('InferenceId', t('errors.inputKey', { id: JSON.stringify(inferenceId), problem }));
        await s3.putInput(s.inputBucket, key, req.body, req.contentType, worker.signal);
        input.InputLocation = formatS3Uri({ bucket: s.inputBucket, key });
      } else if (req.body.length <= MAX_INLINE_BYTES) {
        input.Body = req.body;
      } else {
        throw new InputError('msg.payload', t('errors.inline', { size: req.body.length, limit: MAX_INLINE_BYTES.toLocaleString('en-US') }));
      }
    }
    const res = await config.runtimeClient().send(signalled(new InvokeEndpointAsyncCommand(input), worker.signal));
    const accepted = {
      inferenceId: res.InferenceId ?? inferenceId,
      outputLocation: res.OutputLocation ?? '',
      ...(res.FailureLocation ? { failureLocation: res.FailureLocation } : {}),
    };
    if (!accepted.outputLocation) throw new Error(t('errors.noOutputLocation'));
    parseS3Uri(accepted.outputLocation, { field: 'OutputLocation' });
    // Output 1 gets a copy (without cloning a large payload); the original waits for output 2.
    const payload = msg.payload;
    msg.payload = undefined;
    const first = RED.util.cloneMessage(msg);
    msg.payload = payload;
    first.payload = { ...accepted };
    first.sagemaker = {
      ...accepted,
      endpointName: req.endpointName,
      ...(input.InputLocation ? { inputLocation: input.InputLocation } : {}),
      ...(res.$metadata.requestId ? { requestId: res.$metadata.requestId } : {}),
    };
    let copy: Record<string, unknown>;
    try {
      copy = toJsonCopy(msg);
    } catch (e) {
      node.warn(t('warn.serialise', { message: e instanceof Error ? e.message : String(e) }));
      copy = { _msgid: msg._msgid };
    }
    return { first, job: { ...accepted, endpointName: req.endpointName, startedAt: Date.now(), msg: copy } };
  };
}
