/**
 * SageMaker asynchronous inference notifications as they arrive in an SQS queue.
 *
 * With `AsyncInferenceConfig.OutputConfig.NotificationConfig`, SageMaker publishes one JSON
 * document per finished job to the endpoint's SNS success or error topic ("Check prediction
 * results", Amazon SageMaker Developer Guide). SNS delivers it to a subscribed SQS queue either
 * inside the SNS envelope (`{"Type":"Notification","Message":"<the JSON as a string>",…}`) or, with
 * the subscription attribute `RawMessageDelivery`, as the bare JSON. The README ("Scaling out")
 * records the fields and where they were verified.
 */

/** One finished job, as told by its notification. */
export interface AsyncNotification {
  inferenceId: string;
  /** `Completed` or `Failed` (any other value is rejected). */
  invocationStatus: 'Completed' | 'Failed';
  /** `responseParameters.outputLocation` (success notifications). */
  outputLocation?: string;
  /** `responseParameters.failureLocation`, when the service sends one. */
  failureLocation?: string;
  /** The service's reason, on failure. */
  failureReason?: string;
  /** `requestParameters.endpointName`. */
  endpointName?: string;
  /** Content type of the response (`responseParameters.contentType`). */
  contentType?: string;
  /** When the job ended (ISO 8601). */
  eventTime?: string;
  /** When the request was accepted (ISO 8601). */
  receivedTime?: string;
  /** The response itself, decoded from `responseBody.content` (IncludeInferenceResponseIn, ≤ 128 KB). */
  includedResponse?: Buffer;
  /** The SNS topic it came through (absent with raw message delivery). */
  topicArn?: string;
  /** The notification document as parsed, for anything not mapped above. */
  raw: Record<string, unknown>;
}

/** A queue message that is not a SageMaker async notification. */
export class NotificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotificationError';
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new NotificationError(`${what} is not JSON: ${(err as Error).message}`);
  }
}

/**
 * Unwraps an SQS message body: the SNS envelope (`Type: Notification`) gives its `Message`
 * string and topic; anything else is taken as a raw delivery.
 */
export function unwrapSqsBody(body: string): { document: unknown; topicArn?: string } {
  const outer = parseJson(body, 'the queue message');
  if (isObject(outer) && outer.Type === 'Notification' && typeof outer.Message === 'string') {
    return { document: parseJson(outer.Message, 'the SNS Message'), topicArn: str(outer.TopicArn) };
  }
  return { document: outer };
}

/** `responseBody` → bytes: `encoding` BASE64 (what SageMaker sends) or plain text. */
function includedResponse(v: unknown): Buffer | undefined {
  if (!isObject(v) || typeof v.content !== 'string') return undefined;
  const encoding = typeof v.encoding === 'string' ? v.encoding.toUpperCase() : '';
  if (encoding === 'BASE64') {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(v.content.replace(/\s+/g, '')))
      throw new NotificationError('responseBody.content is not valid base64');
    return Buffer.from(v.content, 'base64');
  }
  return Buffer.from(v.content, 'utf8');
}

/**
 * Parses the body of an SQS message into a notification, or throws a {@link NotificationError}
 * saying what is wrong (not JSON, not a SageMaker notification, no inferenceId, unknown status,
 * a success without an output location).
 */
export function parseNotification(body: string): AsyncNotification {
  const { document, topicArn } = unwrapSqsBody(body);
  if (!isObject(document)) throw new NotificationError('the notification is not a JSON object');
  const d = document;
  if (d.eventSource !== undefined && d.eventSource !== 'aws:sagemaker') {
    throw new NotificationError(`not a SageMaker notification (eventSource ${JSON.stringify(d.eventSource)})`);
  }
  const inferenceId = str(d.inferenceId);
  if (!inferenceId) throw new NotificationError('the notification has no inferenceId');
  const status = d.invocationStatus;
  if (status !== 'Completed' && status !== 'Failed') {
    throw new NotificationError(`invocationStatus must be Completed or Failed, got ${JSON.stringify(status)}`);
  }
  const request = isObject(d.requestParameters) ? d.requestParameters : {};
  const response = isObject(d.responseParameters) ? d.responseParameters : {};
  const n: AsyncNotification = { inferenceId, invocationStatus: status, raw: d };
  const set = <K extends keyof AsyncNotification>(k: K, v: AsyncNotification[K] | undefined): void => {
    if (v !== undefined) n[k] = v;
  };
  set('outputLocation', str(response.outputLocation));
  set('failureLocation', str(response.failureLocation));
  set('failureReason', str(d.failureReason));
  set('endpointName', str(request.endpointName));
  set('contentType', str(response.contentType));
  set('eventTime', str(d.eventTime));
  set('receivedTime', str(d.receivedTime));
  set('includedResponse', includedResponse(d.responseBody));
  set('topicArn', topicArn);
  if (status === 'Completed' && !n.outputLocation && !n.includedResponse) {
    throw new NotificationError(
      `the Completed notification of ${inferenceId} has neither responseParameters.outputLocation nor a responseBody`,
    );
  }
  return n;
}
