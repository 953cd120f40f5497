// POST /api/v1/elections/{electionId}/ballots: a voter's signed ballot in, a signed receipt out.
//
// This plugin is its own encapsulation context so that it can replace the JSON parser and the error
// handler for this route alone:
// - the body is parsed by JSON.parse and nothing else: no schema coercion, no stripped or defaulted
//   properties. The Ingestor's strict protocol parser validates it and records every refusal;
// - a body over 16 KiB (413; 64 KiB for an encrypted ballot of version 2, docs/protocol.md 12.9), a body
//   that is not JSON (400 malformed-json) or that is not sent as JSON (415) never reaches the Ingestor, so
//   this plugin counts their refusals itself;
// - every refusal also counts against the client's refusal budget (services/rate-limits.ts), after the
//   decision, so valid ballots never use it up.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ID_RE } from '../../../ledger/src/protocol/protocol.js';
import { ProtocolError, apiError, sendApiError, toApiError, type ErrorCode } from '../errors.js';
import { isEncryptedBody, recordRefusal } from '../../../ledger/src/index.js';
import { electionParams, errorSchema, hex64, hex32, receiptSchema } from '../schemas/common.js';
import { clientAddress } from '../services/rate-limits.js';

export const BALLOTS_URL = '/api/v1/elections/:electionId/ballots';
/** Largest ballot submission, in bytes of the HTTP body. */
export const BALLOT_BODY_LIMIT = 16 * 1024;
/** Largest encrypted ballot submission (version 2: a ciphertext and a proof per choice). */
export const ENCRYPTED_BALLOT_BODY_LIMIT = 64 * 1024;

/** Refusals decided before the Ingestor sees the body: counted here. */
const RECORDED_HERE = new Set<ErrorCode>(['malformed-json', 'body-too-large', 'unsupported-media-type']);

const submissionSchema = {
  type: 'object',
  description: 'A signed ballot (wire format v1). Validated by the protocol parser, never coerced.',
  required: ['ballot', 'signature'],
  additionalProperties: false,
  properties: {
    ballot: {
      type: 'object',
      required: ['version', 'electionId', 'credential', 'selections'],
      additionalProperties: false,
      properties: {
        version: { type: 'integer', const: 1 },
        electionId: { type: 'string' },
        credential: hex32,
        selections: { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } } },
      },
    },
    signature: hex64,
  },
} as const;

const proofSchema = {
  type: 'object',
  required: ['c', 's'],
  additionalProperties: false,
  properties: { c: { type: 'array', items: hex32 }, s: { type: 'array', items: hex32 } },
} as const;

const encryptedSubmissionSchema = {
  type: 'object',
  description:
    'A signed encrypted ballot (wire format v2, docs/protocol.md 12.4), for an election of ballotMode "encrypted". ' +
    'Validated by the protocol parser and the proof checks, never coerced.',
  required: ['ballot', 'signature'],
  additionalProperties: false,
  properties: {
    ballot: {
      type: 'object',
      required: ['version', 'electionId', 'credential', 'contests'],
      additionalProperties: false,
      properties: {
        version: { type: 'integer', const: 2 },
        electionId: { type: 'string' },
        credential: hex32,
        contests: {
          type: 'object',
          additionalProperties: {
            type: 'object',
            required: ['choices', 'proof'],
            additionalProperties: false,
            properties: {
              choices: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['alpha', 'beta', 'proof'],
                  additionalProperties: false,
                  properties: { alpha: hex32, beta: hex32, proof: proofSchema },
                },
              },
              proof: proofSchema,
            },
          },
        },
      },
    },
    signature: hex64,
  },
} as const;

/**
 * A version 1 body keeps its 16 KiB limit under the parser's 64 KiB: anything over it that is not a version
 * 2 submission (JSON or not) is refused as too large, as it was before version 2. (n UTF-16 units are at
 * most 3n bytes of UTF-8: only long texts are measured.)
 */
function overVersion1Limit(text: string, parsed: unknown): boolean {
  return text.length > BALLOT_BODY_LIMIT / 3 && Buffer.byteLength(text) > BALLOT_BODY_LIMIT && !isEncryptedBody(parsed);
}
const tooLarge = () =>
  new ProtocolError(
    'body-too-large',
    `the body is over ${BALLOT_BODY_LIMIT} bytes (${ENCRYPTED_BALLOT_BODY_LIMIT} for an encrypted ballot)`,
  );

const receiptReply = { type: 'object', required: ['receipt'], properties: { receipt: receiptSchema } } as const;

const duplicateReply = {
  type: 'object',
  description:
    'Another ballot of a credential that already voted: the original receipt and the refused attempts so far',
  required: ['error', 'status', 'attemptCount', 'receipt'],
  properties: {
    error: errorSchema.properties.error,
    status: { type: 'string', const: 'duplicate' },
    attemptCount: { type: 'integer' },
    receipt: receiptSchema,
  },
} as const;

export default async function ballotRoutes(app: FastifyInstance): Promise<void> {
  const { ingestor, metrics, sql, tally, refusalBudget } = app.tp;

  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'string', bodyLimit: ENCRYPTED_BALLOT_BODY_LIMIT },
    (_req, body, done) => {
      const text = body as string;
      let parsed: unknown;
      try {
        // Plain JSON.parse: a "__proto__" key becomes an ordinary own property (no prototype change) and
        // is then refused by the protocol parser like any other unexpected key.
        parsed = JSON.parse(text);
      } catch (err) {
        if (overVersion1Limit(text, undefined)) return done(tooLarge(), undefined);
        return done(
          new ProtocolError('malformed-json', `the body is not valid JSON: ${(err as Error).message.slice(0, 200)}`),
          undefined,
        );
      }
      if (overVersion1Limit(text, parsed)) return done(tooLarge(), undefined);
      done(null, parsed);
    },
  );

  app.setErrorHandler(async (err, req, reply) => {
    const e = toApiError(err);
    if (RECORDED_HERE.has(e.code)) {
      metrics.received.inc();
      metrics.rejected.inc({ reason: e.code });
      const client = clientAddress(req.ip);
      refusalBudget?.add(client);
      const electionId = (req.params as { electionId?: string } | undefined)?.electionId ?? '';
      // Record, but answer the client's mistake even if the audit write fails (it is logged).
      await recordRefusal(sql, electionId, e.code, e.message, client).catch((dbErr: Error) =>
        req.log.warn({ err: dbErr }, 'could not record a refused submission'),
      );
    } else if (e.status >= 500) {
      req.log.error({ err }, 'ballot submission failed');
    }
    return sendApiError(reply, e);
  });

  app.post(
    BALLOTS_URL,
    {
      bodyLimit: ENCRYPTED_BALLOT_BODY_LIMIT,
      // Documents the body; validation is the Ingestor's (see the top of this file).
      validatorCompiler: () => () => true,
      schema: {
        tags: ['ballots'],
        summary: 'Cast a signed ballot',
        description:
          '201 new ballot; 200 the same receipt for a byte-identical resubmission; 409 another ballot of a credential that already voted. ' +
          'Refusals: 400 malformed body, schema, hex or signature, or a ballot of the other version than the election takes; ' +
          '403 credential not on the roll, election not open (for an encrypted election: also until its key ceremony is complete) ' +
          'or closed (election-closed names the actual close time: "the election closed at <closedAt>"); 404 unknown election; ' +
          '413 body over 16 KiB (64 KiB for an encrypted ballot of version 2); 415 not JSON; 422 selections that break the ' +
          'manifest (invalid-selections), or a proof of an encrypted ballot that does not verify (invalid-proof, naming the ' +
          'contest and choice); 503 (Retry-After) outage or overload.',
        params: electionParams,
        body: { oneOf: [submissionSchema, encryptedSubmissionSchema] },
        response: { 200: receiptReply, 201: receiptReply, 409: duplicateReply, '4xx': errorSchema, '5xx': errorSchema },
      },
    },
    async (req, reply) => {
      const started = process.hrtime.bigint();
      const { electionId } = req.params as { electionId: string };
      metrics.received.inc();
      const client = clientAddress(req.ip);
      const done = (outcome: string, r: FastifyReply) => {
        metrics.ballotSeconds.observe({ outcome }, Number(process.hrtime.bigint() - started) / 1e9);
        if (outcome === 'rejected' || outcome === 'duplicate') refusalBudget?.add(client);
        return r;
      };
      if (!ID_RE.test(electionId)) {
        // Cannot name an election; refused here so that the text never reaches an election lookup.
        metrics.rejected.inc({ reason: 'unknown-election' });
        await recordRefusal(sql, electionId, 'unknown-election', 'the election id is malformed', client);
        return done('rejected', sendApiError(reply, apiError('unknown-election', 'no such election')));
      }
      const outcome = await ingestor.submit(electionId, req.body, client);
      switch (outcome.kind) {
        case 'accepted':
          tally.poke(electionId);
          return done('accepted', reply.code(201).send({ receipt: outcome.receipt }));
        case 'resubmitted':
          return done('resubmitted', reply.code(200).send({ receipt: outcome.receipt }));
        case 'duplicate':
          return done(
            'duplicate',
            reply.code(409).send({
              error: {
                code: 'duplicate',
                message: `this credential already cast the ballot of seq ${outcome.receipt.seq}`,
              },
              status: 'duplicate',
              attemptCount: outcome.attemptCount,
              receipt: outcome.receipt,
            }),
          );
        case 'rejected':
          return done('rejected', sendApiError(reply, apiError(outcome.code, outcome.message)));
      }
    },
  );
}
