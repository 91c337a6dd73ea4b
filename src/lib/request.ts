/**
 * Request mapping shared by the worker nodes (README "Request fields"): node fields, then
 * `msg.headers` for fields left blank, then the encoded body; everything validated before any
 * network call. The field rules themselves are in `fields.ts` (shared with the editor).
 */
import { describeType } from './csv';
import { InputError } from './errors';
import {
  ENDPOINT_FIELD,
  FIELDS_OF,
  MAX_BODY_BYTES,
  validateEndpointName,
  type FieldSpec,
  type Operation,
  type RequestSettings,
} from './fields';
import { encodeBody, REQUEST_FORMATS, type RequestFormat } from './payload';

export { checkS3Uri, FIELDS, FIELDS_BY_OPERATION, MAX_BODY_BYTES, validateEndpointName } from './fields';
export type { FieldKey, FieldSpec, Operation, RequestSettings } from './fields';
export type { RequestFormat } from './payload';

export interface MappedRequest {
  endpointName: string;
  /** The encoded msg.payload; empty only for async with an InputLocation. */
  body: Buffer;
  /** Explicit field > header > format default. '' only for async with an InputLocation and no type set. */
  contentType: string;
  /** SDK input members other than EndpointName/Body/ContentType, e.g. `{ Accept, CustomAttributes, InputLocation, RequestTTLSeconds }`. */
  params: Record<string, string | number>;
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
  if (fmt && !REQUEST_FORMATS.includes(fmt as RequestFormat))
    return `Request format must be one of ${REQUEST_FORMATS.join(', ')}, got ${JSON.stringify(fmt)}`;
  for (const f of FIELDS_OF[op]) {
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

type MessageFields = { payload?: unknown; headers?: unknown; inputLocation?: unknown };

/** Maps messages to SDK inputs for one node's settings, which it checks once. */
export interface RequestMapper {
  /** The whole request: {@link mapRequest}. */
  request(endpointName: unknown, msg: MessageFields): MappedRequest;
  /** The request without its body: {@link mapFields}. */
  fields(endpointName: unknown, msg: MessageFields): Omit<MappedRequest, 'body'>;
}

/**
 * Prepares the mapping of `op` for a node's settings: the fields the node sets are checked here,
 * once (an unusable one makes every call throw its InputError); per message only the endpoint
 * name, the blank fields that `msg.headers` / `msg.inputLocation` may set, and the body are read.
 */
export function requestMapper(op: Operation, settings: RequestSettings): RequestMapper {
  const fixed: Array<{ param: string; value: string | number }> = [];
  const open: FieldSpec[] = [];
  let fixedType = '';
  let problem: InputError | undefined;
  for (const f of FIELDS_OF[op]) {
    const value = settingValue(settings[f.key]);
    if (value === '') open.push(f);
    else if (problem) continue;
    else {
      const reason = f.check(value, op);
      if (reason) problem = new InputError(f.param, `${f.param} (node setting) ${reason}`);
      else if (f.key === 'contentType') fixedType = value;
      else fixed.push({ param: f.param, value: f.integer ? Number(value) : value });
    }
  }
  const format = (settingValue(settings.requestFormat) || 'auto') as RequestFormat;
  if (!problem && !REQUEST_FORMATS.includes(format)) {
    problem = new InputError(
      'Request format',
      `Request format must be one of ${REQUEST_FORMATS.join(', ')}, got ${JSON.stringify(format)}`,
    );
  }

  function fields(endpointName: unknown, msg: MessageFields): Omit<MappedRequest, 'body'> {
    const name = typeof endpointName === 'string' ? endpointName.trim() : endpointName;
    const nameError = validateEndpointName(name);
    if (nameError) throw new InputError(ENDPOINT_FIELD, nameError);
    if (problem) throw problem;
    const params: Record<string, string | number> = {};
    for (const { param, value } of fixed) params[param] = value;
    let contentType = fixedType;
    const headers = plainHeaders(msg.headers);
    for (const f of open) {
      let value = '';
      let source = '';
      if (f.key === 'inputLocation') {
        const loc = msg.inputLocation;
        if (loc !== undefined && loc !== null && loc !== '') {
          if (typeof loc !== 'string')
            throw new InputError(f.param, `msg.inputLocation must be an s3:// URI string, got ${describeType(loc)}`);
          value = loc.trim();
          source = 'msg.inputLocation';
        }
      }
      if (value === '' && headers) {
        value = headerValue(headers, f.headers[op] ?? []);
        source = `${f.param} (msg.headers["${f.headerName}"])`;
      }
      if (value === '') continue;
      const reason = f.check(value, op);
      if (reason) throw new InputError(f.param, `${source} ${reason}`);
      if (f.key === 'contentType') contentType = value;
      else params[f.param] = f.integer ? Number(value) : value;
    }
    return { endpointName: name as string, contentType, params };
  }

  function request(endpointName: unknown, msg: MessageFields): MappedRequest {
    const { endpointName: name, contentType, params } = fields(endpointName, msg);
    if (op === 'async' && params.InputLocation !== undefined) {
      return { endpointName: name, body: Buffer.alloc(0), contentType, params };
    }
    const encoded = encodeBody(msg.payload, format);
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

  return { request, fields };
}

/**
 * Maps one message to the SDK input of `op` (README "Request fields"). A field set in the node
 * wins; a blank one may be set by `msg.headers` under the API's header name (case-insensitive);
 * other headers, including Authorization/Host/X-Amz-*, are never taken. For async, the input
 * location comes from the node field, `msg.inputLocation` or the header, in that order, and
 * then no body is encoded. Throws InputError naming the field and limit; nothing is sent.
 */
export function mapRequest(op: Operation, endpointName: unknown, settings: RequestSettings, msg: MessageFields): MappedRequest {
  return requestMapper(op, settings).request(endpointName, msg);
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
  msg: MessageFields,
): Omit<MappedRequest, 'body'> {
  return requestMapper(op, settings).fields(endpointName, msg);
}
