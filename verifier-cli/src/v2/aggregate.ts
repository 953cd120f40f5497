// The aggregate of an encrypted election recomputed from the ledger (docs/protocol.md 12.5): per choice,
// the sum of every countable ballot's α and β. The point additions are done where the ballots are checked:
// a worker sums the rows of its block that pass the per-row checks (blockSums) and sends the sums with
// the rows; the main thread adds the blocks' sums (AggregateSum.addBlock) and takes back out the rows that
// the in-order checks find not countable after all (a credential off the roll, a second ballot of one
// credential or one hash: AggregateSum.exclude), which is rare, so the main thread adds ~2 points per
// choice per block rather than per ballot.
import { CIPHERTEXT_BYTES } from './ballot.js';
import { addInto, IDENTITY, subInto } from './group.js';

/** The identity for every α and β of `choices` choices: the sum of no ballot. */
export function emptySums(choices: number): Uint8Array {
  const sums = new Uint8Array(choices * CIPHERTEXT_BYTES);
  for (let i = 0; i < 2 * choices; i++) sums.set(IDENTITY, 32 * i);
  return sums;
}

/**
 * The sums over the rows whose `countable(i)` holds of their ciphertexts, packed per row at
 * ciphertexts[i·choices·64 ..) as α || β per choice.
 */
export function blockSums(
  ciphertexts: Uint8Array,
  rows: number,
  choices: number,
  countable: (row: number) => boolean,
): Uint8Array {
  const sums = emptySums(choices);
  const rowBytes = choices * CIPHERTEXT_BYTES;
  for (let i = 0; i < rows; i++) {
    if (!countable(i)) continue;
    for (let p = 0; p < 2 * choices; p++) addInto(sums, 32 * p, ciphertexts, i * rowBytes + 32 * p);
  }
  return sums;
}

/** What the main thread needs of a checked block: its rows' ciphertexts and the sums of its countable ones. */
export interface BlockCiphertexts {
  ciphertexts?: Uint8Array;
  aggregate?: Uint8Array;
}

/** The running aggregate, on the main thread. */
export class AggregateSum {
  readonly sums: Uint8Array;

  constructor(readonly choices: number) {
    this.sums = emptySums(choices);
  }

  /** Adds a block's sums (of the rows its worker found countable). */
  addBlock(block: BlockCiphertexts): void {
    const sums = block.aggregate;
    if (sums === undefined) return;
    for (let p = 0; p < 2 * this.choices; p++) addInto(this.sums, 32 * p, sums, 32 * p);
  }

  /** Takes row `row` of the block back out: its worker counted it, the in-order checks do not. */
  exclude(block: BlockCiphertexts, row: number): void {
    const ciphertexts = block.ciphertexts;
    if (ciphertexts === undefined) return;
    const at = row * this.choices * CIPHERTEXT_BYTES;
    for (let p = 0; p < 2 * this.choices; p++) subInto(this.sums, 32 * p, ciphertexts, at + 32 * p);
  }
}
