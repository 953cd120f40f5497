// The recount: every countable ballot (obeys the manifest, signature valid, credential on the roll,
// first of its credential and of its hash) adds one to each choice it selects. Compared with the
// published results (as of their asOfSeq) and, after the close, with the chain's resultHash.
import { finding, type Finding } from '../errors.js';
import { short, toHex } from '../hex.js';
import { isPlainObject, ownValue, resultHash, type BallotRules, type Tally } from '../protocol.js';
import { counted } from '../plural.js';

export class Recount {
  private readonly all: Int32Array;
  private readonly asOf: Int32Array;
  totalBallots = 0;
  ballotsAsOf = 0;

  /** `asOfSeq`: also count separately the ballots with seq <= asOfSeq (the published results' cut). */
  constructor(
    private readonly rules: BallotRules,
    private readonly asOfSeq: number = Number.POSITIVE_INFINITY,
  ) {
    this.all = new Int32Array(rules.flatChoices.length);
    this.asOf = new Int32Array(rules.flatChoices.length);
  }

  /** Counts a ballot at `seq` selecting choices[start .. end). */
  add(seq: number, choices: ArrayLike<number>, start = 0, end = choices.length): void {
    this.totalBallots++;
    for (let i = start; i < end; i++) this.all[choices[i]!]!++;
    if (seq <= this.asOfSeq) {
      this.ballotsAsOf++;
      for (let i = start; i < end; i++) this.asOf[choices[i]!]!++;
    }
  }

  /** The recount over the whole ledger, every choice listed. */
  tally(): Tally {
    return this.toTally(this.all);
  }

  /** The recount over seq <= asOfSeq. */
  tallyAsOf(): Tally {
    return this.toTally(this.asOf);
  }

  private toTally(counts: Int32Array): Tally {
    // Maps, then own data properties: ids may be names objects inherit (`constructor`, `length`, …).
    const byContest = new Map<string, [string, number][]>();
    for (const [i, [contest, choice]] of this.rules.flatChoices.entries()) {
      const row = byContest.get(contest);
      if (row === undefined) byContest.set(contest, [[choice, counts[i]!]]);
      else row.push([choice, counts[i]!]);
    }
    return Object.fromEntries([...byContest].map(([contest, row]) => [contest, Object.fromEntries(row)]));
  }
}

/** Published results (GET …/results) against the recount as of their asOfSeq. */
export function compareResults(published: unknown, electionId: string, recount: Recount): Finding[] {
  if (!isPlainObject(published)) return [finding('tally-mismatch', 'the published results are not a JSON object')];
  const out: Finding[] = [];
  if (published.electionId !== electionId) {
    out.push(
      finding(
        'tally-mismatch',
        `the published results are for election ${JSON.stringify(published.electionId)}, not ${electionId}`,
      ),
    );
  }
  if (published.totalBallots !== recount.ballotsAsOf) {
    // Not necessarily a number: the server's JSON.
    const n = published.totalBallots;
    const publishedBallots = typeof n === 'number' ? counted(n, 'ballot') : `${String(n)} ballots`;
    out.push(
      finding(
        'tally-mismatch',
        `the published results count ${publishedBallots}${asOfText(published)}, the recount ${recount.ballotsAsOf}`,
      ),
    );
  }
  const expected = recount.tallyAsOf();
  const given = published.tally;
  if (!isPlainObject(given)) {
    out.push(finding('tally-mismatch', 'the published results have no tally object'));
    return out;
  }
  // Only own properties of the published JSON count: an id like `constructor` is on every object.
  for (const [contest, choices] of Object.entries(expected)) {
    const row = ownValue(given, contest);
    for (const [choice, count] of Object.entries(choices)) {
      const stated = isPlainObject(row) ? ownValue(row, choice) : undefined;
      if (stated !== count) {
        out.push(
          finding(
            'tally-mismatch',
            `the published results give ${contest}/${choice} = ${stated === undefined ? 'nothing' : String(stated)}, the recount ${count}${asOfText(published)}`,
          ),
        );
      }
    }
    if (isPlainObject(row)) {
      for (const extra of Object.keys(row).filter((k) => !Object.hasOwn(choices, k))) {
        out.push(
          finding(
            'tally-mismatch',
            `the published results list ${contest}/${extra.slice(0, 64)}, which is not a choice of the manifest`,
          ),
        );
      }
    }
  }
  for (const extra of Object.keys(given).filter((k) => !Object.hasOwn(expected, k))) {
    out.push(
      finding(
        'tally-mismatch',
        `the published results list contest ${extra.slice(0, 64)}, which is not in the manifest`,
      ),
    );
  }
  return out;
}

function asOfText(published: Record<string, unknown>): string {
  return typeof published.asOfSeq === 'number' ? ` (as of seq ${published.asOfSeq})` : '';
}

/** The seq the published results were cut at, or +Infinity when they do not say. */
export function resultsAsOfSeq(published: unknown): number {
  return isPlainObject(published) && typeof published.asOfSeq === 'number' && Number.isSafeInteger(published.asOfSeq)
    ? published.asOfSeq
    : Number.POSITIVE_INFINITY;
}

/** After the close: totalBallots and resultHash on chain against the ledger and the recount. */
export function compareClose(
  chain: { resultHash: string; totalBallots: number },
  electionId: string,
  recount: Recount,
  ledgerRows: number,
): Finding[] {
  const out: Finding[] = [];
  if (chain.totalBallots !== ledgerRows || chain.totalBallots !== recount.totalBallots) {
    out.push(
      finding(
        'total-ballots-mismatch',
        `the close on chain counts ${counted(chain.totalBallots, 'ballot')}; the ledger has ${counted(ledgerRows, 'row')}, ${recount.totalBallots} of them countable`,
      ),
    );
  }
  const expected = toHex(resultHash(electionId, recount.tally(), recount.totalBallots));
  if (expected !== chain.resultHash) {
    out.push(
      finding(
        'result-hash-mismatch',
        `the chain's resultHash is ${short(chain.resultHash)}, H(JCS(recount)) is ${short(expected)}: the result anchored at the close is not the recount`,
      ),
    );
  }
  return out;
}
