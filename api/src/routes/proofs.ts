// What an auditor or a voter reads to check the ledger: proof bundles by receipt hash, the sealed windows
// with their anchors, and the whole ledger as NDJSON.
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { Sql } from 'postgres';
import { receiptFor } from '../../../ledger/src/ingest.js';
import { getElection } from '../../../ledger/src/elections.js';
import { ProtocolError } from '../errors.js';
import { proofBundle } from '../services/proofs.js';
import { listWindows } from '../../../ledger/src/windows.js';
import { UINT_QUERY_PATTERN, anchorSchema, commonErrorResponses, electionParams, evmHex, hex32, receiptSchema, timeSchema } from '../schemas/common.js';

const proofBundleSchema = {
  type: 'object',
  description: 'Proof bundle (wire format v1): window, inclusion and anchor appear once they exist',
  required: ['receipt', 'status'],
  properties: {
    receipt: receiptSchema,
    status: { type: 'string', enum: ['pending', 'sealed', 'anchored'] },
    window: {
      type: 'object',
      required: ['index', 'firstSeq', 'count', 'root'],
      properties: { index: { type: 'integer' }, firstSeq: { type: 'integer' }, count: { type: 'integer' }, root: hex32 },
    },
    inclusion: {
      type: 'object',
      required: ['leafIndex', 'auditPath'],
      properties: { leafIndex: { type: 'integer' }, auditPath: { type: 'array', items: hex32 } },
    },
    anchor: anchorSchema,
  },
} as const;

const windowsSchema = {
  type: 'object',
  required: ['electionId', 'windows'],
  properties: {
    electionId: { type: 'string' },
    windows: {
      type: 'array',
      items: {
        type: 'object',
        required: ['index', 'firstSeq', 'count', 'root', 'sealedAt', 'anchor'],
        properties: {
          index: { type: 'integer' },
          firstSeq: { type: 'integer' },
          count: { type: 'integer' },
          root: hex32,
          sealedAt: timeSchema,
          anchor: {
            type: ['object', 'null'],
            description: 'anchorWindow transaction, once mined',
            properties: { chainId: { type: ['integer', 'null'] }, contract: { type: ['string', 'null'] }, txHash: evmHex, blockNumber: { type: ['integer', 'null'] }, anchoredAt: { type: ['string', 'null'] } },
          },
        },
      },
    },
  },
} as const;

/** Ballots per query of the export. */
const EXPORT_PAGE = 1000;

/**
 * The export as text chunks, one page of lines at a time. Keyset pagination on (election_id, seq) rather
 * than a server-side cursor: a slow or stalled reader then holds no database connection between pages,
 * so exports cannot starve the ingest path of connections, and memory stays at one page. The export ends
 * at the head read when it started (`end`), so it is a consistent prefix of the ledger.
 */
async function* exportPages(sql: Sql, electionId: string, from: number, end: number): AsyncGenerator<string> {
  let next = from;
  while (next < end) {
    const rows = await sql`SELECT seq, ballot_hash, ballot, signature, received_at FROM ballots
                           WHERE election_id = ${electionId} AND seq >= ${next} AND seq < ${end} ORDER BY seq LIMIT ${EXPORT_PAGE}`;
    if (rows.length === 0) return;
    let out = '';
    for (const r of rows) {
      // `ballot` is the stored JCS text, embedded as is: byte-exact, never re-serialised.
      out += `{"seq":${Number(r.seq)},"ballotHash":"${(r.ballot_hash as Buffer).toString('hex')}","ballot":${r.ballot as string},"signature":"${(r.signature as Buffer).toString('hex')}","receivedAt":"${(r.received_at as Date).toISOString()}"}\n`;
    }
    yield out;
    next = Number(rows[rows.length - 1]!.seq) + 1;
  }
}

export default async function proofRoutes(app: FastifyInstance): Promise<void> {
  const { sql, ledgerKey, trees, chain } = app.tp;

  app.get('/api/v1/receipts/:ballotHash', {
    schema: {
      tags: ['proofs'],
      summary: 'Proof bundle of a ballot, by receipt hash',
      params: { type: 'object', required: ['ballotHash'], additionalProperties: false, properties: { ballotHash: hex32 } },
      response: { 200: proofBundleSchema, ...commonErrorResponses },
    },
  }, async (req) => {
    const { ballotHash } = req.params as { ballotHash: string };
    const receipt = await receiptFor(sql, ledgerKey, ballotHash);
    if (!receipt) throw new ProtocolError('not-found', `no ballot with hash ${ballotHash}`);
    return proofBundle(sql, trees, chain(), receipt);
  });

  app.get('/api/v1/elections/:electionId/windows', {
    schema: {
      tags: ['proofs'],
      summary: 'Sealed windows with their roots and anchor transactions',
      params: electionParams,
      response: { 200: windowsSchema, ...commonErrorResponses },
    },
  }, async (req) => {
    const { electionId } = req.params as { electionId: string };
    if (!(await getElection(sql, electionId))) throw new ProtocolError('unknown-election', `no election ${electionId}`);
    const c = chain();
    const windows = (await listWindows(sql, electionId)).map((w) => ({
      index: w.index,
      firstSeq: w.firstSeq,
      count: w.count,
      root: w.root,
      sealedAt: w.sealedAt,
      anchor: w.anchor ? { chainId: c.chainId, contract: c.contract, txHash: w.anchor.txHash, blockNumber: w.anchor.blockNumber, anchoredAt: w.anchor.anchoredAt } : null,
    }));
    return { electionId, windows };
  });

  app.get('/api/v1/elections/:electionId/ledger', {
    schema: {
      tags: ['proofs'],
      summary: 'The ledger as NDJSON, from seq `from` (default 0)',
      description: 'application/x-ndjson, one line per ballot in seq order: {"seq","ballotHash","ballot","signature","receivedAt"}, `ballot` being the stored JCS object. '
        + 'Ends at the last ballot committed when the request started.',
      params: electionParams,
      querystring: { type: 'object', additionalProperties: false, properties: { from: { type: 'string', pattern: UINT_QUERY_PATTERN, description: 'first seq (integer, default 0)' } } },
      produces: ['application/x-ndjson'],
    },
  }, async (req, reply) => {
    const { electionId } = req.params as { electionId: string };
    const from = Number((req.query as { from?: string }).from ?? 0);
    const [head] = await sql`SELECT next_seq FROM election_heads WHERE election_id = ${electionId}`;
    if (!head) throw new ProtocolError('unknown-election', `no election ${electionId}`);
    reply.type('application/x-ndjson; charset=utf-8').header('x-ledger-end-seq', String(Number(head.next_seq) - 1));
    return reply.send(Readable.from(exportPages(sql, electionId, from, Number(head.next_seq))));
  });
}
