// A replicated PostgreSQL 15 cluster under pg_auto_failover (Debian's postgresql-15-auto-failover), on
// 127.0.0.1, in a fresh temp dir, for failover tests and the failover bench:
//
//   const f = await startFormation();        // monitor + primary + 2 synchronous-quorum standbys
//   f.url                                     // postgres://postgres@127.0.0.1:P1,…/postgres?target_session_attrs=read-write
//   const kill = await f.killPrimary();       // kill -9 of the primary's keeper and postmaster: a dead machine
//   const p = await f.waitForPromotion(kill); // a standby takes writes, then synchronous replication is back
//   await f.stop();                           // kill everything, remove the dir
//
// Topology (docs/operations.md, "Replication and failover"): a primary and TWO standbys, number_sync_standbys
// 1, so every COMMIT waits for one standby (synchronous_standby_names 'ANY 1 (…)'). With one standby,
// pg_auto_failover 2.0 trades durability for availability: when that standby is unhealthy, or after a
// failover until the old primary is back, the primary runs with synchronous replication off
// (wait_primary), and a 201 would be on one machine. With two, losing one standby keeps commits on two
// machines; losing both blocks writes. What remains: right after a failover, the promoted node takes
// writes in wait_primary with synchronous replication off until the other standby has joined it (about a
// second here; `asyncWindowMs` below measures it).
//
// Every process runs as the `postgres` OS user when this process is root (PostgreSQL and pg_autoctl
// refuse root), each pg_autoctl in its own process group; sockets and pg_autoctl's files stay in the dir
// (PGHOST, PG_REGRESS_SOCK_DIR, XDG_*). Trust authentication, no TLS, listening on 127.0.0.1 only. The
// monitor's health checks and the keepers' partition timeout are shortened so that a failover takes
// seconds instead of ~40 s.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { delimiter, join } from 'node:path';
import postgres, { type Sql } from 'postgres';
import { freePort } from '../../ledger/src/db/embedded.js';

/** Debian's PostgreSQL 15 (the cluster's servers) and the pg_auto_failover extension built for it. */
export const PG_BIN = '/usr/lib/postgresql/15/bin';
const PG_AUTOFAILOVER_LIB = '/usr/lib/postgresql/15/lib/pgautofailover.so';

/**
 * Monitor settings (pgautofailover.*, in ms): health checks every second, a node unhealthy after 3 s
 * without reports and a failed check, a silent primary presumed dead 4 s after it was told to demote.
 * The keepers' network_partition_timeout (a primary alone demotes itself) stays below that.
 */
const MONITOR_SETTINGS: Record<string, number> = {
  health_check_period: 1000,
  health_check_timeout: 2000,
  health_check_max_retries: 1,
  health_check_retry_delay: 500,
  node_considered_unhealthy_timeout: 3000,
  startup_grace_period: 2000,
  primary_demote_timeout: 4000,
};
const NETWORK_PARTITION_TIMEOUT_SECONDS = 2;

/** pg_autoctl on PATH, or null. */
function pgAutoctlPath(): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, 'pg_autoctl'))) return join(dir, 'pg_autoctl');
  }
  return null;
}

/** Why a formation cannot be started on this machine, or null when it can. */
export function pgAutoFailoverMissing(): string | null {
  if (!pgAutoctlPath()) return 'pg_autoctl is not installed (apt-get install postgresql-15-auto-failover)';
  if (!existsSync(join(PG_BIN, 'pg_ctl'))) return `PostgreSQL 15 is not installed (${PG_BIN}/pg_ctl)`;
  if (!existsSync(PG_AUTOFAILOVER_LIB))
    return `the pgautofailover extension for PostgreSQL 15 is missing (${PG_AUTOFAILOVER_LIB})`;
  return null;
}

export interface FormationNode {
  name: string;
  port: number;
  pgdata: string;
  /** Superuser URL of this node alone. */
  url: string;
}

/** A node as the monitor sees it. */
export interface NodeState {
  name: string;
  port: number;
  reportedState: string;
  goalState: string;
  health: number;
}

export interface Kill {
  node: FormationNode;
  /** Date.now() when SIGKILL was sent. */
  at: number;
}

export interface Promotion {
  /** The new primary. */
  node: FormationNode;
  /** When it took writes: the monitor's event of it reporting wait_primary (ms since epoch, same clock). */
  writableAt: number;
  /** When it reported primary: synchronous replication configured again. */
  synchronousAt: number;
  /** synchronousAt − writableAt: the promoted node took writes with synchronous replication off. */
  asyncWindowMs: number;
  /** synchronous_standby_names on the new primary, once it is synchronous again. */
  synchronousStandbyNames: string;
}

export interface Formation {
  dir: string;
  monitorUrl: string;
  /** The database name of every node URL. */
  dbname: string;
  nodes: FormationNode[];
  /** Superuser multi-host URL: postgres://USER@127.0.0.1:P1,127.0.0.1:P2,…/DB?target_session_attrs=read-write */
  url: string;
  /** Every node as the monitor sees it. */
  state(): Promise<NodeState[]>;
  /** The node the monitor has as primary (reported and assigned). */
  primary(): Promise<FormationNode>;
  /** Resolves once one node is primary, every other secondary, and commits wait for a standby. */
  waitForSynchronous(timeoutMs?: number): Promise<FormationNode>;
  /** kill -9 of the primary's pg_autoctl process group (keeper, postgres controller, postmaster, backends). */
  killPrimary(): Promise<Kill>;
  /** Resolves once another node took over and runs with synchronous replication again. */
  waitForPromotion(kill: Kill, timeoutMs?: number): Promise<Promotion>;
  /** The tail of a node's (or the monitor's) pg_autoctl output. */
  log(name: string): string;
  stop(): Promise<void>;
}

export interface FormationOptions {
  /** Standbys besides the primary; default 2 (see the top of this file). */
  standbys?: number;
  /** The database pg_autoctl creates on the primary; default postgres. */
  dbname?: string;
  /** Overall bound on the start; default 180 s. */
  timeoutMs?: number;
  log?: (line: string) => void;
}

interface Service {
  name: string;
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

/** Every process group started here: killed if the test process exits without stop(). */
const groups = new Set<number>();
process.once('exit', () => {
  for (const pgid of groups) killGroup(pgid);
});

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // gone already
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `probe` until it returns something truthy; throws after the deadline with `detail()` and the last error. */
async function until<T>(
  what: string,
  deadline: number,
  probe: () => Promise<T | null | undefined | false>,
  detail: () => string = () => '',
  everyMs = 100,
): Promise<T> {
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const cause = last ? ` (last error: ${(last as Error).message})` : '';
      throw new Error(`pg_auto_failover: timed out waiting for ${what}${cause}\n${detail()}`);
    }
    await sleep(everyMs);
  }
}

export async function startFormation(opts: FormationOptions = {}): Promise<Formation> {
  const missing = pgAutoFailoverMissing();
  if (missing) throw new Error(missing);
  const pgAutoctl = pgAutoctlPath()!;
  const standbys = opts.standbys ?? 2;
  const dbname = opts.dbname ?? 'postgres';
  const log = opts.log ?? (() => {});
  const deadline = Date.now() + (opts.timeoutMs ?? 180_000);
  const root = process.getuid?.() === 0;
  const runAs = root ? { uid: idOf('-u'), gid: idOf('-g') } : null;
  // The bootstrap superuser is the OS user that runs the servers.
  const superuser = root ? 'postgres' : userInfo().username;

  const dir = mkdtempSync(join(tmpdir(), 'tallyproof-paf-'));
  const sockets = join(dir, 'sock');
  mkdirSync(sockets);
  if (runAs) for (const d of [dir, sockets]) chownSync(d, runAs.uid, runAs.gid);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    XDG_CONFIG_HOME: join(dir, 'config'),
    XDG_DATA_HOME: join(dir, 'data'),
    XDG_RUNTIME_DIR: join(dir, 'run'),
    // Unix sockets in the dir, not /var/run/postgresql: the keepers reach their server through PGHOST.
    PGHOST: sockets,
    PG_REGRESS_SOCK_DIR: sockets,
    LC_ALL: 'C.UTF-8',
  };

  const services = new Map<string, Service>();
  const outputs = new Map<string, () => string>();
  const spawnAutoctl = (name: string, args: string[]): Service => {
    const child = spawn(pgAutoctl, args, {
      cwd: dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group: one kill reaches the keeper, the controller and postgres
      ...(runAs ?? {}),
    });
    if (child.pid !== undefined) groups.add(child.pid);
    let out = '';
    const keep = (d: Buffer) => {
      out = (out + d.toString('utf8')).slice(-32_768);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const exited = new Promise<number | null>((resolve) => {
      child.once('error', (err) => {
        out += `\n${err.message}`;
        resolve(null);
      });
      child.once('exit', (code) => {
        if (child.pid !== undefined) groups.delete(child.pid);
        resolve(code);
      });
    });
    outputs.set(name, () => out);
    return { name, child, output: () => out, exited };
  };
  /** A pg_autoctl command that runs to its end (create, config set). */
  const runAutoctl = async (name: string, args: string[]): Promise<void> => {
    const s = spawnAutoctl(`${name} (${args[0]} ${args[1]})`, args);
    const timer = setTimeout(
      () => s.child.pid !== undefined && killGroup(s.child.pid),
      Math.max(1, deadline - Date.now()),
    );
    const code = await s.exited.finally(() => clearTimeout(timer));
    if (code !== 0)
      throw new Error(`pg_autoctl ${args.slice(0, 2).join(' ')} for ${name} exited with ${code}:\n${tail(s.output())}`);
  };
  const serve = (name: string, args: string[]) => {
    const s = spawnAutoctl(name, args);
    services.set(name, s);
    return s;
  };

  const sqlFor = (url: string): Sql =>
    postgres(url, { max: 1, connect_timeout: 5, onnotice: () => {}, fetch_types: false });
  let monitor: Sql | null = null;
  const stop = async () => {
    await monitor?.end({ timeout: 1 }).catch(() => {});
    monitor = null;
    for (const s of services.values()) {
      if (s.child.pid !== undefined) killGroup(s.child.pid);
      await s.exited;
    }
    services.clear();
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const monitorPort = await freePort();
    const monitorUrl = `postgres://${superuser}@127.0.0.1:${monitorPort}/pg_auto_failover`;
    const pgctl = join(PG_BIN, 'pg_ctl');
    const common = [
      '--hostname',
      '127.0.0.1',
      '--listen',
      '127.0.0.1',
      '--auth',
      'trust',
      '--no-ssl',
      '--pgctl',
      pgctl,
    ];
    serve('monitor', [
      'create',
      'monitor',
      '--pgdata',
      join(dir, 'monitor'),
      '--pgport',
      `${monitorPort}`,
      ...common,
      '--run',
    ]);
    const describe = () => [...outputs].map(([n, o]) => `--- ${n}\n${tail(o())}`).join('\n');
    monitor = await until(
      'the monitor',
      deadline,
      async () => {
        const sql = sqlFor(monitorUrl);
        try {
          await sql`SELECT number_sync_standbys FROM pgautofailover.formation`;
          return sql;
        } catch (err) {
          await sql.end({ timeout: 1 });
          throw err;
        }
      },
      describe,
      250,
    );
    for (const [name, value] of Object.entries(MONITOR_SETTINGS))
      await monitor.unsafe(`ALTER SYSTEM SET pgautofailover.${name} = ${value}`);
    await monitor`SELECT pg_reload_conf()`;
    const m = monitor;

    const state = async (): Promise<NodeState[]> =>
      (
        await m`SELECT nodename, nodeport, reportedstate::text AS reported, goalstate::text AS goal, health
                FROM pgautofailover.node WHERE formationid = 'default' ORDER BY nodeid`
      ).map((r) => ({
        name: r.nodename as string,
        port: r.nodeport as number,
        reportedState: r.reported as string,
        goalState: r.goal as string,
        health: r.health as number,
      }));
    const describeState = async () => {
      const s = await state().catch((err: Error) => `(monitor unreachable: ${err.message})`);
      return typeof s === 'string' ? s : s.map((n) => `${n.name}:${n.reportedState}/${n.goalState}`).join(' ');
    };
    let lastState = '';
    const describeAll = () => `monitor sees: ${lastState}\n${describe()}`;
    const reached = async (want: (s: NodeState[]) => boolean) => {
      const s = await state();
      lastState = s.map((n) => `${n.name}:${n.reportedState}/${n.goalState}`).join(' ');
      return want(s);
    };

    // The nodes one at a time: the first becomes the primary, each next one a standby (a base backup).
    const nodes: FormationNode[] = [];
    for (let i = 0; i <= standbys; i++) {
      const name = `node${i + 1}`;
      const port = await freePort();
      const pgdata = join(dir, name);
      const url = `postgres://${superuser}@127.0.0.1:${port}/${dbname}`;
      const node = { name, port, pgdata, url };
      const monitorArg = `postgres://autoctl_node@127.0.0.1:${monitorPort}/pg_auto_failover?sslmode=disable`;
      const args = ['--pgdata', pgdata, '--pgport', `${port}`, '--name', name, '--dbname', dbname, ...common];
      await runAutoctl(name, ['create', 'postgres', ...args, '--monitor', monitorArg]);
      await runAutoctl(name, [
        'config',
        'set',
        '--pgdata',
        pgdata,
        'timeout.network_partition_timeout',
        `${NETWORK_PARTITION_TIMEOUT_SECONDS}`,
      ]);
      serve(name, ['run', '--pgdata', pgdata]);
      nodes.push(node);
      const want = i === 0 ? ['single'] : ['secondary'];
      await until(
        `${name} to report ${want.join(' or ')}`,
        deadline,
        () =>
          reached((s) =>
            s.some((n) => n.name === name && want.includes(n.reportedState) && n.goalState === n.reportedState),
          ),
        describeAll,
        250,
      );
      log(`pg_auto_failover: ${name} on 127.0.0.1:${port} (${await describeState()})`);
    }
    const byName = (name: string) => {
      const node = nodes.find((n) => n.name === name);
      if (!node) throw new Error(`pg_auto_failover: the monitor names an unknown node ${name}`);
      return node;
    };

    const primary = async (): Promise<FormationNode> => {
      const p = (await state()).filter((n) => n.reportedState === 'primary' && n.goalState === 'primary');
      if (p.length !== 1) throw new Error(`pg_auto_failover: no single primary (${await describeState()})`);
      return byName(p[0]!.name);
    };

    /** The node's synchronous replication as PostgreSQL has it: its setting and its standbys in the quorum. */
    const synchronousOn = async (node: FormationNode): Promise<string | null> => {
      const sql = sqlFor(node.url);
      try {
        const [setting] = await sql`SELECT current_setting('synchronous_standby_names') AS names`;
        const [quorum] = await sql`
          SELECT count(*)::int AS n FROM pg_stat_replication WHERE sync_state IN ('sync', 'quorum')`;
        const names = setting!.names as string;
        return names !== '' && (quorum!.n as number) >= 1 ? names : null;
      } finally {
        await sql.end({ timeout: 1 });
      }
    };

    const waitForSynchronous = async (timeoutMs = 60_000): Promise<FormationNode> => {
      return until(
        'a primary with synchronous standbys',
        Date.now() + timeoutMs,
        async () => {
          const settled = await reached(
            (s) =>
              s.filter((n) => n.reportedState === 'primary' && n.goalState === 'primary').length === 1 &&
              s.every((n) => n.reportedState === n.goalState && ['primary', 'secondary'].includes(n.goalState)),
          );
          if (!settled) return null;
          const p = await primary();
          const [f] = await m`SELECT number_sync_standbys FROM pgautofailover.formation WHERE formationid = 'default'`;
          if ((f!.number_sync_standbys as number) !== Math.min(1, standbys - 1)) return null;
          return (await synchronousOn(p)) ? p : null;
        },
        describeAll,
        250,
      );
    };

    const killPrimary = async (): Promise<Kill> => {
      const node = await primary();
      const service = services.get(node.name)!;
      // The postmaster is in the keeper's process group; its pid is read first to check it is gone.
      const postmasterPid = Number(readFileSync(join(node.pgdata, 'postmaster.pid'), 'utf8').split('\n')[0]);
      const at = Date.now();
      killGroup(service.child.pid!);
      try {
        process.kill(postmasterPid, 'SIGKILL');
      } catch {
        // already gone with its group
      }
      await service.exited;
      await until(
        `${node.name}'s postmaster (pid ${postmasterPid}) gone`,
        Date.now() + 10_000,
        async () => !alive(postmasterPid),
      );
      await until(
        `${node.name}'s port ${node.port} closed`,
        Date.now() + 10_000,
        async () => !(await accepts(node.port)),
      );
      log(`pg_auto_failover: ${node.name} killed -9 (keeper and postmaster)`);
      return { node, at };
    };

    const waitForPromotion = async (kill: Kill, timeoutMs = 90_000): Promise<Promotion> => {
      const node = await until(
        'a standby promoted and synchronous again',
        Date.now() + timeoutMs,
        async () => {
          const s = await state();
          lastState = s.map((n) => `${n.name}:${n.reportedState}/${n.goalState}`).join(' ');
          const p = s.find(
            (n) => n.name !== kill.node.name && n.reportedState === 'primary' && n.goalState === 'primary',
          );
          return p ? byName(p.name) : null;
        },
        describeAll,
      );
      const synchronousStandbyNames = await until(
        `synchronous replication on ${node.name}`,
        Date.now() + timeoutMs,
        () => synchronousOn(node),
        describeAll,
      );
      // Exact times from the monitor's event log (same machine, same clock).
      const events = await m`
        SELECT reportedstate::text AS state, min(eventtime) AS at FROM pgautofailover.event
        WHERE nodename = ${node.name} AND eventtime >= ${new Date(kill.at)} AND reportedstate IN ('wait_primary', 'primary')
        GROUP BY reportedstate`;
      const at = (st: string) => (events.find((e) => e.state === st)?.at as Date | undefined)?.getTime();
      const synchronousAt = at('primary') ?? Date.now();
      const writableAt = at('wait_primary') ?? synchronousAt;
      log(`pg_auto_failover: ${node.name} promoted (${await describeState()})`);
      return { node, writableAt, synchronousAt, asyncWindowMs: synchronousAt - writableAt, synchronousStandbyNames };
    };

    await waitForSynchronous(Math.max(1, deadline - Date.now()));
    const url =
      `postgres://${superuser}@${nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}/${dbname}` +
      '?target_session_attrs=read-write';
    return {
      dir,
      monitorUrl,
      dbname,
      nodes,
      url,
      state,
      primary,
      waitForSynchronous,
      killPrimary,
      waitForPromotion,
      log: (name) => tail(outputs.get(name)?.() ?? ''),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

function idOf(flag: '-u' | '-g'): number {
  try {
    return Number(
      execFileSync('id', [flag, 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(),
    );
  } catch {
    throw new Error('running as root, pg_auto_failover must run as a user named postgres, and there is none');
  }
}

/** Whether `pid` still runs: a zombie (killed, not yet reaped, as under a container's PID 1) does not. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false; // no /proc entry: gone
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function tail(text: string, lines = 40): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
