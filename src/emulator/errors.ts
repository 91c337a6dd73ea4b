/**
 * Error replies in the wire shapes of the three protocols the emulator speaks: restJson1
 * (SageMaker Runtime), awsQuery XML (STS) and awsJson1.1 (SageMaker control plane).
 */
import type { ServerResponse } from 'node:http';

export type Protocol = 'rest-json' | 'query-xml' | 'json11';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra members of the JSON body (ModelError's OriginalStatusCode …). */
    readonly fields: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const validation = (message: string): ApiError => new ApiError(400, 'ValidationError', message);

export function logStreamArn(region: string, accountId: string, endpointName: string): string {
  return `arn:aws:logs:${region}:${accountId}:log-group:/aws/sagemaker/Endpoints/${endpointName}:log-stream:AllTraffic/i-0123456789abcdef0`;
}

/** A 424 ModelError as SageMaker words it when the container answers 4xx/5xx. */
export function modelError(
  region: string,
  accountId: string,
  endpointName: string,
  originalStatusCode: number,
  originalMessage: string,
): ApiError {
  const kind = originalStatusCode >= 500 || originalStatusCode === 0 ? 'server' : 'client';
  const message =
    `Received ${kind} error (${originalStatusCode}) from primary with message "${originalMessage}". ` +
    `See https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#logEventViewer:group=/aws/sagemaker/Endpoints/${endpointName} ` +
    `in account ${accountId} for more information.`;
  return new ApiError(424, 'ModelError', message, {
    OriginalStatusCode: originalStatusCode,
    OriginalMessage: originalMessage,
    LogStreamArn: logStreamArn(region, accountId, endpointName),
  });
}

const xmlEscape = (s: string): string =>
  s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] as string);

export { xmlEscape };

/** Writes `err` (already counted by the caller) unless the response has started. */
export function sendError(res: ServerResponse, err: ApiError, requestId: string, protocol: Protocol = 'rest-json'): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  let body: string;
  let contentType: string;
  if (protocol === 'query-xml') {
    contentType = 'text/xml';
    const type = err.status >= 500 ? 'Receiver' : 'Sender';
    body =
      `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">\n` +
      `  <Error>\n    <Type>${type}</Type>\n    <Code>${xmlEscape(err.code)}</Code>\n` +
      `    <Message>${xmlEscape(err.message)}</Message>\n  </Error>\n` +
      `  <RequestId>${requestId}</RequestId>\n</ErrorResponse>\n`;
  } else if (protocol === 'json11') {
    contentType = 'application/x-amz-json-1.1';
    body = JSON.stringify({ __type: err.code, message: err.message, ...err.fields });
  } else {
    contentType = 'application/json';
    body = JSON.stringify(
      err.code === 'ModelError' ? { Message: err.message, message: err.message, ...err.fields } : { message: err.message, ...err.fields },
    );
  }
  res.writeHead(err.status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    'x-amzn-ErrorType': err.code,
    'x-amzn-RequestId': requestId,
  });
  res.end(body);
}
