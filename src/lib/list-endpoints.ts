/**
 * SageMaker `ListEndpoints` (control plane, awsJson1.1) for the editor's endpoint-name list,
 * signed with SigV4 directly: the package does not depend on @aws-sdk/client-sagemaker for
 * this one call. No Node-RED import.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, SourceData } from '@smithy/types';

/** Pages fetched at most (100 names each): enough for the dropdown, bounded for a slow account. */
export const MAX_PAGES = 10;
const PAGE_SIZE = 100;

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

/** Same list as client-config's STS rule: AWS's own hosts (commercial, China, ISO, api.aws). */
function isAwsHost(url: string): boolean {
  const host = new URL(url).hostname.toLowerCase();
  return /(^|\.)(amazonaws\.com|amazonaws\.com\.cn|api\.aws|c2s\.ic\.gov|sc2s\.sgov\.gov)$/.test(host);
}

/**
 * Where ListEndpoints goes: a custom endpoint that is not an AWS host (the emulator, LocalStack)
 * serves the control plane too; an AWS host there is a runtime (VPC/FIPS) endpoint, so then
 * `AWS_ENDPOINT_URL_SAGEMAKER` / `AWS_ENDPOINT_URL` if set, else the regional API host.
 * @param customEndpoint the config node's validated `endpoint`, if any
 */
export function listEndpointsUrl(customEndpoint: string | undefined, region: string, env: NodeJS.ProcessEnv = process.env): string {
  if (customEndpoint && !isAwsHost(customEndpoint)) return customEndpoint;
  const fromEnv = env.AWS_ENDPOINT_URL_SAGEMAKER || env.AWS_ENDPOINT_URL;
  if (fromEnv) return fromEnv;
  return `https://api.sagemaker.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`;
}

/** A failed ListEndpoints call, shaped like an SDK service error (`name` = code, `$metadata`). */
export class ListEndpointsError extends Error {
  readonly $metadata: { httpStatusCode?: number };
  constructor(
    message: string,
    readonly code: string,
    status?: number,
  ) {
    super(message);
    this.name = code;
    this.$metadata = { httpStatusCode: status };
  }
}

export interface ListEndpointsOptions {
  /** Base URL (see {@link listEndpointsUrl}). */
  url: string;
  region: string;
  credentials: AwsCredentialIdentityProvider | AwsCredentialIdentity;
  /** Per request; default 10 s. */
  timeoutMs?: number;
  maxPages?: number;
}

interface ListPage {
  Endpoints?: Array<{ EndpointName?: string; EndpointStatus?: string }>;
  NextToken?: string;
}

/**
 * Names of the account's InService endpoints in the region, sorted, following NextToken for
 * at most `maxPages` pages.
 * @throws ListEndpointsError with the service's code and HTTP status, or a network error
 */
export async function listInServiceEndpoints(options: ListEndpointsOptions): Promise<string[]> {
  const base = new URL(options.url);
  const signer = new SignatureV4({
    service: 'sagemaker',
    region: options.region,
    credentials: options.credentials,
    sha256: Sha256,
  });
  const names = new Set<string>();
  let nextToken: string | undefined;
  for (let page = 0; page < (options.maxPages ?? MAX_PAGES); page++) {
    const body = JSON.stringify({ StatusEquals: 'InService', MaxResults: PAGE_SIZE, ...(nextToken ? { NextToken: nextToken } : {}) });
    const signed = await signer.sign({
      method: 'POST',
      protocol: base.protocol,
      hostname: base.hostname,
      ...(base.port ? { port: Number(base.port) } : {}),
      path: base.pathname || '/',
      query: {},
      headers: {
        host: base.host,
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'SageMaker.ListEndpoints',
      },
      body,
    });
    // fetch sets Host itself (from the same URL) and refuses to be given one.
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(signed.headers)) if (k.toLowerCase() !== 'host') headers[k] = String(v);
    const res = await fetch(new URL(base.pathname || '/', base), {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(options.timeoutMs ?? 10000),
    });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      parsed = undefined;
    }
    if (!res.ok) {
      const err = (parsed ?? {}) as { __type?: string; message?: string; Message?: string };
      // x-amzn-errortype is `Code:uri`; __type may be `namespace#Code`.
      const code = (res.headers.get('x-amzn-errortype') ?? '').split(':')[0] || (err.__type ?? '').split('#').pop() || `HTTP${res.status}`;
      const message = err.message || err.Message || res.statusText || 'request failed';
      throw new ListEndpointsError(message, code, res.status);
    }
    if (!parsed || typeof parsed !== 'object')
      throw new ListEndpointsError('ListEndpoints returned no JSON', 'SerializationException', res.status);
    const result = parsed as ListPage;
    for (const e of result.Endpoints ?? []) {
      if (e.EndpointName && (!e.EndpointStatus || e.EndpointStatus === 'InService')) names.add(e.EndpointName);
    }
    nextToken = result.NextToken;
    if (!nextToken) break;
  }
  return [...names].sort();
}
