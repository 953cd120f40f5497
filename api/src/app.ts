// The one app factory. `buildApp(opts)` wires the ledger (Ingestor, verify pool, database) to the route
// plugins; it neither opens the database nor listens, so tests, the process entry (server.ts), the test
// stack and the benchmark all build the same app.
//
// Validation policy: nothing the client sends is rewritten. Ajv runs without type coercion, without
// removing additional properties and without filling defaults (queries are validated as text and
// converted by the routes). The ballot route goes further: its body is parsed with plain JSON.parse and
// validated only by the protocol's strict parser inside the Ingestor, so the bytes hashed and verified are
// exactly what the client sent, and every refusal leaves its audit row.
import Fastify, {
  LogController,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from 'fastify';
import rateLimit from '@fastify/rate-limit';
import type { Sql } from 'postgres';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Ingestor, LedgerClusters, type IngestOptions } from '../../ledger/src/index.js';
import { VerifyPool } from '../../ledger/src/verify-pool.js';
import type { LedgerKey } from '../../ledger/src/ledger-key.js';
import { ProtocolError, apiError, sendApiError, toApiError } from './errors.js';
import type { AnchorRequests, ChainInfo, DependencyProbe } from './dependencies.js';
import { ApiMetrics } from './services/metrics.js';
import {
  DEFAULT_RATE_LIMITS,
  RefusalBudget,
  clientAddress,
  rateTier,
  type RateLimits,
  type RateTier,
} from './services/rate-limits.js';
import { TallyTracker } from './services/tally.js';
import { ReadSnapshots } from './services/read-snapshots.js';
import { CredentialCheckPool } from './services/credential-check.js';
import { registerDocs } from './plugins/docs.js';
import webPlugin, { addSecurityHeaders } from './plugins/web.js';
import ballotRoutes, { BALLOTS_URL } from './routes/ballots.js';
import electionRoutes from './routes/elections.js';
import adminRoutes from './routes/admin.js';
import proofRoutes from './routes/proofs.js';
import tileRoutes from './routes/tiles.js';
import resultRoutes, { type StreamLimits } from './routes/results.js';
import healthRoutes from './routes/health.js';
import trusteeRoutes from './routes/trustees.js';

export interface AppOptions {
  /** Application-role connection to the ledger database (the caller owns and ends it). */
  sql: Sql;
  /**
   * Connections to the shard clusters 1..K-1 (TALLYPROOF_SHARD_DATABASE_URLS; the caller owns and ends them):
   * sharded elections' shards are spread over `sql` and these (ledger/src/db/clusters.ts). Default none.
   */
  shardDatabases?: readonly Sql[];
  ledgerKey: LedgerKey;
  /** Bearer token of the admin routes; null or unset: admin routes refuse everything (401). */
  adminToken?: string | null;
  /** A verify pool to share; by default the app starts its own (`verifyThreads`, 0 = one per core) and stops it on close. */
  verifier?: VerifyPool;
  verifyThreads?: number;
  /** Tuning of the Ingestor (batch size, queue limit before 503 overloaded, …). */
  ingest?: Partial<Omit<IngestOptions, 'sql' | 'ledgerKey' | 'verifier' | 'metrics'>>;
  /** Chain id and contract shown in elections and proof bundles, public RPC URL shown in elections (a function when it is learnt later). */
  chain?: ChainInfo | (() => ChainInfo);
  /** The anchor worker's request queue; absent: elections are stored but nothing is asked of the worker. */
  anchorRequests?: AnchorRequests | null;
  /** Chain and queue health for /api/v1/health; absent: reported as "unknown". */
  dependencies?: DependencyProbe | null;
  /**
   * Per-client rate limits (services/rate-limits.ts): on by default with DEFAULT_RATE_LIMITS, the given
   * fields replacing the defaults; false turns them all off (load tests).
   */
  rateLimits?: Partial<RateLimits> | false;
  /** Trust X-Forwarded-For for this many proxy hops (rate limits then key on the real client). */
  trustProxy?: number;
  /** Static voter/results pages (web/dist); served when the directory holds an index.html. */
  webDir?: string | null;
  logger?: FastifyServerOptions['logger'];
  /** How often results streams look for new commits (ms). */
  resultsPollMs?: number;
  /** Worker threads checking roll keys; default one per core. */
  rollCheckThreads?: number;
  /** Size of `sql`'s pool, reported in /metrics. */
  poolSize?: number;
  /** Node process metrics in /metrics (default on; tests building many apps turn them off). */
  processMetrics?: boolean;
  /** How long slow or idle clients may hold a connection (defaults: DEFAULT_HTTP_TIMEOUTS). */
  timeouts?: Partial<HttpTimeouts>;
  /** Caps on results streams (defaults: DEFAULT_STREAM_LIMITS in routes/results.ts). */
  resultsStreams?: Partial<StreamLimits>;
  /** Windows per page of `GET …/windows` (default and maximum `limit`; default WINDOWS_PAGE_LIMIT). */
  windowsPageLimit?: number;
}

/** Milliseconds; 0 turns a limit off. */
export interface HttpTimeouts {
  /** The whole request, headers and body, must arrive within this (a body dripped byte by byte is cut off). */
  requestMs: number;
  /** The headers of a request must arrive within this (at most `requestMs`). */
  headersMs: number;
  /** A socket with no traffic either way for this long is closed (above the streams' 15 s heartbeat). */
  connectionMs: number;
  /** An idle keep-alive connection between requests is closed after this (above the proxy's own, 30 s). */
  keepAliveMs: number;
}

export const DEFAULT_HTTP_TIMEOUTS: HttpTimeouts = {
  // A roll part is read as fast as its keys are checked (backpressure): a million keys take about 2 min
  // on 2 cores, longer on a busy machine. Slow senders are cut much earlier by the header and idle limits.
  requestMs: 600_000,
  headersMs: 15_000,
  connectionMs: 60_000,
  keepAliveMs: 72_000,
};

/** Node's http options for the timeouts: its checks run every `connectionsCheckingInterval` (30 s by default). */
function nodeHttpTimeouts(t: HttpTimeouts) {
  // Node refuses headersTimeout > requestTimeout when both are set.
  const headersTimeout = t.requestMs > 0 && t.headersMs > 0 ? Math.min(t.headersMs, t.requestMs) : t.headersMs;
  const shortest = Math.min(...[t.requestMs, headersTimeout].filter((ms) => ms > 0), 20_000);
  return {
    headersTimeout,
    requestTimeout: t.requestMs,
    connectionsCheckingInterval: Math.max(100, Math.min(5000, Math.floor(shortest / 4))),
  };
}

/** What the route plugins share, as `app.tp`. */
export interface AppContext {
  sql: Sql;
  /** The home (`sql`) and the shard clusters: where each shard of a sharded election is. */
  clusters: LedgerClusters;
  ledgerKey: LedgerKey;
  ingestor: Ingestor;
  metrics: ApiMetrics;
  tally: TallyTracker;
  /** Results, election views and window lists as served: bytes, ETag, Cache-Control (services/read-snapshots.ts). */
  reads: ReadSnapshots;
  credentialCheck: CredentialCheckPool;
  chain(): ChainInfo;
  anchorRequests: AnchorRequests | null;
  dependencies: DependencyProbe | null;
  adminToken: string | null;
  /** Open results streams, ended when the app closes. */
  streams: Set<ServerResponse>;
  /** Refused ballot submissions per client address; null when rate limits are off. */
  refusalBudget: RefusalBudget | null;
  closing: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    tp: AppContext;
  }
}

/** Body limit of every route but the ballot route (16 KiB, its own) and the election creation (8 MiB). */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const timeouts = { ...DEFAULT_HTTP_TIMEOUTS, ...opts.timeouts };
  const app = Fastify({
    logger: opts.logger ?? false,
    // Slow clients (slowloris): a request whose headers or body trickle in is cut off (408, then closed),
    // as is a silent socket; long responses (results streams, the ledger export) are not limited.
    http: nodeHttpTimeouts(timeouts),
    requestTimeout: timeouts.requestMs,
    connectionTimeout: timeouts.connectionMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    // No per-request access log (the reverse proxy keeps one); our error handler still logs 5xx.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: DEFAULT_BODY_LIMIT,
    trustProxy: opts.trustProxy ? (_address: string, hop: number) => hop < opts.trustProxy! : false,
    // Our own 503 with Retry-After and the error body (see the onRequest hook below).
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false } },
    frameworkErrors: (err, _req, reply) => {
      sendApiError(
        reply,
        err.code === 'FST_ERR_BAD_URL' ? apiError('invalid-query', 'the URL is malformed') : toApiError(err),
      );
    },
  });

  const ownVerifier = !opts.verifier;
  const verifier =
    opts.verifier ?? new VerifyPool({ threads: opts.verifyThreads || undefined, signingSeed: opts.ledgerKey.seed });
  let ingestor: Ingestor | null = null;
  const metrics = new ApiMetrics({
    sql: opts.sql,
    poolSize: opts.poolSize ?? 10,
    queueDepth: () => ingestor?.queued ?? 0,
    defaultMetrics: opts.processMetrics,
  });
  const clusters = new LedgerClusters(opts.sql, opts.shardDatabases ?? []);
  ingestor = new Ingestor({
    ...opts.ingest,
    sql: opts.sql,
    clusters,
    ledgerKey: opts.ledgerKey,
    verifier,
    metrics: metrics.ingestHooks(),
  });
  const chain =
    typeof opts.chain === 'function'
      ? opts.chain
      : () => (opts.chain as ChainInfo | undefined) ?? { chainId: null, contract: null };
  const ctx: AppContext = {
    sql: opts.sql,
    clusters,
    ledgerKey: opts.ledgerKey,
    ingestor,
    metrics,
    tally: new TallyTracker(clusters, {
      pollMs: opts.resultsPollMs,
      onError: (err) => app.log.warn({ err }, 'results refresh failed'),
    }),
    reads: new ReadSnapshots(),
    credentialCheck: new CredentialCheckPool(opts.rollCheckThreads),
    chain,
    anchorRequests: opts.anchorRequests ?? null,
    dependencies: opts.dependencies ?? null,
    adminToken: opts.adminToken ?? null,
    streams: new Set(),
    refusalBudget: null,
    closing: false,
  };
  app.decorate('tp', ctx);
  // Before any route: the write routes naming an election invalidate its snapshots.
  ctx.reads.watchWrites(app);
  addSecurityHeaders(app, { chain });

  app.setErrorHandler((err, req, reply) => {
    const e = toApiError(err);
    if (e.status >= 500) req.log.error({ err }, 'request failed');
    return sendApiError(reply, e);
  });
  app.setNotFoundHandler((req, reply) =>
    sendApiError(reply, apiError('not-found', `no route ${req.method} ${req.url.split('?')[0]!.slice(0, 200)}`)),
  );

  // Shutting down: requests that still arrive on open connections get a clean 503 to retry elsewhere.
  // Callback hooks here and in addSecurityHeaders: every request runs them, and an async hook costs a promise.
  app.addHook('onRequest', (_req, _reply, done) => {
    done(ctx.closing ? new ProtocolError('unavailable', 'this API process is shutting down; retry') : undefined);
  });
  // Graceful close: fastify stops accepting and waits for the server's connections to end. Node closes
  // idle keep-alive connections itself, but not a connection that never carried a request (clients open
  // those ahead of time), so connections are counted here: at close, the ones without a request in
  // progress are ended, and the others as soon as their response is done.
  const activeRequests = new Map<Socket, number>();
  app.server.on('connection', (socket: Socket) => {
    activeRequests.set(socket, 0);
    socket.once('close', () => activeRequests.delete(socket));
  });
  app.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    activeRequests.set(socket, (activeRequests.get(socket) ?? 0) + 1);
    res.once('close', () => {
      const left = (activeRequests.get(socket) ?? 1) - 1;
      activeRequests.set(socket, left);
      if (ctx.closing && left === 0) socket.end();
    });
  });
  app.addHook('preClose', async () => {
    ctx.closing = true;
    for (const res of ctx.streams) res.end();
    ctx.streams.clear();
    for (const [socket, active] of activeRequests) if (active === 0) socket.end();
  });
  app.addHook('onClose', async () => {
    ctx.tally.stop();
    await ctx.credentialCheck.close();
    await ctx.ingestor.close(); // its proof threads, when it started them (encrypted ballots)
    if (ownVerifier) await verifier.close();
  });

  // Rate limits: per client address, in this process's memory (several replicas each count their own
  // share), one counter per tier shared by the tier's routes; the 404 handler counts as "other".
  if (opts.rateLimits !== false) {
    const limits: RateLimits = { ...DEFAULT_RATE_LIMITS, ...opts.rateLimits };
    await app.register(rateLimit, { global: false });
    const clientKey = (req: FastifyRequest) => clientAddress(req.ip);
    const limiter = (max: number) => {
      if (max <= 0) return null;
      // `cache`: addresses each tier's LRU store keeps (LocalStore reads it; its type omits it).
      const options = { max, timeWindow: limits.windowMs, keyGenerator: clientKey, cache: 100_000 };
      return app.createRateLimit(options);
    };
    const limiters: Record<RateTier, ReturnType<typeof limiter>> = {
      ballots: limiter(limits.ballots),
      reads: limiter(limits.reads),
      exports: limiter(limits.exports),
      other: limiter(limits.other),
    };
    const refusals = limits.refusedBallots > 0 ? new RefusalBudget(limits.refusedBallots, limits.windowMs) : null;
    ctx.refusalBudget = refusals;
    const refuse = (reply: FastifyReply, tier: string, seconds: number, message: string) => {
      metrics.rateLimited.inc({ limit: tier });
      reply.header('retry-after', String(Math.max(1, seconds)));
      throw new ProtocolError('rate-limited', message);
    };
    app.addHook('onRequest', async (req, reply) => {
      const tier = rateTier(BALLOTS_URL, req.method, req.routeOptions.url);
      if (tier === 'ballots' && refusals) {
        // Before any parsing or verification: a client over its refusal budget costs one map lookup.
        const waitMs = refusals.blocked(clientAddress(req.ip));
        if (waitMs > 0) {
          const s = Math.ceil(waitMs / 1000);
          refuse(reply, 'refused-ballots', s, `too many refused submissions from this address; retry in ${s} s`);
        }
      }
      const r = await limiters[tier]?.(req);
      if (r && !r.isAllowed && r.isExceeded) {
        refuse(
          reply,
          tier,
          r.ttlInSeconds,
          `more than ${r.max} requests from this address; retry in ${r.ttlInSeconds} s`,
        );
      }
    });
  }

  await registerDocs(app);
  await app.register(ballotRoutes);
  await app.register(electionRoutes);
  await app.register(adminRoutes);
  await app.register(proofRoutes, { windowsPageLimit: opts.windowsPageLimit });
  await app.register(tileRoutes);
  await app.register(resultRoutes, { limits: opts.resultsStreams });
  await app.register(trusteeRoutes);
  await app.register(healthRoutes);
  await app.register(webPlugin, { webDir: opts.webDir ?? null });
  return app;
}
