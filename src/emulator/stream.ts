/**
 * InvokeEndpointWithResponseStream: the model's bytes re-framed as AWS event-stream
 * PayloadPart events, with the stream faults (ModelStreamError / InternalStreamFailure /
 * reset / stall after N parts) and client-disconnect accounting.
 */
import http from 'node:http';
// The codec's home (@smithy/eventstream-codec only re-exports it), a dependency of every SDK client.
import { EventStreamCodec } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/core/serde';
import { ApiError, modelError, sendError, validation } from './errors';
import { ModelFailure, runModel } from './models';
import { contentTypeOf, resolveTextOptions, textChunks } from './text-generator';
import type { InvocationContext, TextGeneratorOptions } from './types';

const codec = new EventStreamCodec(toUtf8, fromUtf8);

// Parts above this size are cut anyway: the service's parts are small, and one huge frame
// would only test memory.
const MAX_PART = 64 * 1024;

function payloadPart(bytes: Uint8Array): Uint8Array {
  return codec.encode({
    headers: {
      ':event-type': { type: 'string', value: 'PayloadPart' },
      ':content-type': { type: 'string', value: 'application/octet-stream' },
      ':message-type': { type: 'string', value: 'event' },
    },
    body: bytes,
  });
}

function exceptionFrame(type: 'ModelStreamError' | 'InternalStreamFailure', body: Record<string, string>): Uint8Array {
  return codec.encode({
    headers: {
      ':exception-type': { type: 'string', value: type },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'exception' },
    },
    body: fromUtf8(JSON.stringify(body)),
  });
}

interface Source {
  contentType: string;
  chunks: AsyncIterable<Buffer> | Iterable<Buffer>;
  /** Delay before each chunk after the first, in ms. */
  delayMs: number;
  partBytes: number | undefined;
}

/** Opens the proxied container's /invocations and resolves once its status is known. */
function openProxy(ctx: InvocationContext, url: string): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const target = new URL('invocations', url.endsWith('/') ? url : `${url}/`);
    const headers: Record<string, string> = {
      'content-type': ctx.headers['content-type'] ?? 'application/octet-stream',
      'content-length': String(ctx.body.length),
    };
    const accept = ctx.headers['x-amzn-sagemaker-accept'];
    if (accept) headers.accept = accept;
    const custom = ctx.headers['x-amzn-sagemaker-custom-attributes'];
    if (custom) headers['x-amzn-sagemaker-custom-attributes'] = custom;
    const req = http.request(target, { method: 'POST', headers }, resolve);
    req.on('error', reject);
    ctx.res.on('close', () => req.destroy());
    req.end(ctx.body);
  });
}

async function sourceFor(ctx: InvocationContext): Promise<Source> {
  const { endpoint, headers, body } = ctx;
  const custom = resolveTextOptions(undefined, headers);
  switch (endpoint.model) {
    case 'text-generator': {
      const opts: TextGeneratorOptions = resolveTextOptions(endpoint.textGenerator, headers);
      return {
        contentType: contentTypeOf(opts.format),
        chunks: textChunks(body, opts),
        delayMs: opts.delayMs ?? 0,
        partBytes: opts.partBytes,
      };
    }
    case 'echo': {
      const partBytes = custom.partBytes ?? endpoint.textGenerator?.partBytes ?? MAX_PART;
      return {
        contentType: headers['content-type'] ?? 'application/octet-stream',
        chunks: body.length === 0 ? [] : [body],
        delayMs: custom.delayMs ?? 0,
        partBytes,
      };
    }
    case 'proxy': {
      if (!endpoint.proxyUrl) throw validation(`Endpoint ${ctx.endpointName} has no proxyUrl configured.`);
      const { region, accountId } = ctx.state.options;
      let upstream: http.IncomingMessage;
      try {
        upstream = await openProxy(ctx, endpoint.proxyUrl);
      } catch (err) {
        throw modelError(region, accountId, ctx.endpointName, 0, `Could not reach the container: ${(err as Error).message}`);
      }
      const status = upstream.statusCode ?? 500;
      if (status >= 400) {
        const text: Buffer[] = [];
        for await (const c of upstream) text.push(c as Buffer);
        throw modelError(region, accountId, ctx.endpointName, status, Buffer.concat(text).toString('utf8').slice(0, 1000));
      }
      return {
        contentType: String(upstream.headers['content-type'] ?? 'application/octet-stream'),
        chunks: upstream as AsyncIterable<Buffer>,
        delayMs: 0,
        partBytes: custom.partBytes ?? endpoint.textGenerator?.partBytes,
      };
    }
    default: {
      // Other models (sensor-anomaly) answer in one piece; the stream carries that answer.
      const { region, accountId } = ctx.state.options;
      try {
        const result = await runModel({
          endpointName: ctx.endpointName,
          endpoint,
          body,
          contentType: headers['content-type'],
          accept: headers['x-amzn-sagemaker-accept'],
          customAttributes: headers['x-amzn-sagemaker-custom-attributes'],
          headers,
        });
        return { contentType: result.contentType, chunks: [result.body], delayMs: 0, partBytes: custom.partBytes };
      } catch (err) {
        if (err instanceof ModelFailure) throw modelError(region, accountId, ctx.endpointName, err.originalStatusCode, err.originalMessage);
        throw err;
      }
    }
  }
}

/** Re-cuts a chunk sequence into parts of exactly `size` bytes (the last one may be shorter). */
async function* recut(chunks: AsyncIterable<Buffer> | Iterable<Buffer>, size: number | undefined): AsyncGenerator<Buffer> {
  const limit = Math.min(size ?? MAX_PART, MAX_PART);
  let carry: Buffer | undefined;
  for await (const chunk of chunks) {
    let buf = carry ? Buffer.concat([carry, chunk]) : chunk;
    carry = undefined;
    if (size === undefined && buf.length <= limit) {
      // No re-cutting asked: one part per chunk, as the container produced it.
      yield buf;
      continue;
    }
    while (buf.length >= limit) {
      yield buf.subarray(0, limit);
      buf = buf.subarray(limit);
    }
    if (buf.length > 0) {
      if (size === undefined) yield buf;
      else carry = buf;
    }
  }
  if (carry && carry.length > 0) yield carry;
}

export async function handleStream(ctx: InvocationContext): Promise<void> {
  const { res, fault, state } = ctx;
  let source: Source;
  try {
    source = await sourceFor(ctx);
  } catch (err) {
    const apiErr = err instanceof ApiError ? err : new ApiError(500, 'InternalFailure', (err as Error).message);
    state.stats.errors[apiErr.code] = (state.stats.errors[apiErr.code] ?? 0) + 1;
    sendError(res, apiErr, ctx.requestId);
    return;
  }

  let clientGone = false;
  let finished = false;
  let wake: (() => void) | undefined;
  const timers = new Set<NodeJS.Timeout>();
  res.on('close', () => {
    if (!finished && !res.writableFinished) {
      clientGone = true;
      state.stats.streamsAborted++;
    }
    for (const t of timers) clearTimeout(t);
    timers.clear();
    wake?.();
  });
  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        wake = undefined;
        resolve();
      }, ms);
      timers.add(t);
      state.track(t);
      wake = () => {
        clearTimeout(t);
        timers.delete(t);
        wake = undefined;
        resolve();
      };
    });
  // Settles when the last frame written has been handed to the socket (or the socket is gone).
  let flushed: Promise<void> = Promise.resolve();
  let settleFlushed: (() => void) | undefined;
  res.once('close', () => settleFlushed?.());
  const write = async (frame: Uint8Array): Promise<void> => {
    let ok = true;
    flushed = new Promise<void>((resolve) => {
      settleFlushed = resolve;
      ok = res.write(frame, () => resolve());
    });
    if (ok) return;
    await new Promise<void>((resolve) => {
      const go = (): void => {
        res.off('drain', go);
        res.off('close', go);
        resolve();
      };
      res.on('drain', go);
      res.on('close', go);
    });
  };

  const responseHeaders: Record<string, string> = {
    'Content-Type': 'application/vnd.amazon.eventstream',
    'X-Amzn-SageMaker-Content-Type': source.contentType,
    'x-Amzn-Invoked-Production-Variant': ctx.endpoint.variant ?? 'AllTraffic',
    'x-amzn-RequestId': ctx.requestId,
  };
  const custom = ctx.headers['x-amzn-sagemaker-custom-attributes'];
  if (custom) responseHeaders['X-Amzn-SageMaker-Custom-Attributes'] = custom;
  res.writeHead(200, responseHeaders);
  res.flushHeaders();

  const faultAfter = fault && fault.kind.startsWith('stream-') ? Math.max(0, fault.afterParts ?? 0) : -1;
  let sent = 0;
  let first = true;

  // Applies the fault; true when the stream must not go on normally.
  const applyFault = async (): Promise<void> => {
    if (!fault) return;
    switch (fault.kind) {
      case 'stream-error':
        state.stats.errors.ModelStreamError = (state.stats.errors.ModelStreamError ?? 0) + 1;
        await write(
          exceptionFrame('ModelStreamError', {
            Message: `Your model container did not produce a response within the time limit (fault injected after ${sent} parts).`,
            ErrorCode: 'ModelInvocationTimeExceeded',
          }),
        );
        finished = true;
        res.end();
        return;
      case 'stream-failure':
        state.stats.errors.InternalStreamFailure = (state.stats.errors.InternalStreamFailure ?? 0) + 1;
        await write(exceptionFrame('InternalStreamFailure', { Message: `Internal stream failure after ${sent} parts.` }));
        finished = true;
        res.end();
        return;
      case 'stream-reset':
        finished = true;
        // The parts already written reach the client whole: cut only once they left the process.
        await flushed;
        res.socket?.destroy();
        res.destroy();
        return;
      case 'stream-stall':
        // Keep the socket open and send nothing more; the client's idle timeout ends it.
        await new Promise<void>((resolve) => {
          if (clientGone) resolve();
          else res.once('close', () => resolve());
        });
        return;
      default:
        return;
    }
  };

  try {
    if (faultAfter === 0) {
      await applyFault();
      return;
    }
    for await (const part of recut(source.chunks, source.partBytes)) {
      if (clientGone) break;
      if (!first && source.delayMs > 0) {
        await sleep(source.delayMs);
        if (clientGone) break;
      }
      first = false;
      await write(payloadPart(part));
      sent++;
      if (sent === faultAfter) {
        await applyFault();
        return;
      }
    }
    if (clientGone) return;
    if (faultAfter > 0) {
      // The stream was shorter than `afterParts`: the fault still happens, at the end.
      await applyFault();
      return;
    }
    finished = true;
    res.end();
  } catch (err) {
    // A proxied container that breaks mid-stream becomes a ModelStreamError, as on SageMaker.
    if (!clientGone && !res.destroyed) {
      state.stats.errors.ModelStreamError = (state.stats.errors.ModelStreamError ?? 0) + 1;
      res.write(exceptionFrame('ModelStreamError', { Message: `Stream broken: ${(err as Error).message}`, ErrorCode: 'StreamBroken' }));
      finished = true;
      res.end();
    }
  }
}
