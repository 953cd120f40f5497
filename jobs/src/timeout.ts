// The server side's one deadline helper: queue calls here, health probes and shutdown in the API.

/**
 * Await `p` with a deadline: after `ms` the result is `onTimeout()`, which may throw to reject instead.
 * A late rejection of `p` after the deadline is swallowed, not reported as unhandled.
 */
export async function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve, reject) => {
    timer = setTimeout(() => {
      try {
        resolve(onTimeout());
      } catch (err) {
        reject(err);
      }
    }, ms);
  });
  p.catch(() => {});
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
