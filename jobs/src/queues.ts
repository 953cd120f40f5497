// The BullMQ wiring shared by the producers (the API) and the consumer (the anchor worker): the two queues
// of contract.ts on Redis when REDIS_URL is set, else on BullMQ's PostgreSQL backend in its own schema of
// the ledger database. The queue is the fast path only; the database is the record of what is left to
// do, and the worker's reconcile pass finds any work whose job was lost (anchor-worker/README.md).
import { Queue, Worker, createPostgresBackend, type BackoffStrategy, type JobsOptions, type Processor } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import {
  CHAIN_QUEUE,
  DEFAULT_QUEUE_PREFIX,
  QUEUE_SCHEMA,
  SEAL_QUEUE,
  chainJobId,
  sealSchedulerId,
  type ChainJobData,
  type SealJobData,
} from './contract.js';
import { withTimeout } from './timeout.js';

export interface QueueConnectionOptions {
  /** The application role's connection to the ledger database; the PostgreSQL backend's schema is there, made by the migrations (queue-schema.ts). */
  databaseUrl: string;
  redisUrl?: string | null;
  /** Redis key prefix (Redis backend only); tests use a unique one per run. */
  prefix?: string;
  /** Called with errors the queue classes report in the background (connection drops and the like). */
  onError?: (err: Error, source: string) => void;
}

// BullMQ's classes are generic over the backend; the worker only needs this much of them.
type AnyQueue = Queue<any, any, string, any, any, string, any, any>;
type AnyWorker = Worker<any, any, string, any, any, any>;

/** Retry delay for failed jobs: 0.25 s doubling up to 5 s, so work resumes soon after an outage ends. */
export const backoffStrategy: BackoffStrategy = (attemptsMade) =>
  Math.min(250 * 2 ** Math.max(0, attemptsMade - 1), 5000);

const CHAIN_JOB_OPTIONS: JobsOptions = {
  attempts: 100,
  backoff: { type: 'capped' },
  // Removed either way so that the same job id can be enqueued again; history lives in the logs.
  removeOnComplete: true,
  removeOnFail: true,
};

/** Rejects a queue call that does not answer within its deadline, naming it. */
function noAnswer(what: string, ms: number): () => never {
  return () => {
    throw new Error(`${what}: no answer from the queue within ${ms} ms`);
  };
}

export class AnchorQueues {
  private readonly workers: AnyWorker[] = [];
  private readonly redisClients: Redis[] = [];

  private constructor(
    readonly backend: 'redis' | 'postgres',
    private readonly opts: QueueConnectionOptions,
    readonly seal: AnyQueue,
    readonly chain: AnyQueue,
  ) {}

  static async open(opts: QueueConnectionOptions): Promise<AnchorQueues> {
    const backend = opts.redisUrl ? 'redis' : 'postgres';
    const shell = new AnchorQueues(backend, opts, null as never, null as never);
    const seal = shell.makeQueue(SEAL_QUEUE);
    const chain = shell.makeQueue(CHAIN_QUEUE);
    const queues = Object.assign(shell, { seal, chain }) as AnchorQueues;
    try {
      await withTimeout(
        Promise.all([seal.waitUntilReady(), chain.waitUntilReady()]),
        15_000,
        noAnswer(`open ${backend} queues`, 15_000),
      );
    } catch (err) {
      await queues.close();
      const hint = backend === 'postgres' ? ' (the queue schema is made by `npm run migrate`)' : '';
      throw new Error(`queue backend (${backend}) not ready: ${(err as Error).message}${hint}`, { cause: err });
    }
    return queues;
  }

  private redis(forWorker: boolean): Redis {
    // BullMQ needs maxRetriesPerRequest: null (workers block on Redis). Producers' adds are bounded by
    // withTimeout instead, so a Redis outage delays an enqueue by seconds at most.
    const options: RedisOptions = {
      maxRetriesPerRequest: null,
      connectionName: forWorker ? 'tallyproof-worker' : 'tallyproof-producer',
    };
    const client = new Redis(this.opts.redisUrl!, options);
    client.on('error', (err) => this.opts.onError?.(err, 'redis'));
    this.redisClients.push(client);
    return client;
  }

  private pgConnection() {
    // migrate: false: the schema is the owner's (queue-schema.ts); this only checks it is compatible.
    return {
      connectionString: this.opts.databaseUrl,
      schema: QUEUE_SCHEMA,
      migrate: false,
      max: 3,
      application_name: 'tallyproof-queue',
    };
  }

  private makeQueue(name: string): AnyQueue {
    const q: AnyQueue =
      this.backend === 'redis'
        ? new Queue(name, { connection: this.redis(false), prefix: this.opts.prefix ?? DEFAULT_QUEUE_PREFIX })
        : (new Queue(name, { connection: this.pgConnection() }, createPostgresBackend) as unknown as AnyQueue);
    q.on('error', (err: Error) => this.opts.onError?.(err, `queue ${name}`));
    return q;
  }

  createWorker<T>(
    name: typeof SEAL_QUEUE | typeof CHAIN_QUEUE,
    processor: Processor<T>,
    concurrency: number,
  ): AnyWorker {
    const common = {
      concurrency,
      // A killed worker's active job is handed to another worker after the lock expires; the reconcile
      // pass usually gets there first, since every job is idempotent.
      lockDuration: 15_000,
      stalledInterval: 10_000,
      maxStalledCount: 2,
      settings: { backoffStrategy },
    };
    const w: AnyWorker =
      this.backend === 'redis'
        ? new Worker(name, processor, {
            ...common,
            connection: this.redis(true),
            prefix: this.opts.prefix ?? DEFAULT_QUEUE_PREFIX,
          })
        : (new Worker(
            name,
            processor,
            { ...common, connection: this.pgConnection() },
            createPostgresBackend,
          ) as unknown as AnyWorker);
    w.on('error', (err: Error) => this.opts.onError?.(err, `worker ${name}`));
    this.workers.push(w);
    return w;
  }

  /** Enqueue a chain job; a job with the same id already waiting makes this a no-op. */
  async addChainJob(data: ChainJobData, timeoutMs = 5000): Promise<void> {
    const jobId = chainJobId(data);
    await withTimeout(
      this.chain.add(data.kind, data, { ...CHAIN_JOB_OPTIONS, jobId }),
      timeoutMs,
      noAnswer(`enqueue ${jobId}`, timeoutMs),
    );
  }

  async upsertSealScheduler(electionId: string, windowSeconds: number): Promise<void> {
    await this.seal.upsertJobScheduler(
      sealSchedulerId(electionId),
      { every: windowSeconds * 1000 },
      {
        name: 'seal',
        data: { electionId } satisfies SealJobData,
        opts: { removeOnComplete: true, removeOnFail: true },
      },
    );
  }

  async removeSealScheduler(electionId: string): Promise<void> {
    await this.seal.removeJobScheduler(sealSchedulerId(electionId));
  }

  /** Election ids that have a seal scheduler. */
  async sealSchedulers(): Promise<string[]> {
    const list = await this.seal.getJobSchedulers(0, -1);
    return list
      .map((s) => (s.key ?? s.id ?? '') as string)
      .filter((k) => k.startsWith('seal.'))
      .map((k) => k.slice('seal.'.length));
  }

  /** Whether the backend answers within timeoutMs. Never throws. */
  async ping(timeoutMs = 1500): Promise<boolean> {
    try {
      await withTimeout(this.chain.getJobCounts('wait'), timeoutMs, noAnswer('ping', timeoutMs));
      return true;
    } catch {
      return false;
    }
  }

  /** Close workers (waiting up to graceMs for active jobs, then leaving them to stall), then queues. */
  async close(graceMs = 5000): Promise<void> {
    await Promise.all(
      this.workers.map(async (w) => {
        try {
          await withTimeout(w.close(), graceMs, noAnswer('worker close', graceMs));
        } catch {
          await w.close(true).catch(() => undefined);
        }
      }),
    );
    await Promise.all([this.seal, this.chain].filter(Boolean).map((q) => q.close().catch(() => undefined)));
    await Promise.all(this.redisClients.map((c) => c.quit().catch(() => c.disconnect())));
  }
}
