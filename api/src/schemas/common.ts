// Shared JSON schemas: request validation, response serialization and the OpenAPI document at /docs all
// come from these. Response schemas list every field: fast-json-stringify drops what they do not name.

export const ID_PATTERN = '^[a-z0-9][a-z0-9-]{0,63}$';
export const HEX32_PATTERN = '^[0-9a-f]{64}$';
export const HEX64_PATTERN = '^[0-9a-f]{128}$';
export const TIME_PATTERN = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$';
/** A non-negative integer as a query string (queries are validated as text: nothing is coerced). */
export const UINT_QUERY_PATTERN = '^(0|[1-9][0-9]{0,15})$';

export const hex32 = { type: 'string', pattern: HEX32_PATTERN, description: '32 bytes, lowercase hex' } as const;
export const hex64 = { type: 'string', pattern: HEX64_PATTERN, description: '64 bytes, lowercase hex' } as const;
export const electionIdSchema = { type: 'string', pattern: ID_PATTERN, description: 'election id' } as const;
export const timeSchema = { type: 'string', description: 'RFC 3339 UTC with milliseconds' } as const;
export const evmHex = { type: 'string', description: '0x-prefixed EVM value' } as const;

export const electionParams = {
  type: 'object',
  required: ['electionId'],
  additionalProperties: false,
  properties: { electionId: electionIdSchema },
} as const;

export const errorSchema = {
  type: 'object',
  description: 'An error; `code` is one of the stable codes listed in api/README.md',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
  },
} as const;

export const receiptSchema = {
  type: 'object',
  description: 'The ledger-signed receipt (wire format v1)',
  required: ['version', 'electionId', 'seq', 'ballotHash', 'receivedAt', 'signature'],
  properties: {
    version: { type: 'integer', const: 1 },
    electionId: { type: 'string' },
    // Present exactly in an election of several shards (docs/protocol.md 13.3); absent, so not serialized, else.
    shard: { type: 'integer', description: "the ballot's shard, in an election of several shards" },
    seq: { type: 'integer' },
    ballotHash: hex32,
    receivedAt: timeSchema,
    signature: hex64,
  },
} as const;

export const manifestSchema = {
  type: 'object',
  description: 'Election manifest (wire format v1; version 2 adds ballotMode, trustees and threshold)',
  required: ['version', 'electionId', 'title', 'contests', 'opensAt', 'closesAt', 'windowSeconds', 'ledgerKey'],
  properties: {
    version: { type: 'integer' },
    electionId: { type: 'string' },
    title: { type: 'string' },
    contests: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'title', 'choices', 'minSelections', 'maxSelections'],
        properties: {
          id: { type: 'string' },
          title: { type: 'string' },
          choices: {
            type: 'array',
            items: {
              type: 'object',
              required: ['id', 'label'],
              properties: { id: { type: 'string' }, label: { type: 'string' } },
            },
          },
          minSelections: { type: 'integer' },
          maxSelections: { type: 'integer' },
        },
      },
    },
    opensAt: timeSchema,
    closesAt: timeSchema,
    windowSeconds: { type: 'integer' },
    ledgerKey: hex32,
    // Version 2 only (docs/protocol.md 12.2); absent from a version 1 manifest, so not serialized for it.
    ballotMode: { type: 'string', const: 'encrypted' },
    trustees: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'key'],
        properties: { id: { type: 'string' }, key: hex32 },
      },
    },
    threshold: { type: 'integer' },
    // docs/protocol.md 13.1: only when the manifest names it.
    shards: { type: 'integer' },
  },
} as const;

export const anchorSchema = {
  type: 'object',
  required: ['chainId', 'contract', 'txHash', 'blockNumber'],
  properties: {
    chainId: { type: ['integer', 'null'] },
    contract: { type: ['string', 'null'] },
    txHash: evmHex,
    blockNumber: { type: ['integer', 'null'] },
  },
} as const;

/** The errors every route can answer besides its own: 429 when rate limited, 5xx on outages. */
export const commonErrorResponses = {
  '4xx': errorSchema,
  '5xx': errorSchema,
} as const;

export const adminSecurity = [{ adminToken: [] }];
