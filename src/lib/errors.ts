/**
 * Error shaping shared by the three worker nodes: validation failures (InputError) and the
 * `msg.sagemaker.error` object built from an AWS SDK error.
 */

/** A request that cannot be sent as configured; raised before any network call. */
export class InputError extends Error {
  /** The field at fault, e.g. `CustomAttributes`, `msg.payload`, `Endpoint name`. */
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.name = 'InputError';
    this.field = field;
  }
}

/** What `msg.sagemaker.error` holds (absent values omitted). */
export interface ErrorInfo {
  name: string;
  message: string;
  statusCode?: number;
  requestId?: string;
  retryable: boolean;
  originalStatusCode?: number;
  originalMessage?: string;
  logStreamArn?: string;
  logsUrl?: string;
  /** The field at fault for an InputError. */
  field?: string;
}

// Mirrors the SDK's standard retry classification (@smithy/service-error-classification), so `retryable` tells a flow
// whether trying again later may succeed.
const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'TransactionInProgressException',
  'RequestLimitExceeded',
  'BandwidthLimitExceeded',
  'LimitExceededException',
  'RequestThrottled',
  'SlowDown',
  'PriorRequestNotComplete',
  'EC2ThrottledException',
  'ModelNotReadyException',
]);
const TRANSIENT = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'InternalFailure', 'ServiceUnavailable']);
const NETWORK = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
const TRANSIENT_STATUS = new Set([429, 500, 502, 503, 504]);

type AnyError = {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  $metadata?: { httpStatusCode?: number; requestId?: string; attempts?: number };
  $retryable?: unknown;
  OriginalStatusCode?: unknown;
  OriginalMessage?: unknown;
  LogStreamArn?: unknown;
  field?: unknown;
};

/** True when the same request may succeed later (throttling, 5xx, timeouts, network resets). */
export function isRetryable(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as AnyError;
  if (e instanceof InputError) return false;
  if (e.$retryable) return true;
  const name = typeof e.name === 'string' ? e.name : '';
  if (THROTTLING.has(name) || TRANSIENT.has(name)) return true;
  if (typeof e.code === 'string' && NETWORK.has(e.code)) return true;
  const status = e.$metadata?.httpStatusCode;
  return typeof status === 'number' && TRANSIENT_STATUS.has(status);
}

// The console's logsV2 fragment encodes each part twice over: URL-encode, then `%` → `$25`.
function consoleEncode(s: string): string {
  return encodeURIComponent(s).replace(/%/g, '$25');
}

/**
 * The CloudWatch console link for a log ARN such as
 * `arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/Endpoints/x:log-stream:AllTraffic/i-0`
 * (with `/log-events/<stream>` when the ARN names a stream); undefined when it is not a logs ARN.
 */
export function logsUrlFromArn(arn: unknown): string | undefined {
  if (typeof arn !== 'string') return undefined;
  const m = /^arn:[a-z0-9-]+:logs:([a-z0-9-]+):[0-9]*:log-group:(.+?)(?::log-stream:(.*))?$/.exec(arn);
  if (!m) return undefined;
  const [, region, rawGroup, stream] = m;
  const group = rawGroup.replace(/:\*$/, '');
  if (!region || !group) return undefined;
  let url =
    `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}` + `#logsV2:log-groups/log-group/${consoleEncode(group)}`;
  if (stream && stream !== '*') url += `/log-events/${consoleEncode(stream)}`;
  return url;
}

// The SDK's texts for a missing region or missing credentials do not say where to set them.
const HINTS: Array<[RegExp, string]> = [
  [/^Region is missing$/, 'set Region in the sagemaker-config node, or AWS_REGION for Node-RED'],
  [
    /^Could not load credentials from any providers/,
    'choose Access keys, a profile or a role in the sagemaker-config node, or give Node-RED AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY',
  ],
];

function withHint(message: string): string {
  for (const [re, hint] of HINTS) if (re.test(message)) return `${message}: ${hint}`;
  return message;
}

/** Builds `msg.sagemaker.error` from anything thrown (SDK error, InputError, abort, network error). */
export function describeError(err: unknown): ErrorInfo {
  const e = (err && typeof err === 'object' ? err : { message: String(err) }) as AnyError;
  const info: ErrorInfo = {
    name: typeof e.name === 'string' && e.name ? e.name : 'Error',
    message: withHint(typeof e.message === 'string' ? e.message : String(err)),
    retryable: isRetryable(err),
  };
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === 'number') info.statusCode = status;
  if (typeof e.$metadata?.requestId === 'string' && e.$metadata.requestId) info.requestId = e.$metadata.requestId;
  if (typeof e.OriginalStatusCode === 'number') info.originalStatusCode = e.OriginalStatusCode;
  if (typeof e.OriginalMessage === 'string') info.originalMessage = e.OriginalMessage;
  if (typeof e.LogStreamArn === 'string' && e.LogStreamArn) {
    info.logStreamArn = e.LogStreamArn;
    const url = logsUrlFromArn(e.LogStreamArn);
    if (url) info.logsUrl = url;
  }
  if (e instanceof InputError) info.field = e.field;
  return info;
}

/**
 * The message for `done(err)` / the debug sidebar, without the error name: `Rate exceeded
 * (HTTP 400)`. The SDK's `UnknownError` placeholder is replaced by something a user can act on.
 */
export function errorText(info: ErrorInfo): string {
  if (info.name === 'InputError') return info.message;
  let message = info.message;
  if (!message || message === 'UnknownError') {
    message = info.statusCode ? `the service answered HTTP ${info.statusCode} without details` : 'unknown error';
  }
  return info.statusCode ? `${message} (HTTP ${info.statusCode})` : message;
}

/**
 * One line for an answer that has no `msg.sagemaker.error` (the config node's Test connection and
 * endpoint list): `AccessDeniedException: … (HTTP 403)`.
 */
export function errorSummary(err: unknown): string {
  const info = describeError(err);
  const prefix = info.name !== 'Error' && info.name !== 'InputError' ? `${info.name}: ` : '';
  return prefix + errorText(info);
}

/**
 * An Error for `done(err)`: named like the service error, so Node-RED's `msg.error.message`
 * (the Error's `toString()`) reads `ModelError: Received client error … (HTTP 424)`.
 */
export function toError(info: ErrorInfo): Error {
  const err = new Error(errorText(info));
  err.name = info.name;
  return err;
}

/** Attempts the SDK made, from the error's `$metadata` (undefined when unknown). */
export function errorAttempts(err: unknown): number | undefined {
  const a = (err as AnyError | undefined)?.$metadata?.attempts;
  return typeof a === 'number' ? a : undefined;
}

/** The S3 fields of an error worth keeping in `msg.sagemaker.error` (absent values omitted). */
export function s3ErrorFields(err: unknown): { s3ErrorName?: string; s3StatusCode?: number; s3RequestId?: string } {
  const e = (err ?? {}) as AnyError;
  const name =
    typeof e.code === 'string' && (e.name === 'Error' || e.name === undefined) ? e.code : typeof e.name === 'string' ? e.name : undefined;
  return {
    ...(name ? { s3ErrorName: name } : {}),
    ...(e.$metadata?.httpStatusCode ? { s3StatusCode: e.$metadata.httpStatusCode } : {}),
    ...(e.$metadata?.requestId ? { s3RequestId: e.$metadata.requestId } : {}),
  };
}

/** One line naming an S3 error, e.g. `AccessDenied (HTTP 403): Access Denied`. */
export function s3ErrorText(err: unknown): string {
  const f = s3ErrorFields(err);
  const message = err instanceof Error ? err.message : String(err);
  const name = f.s3ErrorName ?? 'Error';
  const status = f.s3StatusCode ? ` (HTTP ${f.s3StatusCode})` : '';
  return message && message !== name ? `${name}${status}: ${message}` : `${name}${status}`;
}
