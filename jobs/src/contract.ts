// The contract between the processes that ask for chain work (the API, `npm start`) and the anchor worker
// that does it: queue names, job shapes and ids, and the requests interface. Both sides import it from
// here; neither imports the other.
//
//   tallyproof-seal   one job scheduler per open election ("seal.<id>", every windowSeconds): seal jobs
//   tallyproof-chain  register / anchor / close jobs: every chain write, one at a time per worker
//
// Job ids make enqueueing idempotent: "register.<id>", "anchor.<id>.<windowIndex>", "close.<id>".

export const SEAL_QUEUE = 'tallyproof-seal';
export const CHAIN_QUEUE = 'tallyproof-chain';
/** Schema of the PostgreSQL queue backend, next to the ledger's tables. */
export const QUEUE_SCHEMA = 'tallyproof_queue';
export const DEFAULT_QUEUE_PREFIX = 'tallyproof';

export interface SealJobData {
  electionId: string;
}

export type ChainJobKind = 'register' | 'anchor' | 'close';

export interface ChainJobData {
  kind: ChainJobKind;
  electionId: string;
  /** For anchor jobs: anchor every window up to and including this one. */
  windowIndex?: number;
}

export function chainJobId(data: ChainJobData): string {
  return data.kind === 'anchor' ? `anchor.${data.electionId}.${data.windowIndex}` : `${data.kind}.${data.electionId}`;
}

export function sealSchedulerId(electionId: string): string {
  return `seal.${electionId}`;
}

/**
 * What the API asks of the anchor worker. Each request is first made durable in the ledger (a frozen roll
 * is itself the registration request; a close request closes the head and sets close_requested_at), then
 * a job is enqueued as the fast path. The outcome shows up in the ledger (registration_tx, close_tx).
 */
export interface AnchorRequests {
  /** Ask for registerElection of an election whose roll is frozen. Rejects for an unknown election. */
  requestRegistration(electionId: string): Promise<void>;
  /**
   * Close the election: once this resolves no ballot can be committed any more (the head is closed under
   * its lock) and the close is on record; the worker then seals and anchors the last window and sends
   * closeElection. Idempotent. Rejects for an unknown election or when the database is unavailable.
   */
  requestClose(electionId: string): Promise<void>;
  close(): Promise<void>;
}
