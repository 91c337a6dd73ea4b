/**
 * Connection limits shared by the emulator's servers: slow or silent clients are dropped, while a
 * response that keeps sending (a long event stream) is never cut.
 */
import type http from 'node:http';

export interface Timeouts {
  /** Time to receive the request headers (default 20 s). */
  headersMs?: number;
  /** Time to receive the whole request, body included (default 2 min; the S3 side 15 min). */
  requestMs?: number;
  /** A socket with no traffic either way for this long is closed (default 2 min). */
  idleMs?: number;
  /** An idle keep-alive connection between requests is closed after this long (default 5 s). */
  keepAliveMs?: number;
}

/** Options for http.createServer, then `idle(server)` once it exists. */
export function serverLimits(
  timeouts: Timeouts | undefined,
  defaults: Timeouts = {},
): { options: http.ServerOptions; idle(server: http.Server): void } {
  const t = { headersMs: 20_000, requestMs: 120_000, idleMs: 120_000, keepAliveMs: 5_000, ...defaults, ...timeouts };
  return {
    options: {
      requestTimeout: t.requestMs,
      // Node requires headersTimeout <= requestTimeout.
      headersTimeout: Math.min(t.headersMs, t.requestMs),
      keepAliveTimeout: t.keepAliveMs,
      // Node checks the two timeouts above every 30 s by default: a slow client would outlive a short one by that much.
      connectionsCheckingInterval: Math.max(50, Math.min(5_000, Math.floor(Math.min(t.headersMs, t.requestMs) / 4))),
    },
    idle(server) {
      // A stream that keeps writing is never idle; a stalled or hung socket is closed.
      server.setTimeout(t.idleMs, (socket) => socket.destroy());
    },
  };
}
