/**
 * What a worker node may ask of its `sagemaker-config` node. Worker nodes never build SDK
 * clients themselves: the config node builds each one once, lazily, and destroys it on close.
 *
 * Worker nodes attach in their constructor with {@link attachConfig}:
 *
 *     const { config, error } = attachConfig(RED, node, n.config);
 *     // config === null: the node already shows a red ring with `error`;
 *     // fail every message with `new Error(error)` (after setting msg.sagemaker.error).
 *     // config !== null: config.runtimeClient() / config.s3Client() in the input handler
 *     // (they throw Error(configError) if the settings became unusable; treat like any error).
 */
import type { SageMakerRuntimeClient, ServiceInputTypes, ServiceOutputTypes } from '@aws-sdk/client-sagemaker-runtime';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Node, RED } from './red';
import { fillText, PROBLEM_TEXTS } from '../lib/client-config';
import { failed } from '../lib/status';

export interface SageMakerConfigNode extends Node {
  /** Why this configuration cannot be used (bad region, missing key, …); undefined when usable. */
  readonly configError: string | undefined;
  /** The configured region after `${ENV}` substitution; undefined = SDK resolution. */
  readonly region: string | undefined;
  /** The shared SageMaker Runtime client. Throws an Error with `configError` when unusable. */
  runtimeClient(): SageMakerRuntimeClient;
  /** The shared S3 client (path-style / WHEN_REQUIRED checksums with a custom S3 endpoint). */
  s3Client(): S3Client;
  /** The shared SQS client (`sqsEndpoint`, or the regional SQS when blank). */
  sqsClient(): SQSClient;
  /** The region requests are signed for (resolves the SDK's default when blank). */
  resolveRegion(): Promise<string>;
  /** Request timeout in ms (idle time waiting for the next byte). */
  readonly timeoutMs: number;
}

/** Looks up the config node a worker node references; null when missing or of another type. */
export function getConfigNode(red: RED, id: unknown): SageMakerConfigNode | null {
  if (typeof id !== 'string' || id === '') return null;
  const node = red.nodes.getNode(id) as SageMakerConfigNode | null;
  return node && node.type === 'sagemaker-config' ? node : null;
}

/** The message catalog of the config node (RED._ in a worker node defaults to its own). */
const CONFIG_NAMESPACE = 'node-red-contrib-sagemaker-runtime/sagemaker-config';

/**
 * A `sagemaker-config.errors.<code>` text, translated when the config node's catalog is loaded,
 * otherwise the English text (node-red-node-test-helper's RED._ returns the key).
 */
export function configText(red: RED, code: keyof typeof PROBLEM_TEXTS, params: Record<string, string | number> = {}): string {
  const key = `sagemaker-config.errors.${code}`;
  let text: unknown;
  try {
    text = red._(`${CONFIG_NAMESPACE}:${key}`, params);
  } catch {
    text = undefined;
  }
  if (typeof text !== 'string' || text === '' || text.includes(key)) return fillText(PROBLEM_TEXTS[code], params);
  return text;
}

export type ConfigAttachment = { config: SageMakerConfigNode; error: undefined } | { config: null; error: string };

/**
 * Resolves a worker node's `config` property. When the config node is missing or its settings
 * are unusable, sets a red-ring status with the reason on `node` and returns `{ config: null,
 * error }`; the worker then fails each message with `error`.
 */
export function attachConfig(red: RED, node: Node, configId: unknown): ConfigAttachment {
  const config = getConfigNode(red, configId);
  let error: string | undefined;
  let short: string | undefined;
  if (!config) short = error = configText(red, 'missing');
  else if (config.configError) {
    short = config.configError;
    error = configText(red, 'unusable', { reason: config.configError });
  }
  if (error !== undefined) {
    node.status(failed(short ?? error));
    return { config: null, error };
  }
  return { config: config as SageMakerConfigNode, error: undefined };
}

type InitializeMiddleware = import('@smithy/types').InitializeMiddleware<ServiceInputTypes, ServiceOutputTypes>;

/**
 * The SDK's outputs carry no raw HTTP headers, but `msg.headers` of sagemaker-invoke needs them.
 * One middleware on the shared client (rather than one per command, which the SDK would have to
 * merge into every request's stack) puts them on each output as a hidden `$responseHeaders`. Step `initialize` is the
 * outermost, where the result already holds the deserialized output (and the last attempt's
 * response); a client-level `deserialize` middleware would run inside the deserializer.
 */
export function captureResponseHeaders(client: SageMakerRuntimeClient): void {
  const capture: InitializeMiddleware = (next) => async (args) => {
    const result = await next(args);
    const headers = (result.response as { headers?: Record<string, string> } | undefined)?.headers;
    if (headers && result.output && typeof result.output === 'object') {
      Object.defineProperty(result.output, '$responseHeaders', { value: headers, enumerable: false });
    }
    return result;
  };
  client.middlewareStack.add(capture, { step: 'initialize', name: 'captureResponseHeaders' });
}

/** The response headers captured by {@link captureResponseHeaders}, if any. */
export function responseHeaders(output: unknown): Record<string, string> | undefined {
  return (output as { $responseHeaders?: Record<string, string> } | null)?.$responseHeaders;
}

/**
 * Scrubs the string properties of every error a client throws (message, the service's Message,
 * a ModelError's OriginalMessage…) before a worker node sees it: a server may echo the request's
 * session token, and status, logs and `msg.sagemaker.error` show these texts (README, Security).
 */
export function scrubClientErrors<I extends object, O extends object>(
  client: { middlewareStack: { add(m: import('@smithy/types').InitializeMiddleware<I, O>, o: { step: 'initialize'; name: string }): void } },
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
