/**
 * SigV4 verification by sign-and-compare (IAM User Guide, "Signature Version 4 for API
 * requests"): re-sign the request as received with
 * @smithy/signature-v4 and the secret we know for the access key, then compare signatures.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import { ApiError } from './errors';

const toBytes = (d: string | ArrayBuffer | ArrayBufferView): string | Uint8Array =>
  typeof d === 'string' ? d : d instanceof ArrayBuffer ? new Uint8Array(d) : new Uint8Array(d.buffer, d.byteOffset, d.byteLength);

/** node:crypto behind the Checksum interface the signer expects (SHA-256, HMAC when keyed). */
class NodeSha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(toBytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {}
}

export interface Principal {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** Epoch ms; session credentials only. */
  expiration?: number;
  arn: string;
  userId: string;
}

export interface VerifyInput {
  method: string;
  /** Raw path as received (still percent-encoded), without the query. */
  path: string;
  query: Record<string, string | string[]>;
  headers: IncomingHttpHeaders;
  body?: Buffer;
  /** Accepted signing services, e.g. ['sagemaker']. */
  services: string[];
  /** Required region, or undefined to accept any (STS). */
  region: string | undefined;
  lookup(accessKeyId: string): Principal | undefined;
  now?: number;
  /**
   * 'body' (SageMaker, STS): the payload hash is the hash of the body received, as those services
   * compute it; an x-amz-content-sha256 that differs (UNSIGNED-PAYLOAD included) fails.
   * 'header' (S3): the payload hash is what x-amz-content-sha256 says (a hex hash,
   * UNSIGNED-PAYLOAD or STREAMING-*); the caller checks the body against it while reading it.
   */
  payload?: 'body' | 'header';
  /** S3 signs the path as sent; the other services sign it URI-encoded once more. Default true. */
  uriEscapePath?: boolean;
}

/** Why a request was refused, for services that word it their own way (S3). */
export type AuthFailure =
  'missing' | 'malformed' | 'skew' | 'scope' | 'unknown-key' | 'bad-token' | 'expired-token' | 'signature' | 'payload';

export class AuthError extends ApiError {
  constructor(
    readonly reason: AuthFailure,
    code: string,
    message: string,
  ) {
    super(403, code, message);
  }
}

const MAX_SKEW_MS = 5 * 60 * 1000;

function amzDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

function parseAmzDate(s: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return undefined;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
}

const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
};

const denied = (reason: AuthFailure, code: string, message: string): AuthError => new AuthError(reason, code, message);

export interface AuthHeader {
  principal: Principal;
  accessKeyId: string;
  region: string;
  service: string;
  shortDate: string;
  signingMs: number;
  signedList: string;
  signature: string;
  token: string | undefined;
}

/**
 * Everything that can be checked before the body arrives: the Authorization header's shape, the
 * date, the scope, the access key and the session token. Requests that fail here are refused
 * without reading (or keeping) their body.
 */
export function checkAuthHeader(input: Omit<VerifyInput, 'body' | 'method' | 'path' | 'query'>): AuthHeader {
  const auth = header(input.headers, 'authorization');
  if (!auth) throw denied('missing', 'MissingAuthenticationTokenException', 'Missing Authentication Token');
  const m = /^AWS4-HMAC-SHA256\s+Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})\s*$/.exec(auth);
  if (!m)
    throw denied(
      'malformed',
      'IncompleteSignatureException',
      `Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters. Authorization=${auth.split(' ')[0].slice(0, 40)}`,
    );
  const [, credential, signedList, signature] = m;
  const scope = credential.split('/');
  if (scope.length !== 5 || scope[4] !== 'aws4_request')
    throw denied('malformed', 'IncompleteSignatureException', 'Credential should be scoped to a valid region.');
  const [accessKeyId, shortDate, region, service] = scope;

  const xDate = header(input.headers, 'x-amz-date') ?? '';
  const signingMs = parseAmzDate(xDate);
  if (signingMs === undefined)
    throw denied(
      'malformed',
      'IncompleteSignatureException',
      "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
    );
  const now = input.now ?? Date.now();
  if (signingMs < now - MAX_SKEW_MS) {
    throw denied(
      'skew',
      'InvalidSignatureException',
      `Signature expired: ${xDate} is now earlier than ${amzDate(now - MAX_SKEW_MS)} (${amzDate(now)} - 5 min.)`,
    );
  }
  if (signingMs > now + MAX_SKEW_MS) {
    throw denied(
      'skew',
      'InvalidSignatureException',
      `Signature not yet current: ${xDate} is still later than ${amzDate(now + MAX_SKEW_MS)} (${amzDate(now)} + 5 min.)`,
    );
  }
  if (shortDate !== xDate.slice(0, 8))
    throw denied(
      'scope',
      'InvalidSignatureException',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${shortDate}' != '${xDate.slice(0, 8)}', from '${xDate}'.`,
    );
  if (input.region !== undefined && region !== input.region)
    throw denied('scope', 'InvalidSignatureException', `Credential should be scoped to a valid region, not '${region}'.`);
  if (!input.services.includes(service))
    throw denied('scope', 'InvalidSignatureException', `Credential should be scoped to correct service: '${input.services[0]}'.`);

  const principal = input.lookup(accessKeyId);
  if (!principal) throw denied('unknown-key', 'UnrecognizedClientException', 'The security token included in the request is invalid.');
  const token = header(input.headers, 'x-amz-security-token');
  if (principal.sessionToken !== undefined) {
    if (token !== principal.sessionToken)
      throw denied('bad-token', 'UnrecognizedClientException', 'The security token included in the request is invalid.');
    if (principal.expiration !== undefined && principal.expiration <= now)
      throw denied('expired-token', 'ExpiredTokenException', 'The security token included in the request is expired');
  } else if (token) {
    throw denied('bad-token', 'UnrecognizedClientException', 'The security token included in the request is invalid.');
  }
  return { principal, accessKeyId, region, service, shortDate, signingMs, signedList, signature, token };
}

const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

/** Resolves to the caller, or throws a 403 AuthError in the service's words. */
export async function verifySigV4(input: VerifyInput): Promise<Principal> {
  return (await verifySigV4Details(input)).principal;
}

/** As verifySigV4, with what the S3 side needs to check aws-chunked chunk signatures. */
export async function verifySigV4Details(input: VerifyInput): Promise<AuthHeader> {
  const ah = checkAuthHeader(input);
  const { principal, accessKeyId, region, service, signingMs, signedList, signature, token } = ah;
  const claimed = header(input.headers, 'x-amz-content-sha256');
  if ((input.payload ?? 'body') === 'body') {
    // SageMaker and STS hash the body they received: a request signed over another hash (or over
    // UNSIGNED-PAYLOAD) does not match, whatever it claims.
    const bodyHash = createHash('sha256')
      .update(input.body ?? Buffer.alloc(0))
      .digest('hex');
    if (claimed !== undefined && claimed !== bodyHash) {
      throw denied('payload', 'InvalidSignatureException', SIGNATURE_MISMATCH);
    }
  } else if (claimed === undefined) {
    throw denied('payload', 'InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  }

  const signed = signedList.split(';');
  const headers: Record<string, string> = {};
  for (const name of signed) {
    const v = header(input.headers, name);
    if (v === undefined)
      throw denied(
        'signature',
        'InvalidSignatureException',
        `The request signature we calculated does not match the signature you provided. Signed header '${name}' is missing.`,
      );
    headers[name] = v;
  }
  // The signer takes the payload hash from x-amz-content-sha256 when present (S3), else hashes the body.
  if (claimed !== undefined) headers['x-amz-content-sha256'] = claimed;
  const signer = new SignatureV4({
    credentials: {
      accessKeyId,
      secretAccessKey: principal.secretAccessKey,
      // Only when signed: the signer adds the token header to the canonical request if given one.
      sessionToken: signed.includes('x-amz-security-token') ? token : undefined,
    },
    region,
    service,
    sha256: NodeSha256,
    applyChecksum: false,
    uriEscapePath: input.uriEscapePath ?? true,
  });
  const hostHeader = headers.host ?? header(input.headers, 'host') ?? 'localhost';
  const signedReq = await signer.sign(
    {
      method: input.method,
      protocol: 'http:',
      hostname: hostHeader.replace(/:\d+$/, ''),
      path: input.path,
      query: input.query,
      headers,
      body: input.body,
    },
    { signingDate: new Date(signingMs), signableHeaders: new Set(signed) },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(String(signedReq.headers.authorization ?? ''))?.[1] ?? '';
  if (expected.length !== 64 || !timingSafeEqual(Buffer.from(expected), Buffer.from(signature))) {
    throw denied('signature', 'InvalidSignatureException', SIGNATURE_MISMATCH);
  }
  return ah;
}

/** The SigV4 signing key (for aws-chunked chunk signatures). */
export function signingKey(secret: string, shortDate: string, region: string, service: string): Buffer {
  const h = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data).digest();
  return h(h(h(h(`AWS4${secret}`, shortDate), region), service), 'aws4_request');
}

export { amzDate };
