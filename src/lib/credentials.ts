/**
 * Picks the credential provider for a validated `sagemaker-config`: the SDK's own providers,
 * wrapped so both clients of a config node share one resolution (one AssumeRole, not two) and
 * errors say which profile or role failed.
 */
import { fromIni, fromNodeProviderChain, fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { ConfigSettings } from './client-config';
import { fromIotCertificate } from './iot-credentials';
import { stsEndpointFor } from './client-config';

/** Refresh this long before temporary credentials expire (the SDK's own providers use 5 min). */
const REFRESH_MARGIN_MS = 5 * 60 * 1000;

/**
 * Caches a provider's credentials until shortly before they expire. A failed resolution is
 * not cached, so the next request tries again (a profile file fixed, a network back).
 */
export function memoizeCredentials(provider: AwsCredentialIdentityProvider, now: () => number = Date.now): AwsCredentialIdentityProvider {
  let pending: Promise<AwsCredentialIdentity> | undefined;
  let current: AwsCredentialIdentity | undefined;
  return async (props) => {
    if (current && (!current.expiration || current.expiration.getTime() - now() > REFRESH_MARGIN_MS)) return current;
    pending ??= provider(props).then(
      (c) => {
        current = c;
        pending = undefined;
        return c;
      },
      (err: unknown) => {
        pending = undefined;
        throw err;
      },
    );
    return pending;
  };
}

/** Adds context to a provider's error without losing its name (CredentialsProviderError …). */
function withContext(provider: AwsCredentialIdentityProvider, context: string, mustMention: string): AwsCredentialIdentityProvider {
  return async (props) => {
    try {
      return await provider(props);
    } catch (err) {
      if (err instanceof Error && !err.message.includes(mustMention)) err.message = `${context}: ${err.message}`;
      throw err;
    }
  };
}

/** The base credentials, before any assumed role. */
export function baseCredentialProvider(settings: ConfigSettings): AwsCredentialIdentityProvider {
  switch (settings.credentialType) {
    case 'keys': {
      const keys = settings.keys;
      if (!keys) throw new Error('credential type keys without keys');
      const identity: AwsCredentialIdentity = {
        accessKeyId: keys.accessKeyId,
        secretAccessKey: keys.secretAccessKey,
        ...(keys.sessionToken ? { sessionToken: keys.sessionToken } : {}),
      };
      return async () => identity;
    }
    case 'profile': {
      const profile = settings.profile ?? '';
      return withContext(fromIni({ profile }), `Profile "${profile}"`, `[${profile}]`);
    }
    case 'chain':
      return fromNodeProviderChain();
    case 'iot': {
      if (!settings.iot) throw new Error('credential type iot without IoT settings');
      return fromIotCertificate(settings.iot);
    }
    default: {
      const unknown: never = settings.credentialType;
      throw new Error(`Unsupported credential type ${String(unknown)}`);
    }
  }
}

/** Tells `observe` about every identity `provider` resolves (to scrub its secrets from errors). */
export function observeCredentials(
  provider: AwsCredentialIdentityProvider,
  observe: (identity: AwsCredentialIdentity) => void,
): AwsCredentialIdentityProvider {
  return async (props) => {
    const identity = await provider(props);
    observe(identity);
    return identity;
  };
}

/**
 * The provider a config node's clients use: the base credentials, or, with a role ARN, the
 * role assumed through STS on top of them (refreshed before expiry). STS goes to
 * {@link stsEndpointFor}: `AWS_ENDPOINT_URL_STS` if set, else a non-AWS custom endpoint.
 * @param env for tests; defaults to process.env
 * @param observe told of every identity resolved, the base one under an assumed role included
 */
export function createCredentialProvider(
  settings: ConfigSettings,
  env: NodeJS.ProcessEnv = process.env,
  observe?: (identity: AwsCredentialIdentity) => void,
): AwsCredentialIdentityProvider {
  const seen = (p: AwsCredentialIdentityProvider) => (observe ? observeCredentials(p, observe) : p);
  const base = seen(baseCredentialProvider(settings));
  if (!settings.assumeRole) return memoizeCredentials(base);
  const { roleArn, externalId, roleSessionName } = settings.assumeRole;
  const stsEndpoint = stsEndpointFor(settings, env);
  const clientConfig: { region?: string; endpoint?: string; profile?: string } = {};
  if (settings.region) clientConfig.region = settings.region;
  if (stsEndpoint) clientConfig.endpoint = stsEndpoint;
  if (settings.credentialType === 'profile') clientConfig.profile = settings.profile;
  const assumed = fromTemporaryCredentials({
    params: { RoleArn: roleArn, RoleSessionName: roleSessionName, ...(externalId ? { ExternalId: externalId } : {}) },
    masterCredentials: memoizeCredentials(base),
    clientConfig,
  });
  return memoizeCredentials(seen(withContext(assumed, `Assuming role ${roleArn}`, roleArn)));
}
