// CPU accounting for the benches: where the machine's cores went during a measurement (Linux /proc;
// zeros elsewhere). USER_HZ is 100 on every Linux this runs on.
import { readdirSync, readFileSync } from 'node:fs';
import type { Sql } from 'postgres';

const USER_HZ = 100;

/** utime + stime of one process (all its threads), in seconds; 0 when unreadable. */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / USER_HZ;
  } catch {
    return 0;
  }
}

/** utime + stime of this process (all its threads: main thread and workers), in seconds. */
export function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** CPU seconds used so far by every PostgreSQL process on this machine (server and backends). */
export function postgresCpuSeconds(): number {
  let seconds = 0;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return 0;
  }
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (!stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).startsWith('postgres')) continue;
      seconds += processCpuSeconds(Number(pid));
    } catch {
      // the process ended meanwhile
    }
  }
  return seconds;
}

/** Starts counting; `stop()` gives the CPU seconds each named source used since. */
export function cpuMeter(sources: Record<string, () => number>): { stop(): Record<string, number> } {
  const before = Object.fromEntries(Object.entries(sources).map(([k, f]) => [k, f()]));
  return {
    stop: () => Object.fromEntries(Object.entries(sources).map(([k, f]) => [k, Number((f() - before[k]!).toFixed(2))])),
  };
}

/**
 * CPU of the PostgreSQL backends serving one database, from pg_stat_activity's pids (read in /proc: PostgreSQL
 * on this machine), other databases' work on a shared server left out: those present at the start are counted
 * from then; `vanished` counts backends that ended meanwhile (their last CPU is lost: the figure is then a
 * lower bound).
 */
export async function backendMeter(sql: Sql, database: string) {
  const pids = async () =>
    (await sql`SELECT pid FROM pg_stat_activity WHERE datname = ${database} AND pid <> pg_backend_pid()`).map((r) =>
      Number(r.pid),
    );
  const before = new Map((await pids()).map((pid) => [pid, processCpuSeconds(pid)]));
  return {
    async stop(): Promise<{ seconds: number; backends: number; vanished: number }> {
      const now = await pids();
      const seconds = now.reduce((s, pid) => s + processCpuSeconds(pid) - (before.get(pid) ?? 0), 0);
      return {
        seconds: Math.round(seconds * 100) / 100,
        backends: now.length,
        vanished: [...before.keys()].filter((p) => !now.includes(p)).length,
      };
    },
  };
}
