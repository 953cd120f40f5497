// The API process's configuration (api/src/server.ts): the variables it shares with the worker
// (ledger/src/config.ts) and its own. docs/operations.md documents each one.
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { ConfigError, int, loadSharedConfig, opt, url, type Env, type SharedConfig } from '../../ledger/src/config.js';
import { DEFAULT_RATE_LIMITS, type RateLimits } from './services/rate-limits.js';
import { DEFAULT_HTTP_TIMEOUTS, type HttpTimeouts } from './app.js';
import { DEFAULT_STREAM_LIMITS, type StreamLimits } from './routes/results.js';

export interface ApiConfig extends SharedConfig {
  port: number;
  /**
   * The chain's JSON-RPC URL as browsers and voters should reach it (http or https), published as
   * `chainRpcUrl` in `GET /api/v1/elections/{id}`. Unset: null, never CHAIN_RPC_URL (often an internal address).
   */
  publicChainRpcUrl: string | null;
  adminToken: string | null;
  /** Per-client rate limits (RATE_LIMITS=off: false, for load tests); each limit 0 = that one off. */
  rateLimits: RateLimits | false;
  /** Behind a reverse proxy / load balancer: trust X-Forwarded-For for this many hops (rate limits key on the client IP). 0 = off. */
  trustProxy: number;
  /** Connections in the application's PostgreSQL pool (per process). */
  databasePoolSize: number;
  /** Signature verification worker threads; 0 = one per core. */
  verifyThreads: number;
  /** Static files of the voter and results pages (served at / when the directory exists). */
  webDir: string;
  /** Longest wait for in-flight requests on SIGTERM/SIGINT before the process exits anyway. */
  shutdownTimeoutSeconds: number;
  /** TALLYPROOF_QUEUE_PREFIX: the Redis key prefix of the job queues, undefined for the default. */
  queuePrefix: string | undefined;
  /** Slow and idle clients (REQUEST_, HEADERS_, CONNECTION_, KEEP_ALIVE_TIMEOUT_SECONDS), in ms; 0 = no limit. */
  timeouts: HttpTimeouts;
  /** RESULTS_STREAMS_PER_CLIENT, RESULTS_STREAMS_MAX, RESULTS_STREAM_BUFFER_BYTES. */
  resultsStreams: StreamLimits;
}

/**
 * PUBLIC_CHAIN_RPC_URL is sent to every voter's browser: http or https only (the pages read the chain with
 * fetch, which also refuses URLs with credentials), and no user name or password in it.
 */
function publicRpcUrl(env: Env): string | null {
  const name = 'PUBLIC_CHAIN_RPC_URL';
  const hint =
    " (browsers read the chain over HTTP; expected the chain's JSON-RPC URL as browsers reach it, e.g. https://rpc.example.org)";
  const v = url(env, name, ['http:', 'https:'], hint);
  if (v === null) return null;
  const u = new URL(v);
  if (u.username !== '' || u.password !== '') {
    throw new ConfigError(name, 'must not contain a user name or password: it is published to every voter');
  }
  return v;
}

/** RATE_LIMITS (on|off) and the per-minute limits, defaults DEFAULT_RATE_LIMITS (docs/operations.md). */
function rateLimits(env: Env): RateLimits | false {
  const onOff = opt(env, 'RATE_LIMITS') ?? 'on';
  if (onOff !== 'on' && onOff !== 'off') throw new ConfigError('RATE_LIMITS', `must be on or off, got "${onOff}"`);
  const d = DEFAULT_RATE_LIMITS;
  const limits: RateLimits = {
    ballots: int(env, 'BALLOT_RATE_LIMIT', d.ballots, 0, 10_000_000),
    refusedBallots: int(env, 'REFUSED_BALLOT_LIMIT', d.refusedBallots, 0, 10_000_000),
    reads: int(env, 'READ_RATE_LIMIT', d.reads, 0, 10_000_000),
    exports: int(env, 'EXPORT_RATE_LIMIT', d.exports, 0, 10_000_000),
    other: int(env, 'RATE_LIMIT', d.other, 0, 10_000_000),
    windowMs: 60_000,
  };
  return onOff === 'off' ? false : limits;
}

export function loadApiConfig(env: Env = process.env): ApiConfig {
  const adminToken = opt(env, 'ADMIN_TOKEN');
  if (adminToken !== null && adminToken.length < 16)
    throw new ConfigError('ADMIN_TOKEN', 'must be at least 16 characters');
  return {
    ...loadSharedConfig(env),
    port: int(env, 'PORT', 8080, 0, 65535),
    publicChainRpcUrl: publicRpcUrl(env),
    adminToken,
    rateLimits: rateLimits(env),
    trustProxy: int(env, 'TRUST_PROXY', 0, 0, 16),
    databasePoolSize: int(env, 'DATABASE_POOL_SIZE', 10, 1, 500),
    verifyThreads: int(env, 'VERIFY_THREADS', 0, 0, 256),
    webDir: resolve(opt(env, 'WEB_DIR') ?? fileURLToPath(new URL('../../web/dist', import.meta.url))),
    shutdownTimeoutSeconds: int(env, 'SHUTDOWN_TIMEOUT_SECONDS', 30, 1, 3600),
    queuePrefix: opt(env, 'TALLYPROOF_QUEUE_PREFIX') ?? undefined,
    timeouts: {
      requestMs: int(env, 'REQUEST_TIMEOUT_SECONDS', DEFAULT_HTTP_TIMEOUTS.requestMs / 1000, 0, 86_400) * 1000,
      headersMs: int(env, 'HEADERS_TIMEOUT_SECONDS', DEFAULT_HTTP_TIMEOUTS.headersMs / 1000, 1, 3600) * 1000,
      connectionMs: int(env, 'CONNECTION_TIMEOUT_SECONDS', DEFAULT_HTTP_TIMEOUTS.connectionMs / 1000, 0, 86_400) * 1000,
      keepAliveMs: int(env, 'KEEP_ALIVE_TIMEOUT_SECONDS', DEFAULT_HTTP_TIMEOUTS.keepAliveMs / 1000, 1, 3600) * 1000,
    },
    resultsStreams: {
      perClient: int(env, 'RESULTS_STREAMS_PER_CLIENT', DEFAULT_STREAM_LIMITS.perClient, 1, 100_000),
      total: int(env, 'RESULTS_STREAMS_MAX', DEFAULT_STREAM_LIMITS.total, 1, 1_000_000),
      maxBufferedBytes: int(env, 'RESULTS_STREAM_BUFFER_BYTES', DEFAULT_STREAM_LIMITS.maxBufferedBytes, 1024, 2 ** 30),
    },
  };
}
