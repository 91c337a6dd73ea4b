/**
 * `sagemaker-config`: region, credentials, endpoint overrides, timeout and retries; owns the
 * SDK clients shared by every worker node that uses it (README "Credentials and IAM").
 */
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
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
  type ConfigSettings,
  type RawCredentials,
  type RawSettings,
} from '../lib/client-config';
import { resolveForm, SETTING_FIELDS, type DeployedConfig } from '../lib/admin-form';
import { installCallHooks, responseHeaders } from '../lib/call-hooks';
import { createCredentialProvider } from '../lib/credentials';
import { listEndpointsUrl, listInServiceEndpoints } from '../lib/list-endpoints';
import { getCallerIdentity, stsTarget } from '../lib/sts';
import { SecretCollector } from '../lib/redact';
import { errorSummary as errorText } from '../lib/errors';
import { configText, scrubClientErrors, type SageMakerConfigNode } from './config-api';
import type { AdminRequest, AdminResponse, NodeDef, RED } from './red';

/** What the admin routes need to know of a running config node (README, Security). */
interface DeployedState {
  /** Its settings as the node got them (after `${ENV}` substitution). */
  resolved: Record<string, unknown>;
  credentials: RawCredentials;
  /** Its validated endpoint URL, if any: a host the deployed flow names. */
  endpoint: string | undefined;
}

type TestResult = { ok: true; account?: string; arn?: string; region: string } | { ok: false; error: string };
type EndpointsResult = { ok: true; endpoints: string[] } | { ok: false; error: string };

export = function (RED: RED) {
  // The running config nodes, by id: the admin routes bind stored credentials to them.
  const deployedNodes = new Map<string, DeployedState>();

  function SageMakerConfig(this: SageMakerConfigNode, def: NodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const parsed = parseSettings(def as RawSettings, (node.credentials ?? {}) as RawCredentials);
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

    const state: DeployedState = {
      resolved: Object.fromEntries(SETTING_FIELDS.map((f) => [f, def[f]])),
      credentials: (node.credentials ?? {}) as RawCredentials,
      endpoint: settings?.endpoint,
    };
    deployedNodes.set(node.id, state);

    let closed = false;
    function usable(): ConfigSettings {
      if (!settings) throw new Error(node.configError);
      // A client built after close would never be destroyed.
      if (closed) throw new Error('This sagemaker-config node was stopped (redeploy)');
      return settings;
    }
    // Every secret the shared clients may send, to scrub from their errors: the stored ones, the
    // AWS_* variables, and the last credentials resolved (chain, STS and IoT ones are refreshed).
    const secrets = new SecretCollector(16);
    secrets.addEnvironment();
    secrets.add(settings?.keys?.secretAccessKey, settings?.keys?.sessionToken, node.credentials?.iotKey);
    function sharedCredentials(s: ConfigSettings) {
      credentials ??= createCredentialProvider(s, process.env, (c) => secrets.addIdentity(c));
      return credentials;
    }
    const scrub = (text: string) => secrets.scrub(text);

    /** A client made on first use with the deployed settings, destroyed at close. */
    const clients: Array<{ destroy(): void }> = [];
    function shared<C extends { destroy(): void }>(make: (s: ConfigSettings) => C): () => C {
      let client: C | undefined;
      return () => {
        if (!client || closed) {
          client = make(usable());
          clients.push(client);
        }
        return client;
      };
    }
    node.runtimeClient = shared((s) => {
      const client = new SageMakerRuntimeClient({
        ...runtimeClientOptions(s, sharedCredentials(s)),
        requestHandler: createRequestHandler(s),
        cacheMiddleware: true,
      });
      installCallHooks(client);
      scrubClientErrors(client, scrub);
      return client;
    });
    node.responseHeaders = responseHeaders;
    node.s3Client = shared((s) => {
      const client = new S3Client({ ...s3ClientOptions(s, sharedCredentials(s)), requestHandler: createRequestHandler(s) });
      scrubClientErrors(client, scrub);
      return client;
    });
    node.sqsClient = shared(
      (s) =>
        new SQSClient({
          ...sqsClientOptions(s, sharedCredentials(s)),
          requestHandler: createRequestHandler({ timeoutMs: sqsTimeoutMs(s) }),
        }),
    );

    node.resolveRegion = async function () {
      return node.runtimeClient().config.region();
    };

    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      if (deployedNodes.get(node.id) === state) deployedNodes.delete(node.id);
      for (const client of clients.splice(0)) client.destroy();
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

  /** The deployed node's properties as in the flow, before `${ENV}` substitution. */
  function flowDefinition(id: string): Record<string, unknown> | undefined {
    let found: Record<string, unknown> | undefined;
    RED.nodes.eachNode?.((n) => {
      if (n.id === id && n.type === 'sagemaker-config') found = n;
    });
    return found;
  }

  /**
   * The settings a route may use for the editor's form (posted as `{ settings, credentials }`;
   * the rules are in lib/admin-form.ts), and a collector of every secret to scrub from the answer.
   */
  function formSettings(
    id: string,
    body: unknown,
  ): { ok: true; settings: ConfigSettings; secrets: SecretCollector } | { ok: false; error: string } {
    const live = deployedNodes.get(id);
    const deployed: DeployedConfig | undefined = live && {
      raw: flowDefinition(id) ?? live.resolved,
      resolved: live.resolved,
      credentials: live.credentials,
    };
    const deployedEndpoints = [...deployedNodes.values()].map((n) => n.endpoint).filter((e): e is string => !!e);
    const form = resolveForm({ id, body, deployed, deployedEndpoints });
    const secrets = new SecretCollector();
    secrets.addEnvironment();
    secrets.add(...form.secrets);
    if (!form.ok) return { ok: false, error: secrets.scrub(configText(RED, form.code, form.params)) };
    return { ok: true, settings: form.settings, secrets };
  }

  /**
   * A client that is never used to send: it resolves the region, the credentials and the FIPS /
   * dual-stack choice from the form's settings as the SDK's clients would (settings, AWS_*
   * variables, the profile), for the routes' one-off signed requests.
   */
  function resolvingClient(settings: ConfigSettings, secrets: SecretCollector): SageMakerRuntimeClient {
    return new SageMakerRuntimeClient(
      baseClientOptions(
        settings,
        createCredentialProvider(settings, process.env, (c) => secrets.addIdentity(c)),
      ),
    );
  }

  /**
   * Runs `call` with a resolving client for the form's settings (resolved region and
   * credentials); an error becomes `{ ok: false }` with every secret scrubbed from its text.
   */
  async function withForm<R extends { ok: true }>(
    id: string,
    body: unknown,
    call: (c: { settings: ConfigSettings; client: SageMakerRuntimeClient; region: string }) => Promise<R>,
  ): Promise<R | { ok: false; error: string }> {
    const form = formSettings(id, body);
    if (!form.ok) return form;
    const { settings, secrets } = form;
    const client = resolvingClient(settings, secrets);
    try {
      return await call({ settings, client, region: await client.config.region() });
    } catch (err) {
      return { ok: false, error: secrets.scrub(errorText(err)) };
    } finally {
      client.destroy();
    }
  }

  /** Test connection: STS GetCallerIdentity with the form's credentials. */
  function testConnection(id: string, body: unknown): Promise<TestResult> {
    return withForm(id, body, async ({ settings, client, region }) => {
      const credentials = await client.config.credentials();
      const target = stsTarget({
        endpoint: stsEndpointFor(settings),
        region,
        useFips: await client.config.useFipsEndpoint(),
        useDualstack: await client.config.useDualstackEndpoint(),
      });
      const identity = await getCallerIdentity({ target, credentials, timeoutMs: settings.timeoutMs });
      return { ok: true as const, account: identity.Account, arn: identity.Arn, region };
    });
  }

  /** The endpoint-name list of the worker nodes' editors: ListEndpoints (InService). */
  function accountEndpoints(id: string, body: unknown): Promise<EndpointsResult> {
    return withForm(id, body, async ({ settings, client, region }) => {
      const endpoints = await listInServiceEndpoints({
        url: listEndpointsUrl(settings.endpoint, region),
        region,
        credentials: await client.config.credentials(),
        timeoutMs: settings.timeoutMs,
      });
      return { ok: true as const, endpoints };
    });
  }

  /**
   * Only JSON bodies: an HTML form on another site can post urlencoded or text/plain bodies
   * without a CORS preflight, but not application/json (Node-RED's own POST /flows is the same).
   */
  function jsonOnly(req: AdminRequest<{ id: string }>, res: AdminResponse, next: () => void): void {
    if (req.is('application/json')) {
      next();
      return;
    }
    res.status(415).json({ ok: false, error: 'Content-Type must be application/json' });
  }

  /**
   * Node-RED's admin API answers CORS preflights from any origin, so without adminAuth a page on
   * another site could post JSON here and read the answer. Browsers say where a request comes
   * from in Sec-Fetch-Site; the editor's own calls are `same-origin`. Other clients send none.
   */
  function notCrossSite(req: AdminRequest<{ id: string }>, res: AdminResponse, next: () => void): void {
    const site = (req.get('sec-fetch-site') ?? '').toLowerCase();
    if (site === 'cross-site' || site === 'same-site') {
      res.status(403).json({ ok: false, error: 'Requests from other sites are refused' });
      return;
    }
    next();
  }

  function route(path: string, handler: (id: string, body: unknown) => Promise<TestResult | EndpointsResult>): void {
    // Deploying needs flows.write, and whoever may deploy may run any code: these routes send
    // requests signed with the config's credentials, so they need the same (README, Security).
    RED.httpAdmin.post(
      path,
      jsonOnly,
      notCrossSite,
      RED.auth.needsPermission('flows.write'),
      (req: AdminRequest<{ id: string }>, res: AdminResponse) => {
        handler(String(req.params.id), req.body).then(
          (result) => res.json(result),
          () => res.json({ ok: false, error: 'The request failed' }),
        );
      },
    );
  }

  route('/sagemaker-config/:id/test', testConnection);
  route('/sagemaker-config/:id/endpoints', accountEndpoints);
};
