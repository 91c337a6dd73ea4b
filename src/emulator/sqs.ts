/**
 * The emulator's SQS: standard queues in memory, spoken over the AWS JSON 1.0 protocol as
 * @aws-sdk/client-sqs sends it (`X-Amz-Target: AmazonSQS.<Operation>`, content type
 * `application/x-amz-json-1.0`; errors with `__type` and the query-compatible
 * `x-amzn-query-error` header). Long polling, visibility timeouts and redrive to a dead-letter
 * queue after `maxReceiveCount` receives behave as SQS documents them.
 */
import { createHash, randomUUID } from 'node:crypto';
import { ApiError } from './errors';

interface StoredMessage {
  id: string;
  body: string;
  md5: string;
  sentAt: number;
  visibleAt: number;
  receiveCount: number;
  firstReceiveAt?: number;
  receiptHandle?: string;
  messageAttributes?: Record<string, unknown>;
}

interface Waiter {
  wake(): void;
}

export interface Queue {
  name: string;
  url: string;
  arn: string;
  attributes: Record<string, string>;
  messages: StoredMessage[];
  waiters: Set<Waiter>;
  createdAt: number;
}

const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;
const MAX_BODY_BYTES = 262_144;
const SETTABLE = new Set([
  'VisibilityTimeout',
  'MessageRetentionPeriod',
  'DelaySeconds',
  'ReceiveMessageWaitTimeSeconds',
  'RedrivePolicy',
  'Policy',
  'MaximumMessageSize',
  'RedriveAllowPolicy',
  'SqsManagedSseEnabled',
]);

/** An SQS error: `code` is the JSON `__type` member, `queryCode` the legacy code in x-amzn-query-error. */
export class SqsError extends ApiError {
  constructor(
    status: number,
    code: string,
    message: string,
    readonly queryCode: string,
  ) {
    super(status, code, message);
  }
}

const invalid = (message: string): SqsError => new SqsError(400, 'InvalidParameterValue', message, 'InvalidParameterValue');
const invalidHandle = (handle: unknown): SqsError =>
  new SqsError(
    400,
    'ReceiptHandleIsInvalid',
    `The input receipt handle "${String(handle)}" is not a valid receipt handle.`,
    'ReceiptHandleIsInvalid',
  );
const noQueue = (): SqsError =>
  new SqsError(400, 'QueueDoesNotExist', 'The specified queue does not exist.', 'AWS.SimpleQueueService.NonExistentQueue');

const md5 = (s: string): string => createHash('md5').update(s, 'utf8').digest('hex');

export class SqsService {
  readonly queues = new Map<string, Queue>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(
    private readonly baseUrl: () => string,
    private readonly region: string,
    private readonly accountId: string,
  ) {}

  arnOf(name: string): string {
    return `arn:aws:sqs:${this.region}:${this.accountId}:${name}`;
  }

  queueByArn(arn: string): Queue | undefined {
    const name = arn.split(':').pop() ?? '';
    const q = this.queues.get(name);
    return q && q.arn === arn ? q : undefined;
  }

  /** The queue named by a QueueUrl (any host: the name is its last path segment). */
  queueByUrl(url: unknown): Queue {
    if (typeof url !== 'string' || url === '')
      throw new SqsError(400, 'MissingParameter', 'The request must contain the parameter QueueUrl.', 'MissingParameter');
    const name = url.replace(/\/+$/, '').split('/').pop() ?? '';
    const q = this.queues.get(name);
    if (!q) throw noQueue();
    return q;
  }

  createQueue(name: string, attributes: Record<string, string> = {}): Queue {
    if (!QUEUE_NAME.test(name)) throw invalid('Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length');
    const existing = this.queues.get(name);
    if (existing) return existing;
    const q: Queue = {
      name,
      url: `${this.baseUrl()}/${this.accountId}/${name}`,
      arn: this.arnOf(name),
      attributes: {
        VisibilityTimeout: '30',
        MessageRetentionPeriod: '345600',
        DelaySeconds: '0',
        ReceiveMessageWaitTimeSeconds: '0',
        MaximumMessageSize: '262144',
      },
      messages: [],
      waiters: new Set(),
      createdAt: Date.now(),
    };
    this.setAttributes(q, attributes);
    this.queues.set(name, q);
    return q;
  }

  setAttributes(q: Queue, attributes: Record<string, string>): void {
    for (const [k, v] of Object.entries(attributes ?? {})) {
      if (!SETTABLE.has(k)) throw invalid(`Unknown Attribute ${k}.`);
      if (k === 'RedrivePolicy') {
        let p: { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown };
        try {
          p = JSON.parse(String(v));
        } catch {
          throw invalid('Value for parameter RedrivePolicy is invalid. Reason: Redrive policy is not a valid JSON map.');
        }
        const count = Number(p.maxReceiveCount);
        if (typeof p.deadLetterTargetArn !== 'string' || !Number.isInteger(count) || count < 1 || count > 1000) {
          throw invalid(
            'Value for parameter RedrivePolicy is invalid. Reason: Redrive policy needs deadLetterTargetArn and maxReceiveCount 1-1000.',
          );
        }
        if (!this.queueByArn(p.deadLetterTargetArn))
          throw invalid('Value for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist.');
      }
      if (k === 'VisibilityTimeout' && !(Number.isInteger(Number(v)) && Number(v) >= 0 && Number(v) <= 43200))
        throw invalid('Invalid value for the parameter VisibilityTimeout.');
      q.attributes[k] = String(v);
    }
    this.wake(q);
  }

  /** Adds a message (SendMessage, or a delivery from the emulated SNS). */
  enqueue(q: Queue, body: string, delaySeconds = 0, messageAttributes?: Record<string, unknown>): StoredMessage {
    if (typeof body !== 'string' || body.length === 0)
      throw new SqsError(400, 'MissingParameter', 'The request must contain the parameter MessageBody.', 'MissingParameter');
    if (Buffer.byteLength(body) > Number(q.attributes.MaximumMessageSize ?? MAX_BODY_BYTES)) {
      throw invalid(`One or more parameters are invalid. Reason: Message must be shorter than ${q.attributes.MaximumMessageSize} bytes.`);
    }
    const now = Date.now();
    const delay = (delaySeconds || Number(q.attributes.DelaySeconds) || 0) * 1000;
    const m: StoredMessage = {
      id: randomUUID(),
      body,
      md5: md5(body),
      sentAt: now,
      visibleAt: now + delay,
      receiveCount: 0,
      messageAttributes,
    };
    q.messages.push(m);
    if (delay > 0) this.wakeAt(q, m.visibleAt);
    else this.wake(q);
    return m;
  }

  private wake(q: Queue): void {
    for (const w of [...q.waiters]) w.wake();
  }

  private wakeAt(q: Queue, at: number): void {
    if (this.closed) return;
    const t = setTimeout(
      () => {
        this.timers.delete(t);
        this.wake(q);
      },
      Math.max(0, at - Date.now()) + 1,
    );
    this.timers.add(t);
  }

  /** Takes up to `max` visible messages, moving those past maxReceiveCount to the dead-letter queue. */
  private take(q: Queue, max: number, visibilitySeconds: number): StoredMessage[] {
    const now = Date.now();
    const out: StoredMessage[] = [];
    let redrive: { deadLetterTargetArn: string; maxReceiveCount: number } | undefined;
    if (q.attributes.RedrivePolicy) redrive = JSON.parse(q.attributes.RedrivePolicy);
    for (let i = 0; i < q.messages.length && out.length < max; i++) {
      const m = q.messages[i];
      if (m.visibleAt > now) continue;
      const dlq = redrive ? this.queueByArn(redrive.deadLetterTargetArn) : undefined;
      if (redrive && dlq && m.receiveCount >= Number(redrive.maxReceiveCount)) {
        // SQS moves a message to the dead-letter queue when its receive count would exceed maxReceiveCount.
        q.messages.splice(i, 1);
        i -= 1;
        const moved: StoredMessage = { ...m, receiptHandle: undefined, visibleAt: now };
        dlq.messages.push(moved);
        this.wake(dlq);
        continue;
      }
      m.receiveCount += 1;
      m.firstReceiveAt ??= now;
      m.receiptHandle = `${m.id}#${randomUUID()}`;
      m.visibleAt = now + visibilitySeconds * 1000;
      this.wakeAt(q, m.visibleAt);
      out.push(m);
    }
    return out;
  }

  async receive(input: Record<string, unknown>, signal: AbortSignal): Promise<unknown> {
    const q = this.queueByUrl(input.QueueUrl);
    const max = input.MaxNumberOfMessages === undefined ? 1 : Number(input.MaxNumberOfMessages);
    if (!Number.isInteger(max) || max < 1 || max > 10)
      throw invalid(
        `Value ${String(input.MaxNumberOfMessages)} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.`,
      );
    const wait = input.WaitTimeSeconds === undefined ? Number(q.attributes.ReceiveMessageWaitTimeSeconds) : Number(input.WaitTimeSeconds);
    if (!Number.isInteger(wait) || wait < 0 || wait > 20)
      throw invalid(
        `Value ${String(input.WaitTimeSeconds)} for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.`,
      );
    const visibility = input.VisibilityTimeout === undefined ? Number(q.attributes.VisibilityTimeout) : Number(input.VisibilityTimeout);
    if (!Number.isInteger(visibility) || visibility < 0 || visibility > 43200)
      throw invalid('Invalid value for the parameter VisibilityTimeout.');
    const wanted = new Set<string>([
      ...((input.AttributeNames as string[] | undefined) ?? []),
      ...((input.MessageSystemAttributeNames as string[] | undefined) ?? []),
    ]);
    const all = wanted.has('All');

    let got = this.take(q, max, visibility);
    if (got.length === 0 && wait > 0 && !this.closed) {
      got = await new Promise<StoredMessage[]>((resolve) => {
        const finish = (list: StoredMessage[]): void => {
          clearTimeout(timer);
          q.waiters.delete(waiter);
          signal.removeEventListener('abort', onAbort);
          resolve(list);
        };
        const waiter: Waiter = {
          wake: () => {
            if (this.closed) return finish([]);
            const list = this.take(q, max, visibility);
            if (list.length > 0) finish(list);
          },
        };
        const onAbort = (): void => finish([]);
        const timer = setTimeout(() => finish([]), wait * 1000);
        q.waiters.add(waiter);
        signal.addEventListener('abort', onAbort, { once: true });
      });
    }
    if (signal.aborted) {
      // The client went away: what was taken for it becomes visible again at once.
      for (const m of got) m.visibleAt = Date.now();
      if (got.length > 0) this.wake(q);
      return {};
    }
    // Like SQS, an empty receive answers `{}` (no Messages member).
    if (got.length === 0) return {};
    return {
      Messages: got.map((m) => {
        const attributes: Record<string, string> = {};
        const add = (name: string, value: string): void => {
          if (all || wanted.has(name)) attributes[name] = value;
        };
        add('ApproximateReceiveCount', String(m.receiveCount));
        add('SentTimestamp', String(m.sentAt));
        add('ApproximateFirstReceiveTimestamp', String(m.firstReceiveAt ?? Date.now()));
        add('SenderId', this.accountId);
        return {
          MessageId: m.id,
          ReceiptHandle: m.receiptHandle,
          MD5OfBody: m.md5,
          Body: m.body,
          ...(Object.keys(attributes).length > 0 ? { Attributes: attributes } : {}),
        };
      }),
    };
  }

  private byHandle(q: Queue, handle: unknown): StoredMessage | undefined | null {
    if (typeof handle !== 'string' || !handle.includes('#')) return null;
    const id = handle.slice(0, handle.indexOf('#'));
    return q.messages.find((m) => m.id === id);
  }

  private deleteOne(q: Queue, handle: unknown): void {
    const m = this.byHandle(q, handle);
    if (m === null) throw invalidHandle(handle);
    // An outdated receipt handle (the message was received again since) does not delete it.
    if (m && m.receiptHandle === handle) q.messages.splice(q.messages.indexOf(m), 1);
  }

  changeVisibility(q: Queue, handle: unknown, seconds: unknown): void {
    const s = Number(seconds);
    if (!Number.isInteger(s) || s < 0 || s > 43200) throw invalid('Invalid value for the parameter VisibilityTimeout.');
    const m = this.byHandle(q, handle);
    if (m === null) throw invalidHandle(handle);
    if (!m || m.receiptHandle !== handle || m.visibleAt <= Date.now()) {
      throw new SqsError(
        400,
        'MessageNotInflight',
        'Message does not exist or is not available for visibility timeout change.',
        'AWS.SimpleQueueService.MessageNotInflight',
      );
    }
    m.visibleAt = Date.now() + s * 1000;
    if (s === 0) this.wake(q);
    else this.wakeAt(q, m.visibleAt);
  }

  queueAttributes(q: Queue, names: string[] | undefined): Record<string, string> {
    const now = Date.now();
    const visible = q.messages.filter((m) => m.visibleAt <= now).length;
    const all: Record<string, string> = {
      ...q.attributes,
      QueueArn: q.arn,
      ApproximateNumberOfMessages: String(visible),
      ApproximateNumberOfMessagesNotVisible: String(q.messages.filter((m) => m.visibleAt > now && m.receiveCount > 0).length),
      ApproximateNumberOfMessagesDelayed: String(q.messages.filter((m) => m.visibleAt > now && m.receiveCount === 0).length),
      CreatedTimestamp: String(Math.floor(q.createdAt / 1000)),
      LastModifiedTimestamp: String(Math.floor(q.createdAt / 1000)),
    };
    if (!names || names.length === 0) return {};
    if (names.includes('All')) return all;
    const out: Record<string, string> = {};
    for (const n of names) if (all[n] !== undefined) out[n] = all[n];
    return out;
  }

  /** One JSON 1.0 operation; resolves to the response document. */
  async handle(operation: string, input: Record<string, unknown>, signal: AbortSignal): Promise<unknown> {
    switch (operation) {
      case 'CreateQueue': {
        const q = this.createQueue(String(input.QueueName ?? ''), (input.Attributes as Record<string, string>) ?? {});
        return { QueueUrl: q.url };
      }
      case 'GetQueueUrl': {
        const q = this.queues.get(String(input.QueueName ?? ''));
        if (!q) throw noQueue();
        return { QueueUrl: q.url };
      }
      case 'ListQueues': {
        const prefix = String(input.QueueNamePrefix ?? '');
        return { QueueUrls: [...this.queues.values()].filter((q) => q.name.startsWith(prefix)).map((q) => q.url) };
      }
      case 'DeleteQueue': {
        const q = this.queueByUrl(input.QueueUrl);
        this.queues.delete(q.name);
        this.wake(q);
        return {};
      }
      case 'PurgeQueue': {
        this.queueByUrl(input.QueueUrl).messages.length = 0;
        return {};
      }
      case 'SendMessage': {
        const q = this.queueByUrl(input.QueueUrl);
        const m = this.enqueue(
          q,
          input.MessageBody as string,
          Number(input.DelaySeconds ?? 0),
          input.MessageAttributes as Record<string, unknown>,
        );
        return { MessageId: m.id, MD5OfMessageBody: m.md5 };
      }
      case 'ReceiveMessage':
        return this.receive(input, signal);
      case 'DeleteMessage':
        this.deleteOne(this.queueByUrl(input.QueueUrl), input.ReceiptHandle);
        return {};
      case 'DeleteMessageBatch': {
        const q = this.queueByUrl(input.QueueUrl);
        const entries = (input.Entries as Array<{ Id: string; ReceiptHandle: string }>) ?? [];
        if (entries.length === 0 || entries.length > 10)
          throw new SqsError(
            400,
            'EmptyBatchRequest',
            'There should be at least one and at most ten entries in the request.',
            'AWS.SimpleQueueService.EmptyBatchRequest',
          );
        const Successful: Array<{ Id: string }> = [];
        const Failed: Array<{ Id: string; SenderFault: boolean; Code: string; Message: string }> = [];
        for (const e of entries) {
          try {
            this.deleteOne(q, e.ReceiptHandle);
            Successful.push({ Id: e.Id });
          } catch (err) {
            Failed.push({ Id: e.Id, SenderFault: true, Code: (err as SqsError).code ?? 'InternalError', Message: (err as Error).message });
          }
        }
        return { Successful, Failed };
      }
      case 'ChangeMessageVisibility':
        this.changeVisibility(this.queueByUrl(input.QueueUrl), input.ReceiptHandle, input.VisibilityTimeout);
        return {};
      case 'GetQueueAttributes':
        return { Attributes: this.queueAttributes(this.queueByUrl(input.QueueUrl), input.AttributeNames as string[] | undefined) };
      case 'SetQueueAttributes':
        this.setAttributes(this.queueByUrl(input.QueueUrl), (input.Attributes as Record<string, string>) ?? {});
        return {};
      default:
        throw new SqsError(
          400,
          'UnsupportedOperation',
          `Operation ${operation} is not supported by the emulator`,
          'AWS.SimpleQueueService.UnsupportedOperation',
        );
    }
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const q of this.queues.values()) this.wake(q);
  }
}
