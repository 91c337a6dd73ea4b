/**
 * The emulator's own STS (AssumeRole, GetCallerIdentity; awsQuery XML) and the one SageMaker
 * control-plane call the editor needs (ListEndpoints; awsJson1.1), served on the same port.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { ApiError, xmlEscape } from './errors';
import type { Principal } from './sigv4';

const STS_NS = 'https://sts.amazonaws.com/doc/2011-06-15/';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

function randomId(prefix: string, n: number): string {
  let s = prefix;
  for (let i = 0; i < n; i++) s += ALNUM[randomInt(ALNUM.length)];
  return s;
}

/** Static key pairs plus the session credentials this emulator's STS has issued. */
export class CredentialStore {
  private readonly keys = new Map<string, Principal>();

  constructor(
    readonly accountId: string,
    staticKeys: Array<{ accessKeyId: string; secretAccessKey: string }>,
  ) {
    for (const k of staticKeys) {
      this.keys.set(k.accessKeyId, { ...k, arn: `arn:aws:iam::${accountId}:root`, userId: accountId });
    }
  }

  lookup(accessKeyId: string): Principal | undefined {
    return this.keys.get(accessKeyId);
  }

  issue(roleArn: string, sessionName: string, lifetimeSeconds: number): Principal {
    const now = Date.now();
    for (const [id, p] of this.keys) if (p.expiration !== undefined && p.expiration < now - 3600_000) this.keys.delete(id);
    const roleName = roleArn.split('/').pop() || 'role';
    const p: Principal = {
      accessKeyId: randomId('ASIA', 16),
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: `FwoGZXIvYXdzE${randomBytes(96).toString('base64')}`,
      expiration: now + lifetimeSeconds * 1000,
      arn: `arn:aws:sts::${this.accountId}:assumed-role/${roleName}/${sessionName}`,
      userId: `${randomId('AROA', 16)}:${sessionName}`,
    };
    this.keys.set(p.accessKeyId, p);
    return p;
  }

  issuedKeys(): string[] {
    return [...this.keys.values()].filter((p) => p.sessionToken !== undefined).map((p) => p.accessKeyId);
  }
}

const stsError = (code: string, message: string, status = 400): ApiError => new ApiError(status, code, message);

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function assumeRole(
  params: URLSearchParams,
  store: CredentialStore,
  maxLifetimeSeconds: number | undefined,
  requestId: string,
): string {
  const roleArn = params.get('RoleArn');
  const sessionName = params.get('RoleSessionName');
  if (!roleArn)
    throw stsError(
      'ValidationError',
      "1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null",
    );
  if (roleArn.length < 20 || roleArn.length > 2048 || !/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@\-/]+$/.test(roleArn)) {
    throw stsError('ValidationError', `${roleArn} is invalid`);
  }
  if (!sessionName)
    throw stsError(
      'ValidationError',
      "1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null",
    );
  if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) {
    throw stsError(
      'ValidationError',
      `1 validation error detected: Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`,
    );
  }
  const externalId = params.get('ExternalId');
  if (externalId !== null && !/^[\w+=,.@:/-]{2,1224}$/.test(externalId)) {
    throw stsError(
      'ValidationError',
      `1 validation error detected: Value '${externalId}' at 'externalId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@:\\/-]*`,
    );
  }
  let duration = 3600;
  const d = params.get('DurationSeconds');
  if (d !== null) {
    duration = Number(d);
    if (!Number.isInteger(duration) || duration < 900 || duration > 43200) {
      throw stsError(
        'ValidationError',
        `1 validation error detected: Value '${d}' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200`,
      );
    }
  }
  const lifetime = maxLifetimeSeconds !== undefined ? Math.min(duration, maxLifetimeSeconds) : duration;
  const p = store.issue(roleArn, sessionName, lifetime);
  return (
    `<AssumeRoleResponse xmlns="${STS_NS}">\n  <AssumeRoleResult>\n` +
    `    <AssumedRoleUser>\n      <Arn>${xmlEscape(p.arn)}</Arn>\n      <AssumedRoleId>${xmlEscape(p.userId)}</AssumedRoleId>\n    </AssumedRoleUser>\n` +
    `    <Credentials>\n      <AccessKeyId>${p.accessKeyId}</AccessKeyId>\n      <SecretAccessKey>${p.secretAccessKey}</SecretAccessKey>\n` +
    `      <SessionToken>${p.sessionToken}</SessionToken>\n      <Expiration>${iso(p.expiration as number)}</Expiration>\n    </Credentials>\n` +
    `    <PackedPolicySize>0</PackedPolicySize>\n  </AssumeRoleResult>\n` +
    `  <ResponseMetadata>\n    <RequestId>${requestId}</RequestId>\n  </ResponseMetadata>\n</AssumeRoleResponse>\n`
  );
}

export function getCallerIdentity(principal: Principal | undefined, accountId: string, requestId: string): string {
  const arn = principal?.arn ?? `arn:aws:iam::${accountId}:root`;
  const userId = principal?.userId ?? accountId;
  return (
    `<GetCallerIdentityResponse xmlns="${STS_NS}">\n  <GetCallerIdentityResult>\n` +
    `    <Arn>${xmlEscape(arn)}</Arn>\n    <UserId>${xmlEscape(userId)}</UserId>\n    <Account>${accountId}</Account>\n` +
    `  </GetCallerIdentityResult>\n  <ResponseMetadata>\n    <RequestId>${requestId}</RequestId>\n  </ResponseMetadata>\n</GetCallerIdentityResponse>\n`
  );
}

/** Auth failures carry STS's own codes on the STS route. */
export function toStsAuthCode(code: string): string {
  return (
    {
      InvalidSignatureException: 'SignatureDoesNotMatch',
      UnrecognizedClientException: 'InvalidClientTokenId',
      ExpiredTokenException: 'ExpiredToken',
      MissingAuthenticationTokenException: 'MissingAuthenticationToken',
      IncompleteSignatureException: 'IncompleteSignature',
    }[code] ?? code
  );
}

export function listEndpoints(names: string[], region: string, accountId: string, createdAt: number): string {
  const t = Math.floor(createdAt / 1000);
  return JSON.stringify({
    Endpoints: [...names].sort().map((name) => ({
      EndpointName: name,
      EndpointArn: `arn:aws:sagemaker:${region}:${accountId}:endpoint/${name.toLowerCase()}`,
      CreationTime: t,
      LastModifiedTime: t,
      EndpointStatus: 'InService',
    })),
  });
}
