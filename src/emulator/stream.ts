// Stub: InvokeEndpointWithResponseStream lands with the sagemaker-stream node.
import type { InvocationContext } from './types';

export async function handleStream(ctx: InvocationContext): Promise<void> {
  ctx.res.writeHead(501, { 'content-type': 'application/json', 'x-amzn-errortype': 'ValidationError' });
  ctx.res.end(JSON.stringify({ message: 'InvokeEndpointWithResponseStream is not emulated yet' }));
}
