/**
 * The admin routes of the `sagemaker-config` editor: Test connection and the endpoint list. They
 * send requests signed with a config's credentials, so they bind stored credentials to the
 * deployed node and scrub every secret from their answers (README, Security).
 */
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { resolveForm, type DeployedConfig } from '../lib/admin-form';
import { baseClientOptions, stsEndpointFor, type ConfigSettings, type RawCredentials } from '../lib/client-config';
import { createCredentialProvider } from '../lib/credentials';
import { errorSummary as errorText } from '../lib/errors';
import { listEndpointsUrl, listInServiceEndpoints } from '../lib/list-endpoints';
import { SecretCollector } from '../lib/redact';
import { getCallerIdentity, stsTarget } from '../lib/sts';
import { configText } from './config-api';
import type { AdminRequest, AdminResponse, RED } from './red';

/** What the admin routes need to know of a running config node (README, Security). */
export interface DeployedState {
  /** Its settings as the node got them (after `${ENV}` substitution). */
  resolved: Record<string, unknown>;
  credentials: RawCredentials;
  /** Its validated endpoint URL, if any: a host the deployed flow names. */
  endpoint: string | undefined;
}

type TestResult = { ok: true; account?: string; arn?: string; region: string } | { ok: false; error: string };
type EndpointsResult = { ok: true; endpoints: string[] } | { ok: false; error: string };

/** Registers the routes; `deployedNodes` are the running config nodes, by id. */
export function registerAdminRoutes(RED: RED, deployedNodes: Map<string, DeployedState>): void {
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
}
