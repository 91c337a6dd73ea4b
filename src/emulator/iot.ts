/**
 * The AWS IoT Core credentials provider, emulated: an HTTPS server that verifies device
 * certificates against a test CA (mutual TLS) and answers
 * `GET /role-aliases/{alias}/credentials` with temporary credentials. Certificates are made at
 * run time with the `openssl` command (no dependency; present on Linux and macOS).
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';

export interface KeyPair {
  /** PEM certificate. */
  cert: string;
  /** PEM private key. */
  key: string;
}

export interface IssuedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

function run(args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { cwd }, (err, _out, stderr) => {
      if (err) reject(new Error(`openssl ${args[0]} failed: ${String(stderr).trim() || err.message}`));
      else resolve();
    });
  });
}

async function inTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'sm-emulator-pki-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// P-256 keys: fast to generate, accepted by AWS IoT and Node's TLS.
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A certificate authority that can sign device and server certificates. */
export class CertificateAuthority implements KeyPair {
  private constructor(
    readonly cert: string,
    readonly key: string,
  ) {}

  /** Creates a self-signed CA (valid 2 days). */
  static async create(commonName = 'SageMaker Runtime emulator test CA'): Promise<CertificateAuthority> {
    return inTempDir(async (dir) => {
      await run(
        [
          'req',
          '-x509',
          ...NEW_KEY,
          '-keyout',
          'ca.key',
          '-out',
          'ca.crt',
          '-days',
          '2',
          '-subj',
          `/CN=${escapeSubject(commonName)}`,
          '-addext',
          'basicConstraints=critical,CA:TRUE',
          '-addext',
          'keyUsage=critical,keyCertSign,cRLSign',
        ],
        dir,
      );
      return new CertificateAuthority(await readFile(join(dir, 'ca.crt'), 'utf8'), await readFile(join(dir, 'ca.key'), 'utf8'));
    });
  }

  /**
   * Issues a certificate signed by this CA: a device (client) certificate with the thing name as
   * CN, or, with `hosts`, a server certificate for those names / IP addresses.
   */
  issue(commonName: string, hosts?: string[]): Promise<KeyPair> {
    return inTempDir(async (dir) => {
      await writeFile(join(dir, 'ca.crt'), this.cert);
      await writeFile(join(dir, 'ca.key'), this.key, { mode: 0o600 });
      const ext = ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment'];
      if (hosts?.length) {
        const san = hosts.map((h) => (/^[0-9.]+$|:/.test(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
        ext.push('extendedKeyUsage=serverAuth', `subjectAltName=${san}`);
      } else {
        ext.push('extendedKeyUsage=clientAuth');
      }
      await writeFile(join(dir, 'ext.cnf'), ext.join('\n') + '\n');
      await run(['req', '-new', ...NEW_KEY, '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', `/CN=${escapeSubject(commonName)}`], dir);
      await run(
        [
          'x509',
          '-req',
          '-in',
          'leaf.csr',
          '-CA',
          'ca.crt',
          '-CAkey',
          'ca.key',
          '-set_serial',
          `0x${randomUUID().replace(/-/g, '').slice(0, 16)}`,
          '-days',
          '2',
          '-sha256',
          '-extfile',
          'ext.cnf',
          '-out',
          'leaf.crt',
        ],
        dir,
      );
      return { cert: await readFile(join(dir, 'leaf.crt'), 'utf8'), key: await readFile(join(dir, 'leaf.key'), 'utf8') };
    });
  }
}

function escapeSubject(v: string): string {
  return v.replace(/[/\\=+,]/g, (c) => `\\${c}`);
}

export interface IotServerOptions {
  host?: string; // default 127.0.0.1
  port?: number; // default 0
  /** CA that signs device certificates (trusted for client auth) and, by default, the server certificate. */
  ca: CertificateAuthority;
  /** Server certificate; default: issued by `ca` for host, localhost and 127.0.0.1. */
  server?: KeyPair;
  /** Role aliases that exist (default ['sagemaker-emulator']). */
  roleAliases?: string[];
  /** Makes the temporary credentials for a request that passed all checks. */
  /** `certificateId`: SHA-256 of the device certificate in hex, as AWS IoT names certificates. */
  issue(roleAlias: string, thingName: string | undefined, certificateId: string): IssuedCredentials | Promise<IssuedCredentials>;
}

export interface IotServerStats {
  /** HTTP requests received (after a successful TLS handshake). */
  requests: number;
  /** Credentials issued. */
  issued: number;
  /** Answers by status (403, 404, …). */
  errors: Record<string, number>;
  /** TLS handshakes refused (client certificate missing or not signed by the CA, …). */
  tlsRejected: number;
}

export interface IotServerHandle {
  /** `https://host:port` */
  url: string;
  /** `host:port`, the form `iotCredentialEndpoint` takes. */
  endpoint: string;
  /** PEM of the CA that signed the server certificate (what a client must trust). */
  ca: string;
  roleAliases: string[];
  stats(): IotServerStats;
  /** A device certificate for a thing, signed by the test CA. */
  issueDeviceCertificate(thingName: string): Promise<KeyPair>;
  close(): Promise<void>;
}

/** Starts the emulated IoT credentials provider. */
export async function startIotCredentialsServer(options: IotServerOptions): Promise<IotServerHandle> {
  const host = options.host ?? '127.0.0.1';
  const ca = options.ca;
  const server = options.server ?? (await ca.issue('localhost', [...new Set([host, 'localhost', '127.0.0.1'])]));
  const aliases = options.roleAliases ?? ['sagemaker-emulator'];
  const stats: IotServerStats = { requests: 0, issued: 0, errors: {}, tlsRejected: 0 };

  const https: Server = createServer({
    cert: server.cert,
    key: server.key,
    ca: ca.cert,
    requestCert: true,
    rejectUnauthorized: true,
  });
  https.on('tlsClientError', () => {
    stats.tlsRejected++;
  });

  https.on('request', (req, res) => {
    stats.requests++;
    const requestId = randomUUID();
    const fail = (status: number, type: string, message: string): void => {
      stats.errors[status] = (stats.errors[status] ?? 0) + 1;
      res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-requestid': requestId, 'x-amzn-errortype': type });
      res.end(JSON.stringify({ message }));
    };
    req.resume();
    const match = /^\/role-aliases\/([^/?]+)\/credentials(\?.*)?$/.exec(req.url ?? '');
    if (!match) return fail(404, 'ResourceNotFoundException', 'Not Found');
    if (req.method !== 'GET') return fail(405, 'MethodNotAllowedException', 'Method Not Allowed');
    let alias: string;
    try {
      alias = decodeURIComponent(match[1]!);
    } catch {
      return fail(400, 'InvalidRequestException', 'Invalid role alias');
    }
    if (!aliases.includes(alias)) return fail(404, 'ResourceNotFoundException', 'Role alias does not exist');
    // Real IoT checks the thing is attached to the certificate; here the certificate's CN is the thing.
    const peer = (req.socket as TLSSocket).getPeerCertificate();
    const cn = peer?.subject?.CN;
    const thingHeader = req.headers['x-amzn-iot-thingname'];
    const thingName = Array.isArray(thingHeader) ? thingHeader[0] : thingHeader;
    if (thingName !== undefined && thingName !== cn) {
      return fail(403, 'AccessDeniedException', 'Access Denied');
    }
    Promise.resolve()
      .then(() =>
        options.issue(
          alias,
          thingName,
          String(peer.fingerprint256 ?? '')
            .replace(/:/g, '')
            .toLowerCase(),
        ),
      )
      .then((c) => {
        stats.issued++;
        res.writeHead(200, { 'content-type': 'application/json', 'x-amzn-requestid': requestId });
        res.end(
          JSON.stringify({
            credentials: {
              accessKeyId: c.accessKeyId,
              secretAccessKey: c.secretAccessKey,
              sessionToken: c.sessionToken,
              expiration: c.expiration.toISOString().replace(/\.\d{3}Z$/, 'Z'),
            },
          }),
        );
      })
      .catch((err: Error) => fail(500, 'InternalFailureException', err.message));
  });

  await new Promise<void>((resolve, reject) => {
    https.once('error', reject);
    https.listen(options.port ?? 0, host, () => {
      https.off('error', reject);
      resolve();
    });
  });
  const { port } = https.address() as AddressInfo;
  const hostPart = host.includes(':') ? `[${host}]` : host;

  return {
    url: `https://${hostPart}:${port}`,
    endpoint: `${hostPart}:${port}`,
    ca: ca.cert,
    roleAliases: aliases,
    stats: () => ({ ...stats, errors: { ...stats.errors } }),
    issueDeviceCertificate: (thingName) => ca.issue(thingName),
    close: () =>
      new Promise<void>((resolve) => {
        https.close(() => resolve());
        https.closeAllConnections();
      }),
  };
}

/** `startEmulator({ iot })`: `true` for defaults. */
export interface EmulatorIotOptions {
  /** Role aliases that exist (default ['sagemaker-emulator']). */
  roleAliases?: string[];
  /** Lifetime of the issued credentials in seconds (default 3600, as a real role alias). */
  durationSeconds?: number;
  /** CA for device and server certificates (default: a new one). */
  ca?: CertificateAuthority;
  server?: KeyPair;
  port?: number;
}

/** What the emulator's credential store offers (src/emulator/sts.ts CredentialStore). */
export interface SessionIssuer {
  readonly accountId: string;
  issue(
    roleArn: string,
    sessionName: string,
    lifetimeSeconds: number,
  ): { accessKeyId: string; secretAccessKey: string; sessionToken?: string; expiration?: number };
}

/**
 * Starts the IoT credentials endpoint for the emulator. Credentials come from the emulator's
 * own credential store, so SageMaker Runtime (and the embedded S3) accept them until they expire.
 * The role behind alias X is `arn:aws:iam::<account>:role/X`; as in AWS, the session name is the
 * certificate ID.
 */
export async function startEmulatorIot(
  options: true | EmulatorIotOptions,
  ctx: { host: string; store: SessionIssuer },
): Promise<IotServerHandle> {
  const o: EmulatorIotOptions = options === true ? {} : options;
  const lifetime = o.durationSeconds ?? 3600;
  return startIotCredentialsServer({
    host: ctx.host,
    port: o.port ?? 0,
    ca: o.ca ?? (await CertificateAuthority.create()),
    server: o.server,
    roleAliases: o.roleAliases,
    issue(roleAlias, _thingName, certificateId) {
      const p = ctx.store.issue(`arn:aws:iam::${ctx.store.accountId}:role/${roleAlias}`, certificateId, lifetime);
      return {
        accessKeyId: p.accessKeyId,
        secretAccessKey: p.secretAccessKey,
        sessionToken: p.sessionToken ?? '',
        expiration: new Date(p.expiration ?? Date.now() + lifetime * 1000),
      };
    },
  });
}
