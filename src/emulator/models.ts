/**
 * The built-in models (echo, sensor-anomaly, text-generator) and the proxy to a model container.
 * A model either resolves to a result or throws ModelFailure (the container's status + message),
 * which the operation turns into a 424 ModelError (sync) or a failure object (async).
 */
import http from 'node:http';
import https from 'node:https';
import { generateText } from './text-generator';
import type { EndpointConfig } from './types';

export interface ModelRequest {
  endpointName: string;
  endpoint: EndpointConfig;
  body: Buffer;
  contentType: string | undefined;
  accept: string | undefined;
  customAttributes: string | undefined;
  /** All request headers (lower-case names); echo reflects the SageMaker ones. */
  headers: Record<string, string>;
  signal?: AbortSignal;
}

export interface ModelResult {
  body: Buffer;
  contentType: string;
  customAttributes?: string;
  /** Extra response headers (echo's reflections). */
  headers?: Record<string, string>;
}

export class ModelFailure extends Error {
  constructor(
    readonly originalStatusCode: number,
    readonly originalMessage: string,
  ) {
    super(originalMessage);
  }
}

/** Request headers echo reflects as `x-emulator-echo-<name>`. */
export function isSageMakerHeader(name: string): boolean {
  return name === 'content-type' || name === 'accept' || name.startsWith('x-amzn-sagemaker-');
}

export async function runModel(req: ModelRequest): Promise<ModelResult> {
  switch (req.endpoint.model) {
    case 'echo':
      return echo(req);
    case 'sensor-anomaly':
      return sensorAnomaly(req);
    case 'text-generator': {
      const out = generateText(req.body, req.endpoint.textGenerator ?? {});
      return { body: Buffer.concat(out.chunks), contentType: out.contentType };
    }
    case 'proxy':
      return proxy(req);
    default:
      throw new ModelFailure(500, `Unknown model '${String(req.endpoint.model)}'`);
  }
}

function echo(req: ModelRequest): ModelResult {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (isSageMakerHeader(name)) headers[`x-emulator-echo-${name}`] = value;
  }
  return {
    body: req.body,
    contentType: req.contentType ?? 'application/octet-stream',
    customAttributes: req.customAttributes,
    headers,
  };
}

// ---------------------------------------------------------------------------------------------
// sensor-anomaly
//
// Input: CSV rows of numbers (an optional non-numeric header row is skipped), or JSON: an array
// of numbers, an array of equal-length number arrays, or { instances | readings: <either> }
// (optionally with "threshold"). CustomAttributes `threshold=<n>` also sets the threshold.
// Output (application/json), z = (x - mean) / population std dev over the batch, per column:
//   1-D: { scores: number[], anomalies: number[] (indices), anomaly: boolean,
//          threshold, mean: number, stdDev: number }
//   rows: { scores: number[][], anomalies: number[] (row indices with any |z| > threshold),
//           anomaly: boolean, threshold, mean: number[], stdDev: number[] }
// A reading is anomalous when |z| > threshold (default 3). With n readings |z| cannot exceed
// (n-1)/sqrt(n), so a batch needs at least 11 readings for the default threshold to fire.
// Unparsable input: ModelFailure 400.
// ---------------------------------------------------------------------------------------------

export const DEFAULT_ANOMALY_THRESHOLD = 3;

interface Readings {
  rows: number[][];
  oneD: boolean;
  threshold?: number;
}

function fromJsonArray(value: unknown): Readings {
  if (!Array.isArray(value) || value.length === 0) throw new ModelFailure(400, 'Expected a non-empty array of readings');
  if (value.every((v) => typeof v === 'number')) return { rows: (value as number[]).map((v) => [v]), oneD: true };
  if (value.every((r) => Array.isArray(r) && r.length > 0 && r.every((v: unknown) => typeof v === 'number'))) {
    const rows = value as number[][];
    if (rows.some((r) => r.length !== rows[0].length)) throw new ModelFailure(400, 'All rows must have the same number of readings');
    return { rows, oneD: false };
  }
  throw new ModelFailure(400, 'Readings must be numbers or arrays of numbers');
}

function parseJson(text: string): Readings {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ModelFailure(400, `Invalid JSON: ${(e as Error).message}`);
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    const inner = o.instances ?? o.readings;
    if (inner === undefined) throw new ModelFailure(400, 'Expected an array, or an object with "instances" or "readings"');
    const r = fromJsonArray(inner);
    if (o.threshold !== undefined) {
      if (typeof o.threshold !== 'number' || !(o.threshold > 0)) throw new ModelFailure(400, '"threshold" must be a positive number');
      r.threshold = o.threshold;
    }
    return r;
  }
  return fromJsonArray(value);
}

function parseCsv(text: string): Readings {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const parsed = lines.map((l) => l.split(',').map((c) => (c.trim() === '' ? NaN : Number(c.trim()))));
  const numeric = (r: number[]): boolean => r.every((v) => Number.isFinite(v));
  if (parsed.length > 1 && !numeric(parsed[0]) && parsed.slice(1).every(numeric)) parsed.shift();
  if (parsed.length === 0) throw new ModelFailure(400, 'No readings in the CSV input');
  const bad = parsed.findIndex((r) => !numeric(r));
  if (bad >= 0) throw new ModelFailure(400, `CSV row ${bad + 1} is not a list of numbers`);
  if (parsed.some((r) => r.length !== parsed[0].length)) throw new ModelFailure(400, 'All CSV rows must have the same number of columns');
  return { rows: parsed, oneD: parsed[0].length === 1 };
}

function sensorAnomaly(req: ModelRequest): ModelResult {
  const text = req.body.toString('utf8').trim();
  if (text === '') throw new ModelFailure(400, 'Empty input: send CSV rows or a JSON array of readings');
  const ct = (req.contentType ?? '').toLowerCase();
  const json = ct.includes('json') || (!ct.includes('csv') && /^[[{]/.test(text));
  const readings = json ? parseJson(text) : parseCsv(text);
  const attr = /(?:^|[;,\s])threshold=([0-9.]+)/.exec(req.customAttributes ?? '');
  const threshold = readings.threshold ?? (attr && Number(attr[1]) > 0 ? Number(attr[1]) : DEFAULT_ANOMALY_THRESHOLD);

  const { rows } = readings;
  const cols = rows[0].length;
  const mean: number[] = [];
  const stdDev: number[] = [];
  for (let c = 0; c < cols; c++) {
    const m = rows.reduce((s, r) => s + r[c], 0) / rows.length;
    mean.push(m);
    stdDev.push(Math.sqrt(rows.reduce((s, r) => s + (r[c] - m) ** 2, 0) / rows.length));
  }
  const round = (x: number): number => Math.round(x * 1e6) / 1e6;
  const z = rows.map((r) => r.map((v, c) => (stdDev[c] === 0 ? 0 : round((v - mean[c]) / stdDev[c]))));
  const anomalies = z.flatMap((r, i) => (r.some((v) => Math.abs(v) > threshold) ? [i] : []));
  const out = readings.oneD
    ? { scores: z.map((r) => r[0]), anomalies, anomaly: anomalies.length > 0, threshold, mean: round(mean[0]), stdDev: round(stdDev[0]) }
    : { scores: z, anomalies, anomaly: anomalies.length > 0, threshold, mean: mean.map(round), stdDev: stdDev.map(round) };
  return { body: Buffer.from(JSON.stringify(out)), contentType: 'application/json' };
}

// ---------------------------------------------------------------------------------------------
// proxy: the model container contract (reference §5)
// ---------------------------------------------------------------------------------------------

/** The container gets 60 s to answer, as on SageMaker. */
export const CONTAINER_TIMEOUT_MS = 60_000;

function containerUrl(base: string, path: string): URL {
  return new URL(base.replace(/\/+$/, '') + path);
}

function request(
  url: URL,
  options: http.RequestOptions,
  body: Buffer | undefined,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const lib = url.protocol === 'https:' ? https : http;
    const req = lib.request(url, { ...options, signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(body);
  });
}

async function proxy(req: ModelRequest): Promise<ModelResult> {
  if (!req.endpoint.proxyUrl) throw new ModelFailure(500, 'The endpoint has model "proxy" but no proxyUrl');
  const headers: Record<string, string> = { 'content-type': req.contentType ?? 'application/octet-stream' };
  if (req.accept) headers.accept = req.accept;
  if (req.customAttributes) headers['x-amzn-sagemaker-custom-attributes'] = req.customAttributes;
  let res;
  try {
    res = await request(containerUrl(req.endpoint.proxyUrl, '/invocations'), { method: 'POST', headers }, req.body, CONTAINER_TIMEOUT_MS, req.signal);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ETIMEDOUT') {
      throw new ModelFailure(0, 'Your invocation timed out while waiting for a response from container primary.');
    }
    throw new ModelFailure(502, `Could not reach the model container at ${req.endpoint.proxyUrl}: ${err.code ?? err.message}`);
  }
  if (res.status >= 400) throw new ModelFailure(res.status, res.body.toString('utf8').slice(0, 4096));
  const ca = res.headers['x-amzn-sagemaker-custom-attributes'];
  return {
    body: res.body,
    contentType: String(res.headers['content-type'] ?? 'application/octet-stream'),
    customAttributes: typeof ca === 'string' ? ca : undefined,
  };
}

/** GET <proxyUrl>/ping: true when the container answers 200 within `timeoutMs` (default 2 s). */
export async function pingContainer(proxyUrl: string, timeoutMs = 2000): Promise<boolean> {
  try {
    const res = await request(containerUrl(proxyUrl, '/ping'), { method: 'GET' }, undefined, timeoutMs);
    return res.status === 200;
  } catch {
    return false;
  }
}
