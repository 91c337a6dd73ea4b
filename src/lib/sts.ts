/**
 * STS `GetCallerIdentity` (awsQuery, XML answers) for the config node's Test connection, sent
 * with {@link postSigned}: the package does not ship @aws-sdk/client-sts for this one call.
 * Assuming a role (and refreshing it) stays with the SDK (credential-providers). No Node-RED import.
 */
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { postSigned, ServiceError } from './signed-request';

/** Partitions as in the SDK's endpoint data (@aws-sdk/core): region pattern, DNS suffixes. */
const PARTITIONS: Array<{ name: string; regex: RegExp; dns: string; dualStack: string }> = [
  { name: 'aws', regex: /^(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+$/, dns: 'amazonaws.com', dualStack: 'api.aws' },
  { name: 'aws-cn', regex: /^cn-\w+-\d+$/, dns: 'amazonaws.com.cn', dualStack: 'api.amazonwebservices.com.cn' },
  { name: 'aws-eusc', regex: /^eusc-(de)-\w+-\d+$/, dns: 'amazonaws.eu', dualStack: 'api.amazonwebservices.eu' },
  { name: 'aws-iso', regex: /^us-iso-\w+-\d+$/, dns: 'c2s.ic.gov', dualStack: 'api.aws.ic.gov' },
  { name: 'aws-iso-b', regex: /^us-isob-\w+-\d+$/, dns: 'sc2s.sgov.gov', dualStack: 'api.aws.scloud' },
  { name: 'aws-iso-e', regex: /^eu-isoe-\w+-\d+$/, dns: 'cloud.adc-e.uk', dualStack: 'api.cloud-aws.adc-e.uk' },
  { name: 'aws-iso-f', regex: /^us-isof-\w+-\d+$/, dns: 'csp.hci.ic.gov', dualStack: 'api.aws.hci.ic.gov' },
  { name: 'aws-us-gov', regex: /^us-gov-\w+-\d+$/, dns: 'amazonaws.com', dualStack: 'api.aws' },
];

/** The partition of a region: by its `aws-…-global` name, else by pattern, else `aws`. */
function partitionOf(region: string): (typeof PARTITIONS)[number] {
  const global = /^(aws(?:-[a-z-]+)?)-global$/.exec(region);
  return PARTITIONS.find((p) => (global ? p.name === global[1] : p.regex.test(region))) ?? PARTITIONS[0];
}

export interface StsTargetOptions {
  /** From stsEndpointFor: a custom (non-AWS) endpoint that serves STS too (the emulator). */
  endpoint?: string;
  region: string;
  /** As the SDK resolves them (AWS_USE_FIPS_ENDPOINT / use_fips_endpoint, and dual-stack). */
  useFips?: boolean;
  useDualstack?: boolean;
}

export interface StsTarget {
  url: string;
  signingRegion: string;
}

/**
 * Where STS calls go, by the rules of the SDK's STS client: the given endpoint, else
 * `AWS_ENDPOINT_URL_STS` / `AWS_ENDPOINT_URL` (unless `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`),
 * else the regional host of the region's partition (FIPS, dual-stack; `aws-global` is
 * sts.amazonaws.com). An `endpoint_url` in the shared config file is not read.
 * @throws Error for FIPS or dual-stack with a custom endpoint, as the SDK does
 */
export function stsTarget(options: StsTargetOptions, env: NodeJS.ProcessEnv = process.env): StsTarget {
  const { region, useFips = false, useDualstack = false } = options;
  const ignoreConfigured = (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS ?? '').toLowerCase() === 'true';
  const custom = options.endpoint || (ignoreConfigured ? undefined : env.AWS_ENDPOINT_URL_STS || env.AWS_ENDPOINT_URL);
  if (custom) {
    if (useFips) throw new Error('Invalid Configuration: FIPS and custom endpoint are not supported');
    if (useDualstack) throw new Error('Invalid Configuration: Dualstack and custom endpoint are not supported');
    return { url: custom, signingRegion: region };
  }
  const p = partitionOf(region);
  const at = (host: string): StsTarget => ({ url: `https://${host}`, signingRegion: region });
  if (useFips && useDualstack) return at(`sts-fips.${region}.${p.dualStack}`);
  if (useFips) return at(p.name === 'aws-us-gov' ? `sts.${region}.amazonaws.com` : `sts-fips.${region}.${p.dns}`);
  if (useDualstack) return at(`sts.${region}.${p.dualStack}`);
  if (region === 'aws-global') return { url: 'https://sts.amazonaws.com', signingRegion: 'us-east-1' };
  return at(`sts.${region}.${p.dns}`);
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function unescapeXml(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (m, e: string) => {
    if (e[0] !== '#') return ENTITIES[e.toLowerCase()] ?? m;
    const code = e[1].toLowerCase() === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
    return code <= 0x10ffff ? String.fromCodePoint(code) : m;
  });
}

/** The text of the first `<tag>` element in `xml` (no nested elements expected), if any. */
function xmlText(xml: string, tag: string): string | undefined {
  const m = new RegExp(`<${tag}(?:\\s[^>]*)?>([^<]*)</${tag}>`).exec(xml);
  return m ? unescapeXml(m[1].trim()) : undefined;
}

export interface CallerIdentity {
  Account?: string;
  Arn?: string;
  UserId?: string;
}

export interface CallerIdentityOptions {
  target: StsTarget;
  credentials: AwsCredentialIdentityProvider | AwsCredentialIdentity;
  /** Default 10 s. */
  timeoutMs?: number;
}

/**
 * Who the credentials are (one request, no retries).
 * @throws ServiceError with STS's code (e.g. InvalidClientTokenId, SignatureDoesNotMatch), its
 * message, the HTTP status and request id; or a network error
 */
export async function getCallerIdentity(options: CallerIdentityOptions): Promise<CallerIdentity> {
  const res = await postSigned({
    url: options.target.url,
    service: 'sts',
    region: options.target.signingRegion,
    credentials: options.credentials,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'Action=GetCallerIdentity&Version=2011-06-15',
    timeoutMs: options.timeoutMs,
  });
  const requestId = res.headers.get('x-amzn-requestid') ?? xmlText(res.text, 'RequestId');
  if (!res.ok) {
    // <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>
    const code = xmlText(res.text, 'Code') || `HTTP${res.status}`;
    const message = xmlText(res.text, 'Message') || res.statusText || 'request failed';
    throw new ServiceError(message, code, res.status, requestId);
  }
  if (!/<GetCallerIdentityResult[\s>]/.test(res.text)) {
    throw new ServiceError('GetCallerIdentity returned no GetCallerIdentityResult', 'SerializationException', res.status, requestId);
  }
  return { Account: xmlText(res.text, 'Account'), Arn: xmlText(res.text, 'Arn'), UserId: xmlText(res.text, 'UserId') };
}
