/**
 * The S3 calls of `sagemaker-invoke-async`, behind one small interface: upload an input, list a
 * result prefix (one ListObjectsV2 page) and read a listed output or failure object.
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { FoundObject, ListPage, ListRequest } from './async-poller';

/** Failure objects are short texts; more than this is cut. */
export const MAX_FAILURE_TEXT = 64 * 1024;

/** What a read of a listed object gives: the failure text, or the result's bytes (none when over the limit). */
export type ReadResult = { kind: 'failure'; text: string } | { kind: 'output'; bytes?: Uint8Array; contentType?: string };

export interface AsyncS3 {
  /** PutObject of a request body. */
  putInput(bucket: string, key: string, body: Uint8Array, contentType: string | undefined, signal: AbortSignal): Promise<void>;
  /** One page of ListObjectsV2. */
  list(req: ListRequest): Promise<ListPage>;
  /** Reads a listed object: a failure's text (first 64 KiB), or an output's bytes when at most `maxBytes`. */
  read(found: FoundObject, maxBytes: number, signal: AbortSignal): Promise<ReadResult>;
}

/** The adapter over an S3 client (`client` is called per request: the config node may renew it). */
export function asyncS3(client: () => S3Client): AsyncS3 {
  return {
    async putInput(bucket, key, body, contentType, signal) {
      await client().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }), {
        abortSignal: signal,
      });
    },
    async list({ bucket, prefix, startAfter, continuationToken, signal }) {
      const r = await client().send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, StartAfter: startAfter, ContinuationToken: continuationToken }),
        { abortSignal: signal },
      );
      return {
        objects: (r.Contents ?? []).map((o) => ({ key: o.Key ?? '', size: o.Size ?? 0 })),
        nextContinuationToken: r.IsTruncated ? r.NextContinuationToken : undefined,
      };
    },
    async read(found, maxBytes, signal) {
      if (found.type === 'failure') {
        const range = `bytes=0-${MAX_FAILURE_TEXT - 1}`;
        const got = await client().send(new GetObjectCommand({ Bucket: found.bucket, Key: found.key, Range: range }), {
          abortSignal: signal,
        });
        return { kind: 'failure', text: got.Body ? (await got.Body.transformToString('utf-8')).trim() : '' };
      }
      if (found.size > maxBytes) return { kind: 'output' };
      const got = await client().send(new GetObjectCommand({ Bucket: found.bucket, Key: found.key }), { abortSignal: signal });
      return { kind: 'output', bytes: got.Body ? await got.Body.transformToByteArray() : new Uint8Array(0), contentType: got.ContentType };
    },
  };
}
