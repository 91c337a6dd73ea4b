/**
 * AWS IoT Core credentials provider: a device presents its X.509 certificate over mutual TLS to
 * `https://<credential endpoint>/role-aliases/<alias>/credentials` and receives temporary AWS
 * credentials for the IAM role behind the alias. The JavaScript SDK has no provider for it.
 */
import { readFileSync } from 'node:fs';
import * as https from 'node:https';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { IOT_ROLE_ALIAS_PATTERN, IOT_THING_NAME_PATTERN } from './fields';
import { redactUrl } from './redact';

/** PEM text (string or Buffer). */
export type Pem = string | Buffer;

export interface IotCredentialsOptions {
  /** Credential endpoint: host name, `host:port`, or `https://host[:port]`. */
  endpoint: string;
  roleAlias: string;
  /** Sent as `x-amzn-iot-thingname`; required by IoT policies that use thing variables. */
  thingName?: string;
  /** Device certificate, private key and CA bundle as PEM; or the `…File` paths below. */
  cert?: Pem;
  key?: Pem;
  ca?: Pem;
  /** Read at every fetch, so a rotated certificate is picked up without a restart. */
  certFile?: string;
  keyFile?: string;
  caFile?: string;
  /** Socket idle timeout per fetch in ms (default 10 000). */
  timeoutMs?: number;
  agent?: https.Agent;
  /** Told when a refresh failed but the previous credentials are still valid and kept. */
  logger?: { warn(message: string): void };
}

/** An error from the IoT credentials provider; its message never contains key material. */
export class IotCredentialsError extends Error {
  override name = 'IotCredentialsError';
  statusCode?: number;
  code?: string;
  constructor(message: string, extra: { statusCode?: number; code?: string } = {}) {
    super(redact(message));
    if (extra.statusCode !== undefined) this.statusCode = extra.statusCode;
    if (extra.code !== undefined) this.code = extra.code;
  }
}

const HOST = /^(?=.{1,253}$)[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;
const DEFAULT_TIMEOUT_MS = 10_000;
/** Keep the last credentials after a failed refresh only while they have this much life left. */
const KEEP_ON_FAILURE_MS = 60_000;

/**
 * Parses a credential endpoint (`host`, `host:port` or `https://host[:port][/]`).
 * @throws Error naming the problem (http scheme, path, bad host or port).
 */
export function parseIotEndpoint(endpoint: string): { host: string; port: number } {
  const text = String(endpoint ?? '').trim();
  if (text === '') throw new Error('IoT credential endpoint is required');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text) && !/^https:\/\//i.test(text)) {
    throw new Error('IoT credential endpoint must use https:// (mutual TLS)');
  }
  // Echoed without user info, query or fragment (where passwords and API keys travel).
  const shown = redactUrl(text);
  let url: URL;
  try {
    url = new URL(/^https:\/\//i.test(text) ? text : `https://${text}`);
  } catch {
    throw new Error(`IoT credential endpoint "${shown}" is not a host name`);
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || url.username || url.password) {
    throw new Error(`IoT credential endpoint "${shown}" must be a host name only, without a path`);
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!HOST.test(host) && !/^[0-9a-f:.]+$/i.test(host)) {
    throw new Error(`IoT credential endpoint "${shown}" is not a host name`);
  }
  return { host, port: url.port ? Number(url.port) : 443 };
}

export interface IotSettings {
  endpoint?: string;
  roleAlias?: string;
  thingName?: string;
  /** Whether a certificate / private key is configured (as a file path or PEM text). */
  hasCert?: boolean;
  hasKey?: boolean;
}

/**
 * Checks IoT credential settings before any network call.
 * @returns the reason they cannot be used, naming the field; undefined when usable.
 */
export function validateIotSettings(s: IotSettings): string | undefined {
  if (!s.endpoint || !String(s.endpoint).trim()) {
    return 'IoT credential endpoint is required (aws iot describe-endpoint --endpoint-type iot:CredentialProvider)';
  }
  try {
    parseIotEndpoint(s.endpoint);
  } catch (err) {
    return (err as Error).message;
  }
  if (!s.roleAlias) return 'IoT role alias is required';
  if (!IOT_ROLE_ALIAS_PATTERN.test(s.roleAlias)) {
    return 'IoT role alias must be 1-128 characters of letters, digits and _=,@-';
  }
  if (s.thingName && !IOT_THING_NAME_PATTERN.test(s.thingName)) {
    return 'IoT thing name must be 1-128 characters of letters, digits and :_-';
  }
  if (!s.hasCert) return 'IoT device certificate is required (a file path or PEM text)';
  if (!s.hasKey) return 'IoT private key is required (a file path or PEM text)';
  return undefined;
}

/**
 * An SDK credentials provider backed by the AWS IoT Core credentials provider. Pass it as
 * `credentials` to any SDK v3 client: the client memoizes it and calls it again when the
 * credentials are within 5 minutes of their `expiration`.
 */
export function fromIotCertificate(options: IotCredentialsOptions): AwsCredentialIdentityProvider {
  const reason = validateIotSettings({
    endpoint: options.endpoint,
    roleAlias: options.roleAlias,
    thingName: options.thingName,
    hasCert: !!(options.cert || options.certFile),
    hasKey: !!(options.key || options.keyFile),
  });
  if (reason) throw new IotCredentialsError(reason);
  let last: AwsCredentialIdentity | undefined;
  let pending: Promise<AwsCredentialIdentity> | undefined;

  return async () => {
    try {
      // Concurrent callers (several clients sharing one provider) share one fetch.
      pending ??= fetchIotCredentials(options).finally(() => {
        pending = undefined;
      });
      last = await pending;
      return last;
    } catch (err) {
      // A blip of the credential endpoint must not fail messages while the old credentials
      // still work: the SDK asks again 5 minutes before expiry, so there is time to retry.
      if (last?.expiration && last.expiration.getTime() - Date.now() > KEEP_ON_FAILURE_MS) {
        options.logger?.warn(`${(err as Error).message}; keeping the current credentials until ${last.expiration.toISOString()}`);
        return last;
      }
      throw err;
    }
  };
}

/** One GET of the credentials endpoint. */
export async function fetchIotCredentials(options: IotCredentialsOptions): Promise<AwsCredentialIdentity> {
  const { host, port } = parseIotEndpoint(options.endpoint);
  const alias = options.roleAlias;
  const where = port === 443 ? host : `${host}:${port}`;
  const tls = loadTlsMaterial(options);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  return new Promise((resolve, reject) => {
    let req: ReturnType<typeof https.request>;
    try {
      req = https.request({
        host,
        port,
        method: 'GET',
        path: `/role-aliases/${encodeURIComponent(alias)}/credentials`,
        headers: options.thingName ? { 'x-amzn-iot-thingname': options.thingName } : {},
        ...tls,
        // No pooling by default: one fetch an hour, and no TLS material kept in a global agent.
        agent: options.agent ?? false,
      });
    } catch (err) {
      // createSecureContext throws synchronously for unreadable or mismatched PEM.
      reject(loadError(err));
      return;
    }
    // A server that refuses the client certificate after a TLS 1.3 handshake (as Node's own
    // servers do) just closes the socket: remember the handshake finished to say so.
    let handshakeDone = false;
    req.on('socket', (socket) => socket.once('secureConnect', () => (handshakeDone = true)));
    req.setTimeout(timeoutMs, () => {
      req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    });
    req.on('error', (err) => reject(requestError(err as NodeJS.ErrnoException, where, handshakeDone)));
    req.on('response', (res) => {
      handshakeDone = false;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err) => reject(requestError(err as NodeJS.ErrnoException, where, false)));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        if (status !== 200) {
          reject(statusError(status, serviceMessage(text), alias, where));
          return;
        }
        try {
          resolve(parseCredentials(text));
        } catch (err) {
          reject(err);
        }
      });
    });
    req.end();
  });
}

/** Parses the credentials endpoint's 200 body. */
export function parseCredentials(text: string): AwsCredentialIdentity {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new IotCredentialsError('IoT credentials endpoint returned a body that is not JSON');
  }
  const c = (body as { credentials?: Record<string, unknown> } | null)?.credentials;
  const ok = c && ['accessKeyId', 'secretAccessKey', 'sessionToken', 'expiration'].every((k) => typeof c[k] === 'string' && c[k] !== '');
  const expiration = ok ? new Date(c.expiration as string) : undefined;
  if (!ok || !expiration || Number.isNaN(expiration.getTime())) {
    throw new IotCredentialsError(
      'IoT credentials endpoint returned no usable credentials (expected credentials.accessKeyId, secretAccessKey, sessionToken, expiration)',
    );
  }
  return {
    accessKeyId: c.accessKeyId as string,
    secretAccessKey: c.secretAccessKey as string,
    sessionToken: c.sessionToken as string,
    expiration,
  };
}

/**
 * Re-wraps PEM blocks whose line breaks were lost or changed (pasted into a one-line field,
 * CRLF, spaces): OpenSSL only reads base64 in lines. Blocks with headers (encrypted keys) are kept.
 */
export function normalisePem(pem: string): string {
  const text = pem.trim().replace(/\r\n?/g, '\n');
  const out = text.replace(/-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g, (block, label: string, body: string) => {
    if (body.includes(':')) return block;
    const lines = body.replace(/\s+/g, '').match(/.{1,64}/g) ?? [];
    return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----`;
  });
  return `${out}\n`;
}

function loadTlsMaterial(o: IotCredentialsOptions): { cert: Pem; key: Pem; ca?: Pem } {
  const read = (file: string, what: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new IotCredentialsError(
        `cannot read the IoT ${what} file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
  };
  const pem = (v: Pem | undefined): Pem | undefined => (typeof v === 'string' ? normalisePem(v) : v);
  const cert = pem(o.cert) || (o.certFile ? read(o.certFile, 'certificate') : undefined);
  const key = pem(o.key) || (o.keyFile ? read(o.keyFile, 'private key') : undefined);
  const ca = pem(o.ca) || (o.caFile ? read(o.caFile, 'CA') : undefined);
  if (!cert) throw new IotCredentialsError('IoT device certificate is required');
  if (!key) throw new IotCredentialsError('IoT private key is required');
  return ca ? { cert, key, ca } : { cert, key };
}

function loadError(err: unknown): IotCredentialsError {
  if (err instanceof IotCredentialsError) return err;
  const e = err as NodeJS.ErrnoException;
  return new IotCredentialsError(
    `cannot use the IoT device certificate, private key or CA (not PEM, or the key does not belong to the certificate): ${e.message}`,
    { code: e.code },
  );
}

// Server certificate problems (OpenSSL verify codes as Node reports them).
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function requestError(err: NodeJS.ErrnoException, where: string, closedAfterHandshake: boolean): IotCredentialsError {
  const code = err.code;
  const detail = err.message;
  if (code && UNTRUSTED.has(code)) {
    return new IotCredentialsError(`IoT credentials endpoint ${where}: server certificate not trusted: ${detail} (set the CA)`, { code });
  }
  // The server refusing our certificate arrives as a TLS alert (…ALERT_UNKNOWN_CA, BAD_CERTIFICATE,
  // CERTIFICATE_REQUIRED…), or with TLS 1.3 as a reset right after the handshake.
  if ((code && /^ERR_SSL_(SSLV3|TLSV1|TLSV13)_ALERT_/.test(code)) || /alert/i.test(detail)) {
    return new IotCredentialsError(`IoT credentials endpoint ${where} rejected the client certificate: ${detail}`, { code });
  }
  const closed = code === 'ECONNRESET' || /socket hang up|disconnected before secure TLS/i.test(detail);
  if (closed && closedAfterHandshake) {
    return new IotCredentialsError(
      `IoT credentials endpoint ${where} rejected the client certificate: it closed the connection right after the TLS handshake (${detail}); check the certificate is signed by a CA the endpoint trusts, registered and active`,
      { code },
    );
  }
  if (closed) return new IotCredentialsError(`IoT credentials endpoint ${where} closed the connection: ${detail}`, { code });
  if (code === 'ETIMEDOUT') return new IotCredentialsError(`IoT credentials endpoint ${where}: ${detail}`, { code });
  return new IotCredentialsError(`cannot reach the IoT credentials endpoint ${where}: ${detail}`, { code });
}

function serviceMessage(text: string): string {
  try {
    const m = (JSON.parse(text) as { message?: unknown })?.message;
    if (typeof m === 'string') return m.slice(0, 300);
  } catch {
    // not JSON: fall through
  }
  return text.slice(0, 300);
}

function statusError(status: number, message: string, alias: string, where: string): IotCredentialsError {
  const said = message ? ` (${message})` : '';
  let text: string;
  if (status === 403 || status === 401) {
    text = `IoT credentials endpoint ${where}: not authorized${said}: check the IoT policy attached to the certificate allows iot:AssumeRoleWithCertificate for role alias ${alias}, the certificate is active, and the thing name matches`;
  } else if (status === 404) {
    text = `IoT credentials endpoint ${where}: role alias ${alias} not found${said}`;
  } else if (status === 400) {
    text = `IoT credentials endpoint ${where}: bad request${said}: check the thing name and role alias`;
  } else if (status === 429) {
    text = `IoT credentials endpoint ${where}: throttled${said}`;
  } else {
    text = `IoT credentials endpoint ${where} answered HTTP ${status}${said}`;
  }
  return new IotCredentialsError(text, { statusCode: status });
}

/** Removes anything that looks like PEM material (defence in depth: messages come from OpenSSL and the server). */
function redact(text: string): string {
  return text.replace(/-----BEGIN [^-]+-----[\s\S]*?(-----END [^-]+-----|$)/g, '[PEM redacted]');
}
