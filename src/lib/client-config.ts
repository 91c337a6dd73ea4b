/**
 * Turns the `sagemaker-config` node's settings (already `${ENV}`-substituted by Node-RED) and
 * credentials into validated settings and SDK client options, or a user-facing problem.
 * No Node-RED import: unit-tested on its own.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import {
  CONFIG_NUMBERS,
  EXTERNAL_ID_PATTERN,
  normaliseEndpointUrl,
  REGION_PATTERN,
  ROLE_ARN_PATTERN,
  SESSION_NAME_PATTERN,
} from './fields';
import { validateIotSettings } from './iot-credentials';
import { redactUrl } from './redact';

export type CredentialType = 'chain' | 'keys' | 'profile' | 'iot';
export type RetryMode = 'standard' | 'adaptive';

/** The raw node definition as Node-RED hands it over (any property may be missing or a string). */
export interface RawSettings {
  id?: string;
  region?: unknown;
  credentialType?: unknown;
  profile?: unknown;
  roleArn?: unknown;
  externalId?: unknown;
  roleSessionName?: unknown;
  endpoint?: unknown;
  s3Endpoint?: unknown;
  s3ForcePathStyle?: unknown;
  sqsEndpoint?: unknown;
  timeout?: unknown;
  maxAttempts?: unknown;
  retryMode?: unknown;
  iotCredentialEndpoint?: unknown;
  iotRoleAlias?: unknown;
  iotThingName?: unknown;
  iotCertFile?: unknown;
  iotKeyFile?: unknown;
  iotCaFile?: unknown;
}

export interface RawCredentials {
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  /** credentialType iot: pasted PEM (used instead of the matching file path). */
  iotCert?: string;
  iotKey?: string;
  iotCa?: string;
}

/** credentialType iot: what fromIotCertificate (iot-credentials.ts) needs. */
export interface IotConfig {
  endpoint: string;
  roleAlias: string;
  thingName?: string;
  cert?: string;
  key?: string;
  ca?: string;
  certFile?: string;
  keyFile?: string;
  caFile?: string;
}

export interface StaticKeys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface AssumeRoleSettings {
  roleArn: string;
  externalId?: string;
  roleSessionName: string;
}

/** Validated settings: every optional value is either a usable value or undefined. */
export interface ConfigSettings {
  region?: string;
  credentialType: CredentialType;
  profile?: string;
  keys?: StaticKeys;
  iot?: IotConfig;
  assumeRole?: AssumeRoleSettings;
  endpoint?: string;
  s3Endpoint?: string;
  s3ForcePathStyle: boolean;
  /** SQS endpoint URL (blank: the regional SQS). */
  sqsEndpoint?: string;
  timeoutMs: number;
  maxAttempts: number;
  retryMode: RetryMode;
}

export type ProblemCode =
  | 'region'
  | 'endpoint'
  | 'credentialType'
  | 'keysMissing'
  | 'profileMissing'
  | 'iot'
  | 'roleArn'
  | 'externalId'
  | 'roleSessionName'
  | 'timeout'
  | 'maxAttempts'
  | 'retryMode';

/**
 * Why the admin routes (Test connection, endpoint list) refuse a form before any network call
 * (README, Security).
 */
export type RouteProblemCode = 'envNotDeployed' | 'storedWithheld' | 'ambientEndpoint' | 'iotFile';

/**
 * Why a configuration cannot be used: the text is `sagemaker-config.errors.<code>` of the
 * locale file (nodes/locales/en-US/sagemaker-config.json), filled with `params`.
 */
export interface ConfigProblem {
  code: ProblemCode;
  params: Record<string, string | number>;
}

export type ParseResult = { ok: true; settings: ConfigSettings } | { ok: false; problem: ConfigProblem };

export { normaliseEndpointUrl } from './fields';
export const DEFAULT_TIMEOUT_S = CONFIG_NUMBERS.timeout.dflt;
export const MIN_TIMEOUT_S = CONFIG_NUMBERS.timeout.min;
export const MAX_TIMEOUT_S = CONFIG_NUMBERS.timeout.max;
export const DEFAULT_MAX_ATTEMPTS = CONFIG_NUMBERS.maxAttempts.dflt;
export const MAX_MAX_ATTEMPTS = CONFIG_NUMBERS.maxAttempts.max;
/** Sockets per host: enough for several worker nodes at their default concurrency. */
export const MAX_SOCKETS = 64;

function problem(code: ProblemCode, params: Record<string, string | number> = {}): ParseResult {
  return { ok: false, problem: { code, params } };
}

/**
 * A trimmed string, or undefined for missing / blank values. Node-RED leaves a whole-value
 * `${NAME}` as it is when NAME is not set, so that counts as blank too: the examples' config
 * nodes read `${AWS_REGION}` etc., and unset they mean "the SDK's own resolution".
 */
export function blankToUndefined(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  const s = String(v).trim();
  return s === '' || /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(s) ? undefined : s;
}

function parseNumber(v: unknown): number | undefined | null {
  const s = blankToUndefined(v);
  if (s === undefined) return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
}

/**
 * Validates the node's settings and credentials.
 * @param raw the node definition (properties as the editor saves them)
 * @param creds the node's Node-RED credentials
 * @returns the usable settings, or the first problem found (field order of the editor)
 */
export function parseSettings(raw: RawSettings, creds: RawCredentials = {}): ParseResult {
  const region = blankToUndefined(raw.region);
  if (region !== undefined && !REGION_PATTERN.test(region)) return problem('region', { value: region });

  const credentialType = blankToUndefined(raw.credentialType) ?? 'chain';
  // Extension point: credentialType `iot` (README "IoT devices") is added here and in credentials.ts.
  if (credentialType !== 'chain' && credentialType !== 'keys' && credentialType !== 'profile' && credentialType !== 'iot') {
    return problem('credentialType', { value: credentialType });
  }

  let keys: StaticKeys | undefined;
  let profile: string | undefined;
  let iot: IotConfig | undefined;
  if (credentialType === 'keys') {
    const accessKeyId = blankToUndefined(creds.accessKeyId);
    const secretAccessKey = blankToUndefined(creds.secretAccessKey);
    if (!accessKeyId || !secretAccessKey) return problem('keysMissing');
    keys = { accessKeyId, secretAccessKey, sessionToken: blankToUndefined(creds.sessionToken) };
  } else if (credentialType === 'profile') {
    profile = blankToUndefined(raw.profile);
    if (!profile) return problem('profileMissing');
  } else if (credentialType === 'iot') {
    const parsedIot = parseIot(raw, creds);
    if (typeof parsedIot === 'string') return problem('iot', { reason: parsedIot });
    iot = parsedIot;
  }

  let assumeRole: AssumeRoleSettings | undefined;
  const roleArn = blankToUndefined(raw.roleArn);
  if (roleArn !== undefined) {
    if (!ROLE_ARN_PATTERN.test(roleArn)) return problem('roleArn', { value: roleArn });
    const externalId = blankToUndefined(raw.externalId);
    if (externalId !== undefined && !EXTERNAL_ID_PATTERN.test(externalId)) return problem('externalId');
    const roleSessionName = blankToUndefined(raw.roleSessionName) ?? defaultSessionName(raw.id);
    if (!SESSION_NAME_PATTERN.test(roleSessionName)) return problem('roleSessionName', { value: roleSessionName });
    assumeRole = { roleArn, externalId, roleSessionName };
  }

  const urls: { endpoint?: string; s3Endpoint?: string; sqsEndpoint?: string } = {};
  for (const [key, label] of [
    ['endpoint', 'Endpoint URL'],
    ['s3Endpoint', 'S3 endpoint URL'],
    ['sqsEndpoint', 'SQS endpoint URL'],
  ] as const) {
    const value = blankToUndefined(raw[key]);
    if (value === undefined) continue;
    const url = normaliseEndpointUrl(value);
    if (!url) return problem('endpoint', { field: label, value: redactUrl(value) });
    urls[key] = url;
  }

  const timeout = parseNumber(raw.timeout);
  if (timeout === null || (timeout !== undefined && (timeout < MIN_TIMEOUT_S || timeout > MAX_TIMEOUT_S))) {
    return problem('timeout', { value: String(raw.timeout) });
  }
  const maxAttempts = parseNumber(raw.maxAttempts);
  if (
    maxAttempts === null ||
    (maxAttempts !== undefined && (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > MAX_MAX_ATTEMPTS))
  ) {
    return problem('maxAttempts', { value: String(raw.maxAttempts) });
  }
  const retryMode = blankToUndefined(raw.retryMode) ?? 'standard';
  if (retryMode !== 'standard' && retryMode !== 'adaptive') return problem('retryMode', { value: retryMode });

  return {
    ok: true,
    settings: {
      region,
      credentialType,
      profile,
      keys,
      iot,
      assumeRole,
      endpoint: urls.endpoint,
      s3Endpoint: urls.s3Endpoint,
      s3ForcePathStyle: raw.s3ForcePathStyle === true || raw.s3ForcePathStyle === 'true',
      ...(urls.sqsEndpoint ? { sqsEndpoint: urls.sqsEndpoint } : {}),
      timeoutMs: Math.round((timeout ?? DEFAULT_TIMEOUT_S) * 1000),
      maxAttempts: maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      retryMode,
    },
  };
}

/** credentialType iot: PEM text from the credentials wins over the file path of the same item. */
function parseIot(raw: RawSettings, creds: RawCredentials): IotConfig | string {
  const c: IotConfig = {
    endpoint: blankToUndefined(raw.iotCredentialEndpoint) ?? '',
    roleAlias: blankToUndefined(raw.iotRoleAlias) ?? '',
    thingName: blankToUndefined(raw.iotThingName),
  };
  for (const [item, file] of [
    ['cert', 'iotCertFile'],
    ['key', 'iotKeyFile'],
    ['ca', 'iotCaFile'],
  ] as const) {
    const pem = blankToUndefined(creds[item === 'cert' ? 'iotCert' : item === 'key' ? 'iotKey' : 'iotCa']);
    if (pem) c[item] = pem;
    else {
      const path = blankToUndefined(raw[file]);
      if (path) c[`${item}File`] = path;
    }
  }
  const reason = validateIotSettings({
    endpoint: c.endpoint,
    roleAlias: c.roleAlias,
    thingName: c.thingName,
    hasCert: !!(c.cert || c.certFile),
    hasKey: !!(c.key || c.keyFile),
  });
  return reason ?? c;
}

/** `node-red-<node id>`, cut to the 64 characters STS allows, characters STS rejects replaced. */
export function defaultSessionName(nodeId: string | undefined): string {
  const id = (nodeId ?? '').replace(/[^\w+=,.@-]/g, '-');
  return `node-red-${id || 'config'}`.slice(0, 64);
}

/** Host names of AWS's own endpoints (commercial, China, ISO partitions and `api.aws`). */
export function isAwsHost(url: string): boolean {
  const host = new URL(url).hostname.toLowerCase();
  return /(^|\.)(amazonaws\.com|amazonaws\.com\.cn|api\.aws|c2s\.ic\.gov|sc2s\.sgov\.gov)$/.test(host);
}

/**
 * Where STS calls (assume role, Test connection) go. The SDK's own `AWS_ENDPOINT_URL_STS` /
 * `AWS_ENDPOINT_URL` win (returns undefined so the SDK applies them). Otherwise a custom
 * SageMaker endpoint that is not an AWS host (the emulator, LocalStack) is taken to serve STS
 * too; an AWS host (VPC or FIPS endpoint) is not, so STS uses its regional default.
 */
export function stsEndpointFor(settings: Pick<ConfigSettings, 'endpoint'>, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.AWS_ENDPOINT_URL_STS || env.AWS_ENDPOINT_URL) return undefined;
  if (!settings.endpoint || isAwsHost(settings.endpoint)) return undefined;
  return settings.endpoint;
}

/** Options for the HTTP handler: an idle timeout that also suits long streams, keep-alive sockets. */
export interface HttpHandlerOptions {
  connectionTimeout: number;
  socketTimeout: number;
  httpAgent: http.AgentOptions;
  httpsAgent: https.AgentOptions;
}

/**
 * `socketTimeout` is an idle timer (reset by every byte), so a hung model is cut after
 * `timeoutMs` while a long stream that keeps sending is not. `requestTimeout` would be a total
 * time limit and, without `throwOnRequestTimeout`, only logs a warning (@smithy/node-http-handler).
 */
export function httpHandlerOptions(settings: Pick<ConfigSettings, 'timeoutMs'>): HttpHandlerOptions {
  const agent = { keepAlive: true, maxSockets: MAX_SOCKETS };
  return {
    connectionTimeout: settings.timeoutMs,
    socketTimeout: settings.timeoutMs,
    httpAgent: { ...agent },
    httpsAgent: { ...agent },
  };
}

/** What a client's `requestHandler` option takes to build its NodeHttpHandler. */
export interface RequestHandlerOptions {
  connectionTimeout: number;
  socketTimeout: number;
  httpAgent: http.Agent;
  httpsAgent: https.Agent;
}

/**
 * A client's `requestHandler`, given as options: the client builds its own NodeHttpHandler from
 * them (the SDK's documented form, so the package need not bundle one), with its own keep-alive
 * agents, destroyed with the client.
 */
export function createRequestHandler(settings: Pick<ConfigSettings, 'timeoutMs'>): RequestHandlerOptions {
  const o = httpHandlerOptions(settings);
  return {
    connectionTimeout: o.connectionTimeout,
    socketTimeout: o.socketTimeout,
    httpAgent: new http.Agent(o.httpAgent),
    httpsAgent: new https.Agent(o.httpsAgent),
  };
}

/** Options shared by every client built from these settings (without the request handler). */
export interface BaseClientOptions {
  region?: string;
  profile?: string;
  credentials: AwsCredentialIdentityProvider;
  maxAttempts: number;
  retryMode: RetryMode;
}

export function baseClientOptions(settings: ConfigSettings, credentials: AwsCredentialIdentityProvider): BaseClientOptions {
  const o: BaseClientOptions = { credentials, maxAttempts: settings.maxAttempts, retryMode: settings.retryMode };
  if (settings.region) o.region = settings.region;
  // With a named profile, a blank region is looked up in that profile too.
  if (settings.credentialType === 'profile' && settings.profile) o.profile = settings.profile;
  return o;
}

/** SageMakerRuntimeClient options (plus a `requestHandler`, added by the caller). */
export function runtimeClientOptions(
  settings: ConfigSettings,
  credentials: AwsCredentialIdentityProvider,
): BaseClientOptions & { endpoint?: string } {
  const o: BaseClientOptions & { endpoint?: string } = baseClientOptions(settings, credentials);
  if (settings.endpoint) o.endpoint = settings.endpoint;
  return o;
}

export interface S3Options extends BaseClientOptions {
  endpoint?: string;
  forcePathStyle?: boolean;
  requestChecksumCalculation?: 'WHEN_REQUIRED';
  responseChecksumValidation?: 'WHEN_REQUIRED';
}

/**
 * S3Client options. With a custom S3 endpoint, checksums only when required: S3-compatible
 * stores such as s3rver store the aws-chunked framing of the SDK's default checksummed uploads.
 */
export function s3ClientOptions(settings: ConfigSettings, credentials: AwsCredentialIdentityProvider): S3Options {
  const o: S3Options = baseClientOptions(settings, credentials);
  if (settings.s3Endpoint) {
    o.endpoint = settings.s3Endpoint;
    o.requestChecksumCalculation = 'WHEN_REQUIRED';
    o.responseChecksumValidation = 'WHEN_REQUIRED';
  }
  if (settings.s3ForcePathStyle) o.forcePathStyle = true;
  return o;
}

/**
 * SQSClient options. Long polls wait up to 20 s for messages (ReceiveMessage WaitTimeSeconds),
 * so the socket timeout must be longer than that whatever the config's timeout says.
 */
export function sqsClientOptions(
  settings: ConfigSettings,
  credentials: AwsCredentialIdentityProvider,
): BaseClientOptions & { endpoint?: string } {
  const o: BaseClientOptions & { endpoint?: string } = baseClientOptions(settings, credentials);
  if (settings.sqsEndpoint) o.endpoint = settings.sqsEndpoint;
  return o;
}

/** Idle time an SQS request may take: the config's timeout, but at least a long poll (20 s) plus a margin. */
export function sqsTimeoutMs(settings: Pick<ConfigSettings, 'timeoutMs'>): number {
  return Math.max(settings.timeoutMs, 30_000);
}
