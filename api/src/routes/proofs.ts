// What an auditor or a voter reads to check the ledger: proof bundles by receipt hash, the sealed windows
// with their anchors, and the whole ledger as NDJSON.
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import {
  getElection,
  intervalRecords,
  intervalsFrom,
  ledgerPages,
  listWindows,
  receiptLookupOnClusters,
  shardCommittedCountsOnClusters,
} from '../../../ledger/src/index.js';
import { ProtocolError } from '../errors.js';
import {
  JSON_TYPE,
  chainUnchanged,
  ledgerSettled,
  noStoreOnError,
  representation,
  sendRepresentation,
  type Representation,
} from '../services/read-snapshots.js';
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
  description:
    'Proof bundle (wire format v1): window, inclusion and anchor appear once they exist; in an election of several ' +
    "shards, `window.shard` and `interval` (the window record's place in its anchor interval) too",
  required: ['receipt', 'status'],
  properties: {
    receipt: receiptSchema,
    status: { type: 'string', enum: ['pending', 'sealed', 'anchored'] },
    window: {
      type: 'object',
      required: ['index', 'firstSeq', 'count', 'root'],
      properties: {
        shard: { type: 'integer' },
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
    interval: {
      type: 'object',
      description: "docs/protocol.md 13.4: the anchor interval holding the window, and the window record's path in it",
      required: ['index', 'windowCount', 'ballotCount', 'root', 'recordIndex', 'auditPath'],
      properties: {
        index: { type: 'integer' },
        windowCount: { type: 'integer' },
        ballotCount: { type: 'integer' },
        root: hex32,
        recordIndex: { type: 'integer' },
        auditPath: { type: 'array', items: hex32 },
      },
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
          shard: { type: 'integer', description: 'in an election of several shards' },
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

/** Largest `limit` of `GET …/intervals`: an interval lists a record per shard window (up to 1,024 shards). */
export const INTERVALS_PAGE_LIMIT = 100;

const intervalsSchema = {
  type: 'object',
  required: ['electionId', 'intervals'],
  properties: {
    electionId: { type: 'string' },
    next: { type: 'integer', description: 'present when more intervals follow: the `from` of the next page' },
    intervals: {
      type: 'array',
      items: {
        type: 'object',
        required: ['index', 'windowCount', 'ballotCount', 'root', 'windows', 'anchor'],
        properties: {
          index: { type: 'integer' },
          windowCount: { type: 'integer' },
          ballotCount: { type: 'integer' },
          root: hex32,
          windows: {
            type: 'array',
            description: 'the records in tree order (shard, then window index)',
            items: {
              type: 'object',
              required: ['shard', 'windowIndex', 'firstSeq', 'count', 'root'],
              properties: {
                shard: { type: 'integer' },
                windowIndex: { type: 'integer' },
                firstSeq: { type: 'integer' },
                count: { type: 'integer' },
                root: hex32,
              },
            },
          },
          anchor: {
            ...anchorSchema,
            type: ['object', 'null'],
            description: 'anchorInterval transaction, once mined',
          },
        },
      },
    },
  },
} as const;

export default async function proofRoutes(app: FastifyInstance, opts: { windowsPageLimit?: number }): Promise<void> {
  const { sql, clusters, ledgerKey, chain } = app.tp;
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
      const found = await receiptLookupOnClusters(clusters, ledgerKey, ballotHash);
      if (!found) throw new ProtocolError('not-found', `no ballot with hash ${ballotHash}`);
      return proofBundle(clusters, chain(), found);
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
            shard: {
              type: 'string',
              pattern: UINT_QUERY_PATTERN,
              description: 'the shard whose windows to list, in an election of several shards (default 0)',
            },
            limit: {
              type: 'string',
              pattern: '^[1-9][0-9]{0,8}$',
              description: `windows per page, 1..${pageLimit} (larger values give ${pageLimit})`,
            },
          },
        },
        response: { 200: windowsSchema, ...commonErrorResponses },
      },
      onError: noStoreOnError,
    },
    async (req, reply) => {
      const { electionId } = req.params as { electionId: string };
      const query = req.query as { from?: string; limit?: string; shard?: string };
      // window_index is a PostgreSQL integer: a larger `from` is past every window, not an error.
      const from = Math.min(Number(query.from ?? 0), 2 ** 31 - 1);
      const limit = Math.min(Number(query.limit ?? pageLimit), pageLimit);
      const shard = Number(query.shard ?? 0);
      // A snapshot per page (services/read-snapshots.ts); errors (unknown election, no such shard) are not kept.
      const { reads, tally } = app.tp;
      const snap = await reads.get<Representation>(electionId, `windows ${shard} ${from} ${limit}`, async () => {
        const election = await getElection(sql, electionId);
        if (!election) return null;
        if (shard >= election.shards)
          throw new ProtocolError(
            'invalid-body',
            `election ${electionId} has ${election.shards} shard(s): no shard ${shard}`,
          );
        const sharded = election.shards > 1;
        const valid = chainUnchanged(chain);
        const c = chain();
        // One more than the page: whether another page follows, without a count.
        const rows = await listWindows(clusters.sqlFor(shard, election.shards), electionId, {
          fromIndex: from,
          limit: limit + 1,
          shard,
        });
        const more = rows.length > limit;
        const windows = rows.slice(0, limit).map((w) => ({
          ...(sharded ? { shard: w.shard } : {}),
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
        // No window can be added or anchored any more once the election is closed, its result taken and
        // every ballot anchored (the tracker's counts are read only then).
        const counts = election.closed && election.resultHash !== null ? await tally.current(electionId) : null;
        const final = counts !== null && ledgerSettled(election, counts.totalBallots, counts.anchoredBallots);
        let rep: Representation;
        if (!more) rep = representation(reply.serialize({ electionId, windows }), JSON_TYPE, final);
        else {
          // Windows are contiguous from 0, but the next page starts after the last one listed either way.
          const next = windows[windows.length - 1]!.index + 1;
          const path = `/api/v1/elections/${encodeURIComponent(electionId)}/windows`;
          const link = `<${path}?${sharded ? `shard=${shard}&` : ''}from=${next}&limit=${limit}>; rel="next"`;
          rep = representation(reply.serialize({ electionId, windows, next }), JSON_TYPE, final, [['link', link]]);
        }
        return { value: rep, content: rep.body, final, valid, bytes: rep.body.length + 256 };
      });
      if (!snap) throw new ProtocolError('unknown-election', `no election ${electionId}`);
      return sendRepresentation(req, reply, snap.value);
    },
  );

  app.get(
    '/api/v1/elections/:electionId/intervals',
    {
      schema: {
        tags: ['proofs'],
        summary: "A sharded election's anchor intervals, from index `from` (default 0), with their window records",
        description:
          'docs/protocol.md 13.4: each interval is the RFC 6962 root over its 60-byte window records (shard, window ' +
          'index, first seq, count, root), anchored by one anchorInterval transaction. Empty for an election of one shard.',
        params: electionParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            from: { type: 'string', pattern: UINT_QUERY_PATTERN, description: 'first interval index (default 0)' },
            limit: { type: 'string', pattern: '^[1-9][0-9]{0,8}$', description: 'intervals per page, 1..100' },
          },
        },
        response: { 200: intervalsSchema, ...commonErrorResponses },
      },
    },
    async (req, reply) => {
      const { electionId } = req.params as { electionId: string };
      const query = req.query as { from?: string; limit?: string };
      const from = Math.min(Number(query.from ?? 0), 2 ** 31 - 1);
      const limit = Math.min(Number(query.limit ?? INTERVALS_PAGE_LIMIT), INTERVALS_PAGE_LIMIT);
      if (!(await getElection(sql, electionId)))
        throw new ProtocolError('unknown-election', `no election ${electionId}`);
      const c = chain();
      const rows = await intervalsFrom(sql, electionId, from, limit + 1);
      const more = rows.length > limit;
      const intervals = [];
      for (const i of rows.slice(0, limit)) {
        intervals.push({
          index: i.index,
          windowCount: i.windowCount,
          ballotCount: i.ballotCount,
          root: i.root,
          windows: await intervalRecords(sql, electionId, i.index),
          anchor:
            i.anchorTx === null
              ? null
              : { chainId: c.chainId, contract: c.contract, txHash: i.anchorTx, blockNumber: i.anchorBlock },
        });
      }
      if (!more) return { electionId, intervals };
      const next = intervals[intervals.length - 1]!.index + 1;
      const path = `/api/v1/elections/${encodeURIComponent(electionId)}/intervals`;
      reply.header('link', `<${path}?from=${next}&limit=${limit}>; rel="next"`);
      return { electionId, intervals, next };
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
          'Ends at the last ballot committed when the request started. In an election of several shards each line starts ' +
          'with "shard", and the export is every shard in shard order (or one shard, with `shard`; `from` then applies to it).',
        params: electionParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            from: { type: 'string', pattern: UINT_QUERY_PATTERN, description: 'first seq (integer, default 0)' },
            shard: { type: 'string', pattern: UINT_QUERY_PATTERN, description: 'one shard of a sharded election' },
          },
        },
        produces: ['application/x-ndjson'],
      },
    },
    async (req, reply) => {
      const { electionId } = req.params as { electionId: string };
      const query = req.query as { from?: string; shard?: string };
      const from = Number(query.from ?? 0);
      // The export ends at the last ballot committed now: a consistent prefix of the ledger (of each shard).
      const ends = await shardCommittedCountsOnClusters(clusters, electionId);
      if (ends.length === 0) throw new ProtocolError('unknown-election', `no election ${electionId}`);
      const on = (shard: number) => clusters.sqlFor(shard, ends.length);
      reply.type('application/x-ndjson; charset=utf-8');
      if (ends.length === 1) {
        if (query.shard !== undefined && query.shard !== '0')
          throw new ProtocolError('invalid-body', `election ${electionId} has one shard: no shard ${query.shard}`);
        reply.header('x-ledger-end-seq', String(ends[0]! - 1));
        return reply.send(Readable.from(ledgerPages(sql, electionId, from, ends[0]!)));
      }
      // Sharded: x-ledger-end-seqs lists each shard's last seq, comma-separated, in shard order.
      reply.header('x-ledger-end-seqs', ends.map((n) => n - 1).join(','));
      if (query.shard !== undefined) {
        const shard = Number(query.shard);
        if (shard >= ends.length)
          throw new ProtocolError(
            'invalid-body',
            `election ${electionId} has ${ends.length} shards: no shard ${shard}`,
          );
        return reply.send(Readable.from(ledgerPages(on(shard), electionId, from, ends[shard]!, shard)));
      }
      if (from !== 0) throw new ProtocolError('invalid-body', '`from` needs `shard` in an election of several shards');
      async function* allShards() {
        for (let s = 0; s < ends.length; s++) yield* ledgerPages(on(s), electionId, 0, ends[s]!, s);
      }
      return reply.send(Readable.from(allShards()));
    },
  );
}
