// Stub: InvokeEndpointAsync lands with the sagemaker-invoke-async node.
import type { InvocationContext } from './types';

export async function handleAsync(ctx: InvocationContext): Promise<void> {
  ctx.res.writeHead(501, { 'content-type': 'application/json', 'x-amzn-errortype': 'ValidationError' });
  ctx.res.end(JSON.stringify({ message: 'InvokeEndpointAsync is not emulated yet' }));
}

/** Called by the emulator's close(): cancels scheduled async jobs. */
export function stopAsyncJobs(): void {}
