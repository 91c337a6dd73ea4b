/**
 * One way for every node to show its state, so the three nodes look alike in the editor.
 * Texts come from the caller (already translated through RED._).
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
