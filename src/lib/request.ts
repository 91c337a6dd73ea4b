/**
 * Request mapping shared by the three worker nodes (SPEC §3): node fields, then `msg.headers`
 * for fields left blank, then the encoded body; everything validated before any network call.
 */
import { describeType } from './csv';
import { InputError } from './errors';
import { encodeBody, REQUEST_FORMATS, type RequestFormat } from './payload';

export type { RequestFormat } from './payload';
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

export interface MappedRequest {
  endpointName: string;
  /** The encoded msg.payload; empty only for async with an InputLocation. */
  body: Buffer;
  /** Explicit field > header > format default. '' only for async with an InputLocation and no type set. */
  contentType: string;
  /** SDK input members other than EndpointName/Body/ContentType, e.g. `{ Accept, CustomAttributes, InputLocation, RequestTTLSeconds }`. */
  params: Record<string, string | number>;
}

export type FieldKey = Exclude<keyof RequestSettings, 'requestFormat'>;

export interface FieldSpec {
  /** Property of the node (SPEC §9). */
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
const NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9])*$/;
const COMPONENT = /^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;
const S3_EXTENSION = /^(?!s3:|https:)[a-zA-Z0-9!_.*'()/-]+$/;
const FILENAME = /^(?!.*\..*\.)[a-zA-Z0-9][a-zA-Z0-9\-_.]*$/;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

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
 * Checks an `s3://bucket/key` URI: a valid bucket name, a non-empty key, no `.`/`..` segments.
 * Returns the reason it is unusable, or undefined.
 */
export function checkS3Uri(uri: string): string | undefined {
  if (uri.length > 1024) return `must be at most 1024 characters, got ${uri.length}`;
  const m = /^s3:\/\/([^/]*)\/(.*)$/.exec(uri);
  if (!m) return `must be an S3 URI like s3://bucket/key, got ${JSON.stringify(uri)}`;
  const [, bucket, key] = m;
  if (!BUCKET.test(bucket) || bucket.includes('..') || /^\d+\.\d+\.\d+\.\d+$/.test(bucket)) {
    return `names an invalid bucket ${JSON.stringify(bucket)} (3–63 lower-case letters, digits, dots and hyphens)`;
  }
  if (key === '') return `must name an object key after the bucket, got ${JSON.stringify(uri)}`;
  if (key.split('/').some((s) => s === '..' || s === '.')) return `must not contain "." or ".." path segments`;
  if (/[\x00-\x1F\x7F]/.test(key)) return 'must not contain control characters';
  return undefined;
}

function integerCheck(min: number, max: number) {
  return (v: string): string | undefined => {
    if (!/^\s*\d+\s*$/.test(v) || Number(v) < min || Number(v) > max) return `must be a whole number of seconds from ${min} to ${max}, got ${JSON.stringify(v)}`;
    return undefined;
  };
}

/** Every request field, with its header names and limits (reference §1). */
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
    headers: { invoke: ['x-amzn-sagemaker-custom-attributes'], stream: ['x-amzn-sagemaker-custom-attributes'], async: ['x-amzn-sagemaker-custom-attributes'] },
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
    headers: { invoke: ['x-amzn-sagemaker-inference-id'], stream: ['x-amzn-sagemaker-inference-id'], async: ['x-amzn-sagemaker-inference-id'] },
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
      if (op === 'stream' && v === 'NEW_SESSION') return 'cannot be NEW_SESSION for a streaming call (open the session with sagemaker-invoke)';
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
  {
    key: 'requestTTLSeconds',
    param: 'RequestTTLSeconds',
    headerName: 'X-Amzn-SageMaker-RequestTTLSeconds',
    headers: { async: ['x-amzn-sagemaker-requestttlseconds'] },
    integer: { min: 60, max: 21600 },
    check: integerCheck(60, 21600),
  },
  {
    key: 'invocationTimeoutSeconds',
    param: 'InvocationTimeoutSeconds',
    headerName: 'X-Amzn-SageMaker-InvocationTimeoutSeconds',
    headers: { async: ['x-amzn-sagemaker-invocationtimeoutseconds'] },
    integer: { min: 1, max: 3600 },
    check: integerCheck(1, 3600),
  },
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

/** Which fields each operation has (reference §1): the stream has no TargetModel/EnableExplanations; async no target, component or session fields. */
export const FIELDS_BY_OPERATION: Readonly<Record<Operation, readonly FieldKey[]>> = {
  invoke: FIELDS.filter((f) => f.headers.invoke).map((f) => f.key),
  stream: FIELDS.filter((f) => f.headers.stream).map((f) => f.key),
  async: FIELDS.filter((f) => f.headers.async).map((f) => f.key),
};

const FIELD_LIST: Record<Operation, FieldSpec[]> = {
  invoke: FIELDS.filter((f) => f.headers.invoke),
  stream: FIELDS.filter((f) => f.headers.stream),
  async: FIELDS.filter((f) => f.headers.async),
};

/** Request body limit of InvokeEndpoint and InvokeEndpointWithResponseStream (6 MiB). */
export const MAX_BODY_BYTES = 6_291_456;

const ENDPOINT_FIELD = 'Endpoint name';

/** Reason an endpoint name is unusable (1–63 chars, `^[a-zA-Z0-9](-*[a-zA-Z0-9])*$`), or undefined. */
export function validateEndpointName(name: unknown): string | undefined {
  if (typeof name !== 'string') return `${ENDPOINT_FIELD} must be a string, got ${describeType(name)}`;
  if (name === '') return `${ENDPOINT_FIELD} is empty: set it in the node or pass it in the message`;
  if (name.length > 63) return `${ENDPOINT_FIELD} must be at most 63 characters, got ${name.length}`;
  if (!NAME.test(name)) return `${ENDPOINT_FIELD} ${JSON.stringify(name)} is not valid: use letters, digits and hyphens, starting and ending with a letter or digit (1–63 characters)`;
  return undefined;
}

function settingValue(v: unknown): string {
  if (v === undefined || v === null) return '';
  return String(v).trim();
}

/**
 * Node-start validation of the configured field values (blank fields are fine). Returns the
 * reason the node cannot use them, or undefined; the node then shows a red ring and fails each
 * message with it.
 */
export function validateSettings(op: Operation, settings: RequestSettings): string | undefined {
  const fmt = settingValue(settings.requestFormat);
  if (fmt && !REQUEST_FORMATS.includes(fmt as RequestFormat)) return `Request format must be one of ${REQUEST_FORMATS.join(', ')}, got ${JSON.stringify(fmt)}`;
  for (const f of FIELD_LIST[op]) {
    const v = settingValue(settings[f.key]);
    if (v === '') continue;
    const reason = f.check(v, op);
    if (reason) return `${f.param} ${reason}`;
  }
  return undefined;
}

/** Looks up a header case-insensitively; '' for absent or blank. Arrays (repeated headers) take the first value. */
function headerValue(headers: Record<string, unknown> | undefined, names: readonly string[]): string {
  if (!headers) return '';
  for (const want of names) {
    for (const k of Object.keys(headers)) {
      if (k.toLowerCase() !== want) continue;
      let v = headers[k];
      if (Array.isArray(v)) v = v[0];
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
        const s = String(v).trim();
        if (s !== '') return s;
      }
    }
  }
  return '';
}

function plainHeaders(h: unknown): Record<string, unknown> | undefined {
  return h && typeof h === 'object' && !Array.isArray(h) && !Buffer.isBuffer(h) ? (h as Record<string, unknown>) : undefined;
}

/**
 * Maps one message to the SDK input of `op` (SPEC §3). A field set in the node wins; a blank
 * one may be set by `msg.headers` under the API's header name (case-insensitive); other
 * headers, including Authorization/Host/X-Amz-*, are never taken. For async, the input
 * location comes from the node field, `msg.inputLocation` or the header, in that order, and
 * then no body is encoded. Throws InputError naming the field and limit; nothing is sent.
 */
export function mapRequest(
  op: Operation,
  endpointName: unknown,
  settings: RequestSettings,
  msg: { payload?: unknown; headers?: unknown; inputLocation?: unknown },
): MappedRequest {
  const { endpointName: name, contentType, params } = mapFields(op, endpointName, settings, msg);

  if (op === 'async' && params.InputLocation !== undefined) {
    return { endpointName: name, body: Buffer.alloc(0), contentType, params };
  }

  const fmt = (settingValue(settings.requestFormat) || 'auto') as RequestFormat;
  if (!REQUEST_FORMATS.includes(fmt)) throw new InputError('Request format', `Request format must be one of ${REQUEST_FORMATS.join(', ')}, got ${JSON.stringify(fmt)}`);
  const encoded = encodeBody(msg.payload, fmt);
  if (encoded.body.length === 0) {
    throw new InputError('msg.payload', 'msg.payload is empty: the request body must have at least one byte');
  }
  if (op !== 'async' && encoded.body.length > MAX_BODY_BYTES) {
    throw new InputError(
      'msg.payload',
      `msg.payload is ${encoded.body.length} bytes encoded, over the ${MAX_BODY_BYTES}-byte (6 MB) limit of real-time inference; use sagemaker-invoke-async for larger inputs`,
    );
  }
  return { endpointName: name, body: encoded.body, contentType: contentType || encoded.contentType, params };
}

/**
 * The request fields of one message without its body: the endpoint name, the ContentType set by
 * the node or the message ('' = none) and the other SDK members. Throws InputError like
 * `mapRequest`. Batching groups messages by this.
 */
export function mapFields(
  op: Operation,
  endpointName: unknown,
  settings: RequestSettings,
  msg: { headers?: unknown; inputLocation?: unknown },
): Omit<MappedRequest, 'body'> {
  const name = typeof endpointName === 'string' ? endpointName.trim() : endpointName;
  const nameError = validateEndpointName(name);
  if (nameError) throw new InputError(ENDPOINT_FIELD, nameError);

  const headers = plainHeaders(msg.headers);
  const params: Record<string, string | number> = {};
  let contentType = '';
  for (const f of FIELD_LIST[op]) {
    let value = settingValue(settings[f.key]);
    let from = 'node setting';
    if (value === '' && f.key === 'inputLocation') {
      const loc = msg.inputLocation;
      if (loc !== undefined && loc !== null && loc !== '') {
        if (typeof loc !== 'string') throw new InputError(f.param, `msg.inputLocation must be an s3:// URI string, got ${describeType(loc)}`);
        value = loc.trim();
        from = 'msg.inputLocation';
      }
    }
    if (value === '') {
      value = headerValue(headers, f.headers[op] ?? []);
      from = `msg.headers["${f.headerName}"]`;
    }
    if (value === '') continue;
    const reason = f.check(value, op);
    if (reason) {
      const source = from === 'msg.inputLocation' ? from : `${f.param} (${from})`;
      throw new InputError(f.param, `${source} ${reason}`);
    }
    if (f.key === 'contentType') contentType = value;
    else params[f.param] = f.integer ? Number(value) : value;
  }
  return { endpointName: name as string, contentType, params };
}
