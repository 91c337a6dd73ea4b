/**
 * A long-poll consumer of an SQS queue of SageMaker async notifications, with the SQS calls
 * injected (so it is unit-tested without a network and shared by every node that reads a queue).
 *
 * - `ReceiveMessage` for up to 10 messages with `WaitTimeSeconds` 20 (SQS's maxima: one request
 *   answers at once when a message is there, or waits up to 20 s for one).
 * - Each message is parsed ({@link parseNotification}) and handed to `handle`; the queue message
 *   is deleted only after `handle` resolved `'delete'` (the outcome was sent). `'keep'` leaves it
 *   in flight: it becomes visible again after the queue's visibility timeout and, after the
 *   queue's `maxReceiveCount`, SQS moves it to the dead-letter queue. `'release'` makes it
 *   visible at once (another consumer may take it).
 * - SQS and SNS deliver at least once: a notification whose inferenceId was handled within the
 *   de-duplication window (or is being handled now) is not handed over again; its copy is deleted.
 * - Receive errors back off (1 s doubling to 30 s); `close()` aborts the long poll at once.
 */
import { type AsyncNotification, NotificationError, parseNotification } from './async-notification';

/** One received queue message. */
export interface QueueMessage {
  messageId: string;
  receiptHandle: string;
  body: string;
  /** ApproximateReceiveCount, when asked for. */
  receiveCount?: number;
}

/** The SQS calls the consumer needs, bound to one queue. */
export interface QueueOps {
  receive(options: { maxMessages: number; waitTimeSeconds: number; signal: AbortSignal }): Promise<QueueMessage[]>;
  delete(receiptHandle: string, signal: AbortSignal): Promise<void>;
  /** Visible again now (ChangeMessageVisibility 0); without it `'release'` acts as `'keep'`. */
  release?(receiptHandle: string, signal: AbortSignal): Promise<void>;
}

/** What to do with the queue message after handling it. */
export type Verdict = 'delete' | 'keep' | 'release';

export interface ConsumerStats {
  received: number;
  /** Messages handled with verdict `delete` (outcomes sent). */
  handled: number;
  duplicates: number;
  invalid: number;
  /** Messages left for redelivery (`keep`, `release`, or a handler that threw). */
  kept: number;
  receiveErrors: number;
}

export interface ConsumerOptions {
  ops: QueueOps;
  /** Sends the outcome of one notification; resolves to what happens to the queue message. */
  handle(notification: AsyncNotification, message: QueueMessage, signal: AbortSignal): Promise<Verdict>;
  /** A message that is not a notification (default: `'keep'`, so it ends in the dead-letter queue). */
  onInvalid?(error: NotificationError, message: QueueMessage): Verdict;
  /** Receive/delete failures and handler exceptions (the consumer goes on). */
  onError?(error: unknown, where: 'receive' | 'delete' | 'handle'): void;
  /** Called after each batch (for status texts). */
  onStats?(stats: ConsumerStats): void;
  /** Called after each successful receive, with the number of messages (0 when a long poll ended empty). */
  onReceive?(count: number): void;
  maxMessages?: number;
  waitTimeSeconds?: number;
  dedupWindowMs?: number;
  dedupMax?: number;
  backoffMs?: number;
  maxBackoffMs?: number;
  now?(): number;
  sleep?(ms: number, signal: AbortSignal): Promise<void>;
}

/** How long a delete may take after close (Node-RED gives a closing node 15 s). */
const DELETE_TIMEOUT_MS = 5000;

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Remembers handled ids for a while (bounded, oldest forgotten first). */
export class RecentIds {
  private readonly seen = new Map<string, number>();
  constructor(
    private readonly windowMs: number,
    private readonly max: number,
    private readonly now: () => number,
  ) {}
  has(id: string): boolean {
    const at = this.seen.get(id);
    if (at === undefined) return false;
    if (this.now() - at > this.windowMs) {
      this.seen.delete(id);
      return false;
    }
    return true;
  }
  add(id: string): void {
    this.seen.delete(id);
    this.seen.set(id, this.now());
    const cutoff = this.now() - this.windowMs;
    for (const [k, at] of this.seen) {
      if (this.seen.size <= this.max && at >= cutoff) break;
      this.seen.delete(k);
    }
  }
  get size(): number {
    return this.seen.size;
  }
}

export class QueueConsumer {
  readonly stats: ConsumerStats = { received: 0, handled: 0, duplicates: 0, invalid: 0, kept: 0, receiveErrors: 0 };
  private readonly abort = new AbortController();
  private readonly recent: RecentIds;
  private readonly active = new Map<string, Promise<Verdict>>();
  private loop: Promise<void> | undefined;
  private readonly o: Required<Omit<ConsumerOptions, 'onInvalid' | 'onError' | 'onStats' | 'onReceive'>> & ConsumerOptions;

  constructor(options: ConsumerOptions) {
    this.o = {
      maxMessages: 10,
      waitTimeSeconds: 20,
      dedupWindowMs: 15 * 60_000,
      dedupMax: 100_000,
      backoffMs: 1000,
      maxBackoffMs: 30_000,
      now: Date.now,
      sleep: abortableSleep,
      ...options,
    };
    this.recent = new RecentIds(this.o.dedupWindowMs, this.o.dedupMax, this.o.now);
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  get closed(): boolean {
    return this.abort.signal.aborted;
  }

  /** Starts the receive loop (once). */
  start(): void {
    this.loop ??= this.run();
  }

  /** Aborts the long poll and in-flight calls; resolves when the loop has ended. */
  async close(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    let backoff = 0;
    while (!signal.aborted) {
      let batch: QueueMessage[];
      try {
        batch = await this.o.ops.receive({ maxMessages: this.o.maxMessages, waitTimeSeconds: this.o.waitTimeSeconds, signal });
        backoff = 0;
        this.o.onReceive?.(batch.length);
      } catch (err) {
        if (signal.aborted) break;
        this.stats.receiveErrors += 1;
        this.o.onError?.(err, 'receive');
        backoff = backoff === 0 ? this.o.backoffMs : Math.min(backoff * 2, this.o.maxBackoffMs);
        this.o.onStats?.({ ...this.stats });
        await this.o.sleep(backoff, signal);
        continue;
      }
      if (signal.aborted) break; // received during close: left in flight, visible again later
      this.stats.received += batch.length;
      await Promise.all(batch.map((m) => this.process(m)));
      if (batch.length > 0) this.o.onStats?.({ ...this.stats });
    }
  }

  /** Handles one message (exposed for tests and for callers that receive by other means). */
  async process(message: QueueMessage): Promise<Verdict> {
    const signal = this.abort.signal;
    let notification: AsyncNotification;
    try {
      notification = parseNotification(message.body);
    } catch (err) {
      this.stats.invalid += 1;
      const e = err instanceof NotificationError ? err : new NotificationError(String(err));
      const verdict = this.o.onInvalid ? this.o.onInvalid(e, message) : 'keep';
      await this.apply(verdict, message);
      return verdict;
    }
    const id = notification.inferenceId;
    if (this.recent.has(id)) {
      this.stats.duplicates += 1;
      await this.apply('delete', message);
      return 'delete';
    }
    const running = this.active.get(id);
    if (running) {
      // A copy arrived while the first is being handled: it follows the first's fate.
      this.stats.duplicates += 1;
      const first = await running;
      const verdict: Verdict = first === 'delete' ? 'delete' : 'keep';
      await this.apply(verdict, message);
      return verdict;
    }
    const work = this.o.handle(notification, message, signal).catch((err: unknown): Verdict => {
      if (!signal.aborted) this.o.onError?.(err, 'handle');
      return 'keep';
    });
    this.active.set(id, work);
    let verdict: Verdict;
    try {
      verdict = await work;
    } finally {
      this.active.delete(id);
    }
    if (verdict === 'delete') {
      // Remembered before the delete: if the delete fails, the redelivered copy is recognised.
      this.recent.add(id);
      this.stats.handled += 1;
    }
    await this.apply(verdict, message);
    return verdict;
  }

  private async apply(verdict: Verdict, message: QueueMessage): Promise<void> {
    const signal = this.abort.signal;
    if (verdict !== 'delete') {
      this.stats.kept += 1;
      if (verdict === 'release' && this.o.ops.release && !signal.aborted) {
        try {
          await this.o.ops.release(message.receiptHandle, signal);
        } catch (err) {
          if (!signal.aborted) this.o.onError?.(err, 'delete');
        }
      }
      return;
    }
    try {
      // Not aborted by close (the outcome was sent, so the delete should still go out), but bounded.
      await this.o.ops.delete(message.receiptHandle, AbortSignal.timeout(DELETE_TIMEOUT_MS));
    } catch (err) {
      this.o.onError?.(err, 'delete');
    }
  }
}
