// Liveness and dependency status, and the Prometheus endpoint.
//   GET /api/v1/health: 200 {"status":"ok"|"degraded", …}; 503 {"status":"down", …} when the database is down.
//   Degraded = ballots are still taken (durably, in PostgreSQL) but the chain or the worker's queue is
//   unreachable, so anchoring lags; the receipt promise resumes once they are back.
import type { FastifyInstance } from 'fastify';
import { withTimeout, type UpDown } from '../dependencies.js';
import { pingDatabase } from '../../../ledger/src/index.js';

const PROBE_TIMEOUT_MS = 2000;

const healthSchema = {
  type: 'object',
  required: ['status', 'database', 'queue', 'chain'],
  properties: {
    status: { type: 'string', enum: ['ok', 'degraded', 'down'] },
    database: { type: 'string', enum: ['up', 'down'] },
    queue: { type: 'string', enum: ['up', 'down', 'unknown'] },
    chain: { type: 'string', enum: ['up', 'down', 'unknown'] },
    chainId: { type: ['integer', 'null'] },
    contract: { type: ['string', 'null'] },
    ledgerKey: { type: 'string' },
    uptimeSeconds: { type: 'number' },
  },
} as const;

export default async function healthRoutes(app: FastifyInstance): Promise<void> {
  const { sql, dependencies, metrics, chain, ledgerKey } = app.tp;

  app.get(
    '/api/v1/health',
    {
      schema: {
        tags: ['operations'],
        summary: 'Liveness and dependency status',
        description: '503 when the database is down; "degraded" when the chain or the anchor queue is.',
        response: { 200: healthSchema, 503: healthSchema },
      },
    },
    async (_req, reply) => {
      const database: 'up' | 'down' = await withTimeout(
        pingDatabase(sql).then(
          () => 'up' as const,
          () => 'down' as const,
        ),
        PROBE_TIMEOUT_MS,
        () => 'down' as const,
      );
      const deps: { chain: UpDown; queue: UpDown } = dependencies
        ? await withTimeout(
            dependencies().catch(() => ({ chain: 'down' as const, queue: 'down' as const })),
            PROBE_TIMEOUT_MS,
            () => ({ chain: 'down' as const, queue: 'down' as const }),
          )
        : { chain: 'unknown', queue: 'unknown' };
      const status = database === 'down' ? 'down' : deps.chain === 'down' || deps.queue === 'down' ? 'degraded' : 'ok';
      const c = chain();
      return reply.code(database === 'down' ? 503 : 200).send({
        status,
        database,
        queue: deps.queue,
        chain: deps.chain,
        chainId: c.chainId,
        contract: c.contract,
        ledgerKey: ledgerKey.publicKeyHex,
        uptimeSeconds: Math.round(process.uptime()),
      });
    },
  );

  app.get(
    '/metrics',
    {
      schema: { tags: ['operations'], summary: 'Prometheus metrics', produces: ['text/plain'] },
    },
    async (_req, reply) => {
      const text = await metrics.text();
      return reply.type(metrics.registry.contentType).send(text);
    },
  );
}
