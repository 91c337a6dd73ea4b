/**
 * Seeded, deterministic fault selection. Rules of an endpoint are tried in order; the first that
 * applies to the operation, still has `times` left and wins its `rate` draw is chosen.
 *
 * Who acts on a fault: the server itself answers throttle, not-ready, internal, unavailable,
 * dependency, reset and hang for every operation, and model-error for InvokeEndpoint and the
 * stream operation. stream-* kinds only reach InvokeEndpointWithResponseStream and async-* kinds
 * (and model-error) only InvokeEndpointAsync, through ctx.fault.
 */
import type { FaultKind, FaultRule, InvocationContext } from './types';

type Operation = InvocationContext['operation'];

/** mulberry32: tiny, fast and good enough for reproducible fault draws. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const GENERIC: FaultKind[] = ['throttle', 'not-ready', 'internal', 'unavailable', 'dependency', 'model-error', 'reset', 'hang'];

export function appliesTo(kind: FaultKind, operation: Operation): boolean {
  if (GENERIC.includes(kind)) return true;
  if (kind.startsWith('stream-')) return operation === 'InvokeEndpointWithResponseStream';
  if (kind.startsWith('async-')) return operation === 'InvokeEndpointAsync';
  return false;
}

/** Whether the server answers this fault itself rather than handing it to the operation handler. */
export function serverActsOn(kind: FaultKind, operation: Operation): boolean {
  if (kind === 'model-error') return operation !== 'InvokeEndpointAsync';
  return GENERIC.includes(kind);
}

export class FaultSelector {
  /** Uses left per endpoint and rule index, for `times`. */
  private readonly used = new Map<string, number>();

  constructor(readonly random: () => number) {}

  select(endpointName: string, rules: FaultRule[] | undefined, operation: Operation): FaultRule | undefined {
    if (!rules) return undefined;
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i];
      if (!rule || !appliesTo(rule.kind, operation)) continue;
      const key = `${endpointName}\u0000${i}`;
      const used = this.used.get(key) ?? 0;
      if (rule.times !== undefined && used >= rule.times) continue;
      const rate = rule.rate ?? 1;
      if (rate < 1 && !(this.random() < rate)) continue;
      this.used.set(key, used + 1);
      return rule;
    }
    return undefined;
  }

  /** Forget `times` counters of an endpoint (its config was replaced). */
  resetEndpoint(endpointName: string): void {
    for (const key of [...this.used.keys()]) if (key.startsWith(`${endpointName}\u0000`)) this.used.delete(key);
  }
}
