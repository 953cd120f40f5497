// The trustees' bulletin board and the encrypted tally (docs/protocol.md 12.3, 12.5, 12.7, 12.9):
//   POST /api/v1/elections/{id}/trustee-messages (admin): a signed trustee message, judged by the board's
//        rule (the core's boardDecision, run by the ledger under the election's lock);
//   GET  …/trustee-messages: the public transcript; GET …/aggregate; GET …/decryption.
// The POST's body is parsed by JSON.parse and nothing else (no coercion, no stripped or defaulted keys): a
// signed message is refused or stored as sent, never rewritten. The GETs send their JSON text as the
// ledger holds it (stored JCS), not through the serializer.
import type { FastifyInstance, FastifyReply } from 'fastify';
import {
  anchoringState,
  closedAtMs,
  decryptionProgress,
  getAggregate,
  getDecryption,
  getElection,
  plaintextElection,
  postTrusteeMessage,
  trusteeTranscript,
  type ElectionRecord,
} from '../../../ledger/src/index.js';
import { ID_RE } from '../../../ledger/src/protocol/protocol.js';
import { ProtocolError } from '../errors.js';
import { requireAdmin } from '../plugins/admin-auth.js';
import { adminSecurity, commonErrorResponses, electionParams } from '../schemas/common.js';
import {
  aggregateSchema,
  decryptionSchema,
  transcriptSchema,
  trusteeEnvelopeSchema,
  trusteePostReplySchema,
} from '../schemas/encrypted.js';
import { clientAddress } from '../services/rate-limits.js';
import type { DecryptionStatus } from '../services/tally.js';

export const TRUSTEE_MESSAGES_URL = '/api/v1/elections/:electionId/trustee-messages';
/** A decrypt message of 64 choices is about 20 KB; keygen messages are smaller. */
export const TRUSTEE_BODY_LIMIT = 256 * 1024;

/** JSON text sent as is. */
function sendJsonText(reply: FastifyReply, text: string): FastifyReply {
  return reply
    .type('application/json; charset=utf-8')
    .serializer((s: unknown) => s as string)
    .send(text);
}

/** The election, when it is an encrypted one; else why there is nothing to serve (no election, plaintext). */
async function encryptedElection(app: FastifyInstance, electionId: string): Promise<ElectionRecord> {
  const e = await getElection(app.tp.sql, electionId);
  if (!e) throw new ProtocolError('unknown-election', `no election ${electionId}`);
  if (!e.encryption) throw plaintextElection(electionId);
  return e;
}

/**
 * The 202 body of POST …/close for an encrypted election, once its head is closed and the worker asked to
 * seal, anchor and publish the aggregate: what is known now. `tally` and `resultHash` stay null until the
 * trustees have decrypted; `decryption` is null until the aggregate is published (docs/protocol.md 12.6).
 */
export async function encryptedCloseBody(sql: FastifyInstance['tp']['sql'], electionId: string) {
  const [e, progress] = await Promise.all([anchoringState(sql, electionId), decryptionProgress(sql, electionId)]);
  const decryption: DecryptionStatus | null = progress
    ? {
        status: progress.result ? 'complete' : 'waiting',
        threshold: e.encryption?.threshold ?? 0,
        received: progress.received,
        aggregateHash: progress.aggregateHash,
      }
    : null;
  return {
    electionId,
    status: 'closed' as const,
    tally: progress?.result?.tally ?? null,
    totalBallots: e.nextSeq,
    resultHash: e.resultHash,
    closeTx: e.closeTx,
    closedAt: new Date(closedAtMs(e) ?? e.closesAtMs).toISOString(),
    ballotMode: 'encrypted' as const,
    decryption,
  };
}

export default async function trusteeRoutes(app: FastifyInstance): Promise<void> {
  const { sql, ingestor, tally } = app.tp;

  app.get(
    TRUSTEE_MESSAGES_URL,
    {
      schema: {
        tags: ['trustees'],
        summary: 'The trustees’ public transcript (encrypted elections)',
        description:
          'Every accepted trustee message in the order posted, every refused one signed by a trustee (with the ' +
          'code and why), the election key and the verification keys once the key ceremony is complete. ' +
          '404 not-found for a plaintext election.',
        params: electionParams,
        response: { 200: transcriptSchema, ...commonErrorResponses },
      },
    },
    async (req, reply) => {
      const { electionId } = req.params as { electionId: string };
      return sendJsonText(reply, JSON.stringify(await trusteeTranscript(sql, electionId)));
    },
  );

  app.get(
    '/api/v1/elections/:electionId/aggregate',
    {
      schema: {
        tags: ['trustees'],
        summary: 'The encrypted tally’s aggregate',
        description:
          'Published by the close once every window is sealed and anchored; 409 not-closed before. ' +
          '404 not-found for a plaintext election.',
        params: electionParams,
        response: { 200: aggregateSchema, ...commonErrorResponses },
      },
    },
    async (req, reply) => {
      const { electionId } = req.params as { electionId: string };
      const stored = await getAggregate(sql, electionId);
      if (stored) return sendJsonText(reply, stored.aggregateJcs);
      const e = await encryptedElection(app, electionId);
      throw new ProtocolError(
        'not-closed',
        e.closed && e.encryption?.publicKey === null
          ? `the key ceremony of ${electionId} never completed: it took no ballot and has no aggregate`
          : `the aggregate of ${electionId} is published at its close, once every window is anchored`,
      );
    },
  );

  app.get(
    '/api/v1/elections/:electionId/decryption',
    {
      schema: {
        tags: ['trustees'],
        summary: 'The decrypted result',
        description:
          'Once the threshold of valid partial decryptions is in; 409 not-decrypted before. 404 not-found for a ' +
          'plaintext election.',
        params: electionParams,
        response: { 200: decryptionSchema, ...commonErrorResponses },
      },
    },
    async (req, reply) => {
      const { electionId } = req.params as { electionId: string };
      const stored = await getDecryption(sql, electionId);
      if (stored) return sendJsonText(reply, stored.resultJcs);
      await encryptedElection(app, electionId);
      throw new ProtocolError('not-decrypted', `the trustees have not decrypted the tally of ${electionId} yet`);
    },
  );

  // The POST in its own context: the admin check, and the body parsed by JSON.parse alone.
  await app.register(async (admin) => {
    admin.addHook('onRequest', requireAdmin(app.tp.adminToken));
    admin.removeAllContentTypeParsers();
    admin.addContentTypeParser(
      'application/json',
      { parseAs: 'string', bodyLimit: TRUSTEE_BODY_LIMIT },
      (_req, body, done) => {
        try {
          done(null, JSON.parse(body as string));
        } catch (err) {
          done(
            new ProtocolError('malformed-json', `the body is not valid JSON: ${(err as Error).message.slice(0, 200)}`),
            undefined,
          );
        }
      },
    );

    admin.post(
      TRUSTEE_MESSAGES_URL,
      {
        bodyLimit: TRUSTEE_BODY_LIMIT,
        // Documents the body; validation is the board's own rule (see the top of this file).
        validatorCompiler: () => () => true,
        schema: {
          tags: ['trustees'],
          summary: 'Post a signed trustee message',
          description:
            'The signature, not the token, says who wrote the message. 201 accepted; 200 a byte-identical ' +
            'repeat; 400 invalid-body / bad-signature; 409 ceremony-phase (out of order) / trustee-message-exists ' +
            '(another message of this kind by this trustee); 422 invalid-proof (named: trustee, contest, choice). ' +
            'A refused message signed by a trustee is on the public record (GET …/trustee-messages, "refused"). ' +
            'The keygen-confirm that completes the ceremony opens the election to ballots; the decrypt that ' +
            'reaches the threshold stores the result and lets the close go on chain.',
          security: adminSecurity,
          params: electionParams,
          body: trusteeEnvelopeSchema,
          response: { 200: trusteePostReplySchema, 201: trusteePostReplySchema, ...commonErrorResponses },
        },
      },
      async (req, reply) => {
        const { electionId } = req.params as { electionId: string };
        if (!ID_RE.test(electionId)) throw new ProtocolError('unknown-election', 'no such election');
        const outcome = await postTrusteeMessage(sql, electionId, req.body, clientAddress(req.ip));
        if (outcome.kind === 'refused') throw new ProtocolError(outcome.code, outcome.message);
        const body = { accepted: outcome.accepted, trustee: outcome.trustee, keyCeremony: outcome.keyCeremony };
        if (outcome.kind === 'repeat') return reply.code(200).send(body);
        // The ingest takes ballots once the key is there: no need to wait for its cache to expire.
        if (outcome.keyCeremony === 'complete') ingestor.elections.invalidate(electionId);
        if (outcome.decrypted) {
          tally.poke(electionId);
          // The close goes on now rather than at the worker's next reconcile pass (which finds it anyway).
          await app.tp.anchorRequests
            ?.requestClose(electionId)
            .catch((err: Error) => req.log.warn({ err, electionId }, 'close request after the decryption failed'));
        }
        return reply.code(201).send(body);
      },
    );
  });
}
