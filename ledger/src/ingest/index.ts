// Ingest along its steps: checks and micro-batches (batcher.ts), the pure rule (decide.ts), the
// transaction (commit.ts), receipts (receipts.ts); encrypted ballots' context (encrypted.ts).
export { Ingestor, type IngestMetrics, type IngestOptions, type IngestOutcome } from './batcher.js';
export {
  decide,
  type BatchDecision,
  type CheckedBallot,
  type CredentialState,
  type Decision,
  type HeadState,
} from './decide.js';
export { CREDENTIAL_LOOKUP_SQL, commitBatch } from './commit.js';
export { receiptFor, signReceipts } from './receipts.js';
export { encryptionContextOf, isEncryptedBody } from './encrypted.js';
