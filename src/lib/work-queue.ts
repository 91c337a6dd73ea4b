/**
 * Concurrency limiter with a bounded FIFO queue: at most `concurrency` jobs run at once, up to
 * `queueSize` wait, and `close()` aborts the running ones and releases the waiting ones.
 */
import { setMaxListeners } from 'node:events';

export interface Job {
  /** Does the work; must observe `signal`. A rejection is swallowed (jobs report their own outcome). */
  run(signal: AbortSignal): Promise<unknown>;
  /** Called instead of `run` when the job is released from the queue by `close()`. */
  release(): void;
}

export interface WorkQueueOptions {
  concurrency: number;
  queueSize: number;
  /** Called whenever the running/queued counts change. */
  onChange?: (running: number, queued: number) => void;
  /** The signal jobs get (the node's one abort signal); without it the queue makes its own, aborted by `close()`. */
  signal?: AbortSignal;
}

export class WorkQueue {
  readonly concurrency: number;
  readonly queueSize: number;
  private readonly onChange?: (running: number, queued: number) => void;
  // A ring of waiting jobs: shift() on a big array is O(n).
  private waiting: Array<Job | undefined> = [];
  private head = 0;
  // One signal for every job: jobs are only ever aborted all together (close), and an
  // AbortController per job was a measurable share of the per-message cost.
  private readonly abort: AbortController | undefined;
  private readonly signal: AbortSignal;
  private readonly settled = new Set<Promise<void>>();
  private closed = false;

  constructor(options: WorkQueueOptions) {
    this.concurrency = Math.max(1, Math.floor(options.concurrency) || 1);
    this.queueSize = Math.max(0, Math.floor(options.queueSize) || 0);
    this.onChange = options.onChange;
    if (options.signal) this.signal = options.signal;
    else {
      this.abort = new AbortController();
      this.signal = this.abort.signal;
      // Each running job's SDK call listens on the shared signal.
      setMaxListeners(0, this.signal);
    }
  }

  /** Jobs running now. */
  get running(): number {
    return this.settled.size;
  }

  /** Jobs waiting. */
  get queued(): number {
    return this.waiting.length - this.head;
  }

  /**
   * Starts the job now, or queues it. Returns false (and does nothing) when the queue is full
   * or the queue is closed: the caller must then report an error for it.
   */
  push(job: Job): boolean {
    if (this.closed) return false;
    if (this.settled.size < this.concurrency) {
      this.start(job);
    } else if (this.queued < this.queueSize) {
      this.waiting.push(job);
    } else {
      return false;
    }
    this.changed();
    return true;
  }

  private start(job: Job): void {
    let p: Promise<void>;
    const finish = (): void => {
      this.settled.delete(p);
      if (!this.closed) this.next();
      this.changed();
    };
    try {
      p = Promise.resolve(job.run(this.signal)).then(finish, finish);
    } catch {
      p = Promise.resolve().then(finish);
    }
    this.settled.add(p);
  }

  private next(): void {
    while (this.settled.size < this.concurrency && this.queued > 0) {
      const job = this.waiting[this.head] as Job;
      this.waiting[this.head++] = undefined;
      if (this.head > 1024 && this.head * 2 > this.waiting.length) {
        this.waiting = this.waiting.slice(this.head);
        this.head = 0;
      }
      this.start(job);
    }
  }

  private changed(): void {
    if (this.onChange) this.onChange(this.running, this.queued);
  }

  /**
   * Stops taking jobs, releases every waiting job (`release()`, in order), aborts the running
   * ones (unless the signal is the caller's: the caller aborts it) and resolves when they have
   * all settled.
   */
  async close(reason?: unknown): Promise<void> {
    this.closed = true;
    const waiting = this.waiting.slice(this.head) as Job[];
    this.waiting = [];
    this.head = 0;
    for (const job of waiting) {
      try {
        job.release();
      } catch {
        // a release must not stop the others
      }
    }
    this.abort?.abort(reason);
    await Promise.all([...this.settled]);
    this.changed();
  }
}
