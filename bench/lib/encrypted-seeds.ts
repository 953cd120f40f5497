// The encrypted ingest bench's voters: credential seeds derived from the election id and an index, so a
// cached set of ballots and the roll built from it always agree.
import { createHash } from 'node:crypto';

export function credentialSeedFor(electionId: string, i: number): Buffer {
  return createHash('sha256').update(`tallyproof bench voter ${electionId} ${i}`).digest();
}
