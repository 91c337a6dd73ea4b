/**
 * One way for every node to show its state, so the nodes look alike in the editor: blue dot
 * while working, green dot with the last result, red ring with a short code on error (as
 * Node-RED's core nodes do). Texts come from the caller, already translated.
 */
export type StatusShape = { fill: 'red' | 'green' | 'yellow' | 'blue' | 'grey'; shape: 'ring' | 'dot'; text: string };

/** Blue dot while work is under way. */
export function busy(text: string): StatusShape {
  return { fill: 'blue', shape: 'dot', text };
}

/** Green dot after success, e.g. the last latency. */
export function ok(text: string): StatusShape {
  return { fill: 'green', shape: 'dot', text };
}

/** Red ring with a short reason; long reasons are cut so the status stays readable. */
export function failed(text: string, max = 60): StatusShape {
  const short = text.length > max ? `${text.slice(0, max - 1)}…` : text;
  return { fill: 'red', shape: 'ring', text: short };
}

/** Formats a duration for status texts: `850 ms`, `1.2 s`, `2 min`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

export interface StatusOptions {
  /** Shows a status (`{}` clears it): the node's `status`. */
  show(status: StatusShape | Record<string, never>): void;
  /** The busy text while work is under way (in flight, queued, parts), or undefined when idle. */
  busyText(): string | undefined;
  /** Least time between two updates: each one is pushed to every open editor. Default 250 ms. */
  intervalMs?: number;
  /** How long an error stays up before busy texts replace it. Default 3 s. */
  errorHoldMs?: number;
}

/**
 * A node's status, throttled: `update()` may be called for every message or part; the status is
 * drawn at most once per interval, and always once more after the last change. Priority: a
 * setup problem (for good) > an error (held for a while) > busy > the last outcome > nothing.
 */
export class Status {
  private readonly opts: StatusOptions;
  private readonly intervalMs: number;
  private readonly holdMs: number;
  private setup: string | undefined;
  // The last outcome, drawn when idle: only its text is kept per message.
  private lastText: string | undefined;
  private lastFailed = false;
  private errorUntil = 0;
  private drawnAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(opts: StatusOptions) {
    this.opts = opts;
    this.intervalMs = opts.intervalMs ?? 250;
    this.holdMs = opts.errorHoldMs ?? 3000;
  }

  /** A problem the node cannot run with: red ring, and no other status from then on. */
  setupProblem(text: string): void {
    this.setup = text;
    this.opts.show(failed(text));
  }

  /** Something changed (counts, parts): draw now or at the end of the interval. */
  update(): void {
    if (this.timer !== undefined || this.stopped || this.setup !== undefined) return;
    const wait = this.drawnAt + this.intervalMs - Date.now();
    if (wait <= 0) this.draw();
    else this.timer = setTimeout(this.onTimer, wait);
  }

  /** Work finished: `text` (green) shows once the node is idle. */
  done(text: string): void {
    this.lastText = text;
    this.lastFailed = false;
    this.update();
  }

  /** A message failed: red ring at once, held for a while, then shown again whenever idle. */
  error(text: string): void {
    if (this.stopped || this.setup !== undefined) return;
    this.lastText = text;
    this.lastFailed = true;
    this.errorUntil = Date.now() + this.holdMs;
    this.clearTimer();
    this.draw();
    this.timer = setTimeout(this.onTimer, this.holdMs);
  }

  /** Close: no more updates (a timer would outlive the node). */
  stop(): void {
    this.stopped = true;
    this.clearTimer();
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.draw();
  };

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private draw(): void {
    const now = Date.now();
    this.drawnAt = now;
    if (this.stopped || this.setup !== undefined) return;
    const last = this.lastText === undefined ? undefined : this.lastFailed ? failed(this.lastText) : ok(this.lastText);
    if (last && this.lastFailed && now < this.errorUntil) return this.opts.show(last);
    const text = this.opts.busyText();
    if (text !== undefined) this.opts.show(busy(text));
    else this.opts.show(last ?? {});
  }
}
