/**
 * InvokeEndpointAsync (SageMaker Runtime API Reference, "InvokeEndpointAsync"; SageMaker
 * Developer Guide, "Asynchronous inference"): answers 202 at once with the InferenceId in the JSON
 * body and the predicted locations in headers, then — after the endpoint's delay plus seeded
 * jitter — reads the input (inline body or S3 object), runs the model and writes
 * `<output>/<id>.out` or `<failure>/<id>-error.out` to the emulator's S3.
 */
import { setMaxListeners } from 'node:events';
import { randomUUID } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { parseS3Uri, type S3Location } from '../lib/s3-location';
import { ApiError, sendError, validation } from './errors';
import { ModelFailure, runModel } from './models';
import type { EmulatorState, InvocationContext } from './types';
import { MAX_ASYNC_BODY_BYTES, validateHeaders } from './validate';

export const DEFAULT_BUCKET = 'sagemaker-emulator';
export const DEFAULT_DELAY_MS = 200;
export const DEFAULT_JITTER_MS = 50;

interface Jobs {
  timers: Set<NodeJS.Timeout>;
  abort: AbortController;
}

// Per emulator (keyed on its state) so several emulators in one process stop independently.
const running = new Map<EmulatorState, Jobs>();

function jobsOf(state: EmulatorState): Jobs {
  let j = running.get(state);
  if (!j) {
    j = { timers: new Set(), abort: new AbortController() };
    setMaxListeners(0, j.abort.signal); // shared by every job's S3 calls
    running.set(state, j);
  }
  return j;
}

/** Cancels scheduled async jobs and aborts their S3 calls: of one emulator, or of all when no state is given. */
export function stopAsyncJobs(state?: EmulatorState): void {
  for (const [s, j] of [...running]) {
    if (state && s !== state) continue;
    for (const t of j.timers) clearTimeout(t);
    j.timers.clear();
    j.abort.abort();
    running.delete(s);
  }
}

/** Number of jobs scheduled and not yet run (for tests of close()). */
export function pendingAsyncJobs(state?: EmulatorState): number {
  let n = 0;
  for (const [s, j] of running) if (!state || s === state) n += j.timers.size;
  return n;
}

function trimSlashes(s: string): string {
  return s.replace(/^\/+|\/+$/g, '');
}

/** `s3://bucket/prefix` + parts → `s3://bucket/prefix/part/…` (empty parts skipped). */
function location(base: string, ...parts: Array<string | undefined>): string {
  const b = base.replace(/\/+$/, '');
  const rest = parts
    .filter((p): p is string => !!p)
    .map(trimSlashes)
    .filter((p) => p !== '');
  return [b, ...rest].join('/');
}

/** `delay=<ms>` in CustomAttributes overrides the model run delay (handy for tests). */
function delayOverride(customAttributes: string | undefined): number | undefined {
  const m = /(?:^|[;,\s])delay=(\d{1,7})(?:$|[;,\s])/.exec(customAttributes ?? '');
  return m ? Number(m[1]) : undefined;
}

export async function handleAsync(ctx: InvocationContext): Promise<void> {
  const { headers, endpointName, state } = ctx;
  try {
    validateHeaders('InvokeEndpointAsync', headers);
    const inputLocation = headers['x-amzn-sagemaker-inputlocation'];
    const hasBody = ctx.body.length > 0;
    if (hasBody && inputLocation) {
      throw validation('Provide either Body or InputLocation, not both.');
    }
    if (!hasBody && !inputLocation) {
      throw validation('Either Body or InputLocation must be provided.');
    }
    if (ctx.body.length > MAX_ASYNC_BODY_BYTES) {
      throw validation(
        `1 validation error detected: Value at 'body' failed to satisfy constraint: Member must have length less than or equal to ${MAX_ASYNC_BODY_BYTES}`,
      );
    }
    let input: S3Location | undefined;
    if (inputLocation) {
      try {
        input = parseS3Uri(inputLocation, { field: 'InputLocation' });
      } catch (err) {
        throw validation(`Invalid InputLocation: ${(err as Error).message}`);
      }
    }

    const inferenceId = headers['x-amzn-sagemaker-inference-id'] || randomUUID();
    const cfg = ctx.endpoint.async ?? {};
    const extension = headers['x-amzn-sagemaker-s3outputpathextension'];
    if (extension && extension.split('/').some((s) => s === '..' || s === '.')) {
      throw validation('S3OutputPathExtension must not contain "." or ".." path segments');
    }
    const filename = headers['x-amzn-sagemaker-filename'];
    const outputLocation = location(
      cfg.outputPath ?? `s3://${DEFAULT_BUCKET}/async-output/${endpointName}`,
      extension,
      filename || `${inferenceId}.out`,
    );
    const failurePath = cfg.failurePath === null ? null : (cfg.failurePath ?? `s3://${DEFAULT_BUCKET}/async-failures/${endpointName}`);
    const failureLocation = failurePath === null ? undefined : location(failurePath, extension, `${inferenceId}-error.out`);

    const body = JSON.stringify({ InferenceId: inferenceId });
    const out: Record<string, string | number> = {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body),
      'x-amzn-RequestId': ctx.requestId,
      'X-Amzn-SageMaker-OutputLocation': outputLocation,
    };
    if (failureLocation) out['X-Amzn-SageMaker-FailureLocation'] = failureLocation;
    ctx.res.writeHead(202, out);
    ctx.res.end(body);

    if (ctx.fault?.kind === 'async-never') return; // accepted, and never heard of again

    const customAttributes = headers['x-amzn-sagemaker-custom-attributes'];
    const delay =
      delayOverride(customAttributes) ?? (cfg.delayMs ?? DEFAULT_DELAY_MS) + state.random() * (cfg.jitterMs ?? DEFAULT_JITTER_MS);
    const timeoutSeconds = Number(headers['x-amzn-sagemaker-invocationtimeoutseconds'] || 900);
    const jobs = jobsOf(state);
    const job: Job = {
      ctx,
      inferenceId,
      input,
      body: hasBody ? Buffer.from(ctx.body) : undefined,
      customAttributes,
      output: parseS3Uri(outputLocation, { field: 'OutputLocation' }),
      failure: failureLocation ? parseS3Uri(failureLocation, { field: 'FailureLocation' }) : undefined,
      timedOut: delay > timeoutSeconds * 1000,
      signal: jobs.abort.signal,
      receivedAt: Date.now(),
      inputLocation,
      outputLocation,
    };
    const timer = setTimeout(
      () => {
        jobs.timers.delete(timer);
        runJob(job).catch((err) => {
          if (!job.signal.aborted && state.options.verbose) console.error(`async job ${inferenceId}: ${(err as Error).message}`);
        });
      },
      Math.min(delay, timeoutSeconds * 1000),
    );
    jobs.timers.add(timer);
  } catch (err) {
    const e = err instanceof ApiError ? err : new ApiError(500, 'InternalFailure', (err as Error).message);
    state.stats.errors[e.code] = (state.stats.errors[e.code] ?? 0) + 1;
    sendError(ctx.res, e, ctx.requestId);
  }
}

interface Job {
  ctx: InvocationContext;
  inferenceId: string;
  input: S3Location | undefined;
  body: Buffer | undefined;
  customAttributes: string | undefined;
  output: S3Location;
  failure: S3Location | undefined;
  timedOut: boolean;
  signal: AbortSignal;
  /** When the request was accepted, and its locations (for the SNS notification). */
  receivedAt: number;
  inputLocation: string | undefined;
  outputLocation: string;
}

/** Responses up to this size ride in the notification with IncludeInferenceResponseIn (AsyncInferenceNotificationConfig). */
export const MAX_INCLUDED_RESPONSE_BYTES = 128 * 1024;

/**
 * Publishes the job's notification to the endpoint's success or error topic, in the format of
 * the SageMaker Developer Guide ("Check prediction results"; README, "Scaling out").
 */
function notify(
  job: Job,
  status: 'Completed' | 'Failed',
  detail: { body?: Buffer | string; contentType?: string; failureReason?: string },
): void {
  const { state, endpoint, headers, endpointName } = job.ctx;
  const cfg = endpoint.async ?? {};
  const topic = status === 'Completed' ? cfg.successTopic : cfg.errorTopic;
  if (!topic || !state.publish || job.signal.aborted) return;
  const include = (cfg.includeInferenceResponseIn ?? []).includes(
    status === 'Completed' ? 'SUCCESS_NOTIFICATION_TOPIC' : 'ERROR_NOTIFICATION_TOPIC',
  );
  const body = detail.body === undefined ? undefined : Buffer.from(detail.body);
  const requestParameters: Record<string, string> = {};
  const add = (k: string, v: string | undefined): void => {
    if (v) requestParameters[k] = v;
  };
  add('accept', headers['x-amzn-sagemaker-accept']);
  add('contentType', headers['x-amzn-sagemaker-content-type']);
  add('customAttributes', headers['x-amzn-sagemaker-custom-attributes']);
  add('endpointName', endpointName);
  add('inputLocation', job.inputLocation);
  const doc = {
    awsRegion: state.options.region,
    eventTime: new Date().toISOString(),
    receivedTime: new Date(job.receivedAt).toISOString(),
    invocationStatus: status,
    ...(status === 'Failed' ? { failureReason: detail.failureReason } : {}),
    requestParameters,
    ...(status === 'Completed'
      ? { responseParameters: { contentType: detail.contentType ?? 'application/octet-stream', outputLocation: job.outputLocation } }
      : {}),
    ...(include && body && body.length <= MAX_INCLUDED_RESPONSE_BYTES
      ? {
          responseBody: {
            content: body.toString('base64'),
            message: 'Check S3 path location(if configured) or Cloudwatch for additional details.',
            encoding: 'BASE64',
          },
        }
      : {}),
    inferenceId: job.inferenceId,
    eventVersion: '1.0',
    eventSource: 'aws:sagemaker',
    eventName: 'InferenceResult',
  };
  try {
    state.publish(topic, JSON.stringify(doc));
  } catch (err) {
    if (state.options.verbose) console.error(`async job ${job.inferenceId}: cannot publish to ${topic}: ${(err as Error).message}`);
  }
}

async function runJob(job: Job): Promise<void> {
  const { ctx } = job;
  const s3 = ctx.state.s3;
  const fail = async (text: string): Promise<void> => {
    // no S3FailurePath: the failure is only visible by the absence of output (or a notification)
    if (job.failure) {
      await s3.send(
        new PutObjectCommand({ Bucket: job.failure.bucket, Key: job.failure.key, Body: text, ContentType: 'text/plain; charset=utf-8' }),
        { abortSignal: job.signal },
      );
    }
    notify(job, 'Failed', { body: text, failureReason: `ClientError: ${text}` });
  };
  const fault = ctx.fault?.kind;
  if (job.timedOut)
    return fail(
      `Inference ${job.inferenceId} exceeded InvocationTimeoutSeconds; the model did not finish in time (ModelInvocationTimeExceeded).`,
    );
  if (fault === 'async-failure')
    return fail(`Received server error (500) from primary with message "Emulated async inference failure for ${job.inferenceId}".`);
  if (fault === 'model-error') {
    const status = ctx.fault?.originalStatusCode ?? 500;
    return fail(
      `Received ${status >= 500 ? 'server' : 'client'} error (${status}) from primary with message "${ctx.fault?.originalMessage ?? 'Model error'}".`,
    );
  }

  let body = job.body;
  let contentType: string | undefined = ctx.headers['x-amzn-sagemaker-content-type'];
  if (job.input) {
    if (fault === 'async-missing-input')
      return fail(`Failed to download input data from ${formatLoc(job.input)}: NoSuchKey: The specified key does not exist.`);
    try {
      const got = await s3.send(new GetObjectCommand({ Bucket: job.input.bucket, Key: job.input.key }), { abortSignal: job.signal });
      body = Buffer.from(await got.Body!.transformToByteArray());
      contentType = contentType || got.ContentType;
    } catch (err) {
      if (job.signal.aborted) return;
      const e = err as { name?: string; message?: string };
      return fail(`Failed to download input data from ${formatLoc(job.input)}: ${e.name ?? 'Error'}: ${e.message ?? ''}`);
    }
  }

  let result;
  try {
    result = await runModel({
      endpointName: ctx.endpointName,
      endpoint: ctx.endpoint,
      body: body ?? Buffer.alloc(0),
      contentType: contentType || 'application/octet-stream',
      accept: ctx.headers['x-amzn-sagemaker-accept'],
      customAttributes: job.customAttributes,
      headers: ctx.headers,
      signal: job.signal,
    });
  } catch (err) {
    if (job.signal.aborted) return;
    if (err instanceof ModelFailure) {
      const kind = err.originalStatusCode >= 500 ? 'server' : 'client';
      return fail(`Received ${kind} error (${err.originalStatusCode}) from primary with message "${err.originalMessage}".`);
    }
    return fail(`Model invocation failed: ${(err as Error).message}`);
  }
  await s3.send(
    new PutObjectCommand({ Bucket: job.output.bucket, Key: job.output.key, Body: result.body, ContentType: result.contentType }),
    { abortSignal: job.signal },
  );
  notify(job, 'Completed', { body: result.body, contentType: result.contentType });
}

function formatLoc(l: S3Location): string {
  return `s3://${l.bucket}/${l.key}`;
}
