// GET /api/v1/elections/{electionId}: the manifest and its hash, the roll root, status and chain anchoring.
// GET /api/v1/elections/{electionId}/roll: the frozen credential roll as NDJSON, in rollRoot order.
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { getElection, getPublicElection, rollPages, type ElectionRecord } from '../../../ledger/src/index.js';
import { ProtocolError } from '../errors.js';
import type { ChainInfo } from '../dependencies.js';
import { commonErrorResponses, electionParams, evmHex, hex32, manifestSchema } from '../schemas/common.js';

export type PublicStatus = 'scheduled' | 'open' | 'closed';

/** An election whose roll is still being loaded cannot take ballots yet: it shows as scheduled. */
export function publicStatus(e: ElectionRecord, nowMs = Date.now()): PublicStatus {
  if (e.closed || nowMs >= e.closesAtMs) return 'closed';
  if (e.rollRoot === null || nowMs < e.opensAtMs) return 'scheduled';
  return 'open';
}

export function electionView(e: ElectionRecord, chain: ChainInfo) {
  return {
    manifest: e.manifest,
    manifestHash: e.manifestHash,
    rollRoot: e.rollRoot,
    rollSize: e.rollSize,
    status: publicStatus(e),
    chainId: chain.chainId,
    contract: chain.contract,
    chainRpcUrl: chain.publicRpcUrl ?? null,
    registration: e.registrationTx ? { txHash: e.registrationTx, blockNumber: e.registrationBlock } : null,
  };
}

export const electionViewSchema = {
  type: 'object',
  required: [
    'manifest',
    'manifestHash',
    'rollRoot',
    'rollSize',
    'status',
    'chainId',
    'contract',
    'chainRpcUrl',
    'registration',
  ],
  properties: {
    manifest: manifestSchema,
    manifestHash: hex32,
    rollRoot: {
      type: ['string', 'null'],
      description: 'MTH of the sorted roll; null while the roll is still being loaded',
    },
    rollSize: { type: 'integer', description: 'keys on the roll (while it is pending: uploaded so far)' },
    status: { type: 'string', enum: ['scheduled', 'open', 'closed'] },
    chainId: { type: ['integer', 'null'] },
    contract: { type: ['string', 'null'] },
    chainRpcUrl: {
      type: ['string', 'null'],
      description:
        "the chain's public JSON-RPC URL (PUBLIC_CHAIN_RPC_URL), for reading anchored roots from the chain itself; null when the operator publishes none",
    },
    registration: {
      type: ['object', 'null'],
      description: 'registerElection transaction, once mined',
      properties: { txHash: evmHex, blockNumber: { type: ['integer', 'null'] } },
    },
  },
} as const;

export default async function electionRoutes(app: FastifyInstance): Promise<void> {
  const { sql, chain } = app.tp;
  app.get(
    '/api/v1/elections/:electionId',
    {
      schema: {
        tags: ['elections'],
        summary: 'An election: manifest, roll root, status, chain registration',
        params: electionParams,
        response: { 200: electionViewSchema, ...commonErrorResponses },
      },
    },
    async (req) => {
      const { electionId } = req.params as { electionId: string };
      // A roll still loading reports the keys uploaded so far as its rollSize.
      const e = await getPublicElection(sql, electionId);
      if (!e) throw new ProtocolError('unknown-election', `no election ${electionId}`);
      return electionView(e, chain());
    },
  );

  app.get(
    '/api/v1/elections/:electionId/roll',
    {
      schema: {
        tags: ['elections'],
        summary: 'The credential roll (NDJSON stream)',
        description:
          "application/x-ndjson, one JSON string (32-byte lowercase hex public key) per line, sorted ascending by the keys' bytes: " +
          "the order rollRoot is computed over, so MTH(lines) = rollRoot. Streamed in constant memory whatever the roll's size. " +
          'Headers X-Roll-Size (number of lines) and X-Roll-Root. 409 roll-pending while the roll is still being uploaded (not finalized).',
        params: electionParams,
        produces: ['application/x-ndjson'],
        response: {
          200: {
            description: 'One JSON string per line: "<64 lowercase hex>"\\n',
            content: { 'application/x-ndjson': { schema: { type: 'string' } } },
          },
          ...commonErrorResponses,
        },
      },
    },
    async (req, reply) => {
      const { electionId } = req.params as { electionId: string };
      const e = await getElection(sql, electionId);
      if (!e) throw new ProtocolError('unknown-election', `no election ${electionId}`);
      if (e.rollRoot === null)
        throw new ProtocolError(
          'roll-pending',
          `the roll of ${electionId} is still being loaded; it is served once finalized`,
        );
      reply
        .type('application/x-ndjson; charset=utf-8')
        .header('x-roll-size', String(e.rollSize))
        .header('x-roll-root', e.rollRoot);
      // HEAD (fastify answers it with this handler) drains the body it is given: give it none to read.
      return reply.send(req.method === 'HEAD' ? Readable.from([]) : Readable.from(rollPages(sql, electionId)));
    },
  );
}
