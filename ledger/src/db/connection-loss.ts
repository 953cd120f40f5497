// A lost database connection is an outage, not a bug: pools reconnect and callers get 503 meanwhile.
// Some clients inside dependencies (node-postgres clients checked out by BullMQ's PostgreSQL backend)
// emit such a loss as an 'error' event nobody listens to, which Node turns into an uncaught exception
// and a dead process — as when PostgreSQL restarts, or when Ctrl-C reaches the embedded server (it is in
// the terminal's process group) a moment before this process's own shutdown begins. The processes
// install this guard: connection losses are logged and survived; anything else still ends the process.

/** PostgreSQL shutting down or restarting, or the socket to it gone. */
export function isConnectionLoss(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  // 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now
  if (code === '57P01' || code === '57P02' || code === '57P03') return true;
  if (code === 'ECONNRESET' || code === 'ECONNREFUSED' || code === 'EPIPE' || code === 'CONNECTION_ENDED' || code === 'CONNECTION_CLOSED' || code === 'CONNECTION_DESTROYED') return true;
  return /Connection terminated unexpectedly|terminating connection due to administrator command/.test(err.message);
}

/**
 * Survive uncaught connection losses (logged with `log`); on any other uncaught exception call
 * `fatal` (which should clean up and exit non-zero).
 */
export function guardConnectionLoss(log: (message: string) => void, fatal: (err: unknown) => void): void {
  process.on('uncaughtException', (err) => {
    if (isConnectionLoss(err)) {
      log(`database connection lost: ${err.message}`);
      return;
    }
    fatal(err);
  });
}
