/**
 * The raw HTTP response headers of one SDK call. The SDK's outputs carry only the modelled
 * members, but `msg.headers` of sagemaker-invoke hands the model's headers on. A middleware added
 * to the command's own stack (AWS SDK for JavaScript v3 developer guide, "Middleware stack")
 * sees the HTTP response of each attempt at the `deserialize` step; the last attempt's headers
 * stay. Per command rather than per client: nothing hidden on the output object, and no
 * measurable cost (the SDK merges the client's and the command's stacks on every call anyway).
 */
import type { DeserializeHandlerOptions, MiddlewareStack } from '@smithy/types';

const OPTIONS: DeserializeHandlerOptions = { step: 'deserialize', name: 'sagemakerResponseHeaders' };

function headersOf(response: unknown): Record<string, string> | undefined {
  if (!response || typeof response !== 'object' || !('headers' in response)) return undefined;
  const headers = response.headers;
  return headers && typeof headers === 'object' ? (headers as Record<string, string>) : undefined;
}

/**
 * Adds the capture to `command`; the returned function gives the headers (lower-case names, a
 * fresh object) once `send` has resolved, or `{}` when there was no HTTP response.
 */
export function captureResponseHeaders<I extends object, O extends object>(command: {
  middlewareStack: MiddlewareStack<I, O>;
}): () => Record<string, string> {
  let raw: Record<string, string> | undefined;
  command.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      raw = headersOf(result.response);
      return result;
    },
    OPTIONS,
  );
  return () => {
    const headers: Record<string, string> = {};
    if (raw) for (const k in raw) headers[k.toLowerCase()] = raw[k];
    return headers;
  };
}
