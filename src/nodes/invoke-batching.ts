/**
 * Micro-batching of sagemaker-invoke (README "Micro-batching"): messages for the same endpoint
 * and request fields wait up to the window, go out as one request with a row each, and each
 * gets its own row of the answer (`msg.sagemaker.batch`). Separate from the node so that a
 * node without batching never runs any of it.
 */
import type { InvokeEndpointCommandInput } from '@aws-sdk/client-sagemaker-runtime';
import { batchBody, batchContentType, BatchSizeMismatch, encodeRow, rowBytes, splitResponse, type BatchFormat } from '../lib/batch';
import { Batcher, type Batch } from '../lib/batcher';
import { InputError } from '../lib/errors';
import { MAX_BODY_BYTES, type MappedRequest } from '../lib/request';
import type { ResponseFormat } from '../lib/payload';
import type { WorkQueue } from '../lib/work-queue';
import { answerMetadata, invokeEndpoint } from './invoke-call';
import type { DoneFn, NodeMessage, SendFn } from './red';
import type { Worker } from './worker';

export interface BatchingOptions {
  format: BatchFormat;
  size: number;
  windowMs: number;
  responseFormat: ResponseFormat;
  /** Where full batches run (the node's concurrency limit). */
  queue: WorkQueue;
  /** The error for a batch that finds the queue full. */
  queueFull(): InputError;
}

interface Pending {
  msg: NodeMessage;
  send: SendFn;
  done: DoneFn;
  fields: Omit<MappedRequest, 'body'>;
}

export interface Batching {
  /** Takes one message into its batch; throws (nothing ended) when it cannot be a row. */
  accept(msg: NodeMessage, send: SendFn, done: DoneFn, endpointName: unknown): void;
  /** Messages waiting for their batch to fill or its window to pass. */
  readonly pending: number;
  /** Ends the waiting messages like queued ones: done, no output. */
  close(): void;
}

export function createBatching(worker: Worker, o: BatchingOptions): Batching {
  const { fail } = worker;

  async function run(batch: Batch<Pending>): Promise<void> {
    const { fields } = batch.items[0];
    const size = batch.items.length;
    const batchOf = (index: number) => ({ size, index });
    let ended = 0; // messages already ended, so an unexpected throw ends only the rest
    try {
      const input: InvokeEndpointCommandInput = {
        EndpointName: fields.endpointName,
        Body: batchBody(batch.rows, o.format),
        ContentType: fields.contentType || batchContentType(o.format),
        ...fields.params,
      };
      const outcome = await invokeEndpoint(worker, input);
      if (!outcome) {
        for (const p of batch.items) p.done();
        return;
      }
      if ('error' in outcome) {
        const { error, latencyMs } = outcome;
        batch.items.forEach((p, index) =>
          fail(p.msg, p.done, error, { endpointName: fields.endpointName, latencyMs, batch: batchOf(index) }),
        );
        return;
      }
      const { answer } = outcome;
      const meta = answerMetadata(fields.endpointName, answer);
      let values: unknown[];
      try {
        values = splitResponse(answer.out.Body, answer.out.ContentType, o.responseFormat, size);
      } catch (err) {
        const extra = err instanceof BatchSizeMismatch ? { batchSize: err.batchSize, responseRows: err.responseRows } : {};
        batch.items.forEach((p, index) => fail(p.msg, p.done, err, { ...meta, batch: batchOf(index) }, extra));
        return;
      }
      batch.items.forEach((p, index) => {
        p.msg.payload = values[index];
        p.msg.headers = { ...answer.headers };
        p.msg.sagemaker = { ...meta, batch: batchOf(index) };
        p.send(p.msg);
        ended++;
        p.done();
      });
    } catch (err) {
      batch.items
        .slice(ended)
        .forEach((p, i) => fail(p.msg, p.done, err, { endpointName: fields.endpointName, batch: batchOf(ended + i) }));
    }
  }

  const batcher = new Batcher<Pending>({
    size: o.size,
    windowMs: o.windowMs,
    maxBytes: MAX_BODY_BYTES,
    onBatch: (batch) => {
      const queued = o.queue.push({ run: () => run(batch), release: () => batch.items.forEach((p) => p.done()) });
      if (!queued) {
        const err = o.queueFull();
        batch.items.forEach((p, index) =>
          fail(p.msg, p.done, err, { endpointName: p.fields.endpointName, batch: { size: batch.items.length, index } }),
        );
      }
      worker.status.update();
    },
  });

  return {
    accept(msg, send, done, endpointName) {
      const fields = worker.mapping.fields(endpointName, msg);
      const row = encodeRow(msg.payload, o.format);
      const bytes = rowBytes(row);
      if (bytes + 2 > MAX_BODY_BYTES) {
        const why = `msg.payload is ${bytes} bytes encoded, over the ${MAX_BODY_BYTES}-byte (6 MB) limit of real-time inference; use sagemaker-invoke-async for larger inputs`;
        return fail(msg, done, new InputError('msg.payload', why), { endpointName: fields.endpointName });
      }
      const key = JSON.stringify([
        fields.endpointName,
        fields.contentType,
        Object.entries(fields.params).sort(([a], [b]) => (a < b ? -1 : 1)),
      ]);
      batcher.add(key, row, bytes, { msg, send, done, fields });
      worker.status.update();
    },
    get pending() {
      return batcher.pending;
    },
    close() {
      for (const p of batcher.close()) p.done();
    },
  };
}
