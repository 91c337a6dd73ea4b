/**
 * The pending jobs of one `sagemaker-invoke-async` node and how their outcomes leave it
 * (README "sagemaker-invoke-async", pending jobs): a job is in the journal before output 1 is
 * sent, marked "sending" (durably) before its outcome is sent, and removed right after. A job
 * restored with the mark may already have been delivered before a crash: its outcome carries
 * `msg.sagemaker.redelivered = true` (at-least-once; `inferenceId` is the key to de-duplicate).
 */
import { fromJsonCopy, isStoredJob, type StoredJob } from '../lib/async-jobs';
import type { JobStore } from '../lib/job-journal';
import { warnLimiter, type WarnLimiter } from '../lib/warn-limiter';
import type { DoneFn, NodeMessage, SendFn } from './red';
import type { Worker } from './worker';

/** At most one warning of a kind (listing, reading, journal) per this many ms. */
const WARN_INTERVAL_MS = 10_000;

/** A job started by this instance: its live message and the handler's send/done. */
interface LiveJob {
  msg: NodeMessage;
  send: SendFn;
  done: DoneFn;
}

/** An error outcome: its name, text and the fields `msg.sagemaker.error` gets besides them. */
export function jobError(name: string, message: string, info: Record<string, unknown> = {}): Error & { info: Record<string, unknown> } {
  return Object.assign(new Error(message), { name, info });
}

export class JobBook {
  readonly pending = new Map<string, StoredJob>();
  readonly warnings: WarnLimiter;
  /** Called when a job ends (its outcome sent, or dropped). */
  onSettle: (id: string, job: StoredJob) => void = () => undefined;
  private readonly live = new Map<string, LiveJob>();
  /** Jobs restored with a "sending" mark: their outcome may have been sent before a crash. */
  private readonly redeliver = new Set<string>();
  /** Journal writes not awaited by anyone (removals); close waits for them. */
  private readonly writes = new Set<Promise<void>>();

  constructor(
    private readonly worker: Worker,
    readonly journal: JobStore<StoredJob>,
  ) {
    this.warnings = warnLimiter({ intervalMs: WARN_INTERVAL_MS, warn: (text) => worker.node.warn(text) });
  }

  /** Tracks a journal write: a failure is warned about, and close waits for it. */
  write(p: Promise<void>): Promise<void> {
    const w = p.catch((err: Error) => this.warnings.warn('journal', this.worker.t('warn.persist', { message: err.message })));
    this.writes.add(w);
    void w.finally(() => this.writes.delete(w));
    return w;
  }

  /** A job of an earlier instance; `sending`: its outcome may have left the node already. */
  restore(id: string, job: StoredJob, sending: boolean): void {
    this.pending.set(id, job);
    if (sending) this.redeliver.add(id);
  }

  /** A job of this instance: durable before it resolves. */
  async add(id: string, job: StoredJob): Promise<void> {
    this.pending.set(id, job);
    await this.write(this.journal.put(id, job));
  }

  attach(id: string, msg: NodeMessage, send: SendFn, done: DoneFn): void {
    this.live.set(id, { msg, send, done });
  }

  /** Forgets a job that cannot be resumed. */
  drop(id: string): void {
    this.pending.delete(id);
    void this.write(this.journal.remove(id));
  }

  /**
   * Resumes the jobs left pending by an earlier instance (redeploy, restart, crash), and moves
   * jobs kept in the node context by earlier versions of the node into the journal; then starts
   * the source (a queue's waiting notifications are matched against the restored jobs).
   */
  resume(source: { watch(id: string, job: StoredJob, checkNow: boolean): void; start(): void }): void {
    const { node, t, status } = this.worker;
    const watch = (id: string, job: StoredJob, onError: (e: unknown) => void): void => {
      try {
        source.watch(id, job, true);
      } catch (e) {
        this.drop(id);
        onError(e);
      }
    };
    for (const [id, r] of this.journal.restored) {
      this.restore(id, r.job, r.sending);
      watch(id, r.job, (e) => {
        const message = `dropped job ${r.job.inferenceId}: ${e instanceof Error ? e.message : String(e)}`;
        node.warn(t('warn.journal', { file: this.journal.where, message }));
      });
    }
    const context = node.context();
    context.get('pending', undefined, (err, value) => {
      if (err || this.worker.closing || !value || typeof value !== 'object') return;
      for (const [id, job] of Object.entries(value)) {
        if (this.pending.has(id) || !isStoredJob(job)) continue;
        void this.add(id, job);
        watch(id, job, () => undefined);
      }
      context.set('pending', undefined);
      status.update();
    });
    source.start();
    status.update();
  }

  /** Sends output 2 of job `id`: `payload`, `sagemaker`. False when it was not sent (ended, or closing). */
  async succeed(id: string, payload: unknown, sagemaker: Record<string, unknown>): Promise<boolean> {
    const job = this.pending.get(id);
    if (!job) return false;
    const msg = this.message(id, job);
    msg.payload = payload;
    msg.sagemaker = this.redeliver.has(id) ? { ...sagemaker, redelivered: true } : sagemaker;
    if (!(await this.beginSending(id))) return false;
    const l = this.live.get(id);
    this.settle(id, job);
    if (l) {
      l.send([null, msg]);
      l.done();
    } else this.worker.node.send([null, msg]);
    await this.forget(id);
    if (this.pending.size === 0) this.worker.status.done(this.worker.t('status.done'));
    return true;
  }

  /** Ends job `id` with `err` (`err.info` joins `msg.sagemaker.error`): done(err), or node.error for a resumed job. */
  async fail(id: string, err: Error & { info?: Record<string, unknown> }): Promise<void> {
    const job = this.pending.get(id);
    if (!job || !(await this.beginSending(id))) return;
    const l = this.live.get(id);
    const msg = this.message(id, job);
    const base = msg.sagemaker && typeof msg.sagemaker === 'object' ? msg.sagemaker : {};
    const meta = {
      ...base,
      inferenceId: job.inferenceId,
      outputLocation: job.outputLocation,
      failureLocation: job.failureLocation,
      redelivered: this.redeliver.has(id) || undefined,
    };
    this.settle(id, job);
    const extra = { retryable: false, ...err.info };
    if (l) this.worker.fail(msg, l.done, err, meta, extra);
    else this.worker.failDetached(msg, err, meta, extra);
    await this.forget(id);
  }

  /** Pending jobs stay in the journal for the next instance; their messages end here. */
  async close(removed: boolean, sourceStopped?: Promise<void>): Promise<void> {
    for (const l of this.live.values()) l.done();
    this.live.clear();
    await sourceStopped;
    while (this.writes.size > 0) await Promise.all([...this.writes]);
    // A node deleted from the flows has nobody to deliver to: its journal goes with it.
    if (removed) await this.journal.destroy();
    else await this.journal.close();
  }

  /** The message an outcome is sent with: the live one, or one rebuilt from the journal. */
  private message(id: string, job: StoredJob): NodeMessage {
    return this.live.get(id)?.msg ?? fromJsonCopy(job.msg);
  }

  private settle(id: string, job: StoredJob): void {
    this.onSettle(id, job);
    this.pending.delete(id);
    this.live.delete(id);
    this.redeliver.delete(id);
    this.worker.status.update();
  }

  /** Marks the job "sending", durably. False when the node closed meanwhile: the next instance sends it. */
  private async beginSending(id: string): Promise<boolean> {
    await this.write(this.journal.mark(id, true));
    if (this.worker.closing) {
      void this.write(this.journal.mark(id, false));
      return false;
    }
    return this.pending.has(id);
  }

  /** The job leaves the journal after its outcome is sent, once downstream nodes had their turn. */
  private forget(id: string): Promise<void> {
    // Node-RED delivers a sent message in a later setImmediate; removing the job after it lets
    // nodes that handle the message synchronously finish before the job is marked done.
    return this.write(new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.journal.remove(id)));
  }
}
