// What an auditor or a voter reads to check the ledger: proof bundles by receipt hash, the sealed windows
// with their anchors, and the whole ledger as NDJSON.
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { committedCount, getElection, ledgerPages, listWindows, receiptFor } from '../../../ledger/src/index.js';
import { ProtocolError } from '../errors.js';
import { proofBundle } from '../services/proofs.js';
import {
  UINT_QUERY_PATTERN,
  anchorSchema,
  commonErrorResponses,
  electionParams,
  evmHex,
  hex32,
  receiptSchema,
  timeSchema,
} from '../schemas/common.js';

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
      properties: {
        index: { type: 'integer' },
        firstSeq: { type: 'integer' },
        count: { type: 'integer' },
        root: hex32,
      },
    },
    inclusion: {
      type: 'object',
      required: ['leafIndex', 'auditPath'],
      properties: { leafIndex: { type: 'integer' }, auditPath: { type: 'array', items: hex32 } },
    },
    anchor: anchorSchema,
  },
} as const;

/** Default and largest `limit` of `GET …/windows` (an election sealing a window a minute for a week has ~10,000). */
export const WINDOWS_PAGE_LIMIT = 1000;

const windowsSchema = {
  type: 'object',
  required: ['electionId', 'windows'],
  properties: {
    electionId: { type: 'string' },
    next: {
      type: 'integer',
      description: 'present when more windows follow: the `from` of the next page (also in a Link header, rel="next")',
    },
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
            properties: {
              chainId: { type: ['integer', 'null'] },
              contract: { type: ['string', 'null'] },
              txHash: evmHex,
              blockNumber: { type: ['integer', 'null'] },
              anchoredAt: { type: ['string', 'null'] },
            },
          },
        },
      },
    },
  },
} as const;

export default async function proofRoutes(app: FastifyInstance, opts: { windowsPageLimit?: number }): Promise<void> {
  const { sql, ledgerKey, trees, chain } = app.tp;
  const pageLimit = opts.windowsPageLimit ?? WINDOWS_PAGE_LIMIT;

  app.get(
    '/api/v1/receipts/:ballotHash',
    {
      schema: {
        tags: ['proofs'],
        summary: 'Proof bundle of a ballot, by receipt hash',
        params: {
          type: 'object',
          required: ['ballotHash'],
          additionalProperties: false,
          properties: { ballotHash: hex32 },
        },
        response: { 200: proofBundleSchema, ...commonErrorResponses },
      },
    },
    async (req) => {
      const { ballotHash } = req.params as { ballotHash: string };
      const receipt = await receiptFor(sql, ledgerKey, ballotHash);
      if (!receipt) throw new ProtocolError('not-found', `no ballot with hash ${ballotHash}`);
      return proofBundle(sql, trees, chain(), receipt);
    },
  );

  app.get(
    '/api/v1/elections/:electionId/windows',
    {
      schema: {
        tags: ['proofs'],
        summary: 'Sealed windows with their roots and anchor transactions, a page at a time',
        description:
          `Windows in index order from \`from\` (default 0), at most \`limit\` (default and maximum ${pageLimit}). ` +
          'When more follow, `next` is the `from` of the next page and a Link header (rel="next") gives its URL.',
        params: electionParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            from: { type: 'string', pattern: UINT_QUERY_PATTERN, description: 'first window index (default 0)' },
            limit: {
              type: 'string',
              pattern: '^[1-9][0-9]{0,8}$',
              description: `windows per page, 1..${pageLimit} (larger values give ${pageLimit})`,
            },
          },
        },
        response: { 200: windowsSchema, ...commonErrorResponses },
      },
    },
    async (req, reply) => {
      const { electionId } = req.params as { electionId: string };
      const query = req.query as { from?: string; limit?: string };
      // window_index is a PostgreSQL integer: a larger `from` is past every window, not an error.
      const from = Math.min(Number(query.from ?? 0), 2 ** 31 - 1);
      const limit = Math.min(Number(query.limit ?? pageLimit), pageLimit);
      if (!(await getElection(sql, electionId)))
        throw new ProtocolError('unknown-election', `no election ${electionId}`);
      const c = chain();
      // One more than the page: whether another page follows, without a count.
      const rows = await listWindows(sql, electionId, { fromIndex: from, limit: limit + 1 });
      const more = rows.length > limit;
      const windows = rows.slice(0, limit).map((w) => ({
        index: w.index,
        firstSeq: w.firstSeq,
        count: w.count,
        root: w.root,
        sealedAt: w.sealedAt,
        anchor: w.anchor
          ? {
              chainId: c.chainId,
              contract: c.contract,
              txHash: w.anchor.txHash,
              blockNumber: w.anchor.blockNumber,
              anchoredAt: w.anchor.anchoredAt,
            }
          : null,
      }));
      if (!more) return { electionId, windows };
      // Windows are contiguous from 0, but the next page starts after the last one listed either way.
      const next = windows[windows.length - 1]!.index + 1;
      const path = `/api/v1/elections/${encodeURIComponent(electionId)}/windows`;
      reply.header('link', `<${path}?from=${next}&limit=${limit}>; rel="next"`);
      return { electionId, windows, next };
    },
  );

  app.get(
    '/api/v1/elections/:electionId/ledger',
    {
      schema: {
        tags: ['proofs'],
        summary: 'The ledger as NDJSON, from seq `from` (default 0)',
        description:
          'application/x-ndjson, one line per ballot in seq order: {"seq","ballotHash","ballot","signature","receivedAt"}, `ballot` being the stored JCS object. ' +
          'Ends at the last ballot committed when the request started.',
        params: electionParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            from: { type: 'string', pattern: UINT_QUERY_PATTERN, description: 'first seq (integer, default 0)' },
          },
        },
        produces: ['application/x-ndjson'],
      },
    },
    async (req, reply) => {
      const { electionId } = req.params as { electionId: string };
      const from = Number((req.query as { from?: string }).from ?? 0);
      // The export ends at the last ballot committed now: a consistent prefix of the ledger.
      const end = await committedCount(sql, electionId);
      if (end === null) throw new ProtocolError('unknown-election', `no election ${electionId}`);
      reply.type('application/x-ndjson; charset=utf-8').header('x-ledger-end-seq', String(end - 1));
      return reply.send(Readable.from(ledgerPages(sql, electionId, from, end)));
    },
  );
}
