// What `audit` does beside the plaintext steps for an encrypted election (manifest version 2,
// docs/protocol.md 12): before the ledger, the manifest's v2 rules and the key ceremony's transcript
// (trustees.ts), which give the election key H that every ballot's proofs are checked against (on the
// workers, row-check.ts with checkBallotV2); during the scan, the aggregate of the countable ballots
// (aggregate.ts); at the end, the published aggregate, every partial decryption, the recombined counts
// (decryption.ts), the published results, and the chain's close (totalBallots and resultHash).
import type { ChainElection } from '../chain.js';
import type { Engine } from '../ed25519.js';
import { finding, type Finding } from '../errors.js';
import { short, toHex } from '../hex.js';
import { jcs } from '../jcs.js';
import { isPlainObject, manifestHash, ownValue, resultHash, type Tally } from '../protocol.js';
import type { ElectionSource } from '../sources/source.js';
import { counted } from '../plural.js';
import type { ScanState } from '../audit/ledger-scan.js';
import type { Recount } from '../audit/tally.js';
import { AggregateSum } from './aggregate.js';
import { ballotV2Context, flatChoiceCount, type BallotV2Context } from './ballot.js';
import { checkDecryption, type DecryptionCheck } from './decryption.js';
import { pointHex } from './group.js';
import { manifestV2Problem, type ManifestV2 } from './manifest.js';
import { checkTranscript, type TranscriptCheck } from './trustees.js';

/** The report's account of an encrypted election. */
export interface EncryptionReport {
  ballotMode: 'encrypted';
  publicKey: string | null;
  keyCeremony: 'complete' | 'in-progress';
  threshold: number;
  trustees: string[];
  transcript: { messages: number; refused: number } | 'not available';
  aggregate: DecryptionCheck['aggregate'];
  aggregateHash: string | null;
  /** Trustees whose partial decryptions checked, and the first K of them by index, which were combined. */
  validPartialDecryptions: string[];
  combined: string[];
  publishedDecryption: DecryptionCheck['published'];
}

export class EncryptedAudit {
  /** Why the manifest is not a version 2 manifest, or null. */
  readonly manifestProblem: string | null;
  /** Findings about the transcript, reported after the chain's registration. */
  readonly findings: Finding[] = [];
  /** What the workers check ballots against; undefined when the election key could not be established. */
  rowContext: BallotV2Context | undefined;
  aggregate: AggregateSum | undefined;
  private transcript: TranscriptCheck | undefined;
  private decryption: DecryptionCheck | undefined;
  private readonly manifest: ManifestV2 | undefined;
  private readonly manifestHash: string;

  private constructor(
    private readonly source: ElectionSource,
    manifest: unknown,
  ) {
    this.manifestProblem = manifestV2Problem(manifest);
    this.manifest = this.manifestProblem === null ? (manifest as ManifestV2) : undefined;
    this.manifestHash = toHex(manifestHash(manifest));
  }

  /**
   * Step 1 for a version 2 manifest: its rules, then the transcript and the election key, and the key the
   * server names to voters (`claimedKey`, from GET /api/v1/elections/{id}) against it.
   */
  static async prepare(
    source: ElectionSource,
    manifest: unknown,
    engine: Engine,
    claimedKey?: string,
  ): Promise<EncryptedAudit> {
    const audit = new EncryptedAudit(source, manifest);
    const m = audit.manifest;
    if (m === undefined) return audit;
    const transcript = source.trusteeMessages === undefined ? null : await source.trusteeMessages();
    if (transcript === null) {
      audit.findings.push(
        finding(
          'transcript-invalid',
          'no key ceremony transcript (GET …/trustee-messages, or --trustee-messages FILE): the election key, ' +
            "and so every ballot's proofs, cannot be checked",
        ),
      );
      return audit;
    }
    const check = checkTranscript(transcript, m, audit.manifestHash, engine);
    audit.transcript = check;
    audit.findings.push(...check.findings);
    if (check.publicKey !== null && claimedKey !== undefined && claimedKey !== pointHex(check.publicKey))
      audit.findings.push(
        finding(
          'transcript-invalid',
          `the server names election key ${short(claimedKey)} to voters, the transcript's commitments give ` +
            short(pointHex(check.publicKey)),
        ),
      );
    if (check.publicKey !== null) {
      audit.rowContext = ballotV2Context(m, audit.manifestHash, pointHex(check.publicKey));
      audit.aggregate = new AggregateSum(flatChoiceCount(audit.rowContext));
    }
    return audit;
  }

  /** Step 5 for an encrypted election, in place of the recount's comparisons: findings in order. */
  async finish(scan: ScanState, registration: ChainElection, electionId: string): Promise<Finding[]> {
    const m = this.manifest!;
    const t = this.transcript!;
    const { recount, published } = scan.inputs;
    const out: Finding[] = [];
    if (!t.complete && scan.rows > 0)
      out.push(
        finding(
          'transcript-invalid',
          `the ledger holds ${counted(scan.rows, 'ballot')} but the key ceremony is not complete ` +
            '(every trustee must confirm before the election opens)',
        ),
      );
    const aggregate = this.source.aggregate === undefined ? null : await this.source.aggregate();
    const result = this.source.decryption === undefined ? null : await this.source.decryption();
    this.decryption = checkDecryption({
      manifest: m,
      manifestHash: this.manifestHash,
      publicKey: t.publicKey!,
      verificationKeys: t.verificationKeys!,
      decrypts: t.decrypts,
      expected: { sums: this.aggregate!.sums, totalBallots: recount.totalBallots },
      aggregate,
      result,
      closed: registration.closed,
    });
    out.push(...this.decryption.findings);
    const tally = this.decryption.tally;
    if (published !== null) out.push(...compareEncryptedResults(published, electionId, recount, tally));
    if (registration.closed) out.push(...compareEncryptedClose(registration, electionId, recount, scan.rows, tally));
    return out;
  }

  /** The decrypted counts, when the partial decryptions gave them. */
  get tally(): Tally | null {
    return this.decryption?.tally ?? null;
  }

  report(): EncryptionReport {
    const m = this.manifest;
    const t = this.transcript;
    const d = this.decryption;
    return {
      ballotMode: 'encrypted',
      publicKey: t?.publicKey == null ? null : pointHex(t.publicKey),
      keyCeremony: t?.complete === true ? 'complete' : 'in-progress',
      threshold: m?.threshold ?? 0,
      trustees: m?.trustees.map((x) => x.id) ?? [],
      transcript: t === undefined ? 'not available' : { messages: t.messages, refused: t.refused },
      aggregate: d?.aggregate ?? 'not available',
      aggregateHash: d?.aggregateHash ?? null,
      validPartialDecryptions: d?.validDecryptions ?? [],
      combined: d?.combined ?? [],
      publishedDecryption: d?.published ?? 'not available',
    };
  }
}

/**
 * GET …/results of an encrypted election (12.6): the live ballot count as of its asOfSeq, `tally` and
 * `contests` null until the decryption is complete, then the decrypted counts, with ballotsCounted the
 * total and blank null (a blank vote is not separately encrypted).
 */
export function compareEncryptedResults(
  published: unknown,
  electionId: string,
  recount: Recount,
  tally: Tally | null,
): Finding[] {
  const out: Finding[] = [];
  const differs = (message: string): void => void out.push(finding('tally-mismatch', message));
  if (!isPlainObject(published)) return [finding('tally-mismatch', 'the published results are not a JSON object')];
  if (published.electionId !== electionId)
    differs(`the published results are for election ${JSON.stringify(published.electionId)}, not ${electionId}`);
  if (published.ballotMode !== 'encrypted') differs('the published results do not say ballotMode "encrypted"');
  const asOf = typeof published.asOfSeq === 'number' ? ` (as of seq ${published.asOfSeq})` : '';
  if (published.totalBallots !== recount.ballotsAsOf)
    differs(
      `the published results count ${String(published.totalBallots)} ballots${asOf}, the ledger ${recount.ballotsAsOf}`,
    );
  const given = published.tally;
  if (given === null || given === undefined) {
    if (published.contests !== null && published.contests !== undefined)
      differs('the published results give per-contest counts but no tally');
    return out;
  }
  if (tally === null) {
    differs('the published results give counts that no valid decryption gives');
    return out;
  }
  if (!isPlainObject(given) || jcs(given) !== jcs(tally)) {
    for (const [c, choices] of Object.entries(tally)) {
      const row = isPlainObject(given) ? ownValue(given, c) : undefined;
      for (const [k, n] of Object.entries(choices)) {
        const stated = isPlainObject(row) ? ownValue(row, k) : undefined;
        if (stated !== n)
          differs(
            `the published results give ${c}/${k} = ${stated === undefined ? 'nothing' : String(stated)}, the decryption ${n}`,
          );
      }
    }
    if (out.length === 0) differs('the published results list contests or choices the manifest does not have');
  }
  const contests = published.contests;
  const expected = Object.fromEntries(
    Object.keys(tally).map((c) => [c, { ballotsCounted: recount.totalBallots, blank: null }]),
  );
  if (contests !== undefined && jcs(contests ?? null) !== jcs(expected))
    differs(
      `the published per-contest counts are not ${counted(recount.totalBallots, 'ballot')} counted, blank unknown`,
    );
  return out;
}

/** After the close: the chain's totalBallots and resultHash against the ledger and the decrypted counts. */
export function compareEncryptedClose(
  chain: { resultHash: string; totalBallots: number },
  electionId: string,
  recount: Recount,
  ledgerRows: number,
  tally: Tally | null,
): Finding[] {
  const out: Finding[] = [];
  if (chain.totalBallots !== ledgerRows || chain.totalBallots !== recount.totalBallots)
    out.push(
      finding(
        'total-ballots-mismatch',
        `the close on chain counts ${counted(chain.totalBallots, 'ballot')}; the ledger has ${counted(ledgerRows, 'row')}, ` +
          `${recount.totalBallots} of them countable`,
      ),
    );
  if (tally === null) return out; // decryption-incomplete or decryption-mismatch says why
  const expected = toHex(resultHash(electionId, tally, recount.totalBallots));
  if (expected !== chain.resultHash)
    out.push(
      finding(
        'result-hash-mismatch',
        `the chain's resultHash is ${short(chain.resultHash)}, H(JCS(decrypted result)) is ${short(expected)}: ` +
          'the result anchored at the close is not the decryption of the ledger',
      ),
    );
  return out;
}
