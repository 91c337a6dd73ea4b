/** InvokeEndpoint: run the endpoint's model and answer with the operation's response headers. */
import { randomUUID } from 'node:crypto';
import { modelError } from './errors';
import { ModelFailure, runModel } from './models';
import type { InvocationContext } from './types';

/** Model sessions (stateful sessions): id → expiry (epoch ms). */
export type SessionStore = Map<string, number>;

export const SESSION_TTL_MS = 20 * 60 * 1000;

/**
 * Session rule: SessionId `NEW_SESSION` opens a session (X-Amzn-SageMaker-New-Session-Id);
 * an existing SessionId together with CustomAttributes containing `close-session` closes it
 * (X-Amzn-SageMaker-Closed-Session-Id). Unknown ids are accepted as they are.
 */
export async function handleInvoke(ctx: InvocationContext, sessions: SessionStore): Promise<void> {
  const { headers, endpoint, state } = ctx;
  const abort = new AbortController();
  ctx.res.once('close', () => abort.abort());

  let result;
  try {
    result = await runModel({
      endpointName: ctx.endpointName,
      endpoint,
      body: ctx.body,
      contentType: headers['content-type'],
      accept: headers.accept,
      customAttributes: headers['x-amzn-sagemaker-custom-attributes'],
      headers,
      signal: abort.signal,
    });
  } catch (e) {
    if (e instanceof ModelFailure) {
      throw modelError(state.options.region, state.options.accountId, ctx.endpointName, e.originalStatusCode, e.originalMessage);
    }
    throw e;
  }
  if (ctx.res.destroyed) return;

  const out: Record<string, string | number> = {
    'Content-Type': result.contentType,
    'Content-Length': result.body.length,
    'x-Amzn-Invoked-Production-Variant': headers['x-amzn-sagemaker-target-variant'] ?? endpoint.variant ?? 'AllTraffic',
  };
  if (result.customAttributes) out['X-Amzn-SageMaker-Custom-Attributes'] = result.customAttributes;

  const sessionId = headers['x-amzn-sagemaker-session-id'];
  if (sessionId === 'NEW_SESSION') {
    const id = randomUUID();
    const expires = Date.now() + SESSION_TTL_MS;
    sessions.set(id, expires);
    out['X-Amzn-SageMaker-New-Session-Id'] = `${id}; Expires=${new Date(expires).toISOString().replace(/\.\d{3}Z$/, 'Z')}`;
  } else if (sessionId && /(^|[;,\s])close-session($|[;,\s=])/.test(headers['x-amzn-sagemaker-custom-attributes'] ?? '')) {
    sessions.delete(sessionId);
    out['X-Amzn-SageMaker-Closed-Session-Id'] = sessionId;
  }

  ctx.res.statusCode = 200;
  for (const [name, value] of Object.entries(out)) ctx.res.setHeader(name, value);
  for (const [name, value] of Object.entries(result.headers ?? {})) {
    try {
      ctx.res.setHeader(name, value);
    } catch {
      // A value Node refuses as a header (control characters) is just not reflected.
    }
  }
  ctx.res.end(result.body);
}
