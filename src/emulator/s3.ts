/**
 * The emulator's S3: the subset of the S3 REST API that the nodes, the tests and the AWS CLI's
 * `s3 cp` / `s3 ls` use (buckets, Put/Get/Head/Copy/Delete object, DeleteObjects,
 * ListObjects(V2), multipart upload), path-style or virtual-host, with S3's XML errors. Every
 * request passes the same SigV4 check as the runtime side before anything is read, stored or
 * counted (stats().s3). Or, with `{ endpoint }`, any S3-compatible endpoint instead (uncounted).
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { ApiError, xmlEscape } from './errors';
import { serverLimits, type Timeouts } from './limits';
import { type ObjectMeta, Store, validBucketName } from './s3-store';
import { AuthError, type AuthHeader, checkAuthHeader, type Principal, signingKey, verifySigV4Details } from './sigv4';

export const EMULATOR_BUCKET = 'sagemaker-emulator';

/** One PutObject / UploadPart body at most (S3's own limit is 5 GiB). */
export const MAX_OBJECT_BYTES = 1024 * 1024 * 1024;
const MAX_XML_BYTES = 1024 * 1024;
const MIN_PART_BYTES = 5 * 1024 * 1024;
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

export interface S3Service {
  url: string;
  accessKeyId: string;
  secretAccessKey: string;
  close(): Promise<void>;
}

export interface S3Context {
  /** Key lookup shared with the runtime side (static keys and STS session keys). */
  lookup(accessKeyId: string): Principal | undefined;
  auth: boolean;
  region: string;
  timeouts?: Timeouts;
  log(line: string): void;
}

/** S3 operation of a path-style request, from method, path and query. */
export function s3Operation(method: string, url: string, headers: http.IncomingHttpHeaders): string {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  const slash = path.indexOf('/', 1);
  const hasKey = slash > 0 && slash < path.length - 1;
  const has = (k: string): boolean => query.has(k);
  if (path === '/' || path === '') return method === 'GET' ? 'ListBuckets' : `${method} /`;
  if (!hasKey) {
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

class S3Error extends ApiError {
  constructor(
    status: number,
    code: string,
    message: string,
    readonly extra: Record<string, string> = {},
  ) {
    super(status, code, message);
  }
}

const noSuchBucket = (bucket: string): S3Error =>
  new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });
const noSuchKey = (key: string): S3Error => new S3Error(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key });
const noSuchUpload = (id: string): S3Error =>
  new S3Error(
    404,
    'NoSuchUpload',
    'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
    { UploadId: id },
  );

/** A SigV4 refusal in S3's words. */
function s3AuthError(err: AuthError): S3Error {
  switch (err.reason) {
    case 'missing':
      return new S3Error(403, 'AccessDenied', 'Access Denied');
    case 'malformed':
    case 'scope':
      return new S3Error(400, 'AuthorizationHeaderMalformed', `The authorization header is malformed; ${err.message}`);
    case 'skew':
      return new S3Error(403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.');
    case 'unknown-key':
      return new S3Error(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
    case 'bad-token':
      return new S3Error(400, 'InvalidToken', 'The provided token is malformed or otherwise invalid.');
    case 'expired-token':
      return new S3Error(400, 'ExpiredToken', 'The provided token has expired.');
    case 'payload':
      return new S3Error(400, err.code, err.message);
    default:
      return new S3Error(
        403,
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
      );
  }
}

const xml = (body: string): string => `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;
const iso = (ms: number): string => new Date(ms).toISOString();
const el = (name: string, value: string | number | boolean | undefined): string =>
  value === undefined ? '' : `<${name}>${xmlEscape(String(value))}</${name}>`;

function sendXml(res: http.ServerResponse, status: number, body: string): void {
  const text = xml(body);
  res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function sendS3Error(req: http.IncomingMessage, res: http.ServerResponse, err: S3Error, requestId: string): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const extra = Object.entries(err.extra)
    .map(([k, v]) => el(k, v))
    .join('');
  const text = xml(
    `<Error>${el('Code', err.code)}${el('Message', err.message)}${extra}${el('RequestId', requestId)}${el('HostId', hostId(requestId))}</Error>`,
  );
  const headers: Record<string, string | number> = { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(text) };
  // A refused request's unread body is drained and dropped by Node once the answer is sent.
  res.writeHead(err.status, headers);
  // HEAD answers carry no body (the SDK maps a bodiless 404 on HeadObject to NotFound).
  res.end(req.method === 'HEAD' ? undefined : text);
}

const hostId = (requestId: string): string => createHash('sha256').update(requestId).digest('base64');

function xmlUnescape(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|lt|gt|amp|quot|apos);/g, (_m, e: string) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    return ({ lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" } as Record<string, string>)[e];
  });
}

/** S3's URL encoding of keys in listings with encoding-type=url. */
const urlEncode = (s: string): string =>
  encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%2F/g, '/');

function parseQuery(search: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(search)) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

const STORED_HEADERS = ['content-encoding', 'content-disposition', 'cache-control', 'content-language', 'expires'];

function storedHeaders(req: http.IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of STORED_HEADERS) {
    let v = req.headers[name];
    if (typeof v !== 'string') continue;
    // aws-chunked is the transfer framing, not the object's encoding.
    if (name === 'content-encoding')
      v = v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s && s !== 'aws-chunked')
        .join(',');
    if (v) out[name] = v;
  }
  for (const [k, v] of Object.entries(req.headers)) if (k.startsWith('x-amz-meta-') && typeof v === 'string') out[k] = v;
  return out;
}

/**
 * Decodes an aws-chunked body (`<hex size>[;chunk-signature=<sig>]\r\n<data>\r\n … 0\r\n<trailers>\r\n`).
 * With `signed`, each chunk's signature is checked against the seed signature chain.
 */
async function* awsChunked(
  source: AsyncIterable<Buffer>,
  signed: ((sig: string, hash: string) => void) | undefined,
): AsyncGenerator<Buffer> {
  let buf: Buffer = Buffer.alloc(0);
  let remaining = -1; // bytes of chunk data still to come; -1 = expecting a chunk header
  let chunkHash = createHash('sha256');
  let chunkSig = '';
  let done = false;
  const bad = (): S3Error => new S3Error(400, 'IncompleteBody', 'The request body is not valid aws-chunked encoding.');
  for await (const piece of source) {
    buf = buf.length ? Buffer.concat([buf, piece]) : piece;
    for (;;) {
      if (done) {
        buf = Buffer.alloc(0); // trailers (checksums): not kept
        break;
      }
      if (remaining < 0) {
        const nl = buf.indexOf('\r\n');
        if (nl < 0) {
          if (buf.length > 4096) throw bad();
          break;
        }
        const line = buf.subarray(0, nl).toString('latin1');
        buf = buf.subarray(nl + 2);
        const m = /^([0-9a-fA-F]{1,16})(?:;chunk-signature=([0-9a-f]{64}))?$/.exec(line);
        if (!m) throw bad();
        remaining = parseInt(m[1], 16);
        chunkSig = m[2] ?? '';
        if (signed && !chunkSig) throw bad();
        chunkHash = createHash('sha256');
        if (remaining === 0) {
          signed?.(chunkSig, EMPTY_SHA256);
          done = true;
        }
        continue;
      }
      if (remaining > 0) {
        if (buf.length === 0) break;
        const take = buf.subarray(0, Math.min(remaining, buf.length));
        buf = buf.subarray(take.length);
        remaining -= take.length;
        chunkHash.update(take);
        yield take;
        continue;
      }
      // remaining === 0 after data: the chunk's closing CRLF
      if (buf.length < 2) break;
      if (buf[0] !== 0x0d || buf[1] !== 0x0a) throw bad();
      buf = buf.subarray(2);
      signed?.(chunkSig, chunkHash.digest('hex'));
      remaining = -1;
    }
  }
  if (!done) throw bad();
}

interface Received {
  tmp: string;
  size: number;
  md5: Buffer;
}

type Hasher = { update(d: Buffer): void; digest(): string };
// zlib.crc32 exists from Node 20.15 on; its types may be older.
const zlibCrc: { crc32?: (d: Buffer, v?: number) => number } = zlib;
const crc32 = zlibCrc.crc32;

/** Incremental checkers of the x-amz-checksum-* headers the emulator can compute (CRC32 needs Node 20.15+). */
function checksumOf(name: string): Hasher | undefined {
  if (name === 'x-amz-checksum-sha256' || name === 'x-amz-checksum-sha1') {
    const h = createHash(name.endsWith('sha256') ? 'sha256' : 'sha1');
    return { update: (d) => h.update(d), digest: () => h.digest('base64') };
  }
  if (name === 'x-amz-checksum-crc32' && crc32) {
    let v = 0;
    return {
      update: (d) => (v = crc32(d, v)),
      digest: () => {
        const b = Buffer.alloc(4);
        b.writeUInt32BE(v >>> 0);
        return b.toString('base64');
      },
    };
  }
  return undefined;
}

export async function startS3(
  options: { endpoint?: string; accessKeyId?: string; secretAccessKey?: string; directory?: string } | undefined,
  staticKeys: Array<{ accessKeyId: string; secretAccessKey: string }>,
  counts: Record<string, number>,
  ctx: S3Context,
): Promise<S3Service> {
  const first = staticKeys[0] ?? { accessKeyId: 'test', secretAccessKey: 'test' };
  if (options?.endpoint) {
    return {
      url: options.endpoint.replace(/\/+$/, ''),
      accessKeyId: options.accessKeyId ?? first.accessKeyId,
      secretAccessKey: options.secretAccessKey ?? first.secretAccessKey,
      close: async () => {},
    };
  }

  const ownDir = options?.directory === undefined;
  const root = options?.directory ?? mkdtempSync(join(tmpdir(), 'sagemaker-emulator-s3-'));
  const store = new Store(root);
  store.createBucket(EMULATOR_BUCKET);
  // A test run that exits without close() must not leave the temp directory behind.
  const removeDir = (): void => {
    if (ownDir) rmSync(root, { recursive: true, force: true });
  };
  process.once('exit', removeDir);

  /** Streams the (decoded) body to a temp file, checking size, payload hash and checksums. */
  async function receive(req: http.IncomingMessage, auth: AuthHeader | undefined): Promise<Received> {
    const claimed = String(req.headers['x-amz-content-sha256'] ?? '');
    let source: AsyncIterable<Buffer> = req;
    if (claimed.startsWith('STREAMING-')) {
      let verify: ((sig: string, hash: string) => void) | undefined;
      if (claimed === 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD') {
        if (!auth) throw new S3Error(400, 'InvalidRequest', 'Signed aws-chunked uploads need a signed request.');
        const key = signingKey(auth.principal.secretAccessKey, auth.shortDate, auth.region, auth.service);
        const amz = String(req.headers['x-amz-date']);
        const scope = `${auth.shortDate}/${auth.region}/${auth.service}/aws4_request`;
        let prev = auth.signature;
        verify = (sig, hash) => {
          const expected = createHmac('sha256', key)
            .update(`AWS4-HMAC-SHA256-PAYLOAD\n${amz}\n${scope}\n${prev}\n${EMPTY_SHA256}\n${hash}`)
            .digest('hex');
          if (!timingSafeEqual(Buffer.from(expected), Buffer.from(sig.padEnd(64, '0').slice(0, 64)))) {
            throw new S3Error(
              403,
              'SignatureDoesNotMatch',
              'The request signature we calculated does not match the signature you provided.',
            );
          }
          prev = sig;
        };
      } else if (claimed !== 'STREAMING-UNSIGNED-PAYLOAD-TRAILER') {
        throw new S3Error(501, 'NotImplemented', `x-amz-content-sha256 ${claimed} is not supported by the emulator.`);
      }
      source = awsChunked(req, verify);
    } else if (claimed !== 'UNSIGNED-PAYLOAD' && auth && !/^[0-9a-f]{64}$/.test(claimed)) {
      throw new S3Error(400, 'InvalidArgument', 'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-* or a SHA-256 hex digest.');
    }
    const tmp = store.tmpFile();
    const out = createWriteStream(tmp);
    const md5 = createHash('md5');
    const sha = createHash('sha256');
    const checks = Object.keys(req.headers)
      .filter((h) => h.startsWith('x-amz-checksum-') && typeof req.headers[h] === 'string')
      .map((h) => ({ name: h, hasher: checksumOf(h) }))
      .filter((c): c is { name: string; hasher: Hasher } => c.hasher !== undefined);
    let size = 0;
    try {
      for await (const chunk of source) {
        size += chunk.length;
        if (size > MAX_OBJECT_BYTES)
          throw new S3Error(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', {
            MaxSizeAllowed: String(MAX_OBJECT_BYTES),
          });
        md5.update(chunk);
        sha.update(chunk);
        for (const c of checks) c.hasher.update(chunk);
        if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      }
      await new Promise<void>((resolve, reject) => {
        out.once('error', reject);
        out.end(() => resolve());
      });
      const md5sum = md5.digest();
      if (auth && /^[0-9a-f]{64}$/.test(claimed) && sha.digest('hex') !== claimed) {
        throw new S3Error(400, 'XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.");
      }
      const contentMd5 = req.headers['content-md5'];
      if (typeof contentMd5 === 'string' && contentMd5 !== md5sum.toString('base64')) {
        throw new S3Error(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.');
      }
      for (const c of checks) {
        if (req.headers[c.name] !== c.hasher.digest()) {
          throw new S3Error(
            400,
            'BadDigest',
            `The ${c.name.slice('x-amz-checksum-'.length).toUpperCase()} you specified did not match the calculated checksum.`,
          );
        }
      }
      return { tmp, size, md5: md5sum };
    } catch (err) {
      out.destroy();
      await unlink(tmp).catch(() => {});
      throw err;
    }
  }

  /** A small XML body (DeleteObjects, CompleteMultipartUpload), checked against its payload hash. */
  async function readXml(req: http.IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req as AsyncIterable<Buffer>) {
      size += c.length;
      if (size > MAX_XML_BYTES)
        throw new S3Error(
          400,
          'MalformedXML',
          'The XML you provided was not well-formed or did not validate against our published schema.',
        );
      chunks.push(c);
    }
    const body = Buffer.concat(chunks);
    const claimed = String(req.headers['x-amz-content-sha256'] ?? '');
    if (ctx.auth && /^[0-9a-f]{64}$/.test(claimed) && createHash('sha256').update(body).digest('hex') !== claimed) {
      throw new S3Error(400, 'XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.");
    }
    return body.toString('utf8');
  }

  function objectHeaders(meta: ObjectMeta): Record<string, string | number> {
    return {
      'Content-Type': meta.contentType,
      ETag: meta.etag,
      'Last-Modified': new Date(meta.lastModified).toUTCString(),
      'Accept-Ranges': 'bytes',
      ...meta.headers,
    };
  }

  async function getObject(req: http.IncomingMessage, res: http.ServerResponse, bucket: string, key: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const meta = store.head(bucket, key);
      if (!meta) throw noSuchKey(key);
      let start = 0;
      let end = meta.size - 1;
      let status = 200;
      const headers = objectHeaders(meta);
      const range = req.headers.range;
      if (typeof range === 'string' && req.method === 'GET') {
        const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
        if (m && (m[1] !== '' || m[2] !== '')) {
          if (m[1] === '') start = Math.max(0, meta.size - Number(m[2]));
          else {
            start = Number(m[1]);
            if (m[2] !== '') end = Math.min(end, Number(m[2]));
          }
          if (start >= meta.size || start > end) {
            throw new S3Error(416, 'InvalidRange', 'The requested range is not satisfiable', {
              RangeRequested: range,
              ActualObjectSize: String(meta.size),
            });
          }
          status = 206;
          headers['Content-Range'] = `bytes ${start}-${end}/${meta.size}`;
        }
      }
      headers['Content-Length'] = meta.size === 0 ? 0 : end - start + 1;
      if (req.method === 'HEAD') {
        res.writeHead(status, headers);
        res.end();
        return;
      }
      let handle;
      try {
        handle = await open(store.dataPath(bucket, meta), 'r');
      } catch (err) {
        // Replaced between the lookup and the open: read the new version.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' && attempt < 3) continue;
        throw err;
      }
      res.writeHead(status, headers);
      if (meta.size === 0) {
        await handle.close();
        res.end();
        return;
      }
      const stream = handle.createReadStream({ start, end });
      stream.on('error', () => res.destroy());
      res.on('close', () => stream.destroy());
      stream.pipe(res);
      return;
    }
  }

  function list(res: http.ServerResponse, bucket: string, query: URLSearchParams, v2: boolean): void {
    const prefix = query.get('prefix') ?? '';
    const delimiter = query.get('delimiter') ?? '';
    const encode = query.get('encoding-type') === 'url';
    const maxKeysRaw = query.get('max-keys');
    const maxKeys = maxKeysRaw === null ? 1000 : Number(maxKeysRaw);
    if (!Number.isInteger(maxKeys) || maxKeys < 0)
      throw new S3Error(400, 'InvalidArgument', 'Provided max-keys not an integer or within integer range');
    const limit = Math.min(maxKeys, 1000);
    let after: string;
    let skipPrefix = false;
    const token = query.get('continuation-token');
    if (v2 && token !== null) {
      try {
        const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { k: string; p: boolean };
        if (typeof t.k !== 'string') throw new Error('token');
        after = t.k;
        skipPrefix = t.p === true;
      } catch {
        throw new S3Error(400, 'InvalidArgument', 'The continuation token provided is incorrect');
      }
    } else if (v2) after = query.get('start-after') ?? '';
    else after = query.get('marker') ?? '';

    const afterBuf = Buffer.from(after);
    const contents: ObjectMeta[] = [];
    const prefixes: string[] = [];
    let truncated = false;
    let last: { k: string; p: boolean } | undefined;
    for (const key of store.keys(bucket)) {
      if (!key.startsWith(prefix)) continue;
      if (after && Buffer.compare(Buffer.from(key), afterBuf) <= 0) continue;
      if (skipPrefix && key.startsWith(after)) continue;
      let common: string | undefined;
      if (delimiter) {
        const i = key.indexOf(delimiter, prefix.length);
        if (i >= 0) common = key.slice(0, i + delimiter.length);
      }
      if (common !== undefined && prefixes.at(-1) === common) continue;
      if (contents.length + prefixes.length >= limit) {
        truncated = true;
        break;
      }
      if (common !== undefined) {
        prefixes.push(common);
        last = { k: common, p: true };
      } else {
        contents.push(store.head(bucket, key)!);
        last = { k: key, p: false };
      }
    }
    const e = (s: string): string => (encode ? urlEncode(s) : s);
    const items = contents
      .map(
        (o) =>
          `<Contents>${el('Key', e(o.key))}${el('LastModified', iso(o.lastModified))}${el('ETag', o.etag)}${el('Size', o.size)}<StorageClass>STANDARD</StorageClass></Contents>`,
      )
      .join('');
    const common = prefixes.map((p) => `<CommonPrefixes>${el('Prefix', e(p))}</CommonPrefixes>`).join('');
    let head = `${el('Name', bucket)}${el('Prefix', e(prefix))}`;
    if (v2) {
      head += `${el('KeyCount', contents.length + prefixes.length)}${el('MaxKeys', maxKeys)}`;
      if (delimiter) head += el('Delimiter', e(delimiter));
      head += el('IsTruncated', truncated);
      if (token !== null) head += el('ContinuationToken', token);
      if (truncated && last) head += el('NextContinuationToken', Buffer.from(JSON.stringify(last)).toString('base64url'));
      const startAfter = query.get('start-after');
      if (startAfter !== null) head += el('StartAfter', e(startAfter));
    } else {
      head += `${el('Marker', e(query.get('marker') ?? ''))}${el('MaxKeys', maxKeys)}`;
      if (delimiter) head += el('Delimiter', e(delimiter));
      head += el('IsTruncated', truncated);
      if (truncated && delimiter && last) head += el('NextMarker', e(last.k));
    }
    if (encode) head += '<EncodingType>url</EncodingType>';
    sendXml(res, 200, `<ListBucketResult xmlns="${XMLNS}">${head}${items}${common}</ListBucketResult>`);
  }

  function copySource(req: http.IncomingMessage): { bucket: string; key: string; meta: ObjectMeta } {
    const raw = String(req.headers['x-amz-copy-source'] ?? '');
    const path = raw.split('?')[0].replace(/^\//, '');
    const slash = path.indexOf('/');
    let bucket: string;
    let key: string;
    try {
      bucket = decodeURIComponent(path.slice(0, slash));
      key = decodeURIComponent(path.slice(slash + 1));
    } catch {
      throw new S3Error(400, 'InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey');
    }
    if (slash <= 0 || !key)
      throw new S3Error(400, 'InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey');
    if (!store.hasBucket(bucket)) throw noSuchBucket(bucket);
    const meta = store.head(bucket, key);
    if (!meta) throw noSuchKey(key);
    return { bucket, key, meta };
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url : url.slice(0, q);
    const search = q < 0 ? '' : url.slice(q + 1);
    const query = new URLSearchParams(search);
    const method = req.method ?? 'GET';

    // Virtual-host style (`<bucket>.localhost`, or `<bucket>.<host>` for a bucket that exists), else path style.
    const host = String(req.headers.host ?? '').replace(/:\d+$/, '');
    let vhostBucket: string | undefined;
    if (host.endsWith('.localhost')) vhostBucket = host.slice(0, -'.localhost'.length);
    else if (!/^[\d.]+$/.test(host) && !host.startsWith('['))
      vhostBucket = store.listBuckets().find((b) => host.startsWith(`${b.name}.`))?.name;
    const pathStyle = vhostBucket === undefined ? rawPath : `/${encodeURIComponent(vhostBucket)}${rawPath}`;
    const op = s3Operation(method, pathStyle + (search ? `?${search}` : ''), req.headers);

    if (!rawPath.startsWith('/')) throw new S3Error(400, 'InvalidURI', "Couldn't parse the specified URI.");
    let auth: AuthHeader | undefined;
    if (ctx.auth) {
      try {
        // Shape, date, scope and key first: a request that fails here is refused before its body is read.
        checkAuthHeader({ headers: req.headers, services: ['s3'], region: ctx.region, lookup: ctx.lookup });
        auth = await verifySigV4Details({
          method,
          path: rawPath,
          query: parseQuery(search),
          headers: req.headers,
          services: ['s3'],
          region: ctx.region,
          lookup: ctx.lookup,
          payload: 'header',
          uriEscapePath: false,
        });
      } catch (err) {
        if (err instanceof AuthError) throw s3AuthError(err);
        throw err;
      }
    }
    counts[op] = (counts[op] ?? 0) + 1;

    const segs = pathStyle.slice(1);
    const slash = segs.indexOf('/');
    let bucket: string;
    let key: string;
    try {
      bucket = decodeURIComponent(slash < 0 ? segs : segs.slice(0, slash));
      key = slash < 0 ? '' : decodeURIComponent(segs.slice(slash + 1));
    } catch {
      throw new S3Error(400, 'InvalidURI', "Couldn't parse the specified URI.");
    }

    if (bucket === '') {
      if (method !== 'GET') throw new S3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
      const buckets = store
        .listBuckets()
        .map((b) => `<Bucket>${el('Name', b.name)}${el('CreationDate', iso(b.created))}</Bucket>`)
        .join('');
      sendXml(
        res,
        200,
        `<ListAllMyBucketsResult xmlns="${XMLNS}"><Owner><ID>emulator</ID><DisplayName>emulator</DisplayName></Owner><Buckets>${buckets}</Buckets></ListAllMyBucketsResult>`,
      );
      return;
    }

    if (!validBucketName(bucket)) {
      if (op === 'CreateBucket') throw new S3Error(400, 'InvalidBucketName', 'The specified bucket is not valid.', { BucketName: bucket });
      throw noSuchBucket(bucket);
    }
    if (op === 'CreateBucket') {
      store.createBucket(bucket);
      res.writeHead(200, { Location: `/${bucket}`, 'Content-Length': 0 });
      res.end();
      return;
    }
    if (!store.hasBucket(bucket)) throw noSuchBucket(bucket);

    switch (op) {
      case 'HeadBucket':
        res.writeHead(200, { 'x-amz-bucket-region': ctx.region, 'Content-Length': 0 });
        res.end();
        return;
      case 'DeleteBucket':
        if (!store.deleteBucket(bucket))
          throw new S3Error(409, 'BucketNotEmpty', 'The bucket you tried to delete is not empty', { BucketName: bucket });
        res.writeHead(204);
        res.end();
        return;
      case 'GetBucketLocation':
        sendXml(
          res,
          200,
          `<LocationConstraint xmlns="${XMLNS}">${ctx.region === 'us-east-1' ? '' : xmlEscape(ctx.region)}</LocationConstraint>`,
        );
        return;
      case 'ListObjectsV2':
      case 'ListObjects':
        list(res, bucket, query, op === 'ListObjectsV2');
        return;
      case 'DeleteObjects': {
        const body = await readXml(req);
        const keys = [...body.matchAll(/<Key>([\s\S]*?)<\/Key>/g)].map((m) => xmlUnescape(m[1]));
        if (!/<Delete[\s>]/.test(body) || keys.length > 1000)
          throw new S3Error(
            400,
            'MalformedXML',
            'The XML you provided was not well-formed or did not validate against our published schema.',
          );
        const quiet = /<Quiet>\s*true\s*<\/Quiet>/i.test(body);
        for (const k of keys) await store.delete(bucket, k);
        sendXml(
          res,
          200,
          `<DeleteResult xmlns="${XMLNS}">${quiet ? '' : keys.map((k) => `<Deleted>${el('Key', k)}</Deleted>`).join('')}</DeleteResult>`,
        );
        return;
      }
      default:
    }

    if (key === '') throw new S3Error(501, 'NotImplemented', `${op} is not supported by the emulator's S3.`);

    switch (op) {
      case 'GetObject':
      case 'HeadObject':
        return getObject(req, res, bucket, key);
      case 'PutObject': {
        const got = await receive(req, auth);
        const meta = await store.commit(bucket, key, got.tmp, {
          size: got.size,
          etag: `"${got.md5.toString('hex')}"`,
          contentType: String(req.headers['content-type'] ?? 'binary/octet-stream'),
          headers: storedHeaders(req),
        });
        res.writeHead(200, { ETag: meta.etag, 'Content-Length': 0 });
        res.end();
        return;
      }
      case 'CopyObject': {
        req.resume();
        const src = copySource(req);
        const replace = String(req.headers['x-amz-metadata-directive'] ?? 'COPY').toUpperCase() === 'REPLACE';
        if (src.bucket === bucket && src.key === key && !replace) {
          throw new S3Error(
            400,
            'InvalidRequest',
            "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
          );
        }
        const tmp = await store.copyToTmp(src.bucket, src.meta);
        const meta = await store.commit(bucket, key, tmp, {
          size: src.meta.size,
          etag: src.meta.etag,
          contentType: replace ? String(req.headers['content-type'] ?? 'binary/octet-stream') : src.meta.contentType,
          headers: replace ? storedHeaders(req) : src.meta.headers,
        });
        sendXml(
          res,
          200,
          `<CopyObjectResult xmlns="${XMLNS}">${el('LastModified', iso(meta.lastModified))}${el('ETag', meta.etag)}</CopyObjectResult>`,
        );
        return;
      }
      case 'DeleteObject':
        req.resume();
        await store.delete(bucket, key);
        res.writeHead(204);
        res.end();
        return;
      case 'CreateMultipartUpload': {
        req.resume();
        const id = store.createUpload(bucket, key, String(req.headers['content-type'] ?? 'binary/octet-stream'), storedHeaders(req));
        sendXml(
          res,
          200,
          `<InitiateMultipartUploadResult xmlns="${XMLNS}">${el('Bucket', bucket)}${el('Key', key)}${el('UploadId', id)}</InitiateMultipartUploadResult>`,
        );
        return;
      }
      case 'UploadPart': {
        const id = query.get('uploadId') ?? '';
        const up = store.uploads.get(id);
        if (!up || up.bucket !== bucket || up.key !== key) throw noSuchUpload(id);
        const n = Number(query.get('partNumber'));
        if (!Number.isInteger(n) || n < 1 || n > 10000)
          throw new S3Error(400, 'InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive');
        const got = await receive(req, auth);
        const etag = `"${got.md5.toString('hex')}"`;
        try {
          await store.putPart(id, n, got.tmp, { size: got.size, etag, md5: got.md5 });
        } catch {
          throw noSuchUpload(id);
        }
        res.writeHead(200, { ETag: etag, 'Content-Length': 0 });
        res.end();
        return;
      }
      case 'CompleteMultipartUpload': {
        const id = query.get('uploadId') ?? '';
        const up = store.uploads.get(id);
        if (!up || up.bucket !== bucket || up.key !== key) throw noSuchUpload(id);
        const body = await readXml(req);
        const listed = [...body.matchAll(/<Part>([\s\S]*?)<\/Part>/g)].map((m) => ({
          n: Number(/<PartNumber>\s*(\d+)\s*<\/PartNumber>/.exec(m[1])?.[1]),
          etag: xmlUnescape(/<ETag>([\s\S]*?)<\/ETag>/.exec(m[1])?.[1] ?? '').trim(),
        }));
        if (listed.length === 0)
          throw new S3Error(
            400,
            'MalformedXML',
            'The XML you provided was not well-formed or did not validate against our published schema.',
          );
        const parts = listed.map((p, i) => {
          const part = up.parts.get(p.n);
          if (!part || part.etag.replace(/"/g, '') !== p.etag.replace(/"/g, '')) {
            throw new S3Error(
              400,
              'InvalidPart',
              "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
            );
          }
          if (i > 0 && p.n <= listed[i - 1].n)
            throw new S3Error(
              400,
              'InvalidPartOrder',
              'The list of parts was not in ascending order. Parts must be ordered by part number.',
            );
          if (i < listed.length - 1 && part.size < MIN_PART_BYTES)
            throw new S3Error(400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.');
          return part;
        });
        const tmp = store.tmpFile();
        const out = createWriteStream(tmp);
        try {
          for (const part of parts) {
            for await (const chunk of createReadStream(part.file)) {
              if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
            }
          }
          await new Promise<void>((resolve, reject) => {
            out.once('error', reject);
            out.end(() => resolve());
          });
        } catch (err) {
          out.destroy();
          await unlink(tmp).catch(() => {});
          throw err;
        }
        const etag = `"${createHash('md5')
          .update(Buffer.concat(parts.map((p) => p.md5)))
          .digest('hex')}-${parts.length}"`;
        const meta = await store.commit(bucket, key, tmp, {
          size: parts.reduce((s, p) => s + p.size, 0),
          etag,
          contentType: up.contentType,
          headers: up.headers,
        });
        store.abortUpload(id);
        sendXml(
          res,
          200,
          `<CompleteMultipartUploadResult xmlns="${XMLNS}">${el('Location', `/${bucket}/${key}`)}${el('Bucket', bucket)}${el('Key', key)}${el('ETag', meta.etag)}</CompleteMultipartUploadResult>`,
        );
        return;
      }
      case 'AbortMultipartUpload': {
        req.resume();
        const id = query.get('uploadId') ?? '';
        const up = store.uploads.get(id);
        if (!up || up.bucket !== bucket || up.key !== key) throw noSuchUpload(id);
        store.abortUpload(id);
        res.writeHead(204);
        res.end();
        return;
      }
      case 'ListParts': {
        const id = query.get('uploadId') ?? '';
        const up = store.uploads.get(id);
        if (!up || up.bucket !== bucket || up.key !== key) throw noSuchUpload(id);
        const parts = [...up.parts]
          .sort((a, b) => a[0] - b[0])
          .map(([n, p]) => `<Part>${el('PartNumber', n)}${el('ETag', p.etag)}${el('Size', p.size)}</Part>`)
          .join('');
        sendXml(
          res,
          200,
          `<ListPartsResult xmlns="${XMLNS}">${el('Bucket', bucket)}${el('Key', key)}${el('UploadId', id)}<IsTruncated>false</IsTruncated>${parts}</ListPartsResult>`,
        );
        return;
      }
      default:
        throw new S3Error(501, 'NotImplemented', `${op} is not supported by the emulator's S3.`);
    }
  }

  const limits = serverLimits(ctx.timeouts, { requestMs: 15 * 60_000 });
  const server = http.createServer(limits.options, (req, res) => {
    const requestId = randomBytes(8).toString('hex').toUpperCase();
    res.setHeader('x-amz-request-id', requestId);
    res.setHeader('x-amz-id-2', hostId(requestId));
    handle(req, res).catch((err: unknown) => {
      if (!(err instanceof S3Error) && (res.destroyed || !res.socket || res.socket.destroyed)) {
        res.destroy();
        return;
      }
      let e: S3Error;
      if (err instanceof S3Error) e = err;
      else {
        ctx.log(`S3 internal error on ${req.method} ${req.url}: ${(err as Error)?.stack ?? String(err)}`);
        e = new S3Error(500, 'InternalError', 'We encountered an internal error. Please try again.');
      }
      sendS3Error(req, res, e, requestId);
    });
  });
  limits.idle(server);
  server.on('clientError', (_err, socket) => {
    if (socket.writable && !socket.destroyed) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  } catch (e) {
    process.off('exit', removeDir);
    store.close(ownDir);
    throw e;
  }

  return {
    url: `http://127.0.0.1:${port}`,
    accessKeyId: first.accessKeyId,
    secretAccessKey: first.secretAccessKey,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      process.off('exit', removeDir);
      store.close(ownDir);
    },
  };
}
