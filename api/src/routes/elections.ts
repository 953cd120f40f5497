// GET /api/v1/elections/{electionId}: the manifest and its hash, the roll root, status and chain anchoring.
import type { FastifyInstance } from 'fastify';
import { getElection, type ElectionRecord } from '../../../ledger/src/elections.js';
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
    registration: e.registrationTx ? { txHash: e.registrationTx, blockNumber: e.registrationBlock } : null,
  };
}

export const electionViewSchema = {
  type: 'object',
  required: ['manifest', 'manifestHash', 'rollRoot', 'rollSize', 'status', 'chainId', 'contract', 'registration'],
  properties: {
    manifest: manifestSchema,
    manifestHash: hex32,
    rollRoot: { type: ['string', 'null'], description: 'MTH of the sorted roll; null while the roll is still being loaded' },
    rollSize: { type: 'integer', description: 'keys on the roll (while it is pending: uploaded so far)' },
    status: { type: 'string', enum: ['scheduled', 'open', 'closed'] },
    chainId: { type: ['integer', 'null'] },
    contract: { type: ['string', 'null'] },
    registration: {
      type: ['object', 'null'],
      description: 'registerElection transaction, once mined',
      properties: { txHash: evmHex, blockNumber: { type: ['integer', 'null'] } },
    },
  },
} as const;

export default async function electionRoutes(app: FastifyInstance): Promise<void> {
  const { sql, chain } = app.tp;
  app.get('/api/v1/elections/:electionId', {
    schema: {
      tags: ['elections'],
      summary: 'An election: manifest, roll root, status, chain registration',
      params: electionParams,
      response: { 200: electionViewSchema, ...commonErrorResponses },
    },
  }, async (req) => {
    const { electionId } = req.params as { electionId: string };
    const e = await getElection(sql, electionId);
    if (!e) throw new ProtocolError('unknown-election', `no election ${electionId}`);
    if (e.rollRoot === null) {
      // Still loading: rollSize counts the keys uploaded so far (frozen into the elections row at finalize).
      const [c] = await sql`SELECT count(*)::bigint AS n FROM credentials WHERE election_id = ${electionId}`;
      e.rollSize = Number(c!.n);
    }
    return electionView(e, chain());
  });
}
