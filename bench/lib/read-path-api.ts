// The API as api/src/server.ts builds it (buildApp, the application role), for bench/read-path.ts: rate
// limits off (one load-generating address) and results-stream caps raised to READ_PATH_STREAMS, so one
// process can hold the bench's subscribers. Over the IPC channel it answers `{type: 'memory'}` with its
// memory after a full GC (run it with --expose-gc) and the results streams it holds: a process's own
// figures, which /proc cannot give for the V8 heap.
//
//   DATABASE_URL=<app role> LEDGER_KEY_SEED=<hex> READ_PATH_STREAMS=20000 node --expose-gc --import tsx bench/lib/read-path-api.ts
import { buildApp } from '../../api/src/app.js';
import { loadApiConfig } from '../../api/src/config.js';
import { openAppDatabase } from '../../ledger/src/db/connect.js';
import { ledgerKeyFromSeed } from '../../ledger/src/ledger-key.js';

export interface ReadPathApiMemory {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  /** Results streams this process holds open. */
  streams: number;
  /** Whether a full GC ran first (false without --expose-gc: the heap figures then include garbage). */
  collected: boolean;
}

const config = loadApiConfig();
const seed = process.env.LEDGER_KEY_SEED;
if (!config.databaseUrl || !seed) throw new Error('DATABASE_URL and LEDGER_KEY_SEED are needed');
const streams = Number(process.env.READ_PATH_STREAMS ?? 20_000);
const ledger = await openAppDatabase({ url: config.databaseUrl, max: config.databasePoolSize });
const app = await buildApp({
  sql: ledger.sql,
  ledgerKey: ledgerKeyFromSeed(Buffer.from(seed, 'hex')),
  verifyThreads: config.verifyThreads,
  rateLimits: false,
  poolSize: config.databasePoolSize,
  resultsStreams: { total: streams, perClient: streams },
  logger: { level: 'warn' },
});
await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
process.stdout.write(
  `read-path API listening on http://127.0.0.1:${typeof address === 'object' ? address?.port : 0}\n`,
);

process.on('message', (msg: { type?: string }) => {
  if (msg?.type !== 'memory') return;
  const gc = (globalThis as { gc?: () => void }).gc;
  // Twice: objects freed by the first collection's finalizers go in the second.
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  const reply: ReadPathApiMemory = {
    rss: m.rss,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
    streams: app.tp.streams.size,
    collected: gc !== undefined,
  };
  process.send?.({ type: 'memory', memory: reply });
});
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  void app
    .close()
    .then(() => ledger.close())
    .then(() => process.exit(0));
};
process.on('SIGTERM', stop);
// The bench died without stopping this process: stop rather than linger.
process.on('disconnect', stop);
