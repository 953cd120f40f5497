// Encrypted elections (docs/protocol.md section 12) on the ledger: the trustees' bulletin board
// (board.ts) and the encrypted tally, from the aggregate to the decrypted result (tally.ts).
export {
  plaintextElection,
  postTrusteeMessage,
  trusteeTranscript,
  type TrusteePostOutcome,
  type TrusteeRefusal,
  type TrusteeTranscript,
} from './board.js';
export * from './tally.js';
