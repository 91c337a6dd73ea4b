/**
 * The rules every field is checked by, in one place for the runtime and the editor (the build
 * bundles this module into `resources/sagemaker-editor.js`): request fields with their header
 * names and limits, the endpoint name, the worker nodes' own settings and the config node's
 * patterns. No Node.js API at module level, so it runs in the browser too.
 */
import { DEFAULT_BATCH_WINDOW_MS, MAX_BATCH_SIZE, MAX_BATCH_WINDOW_MS } from './batch';
import { describeType } from './csv';
import { RESPONSE_FORMATS, type RequestFormat } from './payload';
import { bucketNameProblem } from './s3-location';

export type Operation = 'invoke' | 'stream' | 'async';

/** The node's editor fields (strings; '' or absent = not set). */
export interface RequestSettings {
  contentType?: string;
  accept?: string;
  customAttributes?: string;
  targetModel?: string;
  targetVariant?: string;
  targetContainerHostname?: string;
  inferenceId?: string;
  enableExplanations?: string;
  inferenceComponentName?: string;
  sessionId?: string;
  prefixAwareId?: string;
  requestFormat?: RequestFormat | string;
  // async only
  s3OutputPathExtension?: string;
  filename?: string;
  requestTTLSeconds?: string | number;
  invocationTimeoutSeconds?: string | number;
  inputLocation?: string;
}

export type FieldKey = Exclude<keyof RequestSettings, 'requestFormat'>;

export interface FieldSpec {
  /** Property of the node (as saved by the editor). */
  key: FieldKey;
  /** SDK input member. */
  param: string;
  /** Headers in msg.headers that may set the field, by operation, most specific first (lower-case). */
  headers: Partial<Record<Operation, string[]>>;
  /** Display name of the header, for help texts and messages. */
  headerName: string;
  /** Integer fields are sent as numbers. */
  integer?: { min: number; max: number };
  /** Returns the reason a value is unusable (without the field name), or undefined. */
  check(value: string, op: Operation): string | undefined;
}

const VISIBLE_ASCII = /^[\x20-\x7E]*$/; // header values: printable US-ASCII incl. space, no control chars
// eslint-disable-next-line no-control-regex -- the point is to find control characters
const CONTROL = /[\x00-\x1F\x7F]/;
const NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9])*$/;
const COMPONENT = /^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;
const S3_EXTENSION = /^(?!s3:|https:)[a-zA-Z0-9!_.*'()/-]+$/;
const FILENAME = /^(?!.*\..*\.)[a-zA-Z0-9][a-zA-Z0-9\-_.]*$/;

function ascii(max: number, opts: { firstNotSpace?: boolean } = {}) {
  return (v: string): string | undefined => {
    if (v.length > max) return `must be at most ${max} characters, got ${v.length}`;
    if (!VISIBLE_ASCII.test(v)) return `must be visible US-ASCII characters (no control or non-ASCII characters)`;
    if (opts.firstNotSpace && /^\s/.test(v)) return 'must not start with a space';
    return undefined;
  };
}

function pattern(max: number, re: RegExp, describe: string) {
  return (v: string): string | undefined => {
    if (v.length > max) return `must be at most ${max} characters, got ${v.length}`;
    if (!re.test(v)) return `must ${describe}, got ${JSON.stringify(v)}`;
    return undefined;
  };
}

const NAME_RULE = 'be letters, digits and hyphens, starting and ending with a letter or digit';

/**
 * Checks an `s3://bucket/key` URI: a valid bucket name (S3's naming rules, as everywhere in the
 * package), a non-empty key, no `.`/`..` segments. Returns the reason it is unusable, or undefined.
 */
export function checkS3Uri(uri: string): string | undefined {
  if (uri.length > 1024) return `must be at most 1024 characters, got ${uri.length}`;
  const m = /^s3:\/\/([^/]*)\/(.*)$/.exec(uri);
  if (!m) return `must be an S3 URI like s3://bucket/key, got ${JSON.stringify(uri)}`;
  const [, bucket, key] = m;
  const bucketProblem = bucketNameProblem(bucket);
  if (bucketProblem) return `names an invalid bucket ${JSON.stringify(bucket)} (the name ${bucketProblem})`;
  if (key === '') return `must name an object key after the bucket, got ${JSON.stringify(uri)}`;
  if (key.split('/').some((s) => s === '..' || s === '.')) return `must not contain "." or ".." path segments`;
  if (CONTROL.test(key)) return 'must not contain control characters';
  return undefined;
}

function integerCheck(min: number, max: number) {
  return (v: string): string | undefined => {
    if (!/^\s*\d+\s*$/.test(v) || Number(v) < min || Number(v) > max)
      return `must be a whole number of seconds from ${min} to ${max}, got ${JSON.stringify(v)}`;
    return undefined;
  };
}

/** An async whole-seconds field: sent as a number, header `X-Amzn-SageMaker-<param>`. */
function secondsField(key: FieldKey, param: string, min: number, max: number): FieldSpec {
  const headerName = `X-Amzn-SageMaker-${param}`;
  return { key, param, headerName, headers: { async: [headerName.toLowerCase()] }, integer: { min, max }, check: integerCheck(min, max) };
}

/**
 * Every request field, with its header names and limits (the API reference of InvokeEndpoint,
 * InvokeEndpointWithResponseStream and InvokeEndpointAsync, "Request Syntax" and "URI Request Parameters").
 */
export const FIELDS: readonly FieldSpec[] = [
  {
    key: 'contentType',
    param: 'ContentType',
    headerName: 'Content-Type',
    headers: { invoke: ['content-type'], stream: ['content-type'], async: ['x-amzn-sagemaker-content-type', 'content-type'] },
    check: ascii(1024),
  },
  {
    key: 'accept',
    param: 'Accept',
    headerName: 'Accept',
    headers: { invoke: ['accept'], stream: ['x-amzn-sagemaker-accept', 'accept'], async: ['x-amzn-sagemaker-accept', 'accept'] },
    check: ascii(1024),
  },
  {
    key: 'customAttributes',
    param: 'CustomAttributes',
    headerName: 'X-Amzn-SageMaker-Custom-Attributes',
    headers: {
      invoke: ['x-amzn-sagemaker-custom-attributes'],
      stream: ['x-amzn-sagemaker-custom-attributes'],
      async: ['x-amzn-sagemaker-custom-attributes'],
    },
    check: ascii(1024),
  },
  {
    key: 'targetModel',
    param: 'TargetModel',
    headerName: 'X-Amzn-SageMaker-Target-Model',
    headers: { invoke: ['x-amzn-sagemaker-target-model'] },
    check: ascii(1024, { firstNotSpace: true }),
  },
  {
    key: 'targetVariant',
    param: 'TargetVariant',
    headerName: 'X-Amzn-SageMaker-Target-Variant',
    headers: { invoke: ['x-amzn-sagemaker-target-variant'], stream: ['x-amzn-sagemaker-target-variant'] },
    check: pattern(63, NAME, NAME_RULE),
  },
  {
    key: 'targetContainerHostname',
    param: 'TargetContainerHostname',
    headerName: 'X-Amzn-SageMaker-Target-Container-Hostname',
    headers: { invoke: ['x-amzn-sagemaker-target-container-hostname'], stream: ['x-amzn-sagemaker-target-container-hostname'] },
    check: pattern(63, NAME, NAME_RULE),
  },
  {
    key: 'inferenceId',
    param: 'InferenceId',
    headerName: 'X-Amzn-SageMaker-Inference-Id',
    headers: {
      invoke: ['x-amzn-sagemaker-inference-id'],
      stream: ['x-amzn-sagemaker-inference-id'],
      async: ['x-amzn-sagemaker-inference-id'],
    },
    check: ascii(64, { firstNotSpace: true }),
  },
  {
    key: 'enableExplanations',
    param: 'EnableExplanations',
    headerName: 'X-Amzn-SageMaker-Enable-Explanations',
    headers: { invoke: ['x-amzn-sagemaker-enable-explanations'] },
    check: ascii(64),
  },
  {
    key: 'inferenceComponentName',
    param: 'InferenceComponentName',
    headerName: 'X-Amzn-SageMaker-Inference-Component',
    headers: { invoke: ['x-amzn-sagemaker-inference-component'], stream: ['x-amzn-sagemaker-inference-component'] },
    check: pattern(63, COMPONENT, NAME_RULE),
  },
  {
    key: 'sessionId',
    param: 'SessionId',
    headerName: 'X-Amzn-SageMaker-Session-Id',
    headers: { invoke: ['x-amzn-sagemaker-session-id'], stream: ['x-amzn-sagemaker-session-id'] },
    check: (v, op) => {
      // The stream operation's pattern has no NEW_SESSION: sessions are opened with InvokeEndpoint.
      if (op === 'stream' && v === 'NEW_SESSION')
        return 'cannot be NEW_SESSION for a streaming call (open the session with sagemaker-invoke)';
      if (v === 'NEW_SESSION') return undefined;
      return pattern(256, NAME, 'be NEW_SESSION or a session id (letters, digits and hyphens; without "; Expires=…")')(v);
    },
  },
  {
    key: 'prefixAwareId',
    param: 'PrefixAwareId',
    headerName: 'X-Amzn-SageMaker-Prefix-Aware-Id',
    headers: { invoke: ['x-amzn-sagemaker-prefix-aware-id'], stream: ['x-amzn-sagemaker-prefix-aware-id'] },
    check: ascii(64, { firstNotSpace: true }),
  },
  {
    key: 'inputLocation',
    param: 'InputLocation',
    headerName: 'X-Amzn-SageMaker-InputLocation',
    headers: { async: ['x-amzn-sagemaker-inputlocation'] },
    check: checkS3Uri,
  },
  secondsField('requestTTLSeconds', 'RequestTTLSeconds', 60, 21600),
  secondsField('invocationTimeoutSeconds', 'InvocationTimeoutSeconds', 1, 3600),
  {
    key: 's3OutputPathExtension',
    param: 'S3OutputPathExtension',
    headerName: 'X-Amzn-SageMaker-S3OutputPathExtension',
    headers: { async: ['x-amzn-sagemaker-s3outputpathextension'] },
    check: (v) => {
      const r = pattern(512, S3_EXTENSION, "be letters, digits and !_.*'()/- (not starting with s3: or https:)")(v);
      if (r) return r;
      if (v.split('/').some((s) => s === '..')) return 'must not contain ".." path segments';
      return undefined;
    },
  },
  {
    key: 'filename',
    param: 'Filename',
    headerName: 'X-Amzn-SageMaker-Filename',
    headers: { async: ['x-amzn-sagemaker-filename'] },
    check: pattern(32, FILENAME, 'start with a letter or digit and be letters, digits, - _ and at most one dot'),
  },
];

const OPERATIONS: readonly Operation[] = ['invoke', 'stream', 'async'];
const byOperation = <T>(of: (op: Operation) => T) => Object.fromEntries(OPERATIONS.map((op) => [op, of(op)])) as Record<Operation, T>;

/** The fields of each operation: the stream has no TargetModel/EnableExplanations; async no target, component or session fields. */
export const FIELDS_OF: Readonly<Record<Operation, readonly FieldSpec[]>> = byOperation((op) => FIELDS.filter((f) => f.headers[op]));

/** The field keys of each operation. */
export const FIELDS_BY_OPERATION: Readonly<Record<Operation, readonly FieldKey[]>> = byOperation((op) => FIELDS_OF[op].map((f) => f.key));

/** Request body limit of InvokeEndpoint and InvokeEndpointWithResponseStream (6 MiB). */
export const MAX_BODY_BYTES = 6_291_456;

export const ENDPOINT_FIELD = 'Endpoint name';

/** Where the Endpoint name TypedInput may read the name from. */
export const ENDPOINT_NAME_TYPES = ['str', 'msg', 'flow', 'global', 'env', 'jsonata'] as const;

/** Reason an endpoint name is unusable (1–63 chars, `^[a-zA-Z0-9](-*[a-zA-Z0-9])*$`), or undefined. */
export function validateEndpointName(name: unknown): string | undefined {
  if (typeof name !== 'string') return `${ENDPOINT_FIELD} must be a string, got ${describeType(name)}`;
  if (name === '') return `${ENDPOINT_FIELD} is empty: set it in the node or pass it in the message`;
  if (name.length > 63) return `${ENDPOINT_FIELD} must be at most 63 characters, got ${name.length}`;
  if (!NAME.test(name))
    return `${ENDPOINT_FIELD} ${JSON.stringify(name)} is not valid: use letters, digits and hyphens, starting and ending with a letter or digit (1–63 characters)`;
  return undefined;
}

/**
 * The worker nodes' own settings (not request fields), by property: how the runtime coerces
 * them and the editor checks them. Blank = `dflt`.
 */
export type SettingRule =
  | { kind: 'int'; min: number; max: number; dflt: number; unit?: 'ms' | 'bytes' }
  | { kind: 'seconds'; min: number; dflt: number }
  | { kind: 'choice'; values: readonly string[]; dflt: string }
  | { kind: 'bool'; dflt: boolean };

export const SETTINGS = {
  concurrency: { kind: 'int', min: 1, max: 1000, dflt: 4 },
  queueSize: { kind: 'int', min: 0, max: 1_000_000, dflt: 1000 },
  batchSize: { kind: 'int', min: 1, max: MAX_BATCH_SIZE, dflt: 1 },
  batchWindow: { kind: 'int', min: 0, max: MAX_BATCH_WINDOW_MS, dflt: DEFAULT_BATCH_WINDOW_MS, unit: 'ms' },
  responseFormat: { kind: 'choice', values: RESPONSE_FORMATS, dflt: 'auto' },
  split: { kind: 'choice', values: ['part', 'line'], dflt: 'part' },
  decode: { kind: 'choice', values: ['string', 'buffer', 'json'], dflt: 'string' },
  idleTimeout: { kind: 'seconds', min: 0.1, dflt: 60 },
  sequence: { kind: 'bool', dflt: false },
  completionPayload: { kind: 'bool', dflt: true },
  maxResultBytes: { kind: 'int', min: 0, max: Number.MAX_SAFE_INTEGER, dflt: 6 * 1024 * 1024, unit: 'bytes' },
  pollInterval: { kind: 'seconds', min: 0.1, dflt: 2 },
  maxPollInterval: { kind: 'seconds', min: 0.1, dflt: 30 },
  maxWait: { kind: 'seconds', min: 0.1, dflt: 900 },
  waitForResult: { kind: 'bool', dflt: true },
  resultSource: { kind: 'choice', values: ['s3', 'sqs'], dflt: 's3' },
} as const satisfies Record<string, SettingRule>;

export type SettingKey = keyof typeof SETTINGS;

/** An SQS queue URL (`https://sqs.<region>.amazonaws.com/<account>/<queue>`, or any host for SQS-compatible services). */
export const QUEUE_URL = /^https?:\/\/[^\s/?#@]+\/[^\s?#]+$/i;

/** The longest inference ID the API takes (InvokeEndpointAsync `InferenceId`). */
export const MAX_INFERENCE_ID = 64;
/** Generated ids are `<prefix><UUID>`; a UUID has 36 characters. */
export const MAX_INFERENCE_ID_PREFIX = MAX_INFERENCE_ID - 36;

/** Why `url` is not an SQS queue URL (`https://sqs.<region>.amazonaws.com/<account>/<name>`), or undefined. */
export function queueUrlProblem(url: string): string | undefined {
  if (url === '') return 'is required';
  if (!QUEUE_URL.test(url)) return 'must be an SQS queue URL such as https://sqs.us-east-1.amazonaws.com/123456789012/my-queue';
  return undefined;
}

/**
 * Why `prefix` cannot start every generated InferenceId, or undefined: the id takes up to 64
 * visible ASCII characters, and 36 of them are the UUID that follows the prefix.
 */
export function inferenceIdPrefixProblem(prefix: string): string | undefined {
  if (prefix.length > MAX_INFERENCE_ID_PREFIX)
    return `must be at most ${MAX_INFERENCE_ID_PREFIX} characters (an InferenceId has at most ${MAX_INFERENCE_ID}, 36 of them the UUID), got ${prefix.length}`;
  if (!/^[\x21-\x7e]*$/.test(prefix)) return 'must be visible ASCII characters (no spaces), as InferenceId requires';
  return undefined;
}

/** Config node fields (README "Credentials and IAM"): region names such as us-east-1, us-gov-west-1, cn-north-1. */
export const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d+$/;
export const ROLE_ARN_PATTERN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
export const SESSION_NAME_PATTERN = /^[\w+=,.@-]{2,64}$/;
export const EXTERNAL_ID_PATTERN = /^[\w+=,.@:/-]{2,1224}$/;
export const IOT_ROLE_ALIAS_PATTERN = /^[\w=,@-]{1,128}$/;
export const IOT_THING_NAME_PATTERN = /^[a-zA-Z0-9:_-]{1,128}$/;

/** Config node numbers: Timeout in seconds, Max attempts (blank = dflt). */
export const CONFIG_NUMBERS = {
  timeout: { min: 0.1, max: 3600, dflt: 70 },
  maxAttempts: { min: 1, max: 10, dflt: 3 },
} as const;

/** The config node's settings and credentials, as the editor's form posts them to the admin routes. */
export const CONFIG_FIELDS = [
  'region',
  'credentialType',
  'profile',
  'roleArn',
  'externalId',
  'roleSessionName',
  'endpoint',
  's3Endpoint',
  's3ForcePathStyle',
  'sqsEndpoint',
  'timeout',
  'maxAttempts',
  'retryMode',
  'iotCredentialEndpoint',
  'iotRoleAlias',
  'iotThingName',
  'iotCertFile',
  'iotKeyFile',
  'iotCaFile',
] as const;
export const CONFIG_CREDENTIALS = ['accessKeyId', 'secretAccessKey', 'sessionToken', 'iotCert', 'iotKey', 'iotCa'] as const;

/**
 * Validates an endpoint URL override and normalises it: http(s) only, no user info, no query
 * or fragment, trailing `/` removed (the SDK would otherwise send `//endpoints/...`).
 * @returns the normalised URL, or undefined when the value is not usable.
 */
export function normaliseEndpointUrl(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.username || url.password || url.search || url.hash || !url.hostname) return undefined;
  return url.toString().replace(/\/+$/, '');
}
