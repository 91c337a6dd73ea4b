/**
 * The settings the admin routes (Test connection, the endpoint-name list) may use for a form the
 * editor posts. The rules (README, Security):
 *
 * - posted values are never `${ENV}`-substituted: a field whose text equals the deployed node's
 *   own (unsubstituted) text takes the deployed node's value, any other `${…}` is refused;
 * - stored credentials (keys, session token, IoT PEM) and IoT file paths are used only when the
 *   form keeps the deployed node's endpoint URL, region and credential type (and IoT credential
 *   endpoint, role alias, thing name); otherwise only credentials typed in the form count;
 * - credentials of the Node-RED host (`chain`, `profile`) go only to an endpoint URL that a
 *   deployed config node uses (or the AWS default, when the URL is blank).
 *
 * No Node-RED import: unit-tested on its own.
 */
import {
  blankToUndefined,
  normaliseEndpointUrl,
  parseSettings,
  type ConfigSettings,
  type ProblemCode,
  type RawCredentials,
  type RawSettings,
  type RouteProblemCode,
} from './client-config';
import { CONFIG_CREDENTIALS, CONFIG_FIELDS } from './fields';

/** Node-RED's placeholder for a stored password that the editor does not see. */
export const PASSWORD_PLACEHOLDER = '__PWRD__';

export const CREDENTIAL_FIELDS = CONFIG_CREDENTIALS;
export const SETTING_FIELDS = CONFIG_FIELDS;

export type SettingField = (typeof SETTING_FIELDS)[number];

/** The editor's labels, for messages that name a field. */
export const FIELD_LABELS: Record<SettingField, string> = {
  region: 'Region',
  credentialType: 'Credentials',
  profile: 'Profile',
  roleArn: 'Role ARN',
  externalId: 'External ID',
  roleSessionName: 'Role session name',
  endpoint: 'Endpoint URL',
  s3Endpoint: 'S3 endpoint',
  s3ForcePathStyle: 'S3 path style',
  sqsEndpoint: 'SQS endpoint',
  timeout: 'Timeout',
  maxAttempts: 'Max attempts',
  retryMode: 'Retry mode',
  iotCredentialEndpoint: 'Credential endpoint',
  iotRoleAlias: 'Role alias',
  iotThingName: 'Thing name',
  iotCertFile: 'Certificate file',
  iotKeyFile: 'Private key file',
  iotCaFile: 'CA file',
};

const IOT_FILES = [
  ['iotCertFile', 'iotCert', 'certificate'],
  ['iotKeyFile', 'iotKey', 'private key'],
  ['iotCaFile', 'iotCa', 'CA'],
] as const;

/** The deployed `sagemaker-config` node with the id the form was posted for. */
export interface DeployedConfig {
  /** Its properties as in the flow, before `${ENV}` substitution. */
  raw: Partial<Record<string, unknown>>;
  /** The same after substitution: what the running node uses. */
  resolved: Partial<Record<string, unknown>>;
  /** Its stored credentials. */
  credentials: RawCredentials;
}

export interface FormInput {
  id: string;
  /** The posted JSON: `{ settings, credentials }`. */
  body: unknown;
  deployed?: DeployedConfig;
  /** Normalised endpoint URLs that deployed `sagemaker-config` nodes use. */
  deployedEndpoints: Iterable<string>;
}

export type FormResult =
  | { ok: true; settings: ConfigSettings; secrets: string[]; usesStored: boolean }
  | { ok: false; code: ProblemCode | RouteProblemCode; params: Record<string, string | number>; secrets: string[] };

function record(v: unknown): Record<string, unknown> {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** Same text as the editor shows it (missing, null and '' alike). */
function sameText(a: unknown, b: unknown): boolean {
  const s = (v: unknown) => (v === undefined || v === null ? '' : String(v));
  return s(a) === s(b);
}

/** A value as it takes effect, for deciding whether the form keeps the deployed one. */
function effective(field: SettingField, v: unknown): string | undefined {
  const s = blankToUndefined(v);
  if (field === 'credentialType') return s ?? 'chain';
  if (field === 'endpoint' && s !== undefined) return normaliseEndpointUrl(s) ?? s;
  return s;
}

/**
 * Decides the settings and credentials an admin route may use for a posted form.
 * @returns usable settings (and the secrets to scrub from any answer), or the first reason not
 *   to make any network call, as a `sagemaker-config.errors.<code>` with its parameters (values
 *   that came from the environment are shown as their `${…}` text)
 */
export function resolveForm(input: FormInput): FormResult {
  const { deployed } = input;
  const body = record(input.body);
  const form = record(body.settings);
  const formCreds = record(body.credentials);
  const storedCreds = deployed?.credentials ?? {};
  const secrets = [storedCreds.secretAccessKey, storedCreds.sessionToken, storedCreds.iotKey].filter(
    (s): s is string => typeof s === 'string' && s !== '',
  );
  // Environment values the deployed node got, to be shown as the `${…}` text they came from.
  const expanded: Array<[string, string]> = [];
  const fail = (code: ProblemCode | RouteProblemCode, params: Record<string, string | number> = {}): FormResult => {
    const shown: Record<string, string | number> = {};
    for (const [k, v] of Object.entries(params)) {
      let t = String(v);
      for (const [value, text] of expanded) if (value.length >= 2) t = t.split(value).join(text);
      shown[k] = typeof v === 'number' ? v : t;
    }
    return { ok: false, code, params: shown, secrets };
  };

  const raw: RawSettings = { id: input.id };
  for (const f of SETTING_FIELDS) {
    const posted = form[f];
    if (deployed && sameText(posted, deployed.raw[f])) {
      const value = deployed.resolved[f];
      raw[f] = value;
      if (!sameText(value, deployed.raw[f]) && typeof value === 'string') expanded.push([value, String(deployed.raw[f])]);
    } else {
      if (typeof posted === 'string' && posted.includes('${')) return fail('envNotDeployed', { field: FIELD_LABELS[f] });
      raw[f] = posted;
    }
  }

  const credentialType = effective('credentialType', raw.credentialType);
  const binding: SettingField[] = ['endpoint', 'region', 'credentialType'];
  if (credentialType === 'iot') binding.push('iotCredentialEndpoint', 'iotRoleAlias', 'iotThingName');
  const bound = !!deployed && binding.every((f) => effective(f, raw[f]) === effective(f, deployed.resolved[f]));

  const creds: RawCredentials = {};
  let withheld = false;
  let usesStored = false;
  for (const c of CREDENTIAL_FIELDS) {
    const v = formCreds[c];
    if (v === PASSWORD_PLACEHOLDER || v === undefined) {
      const stored = storedCreds[c];
      if (bound) {
        creds[c] = stored;
        if (stored) usesStored = true;
      } else if (stored) withheld = true;
    } else creds[c] = typeof v === 'string' ? v : undefined;
  }
  for (const c of ['secretAccessKey', 'sessionToken', 'iotKey'] as const) {
    const s = creds[c];
    if (s && !secrets.includes(s)) secrets.push(s);
  }

  // File paths are read only as deployed: a route that reads any posted path would tell
  // whether a file exists, and present any readable key file to any host.
  for (const [fileField, pemField, item] of IOT_FILES) {
    const path = blankToUndefined(raw[fileField]);
    if (credentialType !== 'iot' || blankToUndefined(creds[pemField])) {
      raw[fileField] = undefined;
      continue;
    }
    if (path === undefined) continue;
    if (!bound || path !== blankToUndefined(deployed?.resolved[fileField])) return fail('iotFile', { item });
    usesStored = true;
  }

  const parsed = parseSettings(raw, creds);
  if (!parsed.ok) {
    const missing =
      parsed.problem.code === 'keysMissing' ||
      (parsed.problem.code === 'iot' && / is required \(a file path or PEM text\)$/.test(String(parsed.problem.params.reason ?? '')));
    if (withheld && missing) return fail('storedWithheld');
    return fail(parsed.problem.code, parsed.problem.params);
  }
  const settings = parsed.settings;
  if ((settings.credentialType === 'chain' || settings.credentialType === 'profile') && settings.endpoint) {
    const named = new Set(input.deployedEndpoints);
    if (!named.has(settings.endpoint)) return fail('ambientEndpoint', { type: settings.credentialType });
  }
  return { ok: true, settings, secrets, usesStored };
}
