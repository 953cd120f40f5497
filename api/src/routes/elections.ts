// GET /api/v1/elections/{electionId}: the manifest and its hash, the roll root, status and chain anchoring
// (from the process's snapshot, services/read-snapshots.ts).
// GET /api/v1/elections/{electionId}/roll: the frozen credential roll as NDJSON, in rollRoot order.
// GET /api/v1/elections/{electionId}/roll/{credential}: whether one key is on the frozen roll.
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import {
  closedAtMs,
  getElection,
  getPublicElection,
  lookupRollKey,
  notYetOpen,
  rollPages,
  type ElectionRecord,
} from '../../../ledger/src/index.js';
import { ProtocolError } from '../errors.js';
import type { ChainInfo } from '../dependencies.js';
import {
  HEX32_PATTERN,
  commonErrorResponses,
  electionIdSchema,
  electionParams,
  evmHex,
  hex32,
  manifestSchema,
} from '../schemas/common.js';
import { encryptionViewSchema } from '../schemas/encrypted.js';
import {
  JSON_TYPE,
  chainUnchanged,
  noStoreOnError,
  representation,
  sendRepresentation,
  type Representation,
} from '../services/read-snapshots.js';

export type PublicStatus = 'scheduled' | 'open' | 'closed';

/**
 * An election whose roll is still being loaded, or (encrypted) whose key ceremony is not complete, cannot
 * take ballots yet: it shows as scheduled.
 */
export function publicStatus(e: ElectionRecord, nowMs = Date.now()): PublicStatus {
  if (e.closed || nowMs >= e.closesAtMs) return 'closed';
  if (notYetOpen(e, nowMs)) return 'scheduled';
  return 'open';
}

export function electionView(e: ElectionRecord, chain: ChainInfo, nowMs = Date.now()) {
  const closedAt = closedAtMs(e, nowMs);
  return {
    manifest: e.manifest,
    manifestHash: e.manifestHash,
    rollRoot: e.rollRoot,
    rollSize: e.rollSize,
    status: publicStatus(e, nowMs),
    chainId: chain.chainId,
    contract: chain.contract,
    chainRpcUrl: chain.publicRpcUrl ?? null,
    registration: e.registrationTx ? { txHash: e.registrationTx, blockNumber: e.registrationBlock } : null,
    // Added after v1's first fields (docs/protocol.md section 9): the close as it actually happened.
    closedAt: closedAt === null ? null : new Date(closedAt).toISOString(),
    result: e.resultHash !== null ? { resultHash: e.resultHash, totalBallots: e.totalBallots } : null,
    closeTx: e.closeTx ? { txHash: e.closeTx, blockNumber: e.closeBlock } : null,
    // Version 2 only, after the others (docs/protocol.md 12.9): a version 1 view keeps its bytes.
    ...(e.encryption
      ? {
          encryption: {
            publicKey: e.encryption.publicKey,
            keyCeremony: e.encryption.keyCeremony,
            threshold: e.encryption.threshold,
            trustees: e.encryption.trustees,
          },
        }
      : {}),
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
    'closedAt',
    'result',
    'closeTx',
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
    closedAt: {
      type: ['string', 'null'],
      description:
        'when the election actually stopped taking ballots: the admin close when it came before closesAt, else closesAt ' +
        'once passed; null while it has not closed. Set exactly when status is "closed".',
    },
    result: {
      type: ['object', 'null'],
      description:
        'the final result the close took (POST …/close): resultHash = H(JCS({"electionId","tally","totalBallots"})), ' +
        'the one closeElection anchors; null until the close has taken it (a scheduled close alone does not)',
      required: ['resultHash', 'totalBallots'],
      properties: { resultHash: hex32, totalBallots: { type: 'integer' } },
    },
    closeTx: {
      type: ['object', 'null'],
      description: 'closeElection transaction, once mined and recorded by the anchor worker',
      properties: { txHash: evmHex, blockNumber: { type: ['integer', 'null'] } },
    },
    encryption: encryptionViewSchema,
  },
} as const;

export default async function electionRoutes(app: FastifyInstance): Promise<void> {
  const { sql, chain, reads } = app.tp;
  app.get(
    '/api/v1/elections/:electionId',
    {
      schema: {
        tags: ['elections'],
        summary: 'An election: manifest, roll root, status, chain registration',
        description:
          'Strong ETag, If-None-Match → 304; Cache-Control short while the election may change, a day once it is closed with ' +
          'its result and close transaction recorded (docs/protocol.md, "Cached reads").',
        params: electionParams,
        response: { 200: electionViewSchema, ...commonErrorResponses },
      },
      onError: noStoreOnError,
    },
    async (req, reply) => {
      const { electionId } = req.params as { electionId: string };
      const snap = await reads.get<Representation>(electionId, 'view', async () => {
        // A roll still loading reports the keys uploaded so far as its rollSize.
        const e = await getPublicElection(sql, electionId);
        if (!e) return null;
        const valid = chainUnchanged(chain);
        const now = Date.now();
        // Closed, its result taken and the close on chain (after the registration): nothing left to change.
        const final = e.closed && e.resultHash !== null && e.closeTx !== null && e.registrationTx !== null;
        // The status turns at opensAt and closesAt by the clock alone.
        const turns = [e.opensAtMs, e.closesAtMs].filter((t) => t > now);
        const rep = representation(reply.serialize(electionView(e, chain(), now)), JSON_TYPE, final);
        return {
          value: rep,
          content: rep.body,
          final,
          staleAtMs: turns.length > 0 ? Math.min(...turns) : undefined,
          valid,
          bytes: rep.body.length + 256,
        };
      });
      if (!snap) throw new ProtocolError('unknown-election', `no election ${electionId}`);
      return sendRepresentation(req, reply, snap.value);
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

  // One key, one index probe: a voter page learns that a key (say, derived from a mistyped secret) is not
  // on the roll before the ballot is filled in, without downloading a roll of millions of keys. Membership
  // is public already (the roll is); whether the key has voted is not read, so not told. Optional for
  // clients: the ballot route stays the authority.
  app.get(
    '/api/v1/elections/:electionId/roll/:credential',
    {
      schema: {
        tags: ['elections'],
        summary: 'Whether one key is on the roll',
        description:
          'One key (32-byte lowercase hex Ed25519 public key) looked up on the frozen roll: 200 when it is on it, ' +
          '404 not-on-roll when it is not, 409 roll-pending while the roll is still being uploaded, ' +
          '400 invalid-hex for a malformed key. Says nothing about ballots: whether the key has voted is not read.',
        params: {
          type: 'object',
          required: ['electionId', 'credential'],
          additionalProperties: false,
          properties: {
            electionId: electionIdSchema,
            credential: { type: 'string', pattern: HEX32_PATTERN, description: 'the public key, 64 lowercase hex' },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['electionId', 'credential', 'onRoll'],
            properties: {
              electionId: { type: 'string' },
              credential: hex32,
              onRoll: { type: 'boolean', const: true },
            },
          },
          ...commonErrorResponses,
        },
      },
    },
    async (req) => {
      const { electionId, credential } = req.params as { electionId: string; credential: string };
      switch (await lookupRollKey(sql, electionId, Buffer.from(credential, 'hex'))) {
        case 'unknown-election':
          throw new ProtocolError('unknown-election', `no election ${electionId}`);
        case 'roll-pending':
          throw new ProtocolError('roll-pending', `the roll of ${electionId} is still being loaded`);
        case 'not-on-roll':
          throw new ProtocolError('not-on-roll', `${credential} is not on the roll of ${electionId}`);
        case 'on-roll':
          return { electionId, credential, onRoll: true };
      }
    },
  );
}
