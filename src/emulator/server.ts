/**
 * The HTTP front of the emulator: routing, body limits, SigV4, validation and fault injection,
 * then the operation handlers. Every reply carries x-amzn-RequestId and a true Date header (the
 * SDK corrects its clock from it); no request, however malformed, takes the process down.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { ApiError, modelError, type Protocol, sendError, validation } from './errors';
import { type FaultSelector, serverActsOn } from './faults';
import { handleAsync } from './async';
import { handleInvoke, type SessionStore } from './invoke';
import { serverLimits } from './limits';
import { parseQuery } from './messaging';
import { checkAuthHeader, verifySigV4, type Principal } from './sigv4';
import { handleStream } from './stream';
import { assumeRole, type CredentialStore, getCallerIdentity, listEndpoints, toStsAuthCode } from './sts';
import type { EmulatorState, EndpointConfig, FaultRule, InvocationContext, ReceivedRequest } from './types';
import { MAX_ASYNC_BODY_BYTES, MAX_BODY_BYTES, validateEndpointName, validateHeaders } from './validate';

export interface Core {
  state: EmulatorState;
  endpoints: Map<string, EndpointConfig>;
  faults: FaultSelector;
  credentials: CredentialStore;
  sessions: SessionStore;
  /** Limits of the emulator's STS credentials (options.stsDurationSeconds). */
  stsMaxSeconds: number | undefined;
  createdAt: number;
  record(r: ReceivedRequest): void;
  log(line: string): void;
}

type Operation = InvocationContext['operation'];

const ROUTES: Record<string, Operation> = {
  invocations: 'InvokeEndpoint',
  'invocations-response-stream': 'InvokeEndpointWithResponseStream',
  'async-invocations': 'InvokeEndpointAsync',
};
// A base path before /endpoints is allowed: the SDK keeps the path of a custom endpoint URL.
const INVOKE_PATH = /\/endpoints\/([^/]*)\/(invocations|invocations-response-stream|async-invocations)$/;
const CONTROL_BODY_LIMIT = 1024 * 1024;

const FAULT_ERRORS: Partial<Record<FaultRule['kind'], [number, string, string]>> = {
  throttle: [400, 'ThrottlingException', 'Rate exceeded'],
  'not-ready': [429, 'ModelNotReadyException', 'Model is not ready to serve requests yet. Please retry.'],
  internal: [500, 'InternalFailure', 'An internal failure occurred while processing the request.'],
  unavailable: [503, 'ServiceUnavailable', 'The service is unavailable. Try your call again.'],
  dependency: [
    530,
    'InternalDependencyException',
    'Your request caused an exception with an internal dependency. Contact customer support.',
  ],
};

interface Body {
  body: Buffer;
  size: number;
}

/** Reads the whole body, keeping at most `limit` + 1 bytes (the rest is drained and counted). */
function readBody(req: http.IncomingMessage, limit: number): Promise<Body> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let kept = 0;
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (kept <= limit) {
        chunks.push(c);
        kept += c.length;
      }
    });
    req.on('end', () => resolve({ body: Buffer.concat(chunks), size }));
    req.on('error', reject);
    req.on('aborted', () => reject(new Error('aborted')));
  });
}

function lowerHeaders(req: http.IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(',') : v;
  return out;
}

const bump = (map: Record<string, number>, key: string): void => {
  map[key] = (map[key] ?? 0) + 1;
};

const delay = (state: EmulatorState, ms: number): Promise<void> =>
  new Promise((resolve) => {
    state.track(setTimeout(resolve, ms));
  });

export function createServer(core: Core): http.Server {
  const { state } = core;
  const limits = serverLimits(state.options.timeouts);
  const server = http.createServer(limits.options, (req, res) => {
    const requestId = randomUUID();
    res.setHeader('x-amzn-RequestId', requestId);
    let protocol: Protocol = 'rest-json';
    const started = Date.now();
    let operation = 'Unknown';
    res.once('finish', () => {
      if (state.options.verbose) core.log(`${req.method} ${req.url} ${operation} → ${res.statusCode} (${Date.now() - started} ms)`);
    });
    const fail = (err: unknown): void => {
      // The client went away mid-request (truncated upload, reset): nobody to answer, nothing to log.
      if (!(err instanceof ApiError) && (res.destroyed || !res.socket || res.socket.destroyed)) {
        res.destroy();
        return;
      }
      const apiErr =
        err instanceof ApiError ? err : new ApiError(500, 'InternalFailure', 'An internal failure occurred while processing the request.');
      if (!(err instanceof ApiError)) core.log(`internal error on ${req.method} ${req.url}: ${(err as Error)?.stack ?? String(err)}`);
      if (res.headersSent || res.destroyed) {
        res.destroy();
        return;
      }
      const coded =
        protocol === 'query-xml' && apiErr.status === 403 ? new ApiError(403, toStsAuthCode(apiErr.code), apiErr.message) : apiErr;
      bump(state.stats.errors, coded.code);
      sendError(res, coded, requestId, protocol);
    };
    route(
      core,
      req,
      res,
      requestId,
      (p) => (protocol = p),
      (op) => (operation = op),
    ).catch(fail);
  });
  limits.idle(server);
  // Malformed HTTP (bad request line, oversized headers): answer 400 if the socket allows it.
  server.on('clientError', (_err, socket) => {
    if (socket.writable && !socket.destroyed) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });
  return server;
}

/**
 * The checks that need no body (signature shape, date, scope, access key, session token), made
 * before the body is read: an unauthenticated request is refused without being read, kept,
 * recorded or counted.
 */
function precheck(core: Core, req: http.IncomingMessage, services: string[], region: string | undefined): void {
  if (core.state.options.auth === false) return;
  checkAuthHeader({ headers: req.headers, services, region, lookup: (id) => core.credentials.lookup(id) });
}

async function authenticate(
  core: Core,
  req: http.IncomingMessage,
  rawPath: string,
  search: string,
  body: Buffer,
  services: string[],
  region: string | undefined,
): Promise<Principal | undefined> {
  if (core.state.options.auth === false) return undefined;
  return verifySigV4({
    method: req.method ?? 'POST',
    path: rawPath,
    query: parseQuery(search),
    headers: req.headers,
    body,
    services,
    region,
    lookup: (id) => core.credentials.lookup(id),
  });
}

async function route(
  core: Core,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  requestId: string,
  setProtocol: (p: Protocol) => void,
  setOperation: (op: string) => void,
): Promise<void> {
  const { state } = core;
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  const search = q < 0 ? '' : url.slice(q + 1);
  const method = req.method ?? 'GET';

  const m = INVOKE_PATH.exec(rawPath);
  if (m) {
    const operation = ROUTES[m[2]];
    setOperation(operation);
    if (method !== 'POST') {
      res.setHeader('Allow', 'POST');
      throw new ApiError(405, 'MethodNotAllowedException', `Method ${method} is not allowed on ${rawPath}; use POST.`);
    }
    return invocation(core, req, res, requestId, operation, m[1], rawPath, search);
  }

  if (rawPath === '/ping' && (method === 'GET' || method === 'HEAD')) {
    setOperation('Ping');
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(method === 'HEAD' ? undefined : '{"status":"Healthy"}');
    return;
  }

  if (rawPath === '/' && method === 'POST') {
    const target = req.headers['x-amz-target'];
    const contentType = String(req.headers['content-type'] ?? '').toLowerCase();
    if (typeof target === 'string') {
      setProtocol('json11');
      const op = target.startsWith('SageMaker.') ? target.slice('SageMaker.'.length) : target;
      setOperation(op);
      if (target !== 'SageMaker.ListEndpoints') {
        req.resume();
        throw new ApiError(400, 'UnknownOperationException', `Operation ${target} is not supported by the emulator`);
      }
      precheck(core, req, ['sagemaker'], state.options.region);
      const { body, size } = await readBody(req, CONTROL_BODY_LIMIT);
      if (size > CONTROL_BODY_LIMIT) throw new ApiError(413, 'ValidationError', 'Request body too large');
      await authenticate(core, req, rawPath, search, body, ['sagemaker'], state.options.region);
      bump(state.stats.requests, op);
      core.record({ operation: op, endpointName: '', path: url, headers: lowerHeaders(req), body, at: Date.now() });
      if (body.length > 0) {
        try {
          JSON.parse(body.toString('utf8'));
        } catch {
          throw new ApiError(400, 'SerializationException', 'Start of structure or map found where not expected.');
        }
      }
      res.writeHead(200, { 'Content-Type': 'application/x-amz-json-1.1' });
      res.end(listEndpoints([...core.endpoints.keys()], state.options.region, state.options.accountId, core.createdAt));
      return;
    }
    if (contentType.startsWith('application/x-www-form-urlencoded') || new URLSearchParams(search).has('Action')) {
      setProtocol('query-xml');
      setOperation('STS');
      const { body, size } = await readBody(req, CONTROL_BODY_LIMIT);
      if (size > CONTROL_BODY_LIMIT) throw new ApiError(413, 'ValidationError', 'Request body too large');
      const params = new URLSearchParams(search);
      for (const [k, v] of new URLSearchParams(body.toString('utf8'))) params.set(k, v);
      const action = params.get('Action') ?? '';
      setOperation(action || 'STS');
      if (action !== 'AssumeRole' && action !== 'GetCallerIdentity') {
        throw new ApiError(
          400,
          'InvalidAction',
          `Could not find operation ${action || '(none)'} for version ${params.get('Version') ?? 'NO_VERSION_SPECIFIED'}`,
        );
      }
      const principal = await authenticate(core, req, rawPath, search, body, ['sts'], undefined);
      bump(state.stats.requests, action);
      core.record({ operation: action, endpointName: '', path: url, headers: lowerHeaders(req), body, at: Date.now() });
      const xml =
        action === 'AssumeRole'
          ? assumeRole(params, core.credentials, core.stsMaxSeconds, requestId)
          : getCallerIdentity(principal, state.options.accountId, requestId);
      res.writeHead(200, { 'Content-Type': 'text/xml' });
      res.end(xml);
      return;
    }
    setOperation('Unknown');
    req.resume();
    throw new ApiError(400, 'UnknownOperationException', 'POST / needs X-Amz-Target (SageMaker JSON) or a form body with Action (STS)');
  }

  if (rawPath === '/') {
    res.setHeader('Allow', 'POST');
    throw new ApiError(405, 'MethodNotAllowedException', `Method ${method} is not allowed on /`);
  }
  req.resume();
  throw new ApiError(404, 'UnknownOperationException', `No operation at ${method} ${rawPath}`);
}

async function invocation(
  core: Core,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  requestId: string,
  operation: Operation,
  rawName: string,
  rawPath: string,
  search: string,
): Promise<void> {
  const { state } = core;
  const stats = state.stats;
  stats.inFlight++;
  stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
  res.once('close', () => {
    stats.inFlight--;
  });

  let endpointName: string;
  try {
    endpointName = decodeURIComponent(rawName);
  } catch {
    req.resume();
    throw validation(`Endpoint name '${rawName}' is not correctly URL-encoded.`);
  }
  precheck(core, req, ['sagemaker'], state.options.region);

  const limit = operation === 'InvokeEndpointAsync' ? MAX_ASYNC_BODY_BYTES : MAX_BODY_BYTES;
  const { body, size } = await readBody(req, limit);
  const headers = lowerHeaders(req);

  // Before auth: an oversized body was not kept whole, so its hash could not match anyway.
  if (size > limit) {
    const err = validation(
      `1 validation error detected: Value at 'body' failed to satisfy constraint: Member must have length less than or equal to ${limit}`,
    );
    throw operation === 'InvokeEndpointAsync' ? err : new ApiError(413, err.code, err.message);
  }

  await authenticate(core, req, rawPath, search, body, ['sagemaker'], state.options.region);
  bump(stats.requests, operation);
  bump(stats.byEndpoint, endpointName);
  core.record({ operation, endpointName, path: req.url ?? rawPath, headers, body, at: Date.now() });

  validateEndpointName(endpointName);
  const endpoint = core.endpoints.get(endpointName);
  if (!endpoint) throw validation(`Endpoint ${endpointName} of account ${state.options.accountId} not found.`);
  validateHeaders(operation, headers);

  const fault = core.faults.select(endpointName, endpoint.faults, operation);
  if (endpoint.latencyMs && endpoint.latencyMs > 0) await delay(state, endpoint.latencyMs);
  if (res.destroyed) return;

  if (fault && serverActsOn(fault.kind, operation)) {
    switch (fault.kind) {
      case 'hang':
        return; // The socket is destroyed by the client's timeout or by close().
      case 'reset':
        req.socket.destroy();
        return;
      case 'model-error':
        throw modelError(
          state.options.region,
          state.options.accountId,
          endpointName,
          fault.originalStatusCode ?? 500,
          fault.originalMessage ?? 'Injected model failure',
        );
      default: {
        const spec = FAULT_ERRORS[fault.kind];
        if (spec) throw new ApiError(spec[0], spec[1], spec[2]);
      }
    }
  }

  const ctx: InvocationContext = {
    req,
    res,
    operation,
    endpointName,
    endpoint,
    headers,
    body,
    requestId,
    fault: fault && !serverActsOn(fault.kind, operation) ? fault : undefined,
    state,
  };
  if (operation === 'InvokeEndpoint') await handleInvoke(ctx, core.sessions);
  else if (operation === 'InvokeEndpointWithResponseStream') await handleStream(ctx);
  else await handleAsync(ctx);
}
