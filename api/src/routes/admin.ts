// Admin routes, in a child context behind the bearer check: create an election, stream a large roll in,
// finalize it, close the election. Every one of them can be retried with the same request.
import type { FastifyInstance } from 'fastify';
import type { Readable } from 'node:stream';
import { ProtocolError } from '../errors.js';
import { requireAdmin } from '../plugins/admin-auth.js';
import {
  ValidationError,
  appendRollChunks,
  closeElection,
  closeHeadOnClusters,
  closedAtMs,
  createElectionOnClusters,
  finalizeRollOnClusters,
  getElection,
  normalizeManifest,
  type Manifest,
  validateRoll,
} from '../../../ledger/src/index.js';
import { rollChunks } from '../services/roll-upload.js';
import { adminSecurity, commonErrorResponses, electionParams, hex32 } from '../schemas/common.js';
import { contestsSchema } from './results.js';
import { encryptedCloseBody } from './trustees.js';
import { decryptionStatusSchema } from '../schemas/encrypted.js';

/** Election creation carries the whole roll inline up to this size; larger rolls are streamed (PUT …/roll). */
export const CREATE_BODY_LIMIT = 8 * 1024 * 1024;
export const MAX_INLINE_ROLL = 100_000;

const createdSchema = {
  type: 'object',
  required: ['electionId', 'manifestHash', 'rollRoot', 'rollSize'],
  properties: {
    electionId: { type: 'string' },
    manifestHash: hex32,
    rollRoot: { type: ['string', 'null'], description: 'null while the roll is pending (rollPending)' },
    rollSize: { type: 'integer' },
  },
} as const;

const tallySchema = {
  type: 'object',
  description: 'contest → choice → votes',
  additionalProperties: { type: 'object', additionalProperties: { type: 'integer' } },
} as const;

export default async function adminRoutes(app: FastifyInstance): Promise<void> {
  const { sql, clusters, ledgerKey, credentialCheck, ingestor } = app.tp;
  const anchor = app.tp.anchorRequests;

  app.addHook('onRequest', requireAdmin(app.tp.adminToken));
  // JSON.parse as on the ballot route (an empty body is no body), and NDJSON handed over as a stream.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = (body as string).trim();
    if (text === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(
        new ProtocolError('malformed-json', `the body is not valid JSON: ${(err as Error).message.slice(0, 200)}`),
        undefined,
      );
    }
  });
  app.addContentTypeParser('application/x-ndjson', (_req, payload, done) => done(null, payload));

  /** Ask the worker to register; the election is stored either way, and a retry of the request asks again. */
  const requestRegistration = async (electionId: string) => {
    if (!anchor) return;
    try {
      await anchor.requestRegistration(electionId);
    } catch (err) {
      app.log.warn({ err, electionId }, 'registration request failed');
      throw new ProtocolError(
        'unavailable',
        `election ${electionId} is stored, but its chain registration could not be queued; send the same request again`,
      );
    }
  };

  app.post(
    '/api/v1/elections',
    {
      bodyLimit: CREATE_BODY_LIMIT,
      schema: {
        tags: ['admin'],
        summary: 'Create an election',
        description:
          `Stores the manifest (the server fills in windowSeconds and ledgerKey) and the roll, freezes the roll with its rollRoot and asks the anchor worker to register the election on chain. ` +
          `With "rollPending": true the roll stays open: add keys with PUT /api/v1/elections/{id}/roll, then POST …/roll/finalize. Rolls over ${MAX_INLINE_ROLL} keys must be streamed. ` +
          'Re-sending the same creation answers 200 with the same body.',
        security: adminSecurity,
        body: {
          type: 'object',
          required: ['manifest'],
          additionalProperties: false,
          properties: {
            manifest: {
              type: 'object',
              description: 'Election manifest (wire format v1); validated by the protocol parser',
            },
            roll: {
              type: 'array',
              maxItems: MAX_INLINE_ROLL,
              items: { type: 'string' },
              description: 'Credential public keys, 32-byte lowercase hex',
            },
            rollPending: { type: 'boolean', description: 'Leave the roll open for streamed uploads' },
          },
        },
        response: { 200: createdSchema, 201: createdSchema, ...commonErrorResponses },
      },
    },
    async (req, reply) => {
      const body = req.body as { manifest: unknown; roll?: unknown[]; rollPending?: boolean };
      let manifest: Manifest;
      try {
        manifest = normalizeManifest(body.manifest, ledgerKey.publicKeyHex);
      } catch (err) {
        if (err instanceof ValidationError) throw new ProtocolError('invalid-manifest', err.message);
        throw err;
      }
      const pending = body.rollPending === true;
      if (!pending && body.roll === undefined)
        throw new ProtocolError('invalid-roll', 'roll is required (or "rollPending": true to stream it afterwards)');
      const keys = await validateRoll(body.roll ?? [], credentialCheck);
      // A sharded election's record and roll go to every cluster holding one of its shards (only the home else).
      const created = await createElectionOnClusters(clusters, manifest, keys, { pending });
      if (!pending) await requestRegistration(created.electionId);
      const { existed, ...view } = created;
      return reply.code(existed ? 200 : 201).send(view);
    },
  );

  app.put(
    '/api/v1/elections/:electionId/roll',
    {
      schema: {
        tags: ['admin'],
        summary: 'Add credential keys to a pending roll (NDJSON stream)',
        description:
          'Content-Type: application/x-ndjson, one JSON string (32-byte lowercase hex key) per line, any number of lines. ' +
          'One upload is one transaction: all its keys are added or none. Keys already on the roll are skipped, so a retried upload is harmless; ' +
          'a key repeated within one upload, or a key that is not a canonical curve point of large order, refuses the upload (400 invalid-roll).',
        security: adminSecurity,
        params: electionParams,
        consumes: ['application/x-ndjson'],
        response: {
          200: {
            type: 'object',
            required: ['electionId', 'received', 'added', 'rollSize'],
            properties: {
              electionId: { type: 'string' },
              received: { type: 'integer' },
              added: { type: 'integer' },
              rollSize: { type: 'integer' },
            },
          },
          ...commonErrorResponses,
        },
      },
    },
    async (req, reply) => {
      const { electionId } = req.params as { electionId: string };
      const stream = req.body as Readable | undefined;
      if (!stream || typeof (stream as Readable).pipe !== 'function')
        throw new ProtocolError('unsupported-media-type', 'send the keys as Content-Type: application/x-ndjson');
      try {
        return await appendRollChunks(sql, electionId, rollChunks(stream), credentialCheck);
      } catch (err) {
        // The rest of the upload is not read: close the connection after the error instead of draining it.
        reply.header('connection', 'close');
        throw err;
      }
    },
  );

  app.post(
    '/api/v1/elections/:electionId/roll/finalize',
    {
      schema: {
        tags: ['admin'],
        summary: 'Freeze a pending roll',
        description:
          'Computes rollRoot over the whole roll (sorted, streamed), freezes it and asks the anchor worker to register the election. Idempotent.',
        security: adminSecurity,
        params: electionParams,
        response: { 200: createdSchema, ...commonErrorResponses },
      },
    },
    async (req) => {
      const { electionId } = req.params as { electionId: string };
      const e = await getElection(sql, electionId);
      if (!e) throw new ProtocolError('unknown-election', `no election ${electionId}`);
      const { rollRoot, rollSize } = await finalizeRollOnClusters(clusters, electionId);
      ingestor.elections.invalidate(electionId);
      await requestRegistration(electionId);
      return { electionId, manifestHash: e.manifestHash, rollRoot, rollSize };
    },
  );

  app.post(
    '/api/v1/elections/:electionId/close',
    {
      schema: {
        tags: ['admin'],
        summary: 'Close an election',
        description:
          'Marks the election closed under the head-row lock (no ballot can get in afterwards, on any API process), computes the final tally ' +
          'and resultHash = H(JCS({"electionId","tally","totalBallots"})), stores them, and asks the anchor worker to seal and anchor the last window ' +
          'and call closeElection. Answers 202: the chain part happens asynchronously (closeTx is null until mined; ' +
          'GET /api/v1/elections/{id} shows it as closeTx once recorded). closedAt is when ballots actually stopped: this close, ' +
          'or the scheduled closesAt when that came first. Idempotent. An encrypted election (ballotMode ' +
          '"encrypted") has no tally yet: tally and resultHash are null until its trustees have decrypted the ' +
          'aggregate the worker publishes after the last anchor, and decryption says where that stands ' +
          '(docs/protocol.md 12.5, 12.6).',
        security: adminSecurity,
        params: electionParams,
        response: {
          202: {
            type: 'object',
            required: ['electionId', 'status', 'tally', 'totalBallots', 'resultHash'],
            properties: {
              electionId: { type: 'string' },
              status: { type: 'string', const: 'closed' },
              tally: { ...tallySchema, type: ['object', 'null'] },
              totalBallots: { type: 'integer' },
              resultHash: { ...hex32, type: ['string', 'null'] },
              contests: contestsSchema,
              closeTx: { type: ['string', 'null'] },
              closedAt: { type: 'string', description: 'when ballots actually stopped (GET /api/v1/elections/{id})' },
              ballotMode: { type: 'string', const: 'encrypted', description: 'encrypted elections only' },
              decryption: decryptionStatusSchema,
            },
          },
          ...commonErrorResponses,
        },
      },
    },
    async (req, reply) => {
      const { electionId } = req.params as { electionId: string };
      const requestChainClose = async () => {
        if (!anchor) return;
        try {
          await anchor.requestClose(electionId);
        } catch (err) {
          req.log.warn({ err, electionId }, 'close request failed');
          throw new ProtocolError(
            'unavailable',
            `election ${electionId} is closed, but the chain close could not be queued; send the same request again`,
          );
        }
      };
      const current = await getElection(sql, electionId);
      if (current?.encryption) {
        // Encrypted (docs/protocol.md 12.5): the head closes now; the worker publishes the aggregate after the
        // last anchor, and the result comes once the trustees have decrypted it.
        if (current.rollRoot === null)
          throw new ProtocolError(
            'roll-pending',
            `the roll of ${electionId} is not finalized; there is nothing to close`,
          );
        await closeHeadOnClusters(clusters, electionId);
        ingestor.elections.invalidate(electionId);
        await requestChainClose();
        return reply.code(202).send(await encryptedCloseBody(sql, electionId));
      }
      // Closed under the head lock: seqs 0..nextSeq-1 are final, recounted once (the same function the
      // anchor worker uses before closeElection on chain, so both arrive at the same resultHash).
      const closed = await closeElection(sql, electionId, clusters);
      ingestor.elections.invalidate(electionId);
      const { stored, recount } = closed;
      if (stored.resultHash !== recount.resultHash) {
        req.log.error(
          { electionId, stored, computed: recount.resultHash },
          'the stored result differs from the recount',
        );
      }
      await requestChainClose();
      // Read again: the close's own time (close_requested_at, written by closeHead) and a closeTx mined since.
      const after = (await getElection(sql, electionId)) ?? closed.election;
      return reply.code(202).send({
        electionId,
        status: 'closed',
        tally: closed.tally.tally,
        totalBallots: stored.totalBallots,
        resultHash: stored.resultHash,
        // Not in resultHash: blank ballots and ballots counted per contest (docs/protocol.md, "Results").
        contests: closed.tally.contests,
        closeTx: after.closeTx,
        closedAt: new Date(closedAtMs(after) ?? after.closesAtMs).toISOString(),
      });
    },
  );
}
