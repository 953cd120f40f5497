// The one table of error codes the API returns: code, HTTP status and meaning stay together here, and
// a test fails when docs/protocol.md misses a code or lists a stale one.

export const ERROR_CODES = {
  'malformed-json': { status: 400, message: 'the body is not valid JSON' },
  'invalid-body': { status: 400, message: 'the body does not match the schema' },
  'invalid-hex': { status: 400, message: 'a byte field is not lowercase hex of the right length' },
  'wrong-election': { status: 400, message: 'the ballot names another election than the URL' },
  'bad-signature': { status: 400, message: 'the ballot signature does not verify (strict RFC 8032)' },
  'invalid-manifest': { status: 400, message: 'the election manifest is malformed' },
  'invalid-roll': { status: 400, message: 'the credential roll is malformed' },
  'invalid-query': { status: 400, message: 'a query parameter is malformed' },
  unauthorized: { status: 401, message: 'a valid admin bearer token is required' },
  'credential-not-on-roll': { status: 403, message: 'the credential is not on the election roll' },
  'election-not-open': { status: 403, message: 'the election has not opened yet' },
  'election-closed': { status: 403, message: 'the election is closed' },
  'unknown-election': { status: 404, message: 'no such election' },
  'not-found': { status: 404, message: 'no such resource' },
  'not-on-roll': { status: 404, message: 'this key is not on the election roll' },
  duplicate: { status: 409, message: 'this credential has already cast another ballot' },
  'election-exists': { status: 409, message: 'an election with this id already exists' },
  'roll-frozen': { status: 409, message: 'the roll is finalized; no key can be added' },
  'roll-pending': { status: 409, message: 'the roll is not finalized yet' },
  'body-too-large': { status: 413, message: 'the body is larger than allowed' },
  'unsupported-media-type': { status: 415, message: 'the Content-Type is not accepted by this route' },
  'invalid-selections': { status: 422, message: 'the selections break the manifest' },
  'invalid-proof': { status: 422, message: 'a zero-knowledge proof does not verify (version 2)' },
  'ceremony-phase': { status: 409, message: 'the trustee message comes before its phase of the ceremony' },
  'trustee-message-exists': { status: 409, message: 'this trustee already posted another message of this kind' },
  'not-closed': { status: 409, message: 'the election is not closed yet' },
  'not-decrypted': { status: 409, message: 'the trustees have not decrypted the tally yet' },
  'rate-limited': { status: 429, message: 'too many requests' },
  internal: { status: 500, message: 'internal error' },
  unavailable: { status: 503, message: 'a dependency is unavailable; retry later' },
  overloaded: { status: 503, message: 'the ledger is overloaded; retry later' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class ProtocolError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  constructor(code: ErrorCode, message?: string) {
    super(message ?? ERROR_CODES[code].message);
    this.name = 'ProtocolError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
  }
}
