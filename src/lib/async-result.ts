/**
 * Adapters between the AWS SDK and the queue consumer: the SQS calls for one queue, and the
 * payload of a finished job — the response included in its notification, or its output object
 * read from S3 (one GetObject; an object over `maxResultBytes` is not read, the payload is then
 * its location).
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ChangeMessageVisibilityCommand, DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { AsyncNotification } from './async-notification';
import { decodeBody, type ResponseFormat } from './payload';
import type { QueueMessage, QueueOps } from './queue-consumer';
import { formatS3Uri, parseS3Uri } from './s3-location';

/** The SQS calls of {@link QueueOps} for `queueUrl` through `client` (a getter: the client is created lazily). */
export function sqsQueueOps(client: () => SQSClient, queueUrl: string): QueueOps {
  return {
    async receive({ maxMessages, waitTimeSeconds, signal }) {
      const r = await client().send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: maxMessages,
          WaitTimeSeconds: waitTimeSeconds,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
        { abortSignal: signal },
      );
      return (r.Messages ?? []).map((m): QueueMessage => ({
        messageId: m.MessageId ?? '',
        receiptHandle: m.ReceiptHandle ?? '',
        body: m.Body ?? '',
        ...(m.Attributes?.ApproximateReceiveCount ? { receiveCount: Number(m.Attributes.ApproximateReceiveCount) } : {}),
      }));
    },
    async delete(receiptHandle, signal) {
      await client().send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: receiptHandle }), { abortSignal: signal });
    },
    async release(receiptHandle, signal) {
      await client().send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: 0 }), {
        abortSignal: signal,
      });
    },
  };
}

export interface JobResult {
  /** The decoded response, or the output location when the object is over maxResultBytes. */
  payload: unknown;
  contentType?: string;
  /** Where the payload came from. */
  source: 'notification' | 's3' | 'location';
  /** The object's size, when it was too large to read. */
  size?: number;
  /** A decode warning (e.g. JSON content type with a body that is not JSON). */
  warning?: string;
}

export interface ResultOptions {
  s3: () => S3Client;
  maxResultBytes: number;
  responseFormat?: ResponseFormat;
  signal?: AbortSignal;
}

/**
 * The payload of a Completed notification: its included response when there is one (no S3
 * request), otherwise its output object. Throws the S3 error when the object cannot be read,
 * and a `DecodeError` (from decodeBody) when the bytes do not match the requested format.
 */
export async function jobResult(n: AsyncNotification, o: ResultOptions): Promise<JobResult> {
  const format = o.responseFormat ?? 'auto';
  if (n.includedResponse) {
    const decoded = decodeBody(n.includedResponse, n.contentType, format);
    return {
      payload: decoded.value,
      contentType: n.contentType,
      source: 'notification',
      ...(decoded.warning ? { warning: decoded.warning } : {}),
    };
  }
  if (!n.outputLocation) throw new Error(`the notification of ${n.inferenceId} names no output location`);
  const loc = parseS3Uri(n.outputLocation, { field: 'outputLocation' });
  const abort = new AbortController();
  const onAbort = (): void => abort.abort();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const got = await o.s3().send(new GetObjectCommand({ Bucket: loc.bucket, Key: loc.key }), { abortSignal: abort.signal });
    const contentType = got.ContentType ?? n.contentType;
    const size = got.ContentLength;
    if (size !== undefined && size > o.maxResultBytes) {
      // Too large for a message: stop reading and hand over the location.
      abort.abort();
      (got.Body as { destroy?: () => void } | undefined)?.destroy?.();
      return { payload: formatS3Uri(loc), contentType, source: 'location', size };
    }
    if (!got.Body) throw new Error(`S3 answered GetObject for ${formatS3Uri(loc)} without a body`);
    const bytes = await got.Body.transformToByteArray();
    const decoded = decodeBody(bytes, contentType, format);
    return { payload: decoded.value, contentType, source: 's3', ...(decoded.warning ? { warning: decoded.warning } : {}) };
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
  }
}
