/**
 * Shared types of the SageMaker Runtime emulator. The server (server.ts) parses, authenticates
 * and routes each request, then hands an InvocationContext to the operation's handler:
 * invoke.ts (InvokeEndpoint), stream.ts (InvokeEndpointWithResponseStream),
 * async.ts (InvokeEndpointAsync).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { S3Client } from '@aws-sdk/client-s3';
import type { EmulatorIotOptions, IotServerHandle } from './iot';
import type { Timeouts } from './limits';

export type ModelName = 'echo' | 'sensor-anomaly' | 'text-generator' | 'proxy';

export type FaultKind =
  | 'throttle' // 400 ThrottlingException "Rate exceeded"
  | 'not-ready' // 429 ModelNotReadyException
  | 'internal' // 500 InternalFailure
  | 'unavailable' // 503 ServiceUnavailable
  | 'dependency' // 530 InternalDependencyException
  | 'model-error' // 424 ModelError with OriginalStatusCode / OriginalMessage / LogStreamArn
  | 'reset' // socket destroyed before any response
  | 'hang' // never answers (until the client gives up)
  | 'stream-error' // stream: ModelStreamError after `afterParts` parts
  | 'stream-failure' // stream: InternalStreamFailure after `afterParts` parts
  | 'stream-reset' // stream: socket destroyed after `afterParts` parts
  | 'stream-stall' // stream: stops sending after `afterParts` parts, keeps the socket open
  | 'async-failure' // async: writes the failure object instead of the output
  | 'async-missing-input' // async: behaves as if the input object does not exist
  | 'async-never'; // async: never writes anything

export interface FaultRule {
  kind: FaultKind;
  /** Probability in [0, 1] per request (seeded RNG, deterministic). Default 1. */
  rate?: number;
  /** Apply only to the first N matching requests of this endpoint (e.g. fail twice, then succeed). */
  times?: number;
  /** For stream faults: parts sent before the fault. */
  afterParts?: number;
  /** For model-error: the container's status and message. */
  originalStatusCode?: number;
  originalMessage?: string;
}

export interface TextGeneratorOptions {
  /** Number of tokens generated (default 8). */
  tokens?: number;
  /** Delay between tokens in ms (default 0). */
  delayMs?: number;
  /** Line format: TGI JSON lines, OpenAI-style SSE, or plain text (default 'tgi'). */
  format?: 'tgi' | 'openai' | 'text';
  /** Re-cut the byte stream into PayloadParts of this many bytes (cuts inside lines and characters). */
  partBytes?: number;
}

export interface AsyncOptions {
  /** Where results go, `s3://bucket/prefix` (default s3://sagemaker-emulator/async-output/<endpoint>). */
  outputPath?: string;
  /** Where failures go; `null` = the endpoint has no S3FailurePath. */
  failurePath?: string | null;
  /** Model run delay in ms (default 200) plus up to `jitterMs` random (seeded). */
  delayMs?: number;
  jitterMs?: number;
  /** SNS topic ARN (of the emulator's SNS) notified when a job succeeds (NotificationConfig.SuccessTopic). */
  successTopic?: string;
  /** SNS topic ARN notified when a job fails (NotificationConfig.ErrorTopic). */
  errorTopic?: string;
  /** Topics whose notifications carry the response itself when it is at most 128 KB (NotificationConfig.IncludeInferenceResponseIn). */
  includeInferenceResponseIn?: Array<'SUCCESS_NOTIFICATION_TOPIC' | 'ERROR_NOTIFICATION_TOPIC'>;
}

export interface EndpointConfig {
  model: ModelName;
  /** For model 'proxy': base URL of a model container (GET /ping, POST /invocations). */
  proxyUrl?: string;
  /** Value of x-Amzn-Invoked-Production-Variant (default 'AllTraffic'). */
  variant?: string;
  /** Added latency in ms for every request. */
  latencyMs?: number;
  faults?: FaultRule[];
  textGenerator?: TextGeneratorOptions;
  async?: AsyncOptions;
}

export interface EmulatorOptions {
  host?: string; // default 127.0.0.1
  port?: number; // default 9080; 0 picks a free port
  region?: string; // default us-east-1
  accountId?: string; // default 123456789012
  /** SigV4 verification (default true). */
  auth?: boolean;
  /** Accepted static key pairs (default [{ accessKeyId: 'test', secretAccessKey: 'test' }]). */
  credentials?: Array<{ accessKeyId: string; secretAccessKey: string }>;
  /** Endpoints beyond (or overriding) the built-in echo, sensor-anomaly, text-generator. */
  endpoints?: Record<string, EndpointConfig>;
  /** Seed of the fault-injection RNG (default 1). */
  seed?: number;
  /** Lifetime of credentials issued by the emulator's STS, in seconds (default 3600). */
  stsDurationSeconds?: number;
  /**
   * S3: by default the emulator's own S3 on a port of its own, storing objects in `directory`
   * (default: a temp folder, removed on close). `{ endpoint }` uses any S3-compatible endpoint
   * instead.
   */
  s3?: { endpoint?: string; accessKeyId?: string; secretAccessKey?: string; directory?: string };
  /** Log each request to stdout. */
  verbose?: boolean;
  /** Port of the SQS + SNS server (default 0: any free port). */
  sqsPort?: number;
  /** Connection limits of the emulator's servers (slow clients are dropped). */
  timeouts?: Timeouts;
  /** Also serve the AWS IoT credentials provider (mutual TLS) on its own port; `true` = defaults. */
  iot?: true | EmulatorIotOptions;
}

export interface EmulatorStats {
  requests: Record<string, number>; // by operation: InvokeEndpoint, InvokeEndpointWithResponseStream, InvokeEndpointAsync, AssumeRole, GetCallerIdentity, ListEndpoints, …
  byEndpoint: Record<string, number>;
  errors: Record<string, number>; // by error name
  inFlight: number;
  maxInFlight: number;
  /** Authenticated calls to the emulator's S3, by operation (HeadObject, GetObject, PutObject, ListObjectsV2, …). */
  s3: Record<string, number>;
  /** Streams whose client went away before the end. */
  streamsAborted: number;
}

export interface ReceivedRequest {
  operation: string;
  endpointName: string;
  path: string;
  headers: Record<string, string>; // lower-case names
  body: Buffer;
  at: number;
}

export interface EmulatorHandle {
  url: string;
  s3Url: string;
  /** The emulator's SQS (JSON protocol) and SNS (query protocol): one address for both. */
  sqsUrl: string;
  snsUrl: string;
  region: string;
  stats(): EmulatorStats;
  resetStats(): void;
  /** The last authenticated requests (newest last; at most 1000 and 32 MiB of bodies), for tests that check the wire. */
  received(): ReceivedRequest[];
  setEndpoint(name: string, config: EndpointConfig): void;
  /** An S3 client for the emulator's S3 (path-style, checksums only when required). */
  s3Client(): S3Client;
  /** The IoT credentials endpoint, when started with `iot`. */
  iot?: IotServerHandle;
  close(): Promise<void>;
}

/** What the server hands to an operation handler after auth, parsing and fault selection. */
export interface InvocationContext {
  req: IncomingMessage;
  res: ServerResponse;
  operation: 'InvokeEndpoint' | 'InvokeEndpointWithResponseStream' | 'InvokeEndpointAsync';
  endpointName: string;
  endpoint: EndpointConfig;
  headers: Record<string, string>;
  body: Buffer;
  requestId: string;
  /**
   * The fault chosen for this request, if any (already counted against `times`). Only kinds the
   * handler acts on arrive here (stream-*, async-*, and model-error for async): the server answers
   * the others itself (see faults.ts).
   */
  fault: FaultRule | undefined;
  state: EmulatorState;
}

export interface EmulatorState {
  options: Required<Pick<EmulatorOptions, 'region' | 'accountId' | 'auth'>> & EmulatorOptions;
  stats: EmulatorStats;
  /** Seeded RNG in [0, 1). */
  random(): number;
  s3: S3Client;
  s3Url: string;
  /** Timers and sockets to clean up on close. */
  track(timer: NodeJS.Timeout): void;
  /** Publishes to a topic of the emulator's SNS (async notifications); throws for an unknown topic. */
  publish?(topicArn: string, message: string): void;
}
