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
  parseSettings,
  runtimeClientOptions,
  s3ClientOptions,
  sqsClientOptions,
  sqsTimeoutMs,
  type ConfigSettings,
  type RawCredentials,
  type RawSettings,
} from '../lib/client-config';
import { SETTING_FIELDS } from '../lib/admin-form';
import { installCallHooks, responseHeaders } from '../lib/call-hooks';
import { createCredentialProvider } from '../lib/credentials';
import { SecretCollector } from '../lib/redact';
import { configText, scrubClientErrors, type SageMakerConfigNode } from './config-api';
import { registerAdminRoutes, type DeployedState } from './config-routes';
import type { NodeDef, RED } from './red';

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

  registerAdminRoutes(RED, deployedNodes);
};
