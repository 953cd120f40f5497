// The recount: every countable ballot (obeys the manifest, signature valid, credential on the roll,
// first of its credential and of its hash) adds one to each choice it selects. Compared with the
// published results (as of their asOfSeq) and, after the close, with the chain's resultHash. Per contest it
// also counts the ballots with a selection there: every countable ballot lists every contest, so the
// contest's ballots counted are all of them and its blank ballots are those counted minus those with a
// selection (not in resultHash: docs/protocol.md, "Results").
import { finding, type Finding } from '../errors.js';
import { short, toHex } from '../hex.js';
import { isPlainObject, ownValue, resultHash, type BallotRules, type ContestCounts, type Tally } from '../protocol.js';
import { counted } from '../plural.js';

export class Recount {
  private readonly all: Int32Array;
  private readonly asOf: Int32Array;
  /** Flat choice index → contest index. */
  private readonly contestOf: Int32Array;
  /** Per contest: ballots with at least one choice there (all, and seq <= asOfSeq). */
  private readonly selecting: Int32Array;
  private readonly selectingAsOf: Int32Array;
  /** Per contest: the last ballot (by count) seen selecting there, so a ballot counts once per contest. */
  private readonly lastBallot: Int32Array;
  totalBallots = 0;
  ballotsAsOf = 0;

  /** `asOfSeq`: also count separately the ballots with seq <= asOfSeq (the published results' cut). */
  constructor(
    private readonly rules: BallotRules,
    private readonly asOfSeq: number = Number.POSITIVE_INFINITY,
  ) {
    this.all = new Int32Array(rules.flatChoices.length);
    this.asOf = new Int32Array(rules.flatChoices.length);
    this.contestOf = new Int32Array(rules.flatChoices.length);
    for (const [ci, c] of rules.contests.entries()) for (const i of c.choices.values()) this.contestOf[i] = ci;
    this.selecting = new Int32Array(rules.contests.length);
    this.selectingAsOf = new Int32Array(rules.contests.length);
    this.lastBallot = new Int32Array(rules.contests.length);
  }

  /** Counts a ballot at `seq` selecting choices[start .. end). */
  add(seq: number, choices: ArrayLike<number>, start = 0, end = choices.length): void {
    const ballot = ++this.totalBallots;
    const asOf = seq <= this.asOfSeq;
    for (let i = start; i < end; i++) {
      this.all[choices[i]!]!++;
      const c = this.contestOf[choices[i]!]!;
      if (this.lastBallot[c] !== ballot) {
        this.lastBallot[c] = ballot;
        this.selecting[c]!++;
        if (asOf) this.selectingAsOf[c]!++;
      }
    }
    if (asOf) {
      this.ballotsAsOf++;
      for (let i = start; i < end; i++) this.asOf[choices[i]!]!++;
    }
  }

  /** Per contest over the whole ledger: ballots counted and blank = ballots counted − ballots with a selection. */
  contests(): ContestCounts {
    return this.toContests(this.selecting, this.totalBallots);
  }

  /** The same over seq <= asOfSeq. */
  contestsAsOf(): ContestCounts {
    return this.toContests(this.selectingAsOf, this.ballotsAsOf);
  }

  private toContests(selecting: Int32Array, ballots: number): ContestCounts {
    return Object.fromEntries(
      this.rules.contests.map((c, i) => [c.id, { ballotsCounted: ballots, blank: ballots - selecting[i]! }]),
    );
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

/**
 * Published results (GET …/results) against the recount as of their asOfSeq. In an election of several shards
 * (`shardedClosed` given: whether it is closed) there is no seq to cut at (docs/protocol.md 13.5): the results
 * are compared with the whole recount, and while the election is open, results that count another number of
 * ballots than the ledger export (taken at another moment) give one warning instead of the comparison.
 */
export function compareResults(
  published: unknown,
  electionId: string,
  recount: Recount,
  shardedClosed?: boolean,
): Finding[] {
  if (!isPlainObject(published)) return [finding('tally-mismatch', 'the published results are not a JSON object')];
  const out: Finding[] = [];
  if (shardedClosed === false && published.totalBallots !== recount.ballotsAsOf) {
    const n = published.totalBallots;
    return [
      finding(
        'tally-mismatch',
        `the published results count ${typeof n === 'number' ? counted(n, 'ballot') : `${String(n)} ballots`}, the ` +
          `ledger export ${recount.ballotsAsOf}: an open election of several shards has no seq to cut the ` +
          'recount at, so results and ledger taken at different moments are not compared (audit again, or after the close)',
        {},
        'warning',
      ),
    ];
  }
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
  out.push(...compareContests(published, recount));
  return out;
}

/**
 * The published per-contest counts (`contests`: ballotsCounted and blank) against the recount. A server
 * that publishes none (before they were added) is not at fault: the recount's own are in the report.
 */
function compareContests(published: Record<string, unknown>, recount: Recount): Finding[] {
  if (!Object.hasOwn(published, 'contests')) return [];
  const given = published.contests;
  if (!isPlainObject(given))
    return [finding('tally-mismatch', 'the published results have a contests field that is not an object')];
  const out: Finding[] = [];
  const expected = recount.contestsAsOf();
  for (const [contest, counts] of Object.entries(expected)) {
    const row = ownValue(given, contest);
    for (const field of ['ballotsCounted', 'blank'] as const) {
      const stated = isPlainObject(row) ? ownValue(row, field) : undefined;
      if (stated !== counts[field]) {
        out.push(
          finding(
            'tally-mismatch',
            `the published results give ${contest} ${field === 'blank' ? 'blank ballots' : 'ballots counted'} = ${stated === undefined ? 'nothing' : String(stated)}, the recount ${counts[field]}${asOfText(published)}`,
          ),
        );
      }
    }
  }
  for (const extra of Object.keys(given).filter((k) => !Object.hasOwn(expected, k))) {
    out.push(
      finding(
        'tally-mismatch',
        `the published results count blanks in contest ${extra.slice(0, 64)}, which is not in the manifest`,
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
