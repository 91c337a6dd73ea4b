/**
 * Watches S3 for the results of async inference jobs. Pure scheduling: the S3 call is injected.
 *
 * Jobs whose expected objects share a "directory" (bucket + key up to the last `/`) are checked
 * together: each round makes ONE ListObjectsV2 per directory (output directories, plus failure
 * directories), paging from just before the smallest expected key and stopping after the largest,
 * instead of one HeadObject per job. Directories back off independently from `pollIntervalMs` to
 * `maxPollIntervalMs`; a new job or a found result brings its directory back to `pollIntervalMs`.
 *
 * With a `read` function, a listed object is also read here: a read that fails (403, 500, a reset)
 * is retried with the same backoff, without listing the job again, until it succeeds or the job's
 * deadline (acceptance + maxWait, never reset) passes — then the job ends once as `unreadable`.
 */
import { setMaxListeners } from 'node:events';
import { keyDirectory, parseS3Uri } from './s3-location';

export interface ListRequest {
  bucket: string;
  prefix: string;
  startAfter?: string;
  continuationToken?: string;
  signal: AbortSignal;
}

export interface ListedObject {
  key: string;
  size: number;
}

export interface ListPage {
  objects: ListedObject[];
  nextContinuationToken?: string;
}

export interface PollJob {
  /** Unique id of the job within the poller. */
  id: string;
  outputLocation: string;
  /** Absent when the endpoint has no S3FailurePath. */
  failureLocation?: string;
  /** When the job was accepted (ms since epoch); maxWait counts from here, also across restarts. */
  startedAt: number;
  maxWaitMs: number;
}

/** A listed output or failure object of a job. */
export interface FoundObject {
  type: 'output' | 'failure';
  bucket: string;
  key: string;
  size: number;
}

export interface ReadRequest {
  job: PollJob;
  found: FoundObject;
  signal: AbortSignal;
}

export type PollOutcome =
  /** `data`: what `read` returned (absent without a `read` function). `reads`: read attempts. */
  | ({ type: 'output'; polls: number; data?: unknown; reads: number } & Omit<FoundObject, 'type'>)
  | ({ type: 'failure'; polls: number; data?: unknown; reads: number } & Omit<FoundObject, 'type'>)
  | { type: 'timeout'; polls: number }
  /** Listed, but every read failed until the deadline; `error` is the last read error. */
  | ({ type: 'unreadable'; found: FoundObject['type']; polls: number; reads: number; error: unknown } & Omit<FoundObject, 'type'>);

export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface PollerOptions {
  pollIntervalMs: number;
  maxPollIntervalMs: number;
  /** Growth of the interval after a round that found nothing (default 1.5). */
  backoffFactor?: number;
  /** One page of ListObjectsV2. */
  list(req: ListRequest): Promise<ListPage>;
  /** Called once per job, after the job has left the poller. */
  onOutcome(job: PollJob, outcome: PollOutcome): void;
  /**
   * Reads a listed object (optional). A rejection is retried with the polling backoff until the
   * job's deadline; the resolved value is the outcome's `data`.
   */
  read?(req: ReadRequest): Promise<unknown>;
  /** A listing failed; the jobs stay pending and are checked again next round. */
  onListError?(err: unknown, bucket: string, prefix: string): void;
  /** A read failed and will be retried (`attempt` counts from 1); not called for the final one. */
  onReadError?(err: unknown, job: PollJob, found: FoundObject, attempt: number): void;
  /** Called after every round (e.g. to update a status). */
  onRound?(): void;
  /** Injected clock and timers, for tests. */
  timers?: Timers;
}

interface Watched {
  job: PollJob;
  out: { bucket: string; key: string; dir: string };
  fail?: { bucket: string; key: string; dir: string };
  polls: number;
  deadline: number;
  /** When the job was last checked; a deadline already checked no longer drives the schedule. */
  lastPollAt: number;
}

/** A job whose object was listed and is being read (not listed any more). */
interface Reading {
  w: Watched;
  found: FoundObject;
  attempts: number;
  intervalMs: number;
  nextAt: number;
  inFlight: boolean;
}

interface Group {
  /** bucket + '\n' + directory of the output key */
  id: string;
  jobs: Set<string>;
  intervalMs: number;
  nextAt: number;
}

const realTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** Compares keys the way S3 lists them: by UTF-8 bytes. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * Next interval after a round: back to the minimum after activity, otherwise grown by `factor`
 * and capped at the maximum.
 */
export function nextInterval(current: number, min: number, max: number, factor: number, activity: boolean): number {
  if (activity) return min;
  return Math.max(min, Math.min(max, current * factor));
}

/**
 * Lists every key in `prefix` that may equal one of `wanted`, paging as needed. Starts just before
 * the smallest wanted key and stops once a page passes the largest, so old objects in a busy
 * prefix cost little. Returns the matching keys with their sizes and the number of list calls made.
 */
export async function listWanted(
  list: PollerOptions['list'],
  bucket: string,
  prefix: string,
  wanted: Set<string>,
  signal: AbortSignal,
): Promise<{ found: Map<string, number>; calls: number }> {
  const sorted = [...wanted].sort(compareKeys);
  const first = sorted[0];
  const last = sorted[sorted.length - 1];
  // StartAfter is exclusive; a proper prefix of `first` sorts before it.
  const startAfter = first.length > prefix.length + 1 ? first.slice(0, -1) : undefined;
  const found = new Map<string, number>();
  let token: string | undefined;
  let calls = 0;
  for (;;) {
    const page = await list({ bucket, prefix, startAfter, continuationToken: token, signal });
    calls += 1;
    let passedLast = false;
    for (const o of page.objects) {
      if (wanted.has(o.key)) found.set(o.key, o.size);
      if (compareKeys(o.key, last) >= 0) passedLast = true;
    }
    if (passedLast || !page.nextContinuationToken || found.size === wanted.size) break;
    token = page.nextContinuationToken;
  }
  return { found, calls };
}

export class AsyncPoller {
  private readonly opts: Required<Omit<PollerOptions, 'onListError' | 'onRound' | 'timers' | 'read' | 'onReadError'>> &
    Pick<PollerOptions, 'onListError' | 'onRound' | 'read' | 'onReadError'>;
  private readonly timers: Timers;
  private readonly jobs = new Map<string, Watched>();
  private readonly groups = new Map<string, Group>();
  private readonly reading = new Map<string, Reading>();
  private timer: unknown;
  private timerAt = Infinity;
  private running = false;
  private stopped = false;
  private abort = (() => {
    const a = new AbortController();
    setMaxListeners(0, a.signal); // shared by the listings of a round
    return a;
  })();
  /** Rounds run and ListObjectsV2 calls made, for status and benchmarks. */
  readonly stats = { rounds: 0, listCalls: 0, reads: 0, readErrors: 0 };

  constructor(opts: PollerOptions) {
    if (!(opts.pollIntervalMs > 0) || !(opts.maxPollIntervalMs >= opts.pollIntervalMs)) {
      throw new Error('pollInterval must be > 0 and maxPollInterval ≥ pollInterval');
    }
    this.opts = { backoffFactor: 1.5, ...opts };
    this.timers = opts.timers ?? realTimers;
  }

  /** Number of jobs still pending. */
  get size(): number {
    return this.jobs.size + this.reading.size;
  }

  has(id: string): boolean {
    return this.jobs.has(id) || this.reading.has(id);
  }

  /**
   * Starts watching a job. Its first check is at most `pollIntervalMs` away (`checkNow`: in the
   * next round at once — used when resuming jobs after a restart). Throws on malformed locations.
   */
  add(job: PollJob, checkNow = false): void {
    if (this.stopped) throw new Error('poller stopped');
    const o = parseS3Uri(job.outputLocation, { field: 'OutputLocation' });
    const f = job.failureLocation ? parseS3Uri(job.failureLocation, { field: 'FailureLocation' }) : undefined;
    const w: Watched = {
      job,
      out: { ...o, dir: keyDirectory(o.key) },
      fail: f && { ...f, dir: keyDirectory(f.key) },
      polls: 0,
      deadline: job.startedAt + job.maxWaitMs,
      lastPollAt: -Infinity,
    };
    this.jobs.set(job.id, w);
    const gid = `${w.out.bucket}\n${w.out.dir}`;
    const now = this.timers.now();
    const first = now + (checkNow ? 0 : this.opts.pollIntervalMs);
    let g = this.groups.get(gid);
    if (!g) {
      g = { id: gid, jobs: new Set(), intervalMs: this.opts.pollIntervalMs, nextAt: first };
      this.groups.set(gid, g);
    } else {
      g.intervalMs = this.opts.pollIntervalMs;
      g.nextAt = Math.min(g.nextAt, first);
    }
    g.jobs.add(job.id);
    this.schedule();
  }

  /** Stops watching a job without an outcome. */
  remove(id: string): void {
    this.reading.delete(id);
    const w = this.jobs.get(id);
    if (!w) return;
    this.jobs.delete(id);
    const gid = `${w.out.bucket}\n${w.out.dir}`;
    const g = this.groups.get(gid);
    if (g) {
      g.jobs.delete(id);
      if (g.jobs.size === 0) this.groups.delete(gid);
    }
  }

  /** Clears the timer and aborts listings in flight; no outcome is reported after this. */
  stop(): void {
    this.stopped = true;
    this.abort.abort();
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  private schedule(): void {
    if (this.stopped || this.running) return;
    let at = Infinity;
    for (const g of this.groups.values()) at = Math.min(at, this.dueAt(g));
    for (const r of this.reading.values()) if (!r.inFlight) at = Math.min(at, r.nextAt);
    if (at === this.timerAt) return;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = at;
    if (at === Infinity) return;
    this.timer = this.timers.setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = Infinity;
        this.startDueReads();
        void this.round();
      },
      Math.max(0, at - this.timers.now()),
    );
  }

  private dueAt(g: Group): number {
    let at = g.nextAt;
    for (const id of g.jobs) {
      const w = this.jobs.get(id);
      if (w && w.deadline > w.lastPollAt) at = Math.min(at, w.deadline);
    }
    return at;
  }

  /** Runs one round now for every group that is due (or whose jobs reached their deadline). */
  async round(): Promise<void> {
    if (this.stopped || this.running) return;
    this.running = true;
    try {
      await this.runRound();
    } finally {
      this.running = false;
    }
    this.opts.onRound?.();
    this.schedule();
  }

  private async runRound(): Promise<void> {
    const now = this.timers.now();
    // A little slack so groups due within a few ms share the round.
    const slack = Math.min(50, this.opts.pollIntervalMs / 4);
    const due: Group[] = [];
    for (const g of this.groups.values()) {
      if (this.dueAt(g) <= now + slack) due.push(g);
    }
    if (due.length === 0) return;
    this.stats.rounds += 1;

    // Every directory to list this round, with the keys wanted in it.
    const dirs = new Map<string, { bucket: string; prefix: string; wanted: Set<string> }>();
    const want = (bucket: string, dir: string, key: string) => {
      const id = `${bucket}\n${dir}`;
      let d = dirs.get(id);
      if (!d) dirs.set(id, (d = { bucket, prefix: dir, wanted: new Set() }));
      d.wanted.add(key);
    };
    const watched: Watched[] = [];
    for (const g of due) {
      for (const id of g.jobs) {
        const w = this.jobs.get(id);
        if (!w) continue;
        watched.push(w);
        want(w.out.bucket, w.out.dir, w.out.key);
        if (w.fail) want(w.fail.bucket, w.fail.dir, w.fail.key);
      }
    }

    const signal = this.abort.signal;
    const found = new Map<string, number>(); // bucket\nkey → size
    const failedDirs = new Set<string>();
    await Promise.all(
      [...dirs.entries()].map(async ([id, d]) => {
        try {
          const r = await listWanted(this.opts.list, d.bucket, d.prefix, d.wanted, signal);
          this.stats.listCalls += r.calls;
          for (const [k, size] of r.found) found.set(`${d.bucket}\n${k}`, size);
        } catch (err) {
          failedDirs.add(id);
          if (!this.stopped) this.opts.onListError?.(err, d.bucket, d.prefix);
        }
      }),
    );
    if (this.stopped) return;

    const after = this.timers.now();
    const activity = new Set<Group>();
    const outcomes: Array<[PollJob, PollOutcome]> = [];
    for (const w of watched) {
      if (!this.jobs.has(w.job.id)) continue; // removed meanwhile
      w.polls += 1;
      w.lastPollAt = after;
      const outSize = found.get(`${w.out.bucket}\n${w.out.key}`);
      const failSize = w.fail ? found.get(`${w.fail.bucket}\n${w.fail.key}`) : undefined;
      let outcome: PollOutcome | undefined;
      if (outSize !== undefined) {
        outcome = { type: 'output', bucket: w.out.bucket, key: w.out.key, size: outSize, polls: w.polls, reads: 0 };
      } else if (w.fail && failSize !== undefined) {
        outcome = { type: 'failure', bucket: w.fail.bucket, key: w.fail.key, size: failSize, polls: w.polls, reads: 0 };
      } else if (w.deadline <= after) {
        const outListed = !failedDirs.has(`${w.out.bucket}\n${w.out.dir}`);
        // Time out only after a listing that actually looked; a failed listing gets another round.
        if (outListed) outcome = { type: 'timeout', polls: w.polls };
      }
      if (outcome) {
        const gid = `${w.out.bucket}\n${w.out.dir}`;
        const g = this.groups.get(gid);
        if (g) activity.add(g);
        this.remove(w.job.id);
        if (this.opts.read && (outcome.type === 'output' || outcome.type === 'failure')) {
          const { type, bucket, key, size } = outcome;
          this.reading.set(w.job.id, { w, found: { type, bucket, key, size }, attempts: 0, intervalMs: 0, nextAt: after, inFlight: false });
        } else outcomes.push([w.job, outcome]);
      }
    }
    for (const g of due) {
      if (!this.groups.has(g.id)) continue;
      g.intervalMs = nextInterval(
        g.intervalMs,
        this.opts.pollIntervalMs,
        this.opts.maxPollIntervalMs,
        this.opts.backoffFactor,
        activity.has(g),
      );
      // From the round's start, so a slow listing does not stretch the interval (detection delay ≤ interval).
      g.nextAt = now + g.intervalMs;
    }
    for (const [job, outcome] of outcomes) this.emit(job, outcome);
    this.startDueReads();
  }

  private emit(job: PollJob, outcome: PollOutcome): void {
    try {
      this.opts.onOutcome(job, outcome);
    } catch {
      // the caller's handler must not stop the poller
    }
  }

  /** Starts every read that is due; each ends in an outcome or a retry at the backoff interval. */
  private startDueReads(): void {
    const read = this.opts.read;
    if (this.stopped || !read) return;
    const now = this.timers.now();
    for (const [id, r] of this.reading) {
      if (r.inFlight || r.nextAt > now) continue;
      r.inFlight = true;
      r.attempts += 1;
      this.stats.reads += 1;
      const { job } = r.w;
      read({ job, found: r.found, signal: this.abort.signal }).then(
        (data) => {
          if (this.stopped || this.reading.get(id) !== r) return;
          this.reading.delete(id);
          const { type, bucket, key, size } = r.found;
          this.emit(job, { type, bucket, key, size, polls: r.w.polls, reads: r.attempts, data });
          this.schedule();
        },
        (err: unknown) => {
          if (this.stopped || this.reading.get(id) !== r) return;
          this.stats.readErrors += 1;
          r.inFlight = false;
          const at = this.timers.now();
          if (at >= r.w.deadline) {
            this.reading.delete(id);
            const { type, bucket, key, size } = r.found;
            this.emit(job, { type: 'unreadable', found: type, bucket, key, size, polls: r.w.polls, reads: r.attempts, error: err });
          } else {
            r.intervalMs =
              r.intervalMs === 0
                ? this.opts.pollIntervalMs
                : nextInterval(r.intervalMs, this.opts.pollIntervalMs, this.opts.maxPollIntervalMs, this.opts.backoffFactor, false);
            // The last attempt is at the deadline, so the job ends at maxWait and not later.
            r.nextAt = Math.min(at + r.intervalMs, r.w.deadline);
            try {
              this.opts.onReadError?.(err, job, r.found, r.attempts);
            } catch {
              // as for onOutcome
            }
          }
          this.schedule();
        },
      );
    }
  }
}
