/**
 * What a worker node may ask of its `sagemaker-config` node. Worker nodes never build SDK
 * clients themselves: the config node builds each one once, lazily, and destroys it on close.
 */
import type { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { failed } from '../lib/status';
import { translator } from './i18n';
import type { Node, RED } from './red';

export const CONFIG_TYPE = 'sagemaker-config';

/** The config node, as its constructor leaves it. */
export interface SageMakerConfigNode extends Node {
  /** Why this configuration cannot be used (bad region, missing key, …); undefined when usable. */
  configError: string | undefined;
  /** The configured region after `${ENV}` substitution; undefined = SDK resolution. */
  region: string | undefined;
  /** Request timeout in ms (idle time waiting for the next byte). */
  timeoutMs: number;
  /**
   * The shared SageMaker Runtime client. Throws an Error with `configError` when unusable. It
   * caches its handler chain: send commands without options, cancellable with `signalled`
   * (lib/call-hooks.ts).
   */
  runtimeClient(): SageMakerRuntimeClient;
  /** The raw HTTP response headers of an output of `runtimeClient()` (lower-case names). */
  responseHeaders(output: object): Record<string, string>;
  /** The shared S3 client (path-style / WHEN_REQUIRED checksums with a custom S3 endpoint). */
  s3Client(): S3Client;
  /** The shared SQS client (`sqsEndpoint`, or the regional SQS when blank). */
  sqsClient(): SQSClient;
  /** The region requests are signed for (resolves the SDK's default when blank). */
  resolveRegion(): Promise<string>;
}

function isConfigNode(node: Node | null): node is SageMakerConfigNode {
  return node !== null && node.type === CONFIG_TYPE && typeof (node as Partial<SageMakerConfigNode>).runtimeClient === 'function';
}

/** Looks up the config node a worker node references; null when missing or of another type. */
export function getConfigNode(red: RED, id: unknown): SageMakerConfigNode | null {
  if (typeof id !== 'string' || id === '') return null;
  const node = red.nodes.getNode(id);
  return isConfigNode(node) ? node : null;
}

/** The text of `sagemaker-config.errors.<code>`, as every text: through the locale file. */
export function configText(red: RED, code: string, params: Record<string, string | number> = {}): string {
  return translator(red, CONFIG_TYPE)(`errors.${code}`, params);
}

export type ConfigAttachment = { config: SageMakerConfigNode; error: undefined } | { config: null; error: string };

/**
 * Resolves a worker node's `config` property. When the config node is missing or its settings
 * are unusable, sets a red-ring status with the reason on `node` and returns `{ config: null,
 * error }`; the worker then fails each message with `error`.
 */
export function attachConfig(red: RED, node: Node, configId: unknown): ConfigAttachment {
  const config = getConfigNode(red, configId);
  if (!config) {
    const error = configText(red, 'missing');
    node.status(failed(error));
    return { config: null, error };
  }
  if (config.configError !== undefined) {
    node.status(failed(config.configError));
    return { config: null, error: configText(red, 'unusable', { reason: config.configError }) };
  }
  return { config, error: undefined };
}

/**
 * Scrubs the string properties of every error a client throws (message, the service's Message,
 * a ModelError's OriginalMessage…) before a worker node sees it: a server may echo the request's
 * session token, and status, logs and `msg.sagemaker.error` show these texts (README, Security).
 */
export function scrubClientErrors<I extends object, O extends object>(
  client: {
    middlewareStack: { add(m: import('@smithy/types').InitializeMiddleware<I, O>, o: { step: 'initialize'; name: string }): void };
  },
  scrub: (text: string) => string,
): void {
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (err) {
        if (err && typeof err === 'object') {
          const e = err as Record<string, unknown>;
          for (const key of new Set([...Object.keys(e), 'message'])) {
            const v = e[key];
            if (typeof v === 'string') {
              const clean = scrub(v);
              if (clean !== v) e[key] = clean;
            }
          }
        }
        throw err;
      }
    },
    { step: 'initialize', name: 'scrubClientErrors' },
  );
}
