/**
 * Rate limit for repeated warnings: at most one warning per kind per interval; the next one that
 * gets through says how many were held back. A node watching hundreds of jobs against an S3 that
 * refuses every read would otherwise log a line per job per retry.
 */
export interface WarnLimiterOptions {
  intervalMs: number;
  warn(text: string): void;
  now?: () => number;
}

export interface WarnLimiter {
  /** Warns `text` unless a warning of this `kind` was given less than `intervalMs` ago. */
  warn(kind: string, text: string): void;
  /** Warnings held back so far, per kind (for tests and status). */
  readonly suppressed: ReadonlyMap<string, number>;
}

export function warnLimiter(opts: WarnLimiterOptions): WarnLimiter {
  const now = opts.now ?? Date.now;
  const last = new Map<string, number>();
  const held = new Map<string, number>();
  const total = new Map<string, number>();
  return {
    suppressed: total,
    warn(kind, text) {
      const t = now();
      const at = last.get(kind);
      if (at !== undefined && t - at < opts.intervalMs) {
        held.set(kind, (held.get(kind) ?? 0) + 1);
        total.set(kind, (total.get(kind) ?? 0) + 1);
        return;
      }
      last.set(kind, t);
      const n = held.get(kind) ?? 0;
      held.delete(kind);
      opts.warn(n > 0 ? `${text} (${n} similar warning${n === 1 ? '' : 's'} held back)` : text);
    },
  };
}
