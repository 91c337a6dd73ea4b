/**
 * What a worker node may ask of its `sagemaker-config` node. Worker nodes never build SDK
 * clients themselves: the config node builds each one once, lazily, and destroys it on close.
 */
import type { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Node, RED } from './red';

export interface SageMakerConfigNode extends Node {
  /** Why this configuration cannot be used (bad region, missing key, …); undefined when usable. */
  readonly configError: string | undefined;
  /** The configured region after `${ENV}` substitution; undefined = SDK resolution. */
  readonly region: string | undefined;
  /** The shared SageMaker Runtime client. Throws an Error with `configError` when unusable. */
  runtimeClient(): SageMakerRuntimeClient;
  /** The shared S3 client (path-style / WHEN_REQUIRED checksums with a custom S3 endpoint). */
  s3Client(): S3Client;
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
