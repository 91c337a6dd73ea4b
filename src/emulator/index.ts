/**
 * `startEmulator(options)`: a local SageMaker Runtime (plus STS, ListEndpoints and S3) speaking
 * the real wire protocol, for tests, the demo and offline flow building.
 */
import type { AddressInfo } from 'node:net';
import { S3Client } from '@aws-sdk/client-s3';
import { stopAsyncJobs } from './async';
import { FaultSelector, mulberry32 } from './faults';
import { type IotServerHandle, startEmulatorIot } from './iot';
import { type MessagingHandle, startMessaging } from './messaging';
import { startS3 } from './s3';
import { createServer, type Core } from './server';
import { CredentialStore } from './sts';
import type { EmulatorHandle, EmulatorOptions, EmulatorState, EmulatorStats, EndpointConfig, ReceivedRequest } from './types';

export type * from './types';
export type { Timeouts } from './limits';
export { pingContainer } from './models';
export { CertificateAuthority } from './iot';

const RECEIVED_MAX = 1000;
/** Bodies kept by received(), all entries together. */
const RECEIVED_MAX_BYTES = 32 * 1024 * 1024;

export const BUILT_IN_ENDPOINTS: Record<string, EndpointConfig> = {
  echo: { model: 'echo' },
  'sensor-anomaly': { model: 'sensor-anomaly' },
  'text-generator': { model: 'text-generator' },
};

function emptyStats(): EmulatorStats {
  return { requests: {}, byEndpoint: {}, errors: {}, inFlight: 0, maxInFlight: 0, s3: {}, streamsAborted: 0 };
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<EmulatorHandle> {
  const host = options.host ?? '127.0.0.1';
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '123456789012';
  const staticKeys = options.credentials ?? [{ accessKeyId: 'test', secretAccessKey: 'test' }];
  const stats = emptyStats();
  const timers = new Set<NodeJS.Timeout>();
  const random = mulberry32(options.seed ?? 1);

  const credentials = new CredentialStore(accountId, staticKeys);
  const log = (line: string): void => console.log(`[sagemaker-emulator] ${line}`);
  const s3 = await startS3(options.s3, staticKeys, stats.s3, {
    lookup: (id) => credentials.lookup(id),
    auth: options.auth ?? true,
    region,
    timeouts: options.timeouts,
    log,
  });
  const newS3Client = (): S3Client =>
    new S3Client({
      region,
      endpoint: s3.url,
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  const s3Client = newS3Client();

  const state: EmulatorState = {
    options: { ...options, region, accountId, auth: options.auth ?? true },
    stats,
    random,
    s3: s3Client,
    s3Url: s3.url,
    track(timer) {
      timers.add(timer);
      // Forget fired timers now and then, or the set grows for the life of the emulator.
      if (timers.size > 1000) for (const t of timers) if ((t as NodeJS.Timeout & { _destroyed?: boolean })._destroyed) timers.delete(t);
    },
  };

  const endpoints = new Map<string, EndpointConfig>(Object.entries({ ...BUILT_IN_ENDPOINTS, ...options.endpoints }));
  const received: ReceivedRequest[] = [];
  let receivedBytes = 0;
  const faults = new FaultSelector(random);
  const core: Core = {
    state,
    endpoints,
    faults,
    credentials,
    sessions: new Map(),
    stsMaxSeconds: options.stsDurationSeconds,
    createdAt: Date.now(),
    record(r) {
      received.push(r);
      receivedBytes += r.body.length;
      // Capped in count and in bytes: the oldest go first.
      let drop = 0;
      while (drop < received.length - 1 && (received.length - drop > RECEIVED_MAX || receivedBytes > RECEIVED_MAX_BYTES)) {
        receivedBytes -= received[drop].body.length;
        drop++;
      }
      if (drop > 0) received.splice(0, drop);
    },
    log,
  };

  const server = createServer(core);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 9080, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    await s3.close();
    s3Client.destroy();
    throw e;
  }
  let messaging: MessagingHandle;
  try {
    messaging = await startMessaging({
      host,
      port: options.sqsPort ?? 0,
      region,
      accountId,
      auth: options.auth ?? true,
      timeouts: options.timeouts,
      lookup: (id) => core.credentials.lookup(id),
      count: (op) => {
        stats.requests[op] = (stats.requests[op] ?? 0) + 1;
      },
      log: core.log,
    });
  } catch (e) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await s3.close();
    s3Client.destroy();
    throw e;
  }
  state.publish = (topicArn, message) => void messaging.sns.publish(topicArn, message);
  let iot: IotServerHandle | undefined;
  if (options.iot) {
    try {
      iot = await startEmulatorIot(options.iot, { host, store: core.credentials });
    } catch (e) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([s3.close(), messaging.close()]);
      s3Client.destroy();
      throw e;
    }
  }
  server.on('error', (e) => core.log(`server error: ${e.message}`));
  const { port } = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost(host)}:${port}`,
    s3Url: s3.url,
    sqsUrl: messaging.url,
    snsUrl: messaging.url,
    region,
    stats: () => structuredClone(stats),
    resetStats() {
      // In place: the S3 proxy counts into stats.s3 and handlers hold `stats`.
      stats.requests = {};
      stats.byEndpoint = {};
      stats.errors = {};
      stats.maxInFlight = stats.inFlight;
      stats.streamsAborted = 0;
      for (const k of Object.keys(stats.s3)) delete stats.s3[k];
    },
    received: () => received.slice(),
    setEndpoint(name, config) {
      endpoints.set(name, config);
      faults.resetEndpoint(name);
    },
    s3Client: newS3Client,
    iot,
    close() {
      closing ??= (async () => {
        stopAsyncJobs();
        for (const t of timers) clearTimeout(t);
        timers.clear();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          // Hung requests and keep-alive sockets would hold close() forever.
          server.closeAllConnections();
        });
        s3Client.destroy();
        await Promise.all([s3.close(), iot?.close(), messaging.close()]);
      })();
      return closing;
    },
  };
}
