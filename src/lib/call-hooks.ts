/**
 * Per-call abort signals and response headers on a client that caches its handler chain.
 *
 * With `cacheMiddleware: true` the SDK builds a client's middleware chain once per command class
 * instead of on every call (`SmithyClient.send`); `npm run bench` measured about 10 % more
 * InvokeEndpoint calls per second that way. The calls of a cached chain share one handler
 * context; for SageMaker Runtime what the chain puts there (endpoint, auth scheme, user-agent
 * features) is the same for every call of a client, unlike S3, whose endpoint depends on the
 * bucket: the S3 and SQS clients do not cache. A cached chain takes no per-call options, so:
 * - the abort signal rides on the command's input under a symbol (the serializers read only the
 *   modelled members) and a client middleware hands it to the request handler, which cancels
 *   the HTTP request when it fires, as `send(command, { abortSignal })` would;
 * - the same middleware, at the `deserialize` step (AWS SDK for JavaScript v3 developer guide,
 *   "Middleware stack"), keeps each output's raw HTTP response headers: the outputs carry only
 *   the modelled members, but `msg.headers` of sagemaker-invoke hands the model's headers on.
 */
import type { DeserializeMiddleware, MiddlewareStack } from '@smithy/types';

// A registered symbol: each node's bundle has its own copy of this module.
const SIGNAL = Symbol.for('node-red-contrib-sagemaker-runtime.abortSignal');

type Signalled = Record<typeof SIGNAL, AbortSignal | undefined>;

const headersByOutput = new WeakMap<object, Record<string, string>>();

/** Marks `command` to be cancelled when `signal` fires (on a client set up by `installCallHooks`). */
export function signalled<C extends { input: object }>(command: C, signal: AbortSignal): C {
  (command.input as Signalled)[SIGNAL] = signal;
  return command;
}

/**
 * The raw HTTP response headers of an output of a client set up by `installCallHooks` (lower-case
 * names, a fresh object; `{}` if unknown). Ask the module copy that set the client up: the config
 * node's `responseHeaders`.
 */
export function responseHeaders(output: object): Record<string, string> {
  const raw = headersByOutput.get(output);
  const headers: Record<string, string> = {};
  if (raw) for (const k in raw) headers[k.toLowerCase()] = raw[k];
  return headers;
}

interface HookableClient<I extends object, O extends object> {
  middlewareStack: MiddlewareStack<I, O>;
  config: { requestHandler: { handle(request: unknown, options?: Record<string, unknown>): Promise<unknown> } };
}

function headersOf(response: unknown): Record<string, string> | undefined {
  if (!response || typeof response !== 'object' || !('headers' in response)) return undefined;
  const headers = response.headers;
  return headers && typeof headers === 'object' ? (headers as Record<string, string>) : undefined;
}

/** Sets a client up for `signalled` commands and `responseHeaders`. */
export function installCallHooks<I extends object, O extends object>(client: HookableClient<I, O>): void {
  const middleware: DeserializeMiddleware<I, O> = (next) => async (args) => {
    // Each attempt (retries included) passes here with the request the handler will send.
    const signal = (args.input as Signalled)[SIGNAL];
    if (signal && args.request && typeof args.request === 'object') (args.request as Signalled)[SIGNAL] = signal;
    const result = await next(args);
    const headers = headersOf(result.response);
    if (headers && result.output && typeof result.output === 'object') headersByOutput.set(result.output, headers);
    return result;
  };
  // Outside the deserializer: it sees the parsed output.
  client.middlewareStack.addRelativeTo(middleware, {
    relation: 'before',
    toMiddleware: 'deserializerMiddleware',
    name: 'sagemakerCallHooks',
  });
  const handler = client.config.requestHandler;
  const handle = handler.handle.bind(handler);
  handler.handle = (request, options) => {
    const signal = request && typeof request === 'object' ? (request as Signalled)[SIGNAL] : undefined;
    return handle(request, signal ? { ...options, abortSignal: signal } : options);
  };
}
