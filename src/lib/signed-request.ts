/**
 * One SigV4-signed request over fetch, for the editor's one-off control-plane calls (SageMaker
 * ListEndpoints, STS GetCallerIdentity): the package does not ship a whole SDK client for each
 * of them. Everything long-running (invocations, S3, SQS, assumed-role refresh) stays with the
 * SDK. No Node-RED import.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, SourceData } from '@smithy/types';

function toBuffer(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** SHA-256 / HMAC-SHA-256 in the shape SignatureV4 expects (node:crypto, no extra package). */
class Sha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret !== undefined ? createHmac('sha256', toBuffer(this.secret)) : createHash('sha256');
  }
  update(data: SourceData): void {
    this.hash.update(toBuffer(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

/** A failed call, shaped like an SDK service error: `name` is the service's code, plus `$metadata`. */
export class ServiceError extends Error {
  readonly $metadata: { httpStatusCode?: number; requestId?: string };
  constructor(
    message: string,
    readonly code: string,
    status?: number,
    requestId?: string,
  ) {
    super(message);
    this.name = code;
    this.$metadata = { httpStatusCode: status, ...(requestId ? { requestId } : {}) };
  }
}

export interface SignedRequest {
  /** Where to POST (the URL's path is kept; its query is not used). */
  url: string;
  /** Signing name, e.g. `sagemaker`, `sts`. */
  service: string;
  /** Signing region. */
  region: string;
  credentials: AwsCredentialIdentityProvider | AwsCredentialIdentity;
  /** Content type and any other headers to sign. */
  headers: Record<string, string>;
  body: string;
  /** For the whole request; default 10 s. */
  timeoutMs?: number;
}

export interface SignedResponse {
  status: number;
  statusText: string;
  ok: boolean;
  headers: Headers;
  text: string;
}

/** Signs a POST with SigV4 and sends it; answers whatever HTTP status came back. */
export async function postSigned(request: SignedRequest): Promise<SignedResponse> {
  const url = new URL(request.url);
  const path = url.pathname || '/';
  const signer = new SignatureV4({ service: request.service, region: request.region, credentials: request.credentials, sha256: Sha256 });
  const signed = await signer.sign({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    path,
    query: {},
    headers: { host: url.host, ...request.headers },
    body: request.body,
  });
  // fetch sets Host itself (from the same URL) and refuses to be given one.
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(signed.headers)) if (k.toLowerCase() !== 'host') headers[k] = String(v);
  const res = await fetch(new URL(path, url), {
    method: 'POST',
    headers,
    body: request.body,
    signal: AbortSignal.timeout(request.timeoutMs ?? 10000),
  });
  return { status: res.status, statusText: res.statusText, ok: res.ok, headers: res.headers, text: await res.text() };
}
