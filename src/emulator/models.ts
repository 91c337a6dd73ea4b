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
// One series of readings — a JSON array of numbers, { readings | instances: [numbers] }
// (optionally with "threshold"), or one CSV column (an optional non-numeric header line is
// skipped) — is scored as a whole:
//   { scores: number[], anomalies: number[] (indices), anomaly: boolean, threshold, mean, stdDev }
// with z = (x - mean) / population std dev over the series. A reading is anomalous when
// |z| > threshold (default 3; CustomAttributes `threshold=<n>` or "threshold" set it). With n
// readings |z| cannot exceed (n-1)/sqrt(n), so a series needs at least 11 readings for the
// default threshold to fire.
//
// A batch of rows is scored row by row, each row as the series it holds (the same result as
// sending that row alone), one result per row, in order:
//   JSON array of arrays              → JSON array of results
//   { instances | readings: rows }    → { predictions: results }
//   CSV lines of 2+ numbers           → { predictions: results }, or with Accept text/csv one
//                                       CSV line per row: `<anomaly 0|1>,<largest |z|>`
//   JSON Lines (application/jsonlines) of arrays → JSON Lines of results
// Unparsable input: ModelFailure 400.
// ---------------------------------------------------------------------------------------------

export const DEFAULT_ANOMALY_THRESHOLD = 3;

type Shape = 'series' | 'array' | 'instances' | 'csv' | 'jsonlines';

interface Readings {
  /** One series, or one per row of a batch. */
  rows: number[][];
  shape: Shape;
  threshold?: number;
}

const isSeries = (v: unknown): v is number[] =>
  Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number' && Number.isFinite(x));

function fromJsonArray(value: unknown, wrapped: boolean): Readings {
  if (!Array.isArray(value) || value.length === 0) throw new ModelFailure(400, 'Expected a non-empty array of readings');
  if (isSeries(value)) return { rows: [value], shape: 'series' };
  const bad = value.findIndex((r) => !isSeries(r));
  if (bad < 0) return { rows: value as number[][], shape: wrapped ? 'instances' : 'array' };
  throw new ModelFailure(400, `Readings must be numbers, or rows of numbers (row ${bad + 1} is not)`);
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
    const r = fromJsonArray(inner, true);
    if (o.threshold !== undefined) {
      if (typeof o.threshold !== 'number' || !(o.threshold > 0)) throw new ModelFailure(400, '"threshold" must be a positive number');
      r.threshold = o.threshold;
    }
    return r;
  }
  return fromJsonArray(value, false);
}

function parseJsonLines(text: string): Readings {
  const rows = text
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '')
    .map((line, i) => {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (e) {
        throw new ModelFailure(400, `JSON Lines line ${i + 1} is not JSON: ${(e as Error).message}`);
      }
      if (!isSeries(value)) throw new ModelFailure(400, `JSON Lines line ${i + 1} is not an array of numbers`);
      return value;
    });
  if (rows.length === 0) throw new ModelFailure(400, 'No readings in the JSON Lines input');
  return { rows, shape: 'jsonlines' };
}

function parseCsv(text: string): Readings {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const parsed = lines.map((l) => l.split(',').map((c) => (c.trim() === '' ? NaN : Number(c.trim()))));
  const numeric = (r: number[]): boolean => r.every((v) => Number.isFinite(v));
  if (parsed.length > 1 && !numeric(parsed[0]) && parsed.slice(1).every(numeric)) parsed.shift();
  if (parsed.length === 0) throw new ModelFailure(400, 'No readings in the CSV input');
  const bad = parsed.findIndex((r) => !numeric(r));
  if (bad >= 0) throw new ModelFailure(400, `CSV row ${bad + 1} is not a list of numbers`);
  // One column is one series; lines of several readings are rows of a batch.
  if (parsed.every((r) => r.length === 1)) return { rows: [parsed.map((r) => r[0])], shape: 'series' };
  return { rows: parsed, shape: 'csv' };
}

const round = (x: number): number => Math.round(x * 1e6) / 1e6;

/** z-scores of one series against its own mean and population standard deviation. */
export function scoreSeries(values: readonly number[], threshold: number) {
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const stdDev = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
  const scores = values.map((v) => (stdDev === 0 ? 0 : round((v - mean) / stdDev)));
  const anomalies = scores.flatMap((z, i) => (Math.abs(z) > threshold ? [i] : []));
  return { scores, anomalies, anomaly: anomalies.length > 0, threshold, mean: round(mean), stdDev: round(stdDev) };
}

function sensorAnomaly(req: ModelRequest): ModelResult {
  const text = req.body.toString('utf8').trim();
  if (text === '') throw new ModelFailure(400, 'Empty input: send CSV rows or a JSON array of readings');
  const ct = (req.contentType ?? '').toLowerCase();
  const jsonLines = /jsonl|ndjson/.test(ct);
  const json = !jsonLines && (ct.includes('json') || (!ct.includes('csv') && /^[[{]/.test(text)));
  const readings = jsonLines ? parseJsonLines(text) : json ? parseJson(text) : parseCsv(text);
  const attr = /(?:^|[;,\s])threshold=([0-9.]+)/.exec(req.customAttributes ?? '');
  const threshold = readings.threshold ?? (attr && Number(attr[1]) > 0 ? Number(attr[1]) : DEFAULT_ANOMALY_THRESHOLD);
  const results = readings.rows.map((row) => scoreSeries(row, threshold));
  const jsonBody = (value: unknown): ModelResult => ({ body: Buffer.from(JSON.stringify(value)), contentType: 'application/json' });
  switch (readings.shape) {
    case 'series':
      return jsonBody(results[0]);
    case 'array':
      return jsonBody(results);
    case 'jsonlines':
      return { body: Buffer.from(results.map((r) => JSON.stringify(r) + '\n').join('')), contentType: 'application/jsonlines' };
    case 'csv':
      if (/text\/csv/.test(req.accept ?? '')) {
        const lines = results.map((r) => `${r.anomaly ? 1 : 0},${Math.max(...r.scores.map(Math.abs))}\n`);
        return { body: Buffer.from(lines.join('')), contentType: 'text/csv' };
      }
      return jsonBody({ predictions: results });
    case 'instances':
    default:
      return jsonBody({ predictions: results });
  }
}

// ---------------------------------------------------------------------------------------------
// proxy: the model container contract (SageMaker Developer Guide, "Use your own inference code
// with hosting services": POST /invocations, GET /ping, port 8080)
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
    res = await request(
      containerUrl(req.endpoint.proxyUrl, '/invocations'),
      { method: 'POST', headers },
      req.body,
      CONTAINER_TIMEOUT_MS,
      req.signal,
    );
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
