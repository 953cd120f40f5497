// POST /api/v1/elections/{electionId}/ballots: a voter's signed ballot in, a signed receipt out.
//
// This plugin is its own encapsulation context so that it can replace the JSON parser and the error
// handler for this route alone:
// - the body is parsed by JSON.parse and nothing else: no schema coercion, no stripped or defaulted
//   properties. The Ingestor's strict protocol parser validates it and records every refusal;
// - a body over 16 KiB (413), a body that is not JSON (400 malformed-json) or that is not sent as JSON
//   (415) never reaches the Ingestor, so this plugin counts their refusals itself;
// - every refusal also counts against the client's refusal budget (services/rate-limits.ts), after the
//   decision, so valid ballots never use it up.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ID_RE } from '../../../ledger/src/protocol/protocol.js';
import { ProtocolError, apiError, sendApiError, toApiError, type ErrorCode } from '../errors.js';
import { recordRefusal } from '../../../ledger/src/index.js';
import { electionParams, errorSchema, hex64, hex32, receiptSchema } from '../schemas/common.js';
import { clientAddress } from '../services/rate-limits.js';

export const BALLOTS_URL = '/api/v1/elections/:electionId/ballots';
/** Largest ballot submission, in bytes of the HTTP body. */
export const BALLOT_BODY_LIMIT = 16 * 1024;

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
    { parseAs: 'string', bodyLimit: BALLOT_BODY_LIMIT },
    (_req, body, done) => {
      try {
        // Plain JSON.parse: a "__proto__" key becomes an ordinary own property (no prototype change) and
        // is then refused by the protocol parser like any other unexpected key.
        done(null, JSON.parse(body as string));
      } catch (err) {
        done(
          new ProtocolError('malformed-json', `the body is not valid JSON: ${(err as Error).message.slice(0, 200)}`),
          undefined,
        );
      }
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
      bodyLimit: BALLOT_BODY_LIMIT,
      // Documents the body; validation is the Ingestor's (see the top of this file).
      validatorCompiler: () => () => true,
      schema: {
        tags: ['ballots'],
        summary: 'Cast a signed ballot',
        description:
          '201 new ballot; 200 the same receipt for a byte-identical resubmission; 409 another ballot of a credential that already voted. ' +
          'Refusals: 400 malformed body, schema, hex or signature; 403 credential not on the roll, election not open or closed ' +
          '(election-closed names the actual close time: "the election closed at <closedAt>"); 404 unknown election; ' +
          '413 body over 16 KiB; 415 not JSON; 422 selections that break the manifest; 503 (Retry-After) outage or overload.',
        params: electionParams,
        body: submissionSchema,
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
