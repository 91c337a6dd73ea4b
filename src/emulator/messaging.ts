/**
 * SQS and SNS on one port of their own, with the same SigV4 check as the SageMaker endpoints
 * (signing services `sqs` and `sns`): `X-Amz-Target: AmazonSQS.*` requests go to the SQS of
 * sqs.ts (JSON 1.0), form-encoded `Action=…` requests to the SNS of sns.ts (awsQuery).
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiError, xmlEscape } from './errors';
import { serverLimits, type Timeouts } from './limits';
import { checkAuthHeader, type Principal, verifySigV4 } from './sigv4';
import { SnsService } from './sns';
import { SqsError, SqsService } from './sqs';

const BODY_LIMIT = 1024 * 1024;

export interface MessagingOptions {
  host: string;
  port: number;
  region: string;
  accountId: string;
  auth: boolean;
  lookup(accessKeyId: string): Principal | undefined;
  /** Counts requests by operation (the emulator's stats().requests). */
  count(operation: string): void;
  log(line: string): void;
  verbose?: boolean;
  /** Connection limits (slow clients are dropped; a 20 s long poll is well inside them). */
  timeouts?: Timeouts;
}

export interface MessagingHandle {
  url: string;
  sqs: SqsService;
  sns: SnsService;
  close(): Promise<void>;
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= BODY_LIMIT) chunks.push(c);
    });
    req.on('end', () =>
      size > BODY_LIMIT ? reject(new ApiError(413, 'RequestEntityTooLarge', 'Request body too large')) : resolve(Buffer.concat(chunks)),
    );
    req.on('error', reject);
  });
}

export function parseQuery(search: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(search)) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

export async function startMessaging(o: MessagingOptions): Promise<MessagingHandle> {
  let base = '';
  const sqs = new SqsService(() => base, o.region, o.accountId);
  const sns = new SnsService(sqs, o.region, o.accountId, () => base);

  const limits = serverLimits(o.timeouts);
  const server = http.createServer(limits.options, (req, res) => {
    const requestId = randomUUID();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url : url.slice(0, q);
    const search = q < 0 ? '' : url.slice(q + 1);
    const target = req.headers['x-amz-target'];
    const isSqs = typeof target === 'string' && target.startsWith('AmazonSQS.');
    const abort = new AbortController();
    res.on('close', () => abort.abort());

    const sendSqsError = (err: ApiError): void => {
      const queryCode = err instanceof SqsError ? err.queryCode : err.code;
      const body = JSON.stringify({ __type: `com.amazonaws.sqs#${err.code}`, message: err.message });
      res.writeHead(err.status, {
        'Content-Type': 'application/x-amz-json-1.0',
        'Content-Length': Buffer.byteLength(body),
        'x-amzn-RequestId': requestId,
        'x-amzn-query-error': `${queryCode};${err.status >= 500 ? 'Receiver' : 'Sender'}`,
      });
      res.end(body);
    };
    const sendSnsError = (err: ApiError): void => {
      const body =
        `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">\n  <Error>\n    <Type>${err.status >= 500 ? 'Receiver' : 'Sender'}</Type>\n` +
        `    <Code>${xmlEscape(err.code)}</Code>\n    <Message>${xmlEscape(err.message)}</Message>\n  </Error>\n  <RequestId>${requestId}</RequestId>\n</ErrorResponse>\n`;
      res.writeHead(err.status, { 'Content-Type': 'text/xml', 'Content-Length': Buffer.byteLength(body), 'x-amzn-RequestId': requestId });
      res.end(body);
    };
    const fail = (err: unknown): void => {
      if (res.headersSent || res.destroyed) {
        res.destroy();
        return;
      }
      const e = err instanceof ApiError ? err : new ApiError(500, 'InternalError', 'An internal error occurred.');
      if (!(err instanceof ApiError)) o.log(`internal error on ${req.method} ${url}: ${(err as Error)?.stack ?? String(err)}`);
      if (isSqs) sendSqsError(e);
      else sendSnsError(e);
    };

    (async () => {
      if (req.method !== 'POST') {
        req.resume();
        throw new ApiError(405, 'MethodNotAllowed', `Method ${req.method} is not allowed; SQS and SNS take POST`);
      }
      const service = isSqs ? 'sqs' : 'sns';
      // Before the body is read: an unsigned or unknown-key request costs no memory.
      if (o.auth) {
        try {
          checkAuthHeader({ headers: req.headers, services: [service], region: o.region, lookup: o.lookup });
        } catch (err) {
          req.resume();
          throw err;
        }
      }
      const body = await readBody(req);
      const authenticate = async (service: string): Promise<void> => {
        if (!o.auth) return;
        await verifySigV4({
          method: 'POST',
          path: rawPath,
          query: parseQuery(search),
          headers: req.headers,
          body,
          services: [service],
          region: o.region,
          lookup: o.lookup,
        });
      };
      if (isSqs) {
        const op = (target as string).slice('AmazonSQS.'.length);
        await authenticate('sqs');
        o.count(op);
        let input: Record<string, unknown>;
        try {
          input = body.length === 0 ? {} : (JSON.parse(body.toString('utf8')) as Record<string, unknown>);
        } catch {
          throw new SqsError(400, 'InvalidParameterValue', 'The request body is not JSON.', 'InvalidParameterValue');
        }
        if (!input || typeof input !== 'object' || Array.isArray(input))
          throw new SqsError(400, 'InvalidParameterValue', 'The request body must be a JSON object.', 'InvalidParameterValue');
        const out = JSON.stringify(await sqs.handle(op, input, abort.signal));
        if (res.destroyed) return;
        res.writeHead(200, {
          'Content-Type': 'application/x-amz-json-1.0',
          'Content-Length': Buffer.byteLength(out),
          'x-amzn-RequestId': requestId,
        });
        res.end(out);
        return;
      }
      const params = new URLSearchParams(search);
      for (const [k, v] of new URLSearchParams(body.toString('utf8'))) params.set(k, v);
      const action = params.get('Action') ?? '';
      await authenticate('sns');
      o.count(action || 'SNS');
      const xml = sns.handle(action, params, requestId);
      res.writeHead(200, { 'Content-Type': 'text/xml', 'Content-Length': Buffer.byteLength(xml), 'x-amzn-RequestId': requestId });
      res.end(xml);
    })().catch(fail);
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  limits.idle(server);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = o.host === '0.0.0.0' || o.host === '::' ? '127.0.0.1' : o.host.includes(':') ? `[${o.host}]` : o.host;
  base = `http://${host}:${port}`;
  let closing: Promise<void> | undefined;
  return {
    url: base,
    sqs,
    sns,
    close() {
      closing ??= new Promise<void>((resolve) => {
        sqs.close();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
