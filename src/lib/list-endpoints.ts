/**
 * SageMaker `ListEndpoints` (control plane, awsJson1.1) for the editor's endpoint-name list,
 * signed with SigV4 directly: the package does not depend on @aws-sdk/client-sagemaker for
 * this one call. No Node-RED import.
 */
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { isAwsHost } from './client-config';
import { postSigned, ServiceError } from './signed-request';

/** Pages fetched at most (100 names each): enough for the dropdown, bounded for a slow account. */
export const MAX_PAGES = 10;
const PAGE_SIZE = 100;

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
 * @throws ServiceError with the service's code, HTTP status and request id, or a network error
 */
export async function listInServiceEndpoints(options: ListEndpointsOptions): Promise<string[]> {
  const names = new Set<string>();
  let nextToken: string | undefined;
  for (let page = 0; page < (options.maxPages ?? MAX_PAGES); page++) {
    const body = JSON.stringify({ StatusEquals: 'InService', MaxResults: PAGE_SIZE, ...(nextToken ? { NextToken: nextToken } : {}) });
    const res = await postSigned({
      url: options.url,
      service: 'sagemaker',
      region: options.region,
      credentials: options.credentials,
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'SageMaker.ListEndpoints' },
      body,
      timeoutMs: options.timeoutMs,
    });
    const text = res.text;
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
      throw new ServiceError(message, code, res.status, res.headers.get('x-amzn-requestid') ?? undefined);
    }
    if (!parsed || typeof parsed !== 'object')
      throw new ServiceError('ListEndpoints returned no JSON', 'SerializationException', res.status);
    const result = parsed as ListPage;
    for (const e of result.Endpoints ?? []) {
      if (e.EndpointName && (!e.EndpointStatus || e.EndpointStatus === 'InService')) names.add(e.EndpointName);
    }
    nextToken = result.NextToken;
    if (!nextToken) break;
  }
  return [...names].sort();
}
