// A lost database connection is an outage, not a bug: pools reconnect and callers get 503 meanwhile.
// Some clients inside dependencies (node-postgres clients checked out by BullMQ's PostgreSQL backend)
// emit such a loss as an 'error' event nobody listens to, which Node turns into an uncaught exception
// and a dead process — as when PostgreSQL restarts, or when Ctrl-C reaches the embedded server (it is in
// the terminal's process group) a moment before this process's own shutdown begins. The processes
// install this guard: connection losses are logged and survived; anything else still ends the process.

/**
 * PostgreSQL shutting down or restarting, or a database client's socket to it gone. Deliberately
 * narrow: a bare EPIPE or ECONNRESET may be this process's own stdout or an HTTP peer (an orphaned
 * process whose log pipe broke must die, not log the failure of its logging forever).
 */
export function isConnectionLoss(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  // 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now (from the server)
  if (code === '57P01' || code === '57P02' || code === '57P03') return true;
  // postgres.js's own codes for a connection that closed under it
  if (code === 'CONNECTION_CLOSED' || code === 'CONNECTION_DESTROYED' || code === 'CONNECTION_ENDED') return true;
  // node-postgres
  return (
    /^Connection terminated( unexpectedly)?$/.test(err.message) ||
    /terminating connection due to administrator command/.test(err.message)
  );
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
