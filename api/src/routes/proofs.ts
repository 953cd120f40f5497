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

export default async function proofRoutes(app: FastifyInstance): Promise<void> {
  const { sql, ledgerKey, trees, chain } = app.tp;

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
        summary: 'Sealed windows with their roots and anchor transactions',
        params: electionParams,
        response: { 200: windowsSchema, ...commonErrorResponses },
      },
    },
    async (req) => {
      const { electionId } = req.params as { electionId: string };
      if (!(await getElection(sql, electionId)))
        throw new ProtocolError('unknown-election', `no election ${electionId}`);
      const c = chain();
      const windows = (await listWindows(sql, electionId)).map((w) => ({
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
      return { electionId, windows };
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
