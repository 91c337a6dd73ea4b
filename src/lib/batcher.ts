/**
 * Collects rows into batches per key (endpoint + request fields): a batch is handed on when it
 * has `size` rows, when `windowMs` has passed since its first row, or before a row that would
 * take its body over `maxBytes`. Timers are injected, so the logic is tested without waiting.
 */

export interface Batch<T> {
  key: string;
  rows: string[];
  items: T[];
  bytes: number;
}

export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export interface BatcherOptions<T> {
  /** Rows per batch (≥ 1). */
  size: number;
  /** Milliseconds a batch waits for more rows after its first. */
  windowMs: number;
  /** Body bytes a batch may hold (a single larger row still goes, alone). */
  maxBytes: number;
  /** Receives each full or timed-out batch. */
  onBatch: (batch: Batch<T>) => void;
  timers?: Timers;
}

const realTimers: Timers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (h) => clearTimeout(h as NodeJS.Timeout),
};

export class Batcher<T> {
  private readonly open = new Map<string, { batch: Batch<T>; timer: unknown }>();
  private readonly timers: Timers;
  private count = 0;

  constructor(private readonly options: BatcherOptions<T>) {
    this.timers = options.timers ?? realTimers;
  }

  /** Rows waiting in open batches. */
  get pending(): number {
    return this.count;
  }

  /** Adds one row (`bytes` = its share of the body) for `key`. */
  add(key: string, row: string, bytes: number, item: T): void {
    let entry = this.open.get(key);
    if (entry && entry.batch.bytes + bytes > this.options.maxBytes) {
      this.flush(key);
      entry = undefined;
    }
    if (!entry) {
      entry = { batch: { key, rows: [], items: [], bytes: 0 }, timer: undefined };
      this.open.set(key, entry);
      entry.timer = this.timers.set(() => this.flush(key), this.options.windowMs);
    }
    entry.batch.rows.push(row);
    entry.batch.items.push(item);
    entry.batch.bytes += bytes;
    this.count++;
    if (entry.batch.rows.length >= this.options.size) this.flush(key);
  }

  private flush(key: string): void {
    const entry = this.open.get(key);
    if (!entry) return;
    this.open.delete(key);
    this.timers.clear(entry.timer);
    this.count -= entry.batch.items.length;
    this.options.onBatch(entry.batch);
  }

  /** Stops every window and returns the items of the open batches, unsent, in arrival order per key. */
  close(): T[] {
    const items: T[] = [];
    for (const entry of this.open.values()) {
      this.timers.clear(entry.timer);
      items.push(...entry.batch.items);
    }
    this.open.clear();
    this.count = 0;
    return items;
  }
}
