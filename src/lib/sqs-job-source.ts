/**
 * Result source `sqs` of sagemaker-invoke-async: the node learns that its jobs ended from an SQS
 * queue of SageMaker async notifications (SNS → SQS) instead of listing S3.
 *
 * - {@link NotificationRouter}: one long-poll {@link QueueConsumer} per queue, shared by every
 *   owner (node) that waits on that queue in this process, like Node-RED's MQTT broker node shares
 *   one connection: the poll starts with the first owner and is aborted when the last one leaves.
 *   Each notification goes to the owner whose pending job has its inferenceId.
 * - {@link JobMatcher}: an owner's map inferenceId → job, including ids whose InvokeEndpointAsync
 *   call is still on its way (a notification may arrive before the service's answer).
 * - {@link Deadlines}: one timer for the earliest *max wait* of many jobs.
 *
 * A notification that no owner claims is left in the queue (`keep`): it becomes visible again after
 * the queue's visibility timeout and, after the queue's `maxReceiveCount`, moves to its dead-letter
 * queue. On the set-up this is meant for — one queue per Node-RED instance, subscribed with an SNS
 * filter policy on the instance's inference ID prefix — an unclaimed notification is an orphan
 * (its node was deleted, its journal lost, a second instance uses the same prefix), and `release`
 * would hand it straight back to the same consumer in a tight loop. On a queue shared by several
 * instances each notification would wander between them (each receive counts towards the
 * redrive): share a queue with `sagemaker-async-results` nodes instead (README, "Scaling out").
 */
import type { AsyncNotification } from './async-notification';
import { QueueConsumer, RecentIds, type ConsumerOptions, type ConsumerStats, type QueueOps, type Verdict } from './queue-consumer';

export { inferenceIdPrefixProblem, MAX_INFERENCE_ID, MAX_INFERENCE_ID_PREFIX, queueUrlProblem } from './fields';

/** Something that waits for notifications of its own jobs on a queue (one sagemaker-invoke-async node). */
export interface JobOwner {
  /**
   * `undefined` when the notification is not for one of the owner's jobs; otherwise resolves to
   * what happens to the queue message once the outcome was sent (and journaled): `delete`, or
   * `keep` to get the message again later (the result could not be read, the node is closing).
   * May also resolve to `undefined` (a job that was still being submitted was not accepted).
   */
  claim(n: AsyncNotification, signal: AbortSignal): Promise<Verdict | undefined> | undefined;
  /** True for an id of a job the owner already ended (e.g. at max wait): its late notification is deleted. */
  ended(inferenceId: string): boolean;
  /** Queue problems (receive and delete errors, messages that are not notifications). */
  warn?(text: string): void;
}

export interface RouterStats extends ConsumerStats {
  /** Notifications no owner claimed (left for the visibility timeout / dead-letter queue). */
  unclaimed: number;
  /** Late notifications of jobs that had already ended (deleted). */
  late: number;
}

export type RouterOptions = Omit<ConsumerOptions, 'ops' | 'handle' | 'onInvalid' | 'onError'>;

/** One consumer of one queue, dispatching notifications to the owners of their jobs. */
export class NotificationRouter {
  private readonly owners = new Set<JobOwner>();
  private readonly consumer: QueueConsumer;
  private unclaimed = 0;
  private late = 0;

  constructor(ops: QueueOps, options: RouterOptions = {}) {
    this.consumer = new QueueConsumer({
      ...options,
      ops,
      handle: (n, _m, signal) => this.dispatch(n, signal),
      onInvalid: (err, m) => {
        this.warn(
          `queue message ${m.messageId} is not a SageMaker notification (${err.message}); it stays in the queue for the dead-letter queue`,
        );
        return 'keep';
      },
      onError: (err, where) => this.warn(`SQS ${where} failed, will retry: ${err instanceof Error ? err.message : String(err)}`),
    });
  }

  get stats(): RouterStats {
    return { ...this.consumer.stats, unclaimed: this.unclaimed, late: this.late };
  }

  get size(): number {
    return this.owners.size;
  }

  /** Adds an owner; the long poll starts with the first. */
  add(owner: JobOwner): void {
    this.owners.add(owner);
    this.consumer.start();
  }

  /** Removes an owner; with the last one the long poll is aborted (resolves when it has ended). */
  async remove(owner: JobOwner): Promise<void> {
    this.owners.delete(owner);
    if (this.owners.size === 0) await this.consumer.close();
  }

  private warn(text: string): void {
    for (const o of this.owners) o.warn?.(text);
  }

  private async dispatch(n: AsyncNotification, signal: AbortSignal): Promise<Verdict> {
    for (const o of [...this.owners]) {
      const claimed = o.claim(n, signal);
      if (!claimed) continue;
      const verdict = await claimed;
      if (verdict) return verdict;
    }
    for (const o of this.owners) {
      if (o.ended(n.inferenceId)) {
        this.late += 1;
        return 'delete';
      }
    }
    this.unclaimed += 1;
    return 'keep';
  }
}

const routers = new Map<string, NotificationRouter>();

/**
 * Joins the process-wide router of `key` (one per config node and queue URL), creating it with
 * `create` for the first owner. Returns the function that leaves it (aborting the poll when the
 * last owner leaves). A router is forgotten as soon as its last owner leaves, so a node started
 * while the old poll is still ending gets a new one.
 */
export function joinRouter(
  key: string,
  create: () => NotificationRouter,
  owner: JobOwner,
): { router: NotificationRouter; leave: () => Promise<void> } {
  let router = routers.get(key);
  if (!router) {
    router = create();
    routers.set(key, router);
  }
  const r = router;
  r.add(owner);
  let left: Promise<void> | undefined;
  return {
    router: r,
    leave() {
      left ??= (async () => {
        if (r.size === 1 && routers.get(key) === r) routers.delete(key);
        await r.remove(owner);
      })();
      return left;
    },
  };
}

interface Expected<K> {
  promise: Promise<K | undefined>;
  resolve(key: K | undefined): void;
}

/**
 * An owner's jobs by inferenceId: `expect` before InvokeEndpointAsync is sent, `accept` once the
 * job is pending (journaled, output 1 sent), `abandon` when it was not accepted, `end` when its
 * outcome was sent or it timed out (remembered for a while, so a late notification is deleted).
 */
export class JobMatcher<K> {
  private readonly jobs = new Map<string, K>();
  private readonly expected = new Map<string, Expected<K>>();
  private readonly finished: RecentIds;

  constructor(endedWindowMs = 60 * 60_000, endedMax = 100_000, now: () => number = Date.now) {
    this.finished = new RecentIds(endedWindowMs, endedMax, now);
  }

  /** False when the id is already pending or being submitted (notifications could not tell the two apart). */
  expect(inferenceId: string): boolean {
    if (this.jobs.has(inferenceId) || this.expected.has(inferenceId)) return false;
    let resolve!: (key: K | undefined) => void;
    const promise = new Promise<K | undefined>((r) => (resolve = r));
    this.expected.set(inferenceId, { promise, resolve });
    return true;
  }

  accept(inferenceId: string, key: K): void {
    this.jobs.set(inferenceId, key);
    const e = this.expected.get(inferenceId);
    this.expected.delete(inferenceId);
    e?.resolve(key);
  }

  abandon(inferenceId: string): void {
    const e = this.expected.get(inferenceId);
    this.expected.delete(inferenceId);
    e?.resolve(undefined);
  }

  end(inferenceId: string): void {
    this.jobs.delete(inferenceId);
    this.abandon(inferenceId);
    this.finished.add(inferenceId);
  }

  ended(inferenceId: string): boolean {
    return this.finished.has(inferenceId);
  }

  /** The job's key; a promise of it while the job is being submitted; undefined when unknown. */
  lookup(inferenceId: string): K | Promise<K | undefined> | undefined {
    const k = this.jobs.get(inferenceId);
    if (k !== undefined) return k;
    return this.expected.get(inferenceId)?.promise;
  }

  get size(): number {
    return this.jobs.size;
  }

  /** Forgets every job (close): waiting lookups resolve to undefined. */
  clear(): void {
    for (const e of this.expected.values()) e.resolve(undefined);
    this.expected.clear();
    this.jobs.clear();
  }
}

export interface DeadlineTimers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: DeadlineTimers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** Calls `onExpire(id)` once per id when its time (ms since epoch) has come; one timer for all. */
export class Deadlines {
  private readonly at = new Map<string, number>();
  private timer: unknown;
  private timerAt = Infinity;
  private stopped = false;

  constructor(
    private readonly onExpire: (id: string) => void,
    private readonly timers: DeadlineTimers = realTimers,
  ) {}

  add(id: string, at: number): void {
    if (this.stopped) return;
    this.at.set(id, at);
    if (at < this.timerAt) this.schedule();
  }

  delete(id: string): void {
    this.at.delete(id);
  }

  get size(): number {
    return this.at.size;
  }

  stop(): void {
    this.stopped = true;
    this.at.clear();
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
    let next = Infinity;
    for (const t of this.at.values()) if (t < next) next = t;
    if (next === Infinity || this.stopped) return;
    this.timerAt = next;
    // setTimeout takes at most 2^31-1 ms; a later deadline is looked at again then.
    const wait = Math.min(Math.max(0, next - this.timers.now()), 2 ** 31 - 1);
    this.timer = this.timers.setTimeout(() => this.fire(), wait);
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = this.timers.now();
    const due = [...this.at].filter(([, t]) => t <= now).map(([id]) => id);
    for (const id of due) this.at.delete(id);
    for (const id of due) this.onExpire(id);
    this.schedule();
  }
}

export interface JobSourceOptions {
  /** Identifies the queue and the client reading it (e.g. config node id + queue URL): owners with the same key share one poll. */
  routerKey: string;
  /** The SQS calls for the queue (called once, when this source creates the router). */
  ops(): QueueOps;
  /** Sends the outcome of job `key` for its notification; resolves once it was sent and journaled (`delete`), or `keep`. */
  deliver(key: string, n: AsyncNotification, signal: AbortSignal): Promise<Verdict>;
  /** Job `key` reached its max wait without an outcome. */
  expire(key: string): void;
  warn?(text: string): void;
  router?: RouterOptions;
  timers?: DeadlineTimers;
}

/**
 * The `sqs` result source of one node: its jobs by inferenceId, their max-wait deadlines, and its
 * place among the owners of the queue's shared router. Jobs are identified by the node's own key
 * (the journal id) and by inferenceId (what notifications carry).
 */
export class SqsJobSource {
  private readonly matcher = new JobMatcher<string>();
  private readonly deadlines: Deadlines;
  private readonly claims = new Set<Promise<unknown>>();
  private membership: { router: NotificationRouter; leave: () => Promise<void> } | undefined;
  private closed = false;

  constructor(private readonly o: JobSourceOptions) {
    this.deadlines = new Deadlines((key) => o.expire(key), o.timers);
  }

  /** The router this source polls through (after start). */
  get router(): NotificationRouter | undefined {
    return this.membership?.router;
  }

  /** Starts (or joins) the long poll of the queue. */
  start(): void {
    if (this.membership || this.closed) return;
    const owner: JobOwner = {
      claim: (n, signal) => this.claim(n, signal),
      ended: (id) => this.matcher.ended(id),
      warn: this.o.warn,
    };
    this.membership = joinRouter(this.o.routerKey, () => new NotificationRouter(this.o.ops(), this.o.router), owner);
  }

  /** Before InvokeEndpointAsync: false when a job with this inferenceId is pending or being submitted. */
  expect(inferenceId: string): boolean {
    return this.matcher.expect(inferenceId);
  }

  /** The call failed, or the job is not waited for: a notification that was held for it goes on. */
  abandon(inferenceId: string): void {
    this.matcher.abandon(inferenceId);
  }

  /** Job `key` is pending (journaled): match its notification, end it at `deadline` (ms since epoch) without one. */
  watch(inferenceId: string, key: string, deadline: number): void {
    if (this.closed) return;
    this.matcher.accept(inferenceId, key);
    this.deadlines.add(key, deadline);
  }

  /** The job's outcome was sent (or it was dropped): a late copy of its notification is deleted. */
  end(inferenceId: string, key: string): void {
    this.deadlines.delete(key);
    this.matcher.end(inferenceId);
  }

  get pending(): number {
    return this.matcher.size;
  }

  /** Leaves the router (aborting the poll if this was its last owner) and waits for outcomes being sent. */
  async close(): Promise<void> {
    this.closed = true;
    this.deadlines.stop();
    this.matcher.clear();
    const leaving = this.membership?.leave();
    while (this.claims.size > 0) await Promise.all([...this.claims]);
    await leaving;
  }

  private claim(n: AsyncNotification, signal: AbortSignal): Promise<Verdict | undefined> | undefined {
    if (this.closed) return undefined;
    const found = this.matcher.lookup(n.inferenceId);
    if (found === undefined) return undefined;
    const work = Promise.resolve(found).then((key) => (key === undefined || this.closed ? undefined : this.o.deliver(key, n, signal)));
    const tracked = work.catch(() => undefined);
    this.claims.add(tracked);
    void tracked.finally(() => this.claims.delete(tracked));
    return work;
  }
}
