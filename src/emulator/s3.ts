/**
 * The emulator's S3: an embedded s3rver in a temp directory, behind a small HTTP proxy that counts
 * calls by S3 operation (stats().s3) — or an external S3-compatible endpoint, uncounted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import AWSAccount from 's3rver/lib/models/account';

export const EMULATOR_BUCKET = 'sagemaker-emulator';

export interface S3Service {
  url: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Makes a key pair valid for the embedded S3 (no-op for an external one). */
  registerKey(accessKeyId: string, secretAccessKey: string): void;
  close(): Promise<void>;
}

/** S3 operation of a path-style request, from method, path and query. */
export function s3Operation(method: string, url: string, headers: http.IncomingHttpHeaders): string {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  const parts = path.split('/').filter((p) => p !== '');
  const has = (k: string): boolean => query.has(k);
  if (parts.length === 0) return method === 'GET' ? 'ListBuckets' : `${method} /`;
  if (parts.length === 1) {
    switch (method) {
      case 'PUT':
        return has('cors') ? 'PutBucketCors' : 'CreateBucket';
      case 'DELETE':
        return 'DeleteBucket';
      case 'HEAD':
        return 'HeadBucket';
      case 'POST':
        return has('delete') ? 'DeleteObjects' : 'PostObject';
      case 'GET':
        if (query.get('list-type') === '2') return 'ListObjectsV2';
        if (has('location')) return 'GetBucketLocation';
        if (has('uploads')) return 'ListMultipartUploads';
        if (has('versions')) return 'ListObjectVersions';
        return 'ListObjects';
      default:
        return `${method} bucket`;
    }
  }
  switch (method) {
    case 'HEAD':
      return 'HeadObject';
    case 'GET':
      if (has('uploadId')) return 'ListParts';
      if (has('tagging')) return 'GetObjectTagging';
      if (has('acl')) return 'GetObjectAcl';
      return 'GetObject';
    case 'PUT':
      if (has('partNumber') && has('uploadId')) return headers['x-amz-copy-source'] ? 'UploadPartCopy' : 'UploadPart';
      if (has('tagging')) return 'PutObjectTagging';
      if (has('acl')) return 'PutObjectAcl';
      return headers['x-amz-copy-source'] ? 'CopyObject' : 'PutObject';
    case 'DELETE':
      return has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject';
    case 'POST':
      if (has('uploads')) return 'CreateMultipartUpload';
      if (has('uploadId')) return 'CompleteMultipartUpload';
      return 'PostObject';
    default:
      return `${method} object`;
  }
}

const listen = (server: http.Server, host: string): Promise<number> =>
  new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });

const closeServer = (server: http.Server): Promise<void> =>
  new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });

export async function startS3(
  options: { endpoint?: string; accessKeyId?: string; secretAccessKey?: string; directory?: string } | undefined,
  staticKeys: Array<{ accessKeyId: string; secretAccessKey: string }>,
  counts: Record<string, number>,
): Promise<S3Service> {
  const first = staticKeys[0] ?? { accessKeyId: 'test', secretAccessKey: 'test' };
  if (options?.endpoint) {
    return {
      url: options.endpoint.replace(/\/+$/, ''),
      accessKeyId: options.accessKeyId ?? first.accessKeyId,
      secretAccessKey: options.secretAccessKey ?? first.secretAccessKey,
      registerKey: () => {},
      close: async () => {},
    };
  }

  // s3rver keeps key pairs in a process-wide registry next to its own S3RVER/S3RVER; it checks
  // that a SigV4 key exists there (it does not verify V4 signatures themselves).
  for (const k of staticKeys) AWSAccount.DUMMY_ACCOUNT.createKeyPair(k.accessKeyId, k.secretAccessKey);
  const issued: string[] = [];

  const ownDir = options?.directory === undefined;
  const directory = options?.directory ?? mkdtempSync(join(tmpdir(), 'sagemaker-emulator-s3-'));
  const s3rver = new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true, configureBuckets: [{ name: EMULATOR_BUCKET }] });
  const { port: s3rverPort } = await s3rver.run();
  // A test run that exits without close() must not leave the temp directory behind.
  const removeDir = (): void => {
    if (ownDir) rmSync(directory, { recursive: true, force: true });
  };
  process.once('exit', removeDir);

  const agent = new http.Agent({ keepAlive: true });
  const proxy = http.createServer((req, res) => {
    const op = s3Operation(req.method ?? 'GET', req.url ?? '/', req.headers);
    counts[op] = (counts[op] ?? 0) + 1;
    const upstream = http.request(
      { host: '127.0.0.1', port: s3rverPort, method: req.method, path: req.url, headers: req.headers, agent },
      (ures) => {
        res.writeHead(ures.statusCode ?? 502, ures.headers);
        ures.pipe(res);
        ures.on('error', () => res.destroy());
      },
    );
    upstream.on('error', () => {
      if (res.headersSent) res.destroy();
      else {
        res.writeHead(502, { 'content-type': 'application/xml' });
        res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>ServiceUnavailable</Code><Message>S3 backend unavailable</Message></Error>');
      }
    });
    req.on('error', () => upstream.destroy());
    req.pipe(upstream);
  });
  proxy.on('clientError', (_err, socket) => socket.destroy());
  let port: number;
  try {
    port = await listen(proxy, '127.0.0.1');
  } catch (e) {
    await s3rver.close();
    process.off('exit', removeDir);
    removeDir();
    throw e;
  }

  return {
    url: `http://127.0.0.1:${port}`,
    accessKeyId: first.accessKeyId,
    secretAccessKey: first.secretAccessKey,
    registerKey(accessKeyId, secretAccessKey) {
      AWSAccount.DUMMY_ACCOUNT.createKeyPair(accessKeyId, secretAccessKey);
      issued.push(accessKeyId);
    },
    async close() {
      // Static keys stay registered: another emulator in this process may still use them.
      for (const k of issued) AWSAccount.DUMMY_ACCOUNT.revokeAccessKey(k);
      await closeServer(proxy);
      agent.destroy();
      await Promise.race([s3rver.close().catch(() => {}), new Promise((r) => setTimeout(r, 1000).unref())]);
      process.off('exit', removeDir);
      removeDir();
    },
  };
}
