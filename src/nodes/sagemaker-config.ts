/**
 * `sagemaker-config`: region, credentials, endpoint overrides, timeout and retries; owns the
 * SDK clients shared by every worker node that uses it (README "Credentials and IAM").
 */
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import {
  blankToUndefined,
  createRequestHandler,
  DEFAULT_TIMEOUT_S,
  baseClientOptions,
  parseSettings,
  runtimeClientOptions,
  s3ClientOptions,
  sqsClientOptions,
  sqsTimeoutMs,
  stsEndpointFor,
  substituteEnv,
  type ConfigSettings,
  type RawCredentials,
  type RawSettings,
} from '../lib/client-config';
import { createCredentialProvider } from '../lib/credentials';
import { CONFIG_CREDENTIALS as CREDENTIAL_FIELDS, CONFIG_FIELDS as SETTING_FIELDS } from '../lib/fields';
import { listEndpointsUrl, listInServiceEndpoints } from '../lib/list-endpoints';
import { errorSummary as errorText } from '../lib/errors';
import { configText, type SageMakerConfigNode } from './config-api';
import type { NodeDef, RED } from './red';

/** Node-RED's placeholder for a stored password that the editor does not see. */
const PASSWORD_PLACEHOLDER = '__PWRD__';

type TestResult = { ok: true; account?: string; arn?: string; region: string } | { ok: false; error: string };
type EndpointsResult = { ok: true; endpoints: string[] } | { ok: false; error: string };

/** Removes secret values from a text that may quote them (an SDK error message). */
function scrub(text: string, secrets: Array<string | undefined>): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('***');
  return out;
}

export = function (RED: RED) {
  function SageMakerConfig(this: SageMakerConfigNode, def: NodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const parsed = parseSettings(def as RawSettings, (node.credentials ?? {}) as RawCredentials);
    let runtime: SageMakerRuntimeClient | undefined;
    let s3: S3Client | undefined;
    let sqs: SQSClient | undefined;
    let credentials: ReturnType<typeof createCredentialProvider> | undefined;
    // Kept in the closure, not on the node: the settings hold the keys.
    const settings = parsed.ok ? parsed.settings : undefined;

    if (parsed.ok) {
      node.configError = undefined;
      node.region = parsed.settings.region;
      node.timeoutMs = parsed.settings.timeoutMs;
    } else {
      node.configError = configText(RED, parsed.problem.code, parsed.problem.params);
      node.region = blankToUndefined(def.region);
      node.timeoutMs = DEFAULT_TIMEOUT_S * 1000;
      // Config nodes have no status: say it once in the log (the texts never hold secrets).
      node.warn(node.configError);
    }

    let closed = false;
    function usable(): ConfigSettings {
      if (!settings) throw new Error(node.configError);
      // A client built after close would never be destroyed.
      if (closed) throw new Error('This sagemaker-config node was stopped (redeploy)');
      return settings;
    }
    function sharedCredentials(s: ConfigSettings) {
      credentials ??= createCredentialProvider(s);
      return credentials;
    }

    node.runtimeClient = function () {
      if (!runtime) {
        const s = usable();
        runtime = new SageMakerRuntimeClient({
          ...runtimeClientOptions(s, sharedCredentials(s)),
          requestHandler: createRequestHandler(s),
        });
      }
      return runtime;
    };

    node.s3Client = function () {
      if (!s3) {
        const s = usable();
        s3 = new S3Client({
          ...s3ClientOptions(s, sharedCredentials(s)),
          requestHandler: createRequestHandler(s),
        });
      }
      return s3;
    };

    node.sqsClient = function () {
      if (!sqs) {
        const s = usable();
        sqs = new SQSClient({
          ...sqsClientOptions(s, sharedCredentials(s)),
          requestHandler: createRequestHandler({ timeoutMs: sqsTimeoutMs(s) }),
        });
      }
      return sqs;
    };

    node.resolveRegion = async function () {
      return node.runtimeClient().config.region();
    };

    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      runtime?.destroy();
      s3?.destroy();
      sqs?.destroy();
      runtime = undefined;
      s3 = undefined;
      sqs = undefined;
      credentials = undefined;
      done();
    });
  }

  RED.nodes.registerType('sagemaker-config', SageMakerConfig, {
    credentials: {
      accessKeyId: { type: 'text' },
      secretAccessKey: { type: 'password' },
      sessionToken: { type: 'password' },
      // PEM pasted in the editor (credentialType iot); the key never goes back to the editor.
      iotCert: { type: 'text' },
      iotKey: { type: 'password' },
      iotCa: { type: 'text' },
    },
  });

  /**
   * Settings of the editor's current form (posted as `{ settings, credentials }`), with the
   * deployed node's stored passwords standing in for `__PWRD__` or absent credentials; the
   * secrets come back too, to be scrubbed from error texts.
   */
  function formSettings(id: string, body: Record<string, unknown>):
    | { ok: true; settings: ConfigSettings; secrets: Array<string | undefined> }
    | { ok: false; error: string } {
    const deployed = RED.nodes.getNode(id) as (SageMakerConfigNode & { type: string }) | null;
    const deployedCreds = (deployed && deployed.type === 'sagemaker-config' ? deployed.credentials : undefined) ?? {};
    const form = (body.settings && typeof body.settings === 'object' ? body.settings : {}) as Record<string, unknown>;
    const formCreds = (body.credentials && typeof body.credentials === 'object' ? body.credentials : {}) as Record<string, unknown>;

    const raw: RawSettings = { id };
    for (const f of SETTING_FIELDS) raw[f] = substituteEnv(form[f]);
    const creds: RawCredentials = {};
    for (const f of CREDENTIAL_FIELDS) {
      const v = formCreds[f];
      if (v === PASSWORD_PLACEHOLDER || v === undefined) creds[f] = deployedCreds[f];
      else creds[f] = typeof v === 'string' ? v : undefined;
    }
    const secrets = [creds.secretAccessKey, creds.sessionToken, creds.iotKey];
    const parsed = parseSettings(raw, creds);
    if (!parsed.ok) return { ok: false, error: configText(RED, parsed.problem.code, parsed.problem.params) };
    return { ok: true, settings: parsed.settings, secrets };
  }

  /** Test connection: STS GetCallerIdentity with the form's credentials. */
  async function testConnection(id: string, body: Record<string, unknown>): Promise<TestResult> {
    const form = formSettings(id, body);
    if (!form.ok) return form;
    const { settings, secrets } = form;
    const stsEndpoint = stsEndpointFor(settings);
    const sts = new STSClient({
      ...baseClientOptions(settings, createCredentialProvider(settings)),
      ...(stsEndpoint ? { endpoint: stsEndpoint } : {}),
      requestHandler: createRequestHandler(settings),
    });
    try {
      const identity = await sts.send(new GetCallerIdentityCommand({}));
      return { ok: true, account: identity.Account, arn: identity.Arn, region: await sts.config.region() };
    } catch (err) {
      return { ok: false, error: scrub(errorText(err), secrets) };
    } finally {
      sts.destroy();
    }
  }

  /** The endpoint-name list of the worker nodes' editors: ListEndpoints (InService). */
  async function accountEndpoints(id: string, body: Record<string, unknown>): Promise<EndpointsResult> {
    const form = formSettings(id, body);
    if (!form.ok) return form;
    const { settings, secrets } = form;
    // A client that is never used to send: it resolves the region as the runtime client would
    // (settings, AWS_REGION, the profile's region).
    const client = new SageMakerRuntimeClient({
      ...runtimeClientOptions(settings, createCredentialProvider(settings)),
      requestHandler: createRequestHandler(settings),
    });
    try {
      const region = await client.config.region();
      const endpoints = await listInServiceEndpoints({
        url: listEndpointsUrl(settings.endpoint, region),
        region,
        credentials: await client.config.credentials(),
        timeoutMs: settings.timeoutMs,
      });
      return { ok: true, endpoints };
    } catch (err) {
      return { ok: false, error: scrub(errorText(err), secrets) };
    } finally {
      client.destroy();
    }
  }

  RED.httpAdmin.post(
    '/sagemaker-config/:id/test',
    RED.auth.needsPermission('sagemaker-config.write'),
    (req: { params: { id: string }; body: unknown }, res: { json(v: unknown): void }) => {
      const body = req.body && typeof req.body === 'object' ? (req.body as Record<string, unknown>) : {};
      testConnection(String(req.params.id), body).then(
        (result) => res.json(result),
        (err: unknown) => res.json({ ok: false, error: errorText(err) }),
      );
    },
  );

  // Read permission: it lists names only, as the editor's other lookups do.
  RED.httpAdmin.post(
    '/sagemaker-config/:id/endpoints',
    RED.auth.needsPermission('sagemaker-config.read'),
    (req: { params: { id: string }; body: unknown }, res: { json(v: unknown): void }) => {
      const body = req.body && typeof req.body === 'object' ? (req.body as Record<string, unknown>) : {};
      accountEndpoints(String(req.params.id), body).then(
        (result) => res.json(result),
        (err: unknown) => res.json({ ok: false, error: errorText(err) }),
      );
    },
  );
};
