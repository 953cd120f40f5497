// Schemas of the encrypted elections' additions (docs/protocol.md 12.6, 12.7, 12.9). The transcript, the
// aggregate and the decryption are sent as their JSON text (stored JCS for the signed or hashed parts),
// not through the serializer: these schemas document them.
import { hex32, hex64, timeSchema } from './common.js';

const keyCeremony = { type: 'string', enum: ['in-progress', 'complete'] } as const;
const trusteeKinds = ['keygen-commit', 'keygen-shares', 'keygen-confirm', 'decrypt'] as const;

/** The `encryption` field of a version 2 election's view (12.9). */
export const encryptionViewSchema = {
  type: 'object',
  description:
    'Version 2 (encrypted) elections only: the election key H once every trustee confirmed it (null before), ' +
    'the key ceremony, the threshold and the trustees in manifest order. Ballots are taken only once keyCeremony ' +
    'is "complete" (status stays "scheduled" before).',
  required: ['publicKey', 'keyCeremony', 'threshold', 'trustees'],
  properties: {
    publicKey: { type: ['string', 'null'], description: 'H, 32-byte lowercase hex (an edwards25519 point)' },
    keyCeremony,
    threshold: { type: 'integer' },
    trustees: { type: 'array', items: { type: 'string' } },
  },
} as const;

/** A signed trustee message (12.3): checked by the board's own rule, never coerced or stripped. */
export const trusteeEnvelopeSchema = {
  type: 'object',
  description:
    'A trustee message signed with the trustee key of the manifest: Ed25519 over ' +
    '"tallyproof:trustee:v2:" || JCS(message). message.kind is keygen-commit, keygen-shares, keygen-confirm ' +
    'or decrypt (docs/protocol.md 12.3, 12.5).',
  required: ['message', 'signature'],
  properties: {
    message: {
      type: 'object',
      required: ['version', 'kind', 'electionId', 'manifestHash', 'trustee'],
      properties: {
        version: { type: 'integer', const: 2 },
        kind: { type: 'string', enum: trusteeKinds },
        electionId: { type: 'string' },
        manifestHash: hex32,
        trustee: { type: 'string' },
      },
    },
    signature: hex64,
  },
} as const;

export const trusteePostReplySchema = {
  type: 'object',
  required: ['accepted', 'trustee', 'keyCeremony'],
  properties: {
    accepted: { type: 'string', enum: trusteeKinds, description: 'the kind of the message accepted' },
    trustee: { type: 'string' },
    keyCeremony,
  },
} as const;

export const transcriptSchema = {
  type: 'object',
  description: 'The public transcript (docs/protocol.md 12.7): with the aggregate and the ledger, all an auditor needs',
  required: [
    'electionId',
    'threshold',
    'trustees',
    'publicKey',
    'verificationKeys',
    'keyCeremony',
    'messages',
    'refused',
  ],
  properties: {
    electionId: { type: 'string' },
    threshold: { type: 'integer' },
    trustees: {
      type: 'array',
      items: { type: 'object', required: ['id', 'key'], properties: { id: { type: 'string' }, key: hex32 } },
    },
    publicKey: { type: ['string', 'null'], description: 'H once the ceremony is complete' },
    verificationKeys: {
      type: ['object', 'null'],
      description: 'trustee id → X_j once the ceremony is complete',
      additionalProperties: hex32,
    },
    keyCeremony,
    messages: { type: 'array', description: 'accepted envelopes, in the order posted', items: trusteeEnvelopeSchema },
    refused: {
      type: 'array',
      description: 'refused posts of messages signed by a trustee, with why',
      items: {
        type: 'object',
        required: ['trustee', 'kind', 'code', 'message', 'receivedAt'],
        properties: {
          trustee: { type: 'string' },
          kind: { type: 'string', enum: trusteeKinds },
          code: { type: 'string' },
          message: { type: 'string' },
          receivedAt: timeSchema,
        },
      },
    },
  },
} as const;

const ciphertextSchema = {
  type: 'object',
  required: ['alpha', 'beta'],
  properties: { alpha: hex32, beta: hex32 },
} as const;

export const aggregateSchema = {
  type: 'object',
  description:
    'The aggregate (docs/protocol.md 12.5): per choice, the sums of every ledger ballot’s alpha and beta (seqs 0 .. ' +
    'totalBallots-1). aggregateHash = H(JCS(aggregate)). The body is the stored JCS text.',
  required: ['version', 'electionId', 'manifestHash', 'publicKey', 'totalBallots', 'contests'],
  properties: {
    version: { type: 'integer', const: 2 },
    electionId: { type: 'string' },
    manifestHash: hex32,
    publicKey: hex32,
    totalBallots: { type: 'integer' },
    contests: {
      type: 'object',
      description: 'contest → choice → {alpha, beta}',
      additionalProperties: { type: 'object', additionalProperties: ciphertextSchema },
    },
  },
} as const;

const countsSchema = {
  type: 'object',
  description: 'contest → choice → count',
  additionalProperties: { type: 'object', additionalProperties: { type: 'integer' } },
} as const;

export const decryptionSchema = {
  type: 'object',
  description:
    'The decrypted result (docs/protocol.md 12.5), combined from the first threshold valid partial decryptions by ' +
    'trustee index. resultHash = H(JCS({"electionId","tally","totalBallots"})). The body is the stored JCS text.',
  required: ['version', 'electionId', 'aggregateHash', 'trustees', 'tally', 'totalBallots'],
  properties: {
    version: { type: 'integer', const: 2 },
    electionId: { type: 'string' },
    aggregateHash: hex32,
    trustees: { type: 'array', items: { type: 'string' }, description: 'the trustees whose shares were combined' },
    tally: countsSchema,
    totalBallots: { type: 'integer' },
  },
} as const;

/** The `decryption` field of an encrypted election's results (12.6). */
export const decryptionStatusSchema = {
  type: ['object', 'null'],
  description:
    'null until the close has published the aggregate; then "waiting" until the threshold of valid partial ' +
    'decryptions is in, "complete" after',
  required: ['status', 'threshold', 'received', 'aggregateHash'],
  properties: {
    status: { type: 'string', enum: ['waiting', 'complete'] },
    threshold: { type: 'integer' },
    received: { type: 'array', items: { type: 'string' }, description: 'trustees whose decrypt was accepted' },
    aggregateHash: hex32,
  },
} as const;
