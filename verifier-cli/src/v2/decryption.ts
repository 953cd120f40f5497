// The decryption of an encrypted election (docs/protocol.md 12.5), checked from the text:
//   1. the published aggregate against the sum of the ledger's countable ballots (recomputed by the audit),
//      and aggregateHash = H(JCS(aggregate));
//   2. every decrypt message's shares: D a group element and its Chaum–Pedersen proof that
//      log_G X_j = log_α D, with α the published aggregate's (what the trustees decrypted); a bad share is
//      a finding naming the trustee, contest and choice, and its message is not used;
//   3. the first K valid messages by trustee index combined: λ_j = Π_{m≠j} m·(m−j)^{−1},
//      M = β − Σ λ_j·D_j, and the count n ∈ [0, totalBallots] with n·G = M (baby-step giant-step);
//   4. the published result (GET …/decryption) against that, and its resultHash.
import { finding, type Finding } from '../errors.js';
import { sha256Hex, short, utf8 } from '../hex.js';
import { jcs } from '../jcs.js';
import { hasExactKeys, isPlainObject, ownValue, type Tally } from '../protocol.js';
import { CIPHERTEXT_BYTES } from './ballot.js';
import {
  add,
  decodeElement,
  decodeSum,
  IDENTITY,
  invertScalar,
  mul,
  mulBase,
  mulScalars,
  pointHex,
  sub,
  subScalars,
  type Point,
} from './group.js';
import type { ManifestV2 } from './manifest.js';
import { verifyDecryptShare } from './proofs.js';
import { readPair, type DecryptMessage } from './trustees.js';

const AGGREGATE_KEYS = ['version', 'electionId', 'manifestHash', 'publicKey', 'totalBallots', 'contests'];
const RESULT_KEYS = ['version', 'electionId', 'aggregateHash', 'trustees', 'tally', 'totalBallots'];

/** The aggregate the ledger gives: per choice (manifest order) α || β summed over the countable ballots. */
export interface ExpectedAggregate {
  sums: Uint8Array;
  totalBallots: number;
}

/** The aggregate object of 12.5 for `expected`. */
export function aggregateJson(
  manifest: ManifestV2,
  manifestHash: string,
  publicKey: string,
  expected: ExpectedAggregate,
): Record<string, unknown> {
  let flat = 0;
  const contests: Record<string, Record<string, { alpha: string; beta: string }>> = {};
  for (const c of manifest.contests) {
    const row: Record<string, { alpha: string; beta: string }> = {};
    for (const k of c.choices) {
      const at = flat++ * CIPHERTEXT_BYTES;
      row[k.id] = {
        alpha: Buffer.from(expected.sums.subarray(at, at + 32)).toString('hex'),
        beta: Buffer.from(expected.sums.subarray(at + 32, at + 64)).toString('hex'),
      };
    }
    contests[c.id] = row;
  }
  return {
    version: 2,
    electionId: manifest.electionId,
    manifestHash,
    publicKey,
    totalBallots: expected.totalBallots,
    contests,
  };
}

/** H(JCS(v)) as lowercase hex. */
export function jcsHash(v: unknown): string {
  return sha256Hex(utf8(jcs(v)));
}

export interface DecryptionInputs {
  manifest: ManifestV2;
  manifestHash: string;
  publicKey: Point;
  verificationKeys: ReadonlyMap<string, Point>;
  decrypts: readonly DecryptMessage[];
  expected: ExpectedAggregate;
  /** GET …/aggregate and GET …/decryption, or null when not published (yet). */
  aggregate: unknown | null;
  result: unknown | null;
  /** The chain holds the close (closeElection): what is missing is then an error, not a warning. */
  closed: boolean;
}

export interface DecryptionCheck {
  findings: Finding[];
  aggregate: 'matches' | 'differs' | 'not available';
  aggregateHash: string | null;
  /** The counts recombined from the trustees' shares, or null when they could not be. */
  tally: Tally | null;
  /** Trustees whose partial decryptions were combined (the first K valid by index). */
  combined: string[];
  /** Trustees whose decrypt messages checked. */
  validDecryptions: string[];
  published: 'compared' | 'not available';
}

interface ParsedAggregate {
  totalBallots: number;
  /** Per flat choice. */
  alpha: Point[];
  beta: Point[];
}

/** Steps 1 to 4. */
export function checkDecryption(inp: DecryptionInputs): DecryptionCheck {
  const { manifest } = inp;
  const findings: Finding[] = [];
  const out: DecryptionCheck = {
    findings,
    aggregate: 'not available',
    aggregateHash: null,
    tally: null,
    combined: [],
    validDecryptions: [],
    published: 'not available',
  };
  const missing = (message: string): void =>
    void findings.push(finding('decryption-incomplete', message, {}, inp.closed ? 'error' : 'warning'));
  const flat: [string, string][] = manifest.contests.flatMap((c) =>
    c.choices.map((k) => [c.id, k.id] as [string, string]),
  );

  // 1. The aggregate.
  if (inp.aggregate === null) {
    if (inp.closed) missing('the election is closed on chain but no aggregate is published');
    return out;
  }
  const parsed = parseAggregate(inp.aggregate, manifest);
  if (typeof parsed === 'string') {
    findings.push(finding('aggregate-mismatch', `the published aggregate ${parsed}`));
    out.aggregate = 'differs';
    return out;
  }
  out.aggregateHash = jcsHash(inp.aggregate);
  const expected = aggregateJson(manifest, inp.manifestHash, pointHex(inp.publicKey), inp.expected);
  const before = findings.length;
  const agg = inp.aggregate as Record<string, unknown>;
  if (agg.electionId !== manifest.electionId || agg.manifestHash !== inp.manifestHash)
    findings.push(finding('aggregate-mismatch', 'the published aggregate is not of this election and manifest'));
  if (agg.publicKey !== expected.publicKey)
    findings.push(
      finding('aggregate-mismatch', `the published aggregate is under key ${short(String(agg.publicKey))}, not H`),
    );
  if (parsed.totalBallots !== inp.expected.totalBallots)
    findings.push(
      finding(
        'aggregate-mismatch',
        `the published aggregate sums ${parsed.totalBallots} ballots, the ledger has ${inp.expected.totalBallots} to count`,
      ),
    );
  for (const [i, [c, k]] of flat.entries()) {
    const at = i * CIPHERTEXT_BYTES;
    const alphaOk = parsed.alpha[i]!.equals(inp.expected.sums.subarray(at, at + 32));
    const betaOk = parsed.beta[i]!.equals(inp.expected.sums.subarray(at + 32, at + 64));
    if (!alphaOk || !betaOk)
      findings.push(
        finding(
          'aggregate-mismatch',
          `the published aggregate's ${alphaOk ? 'beta' : betaOk ? 'alpha' : 'alpha and beta'} of ${c}/${k} ` +
            "is not the sum of the ledger's ballots",
        ),
      );
  }
  out.aggregate = findings.length === before ? 'matches' : 'differs';

  // 2. The partial decryptions, against the published aggregate (what the trustees decrypted).
  const valid: { trustee: string; index: number; shares: Point[] }[] = [];
  for (const d of inp.decrypts) {
    const shares = checkDecryptMessage(d, parsed, flat, inp, out.aggregateHash, findings);
    if (shares !== null) valid.push({ trustee: d.trustee, index: d.index, shares });
  }
  valid.sort((a, b) => a.index - b.index);
  out.validDecryptions = valid.map((v) => v.trustee);

  // 3. The combination.
  const K = manifest.threshold;
  let tally: Tally | null = null;
  if (parsed.totalBallots === 0) {
    tally = tallyOf(manifest, () => 0);
  } else if (valid.length < K) {
    missing(
      `${valid.length} valid partial decryption${valid.length === 1 ? '' : 's'} of the threshold ${K}: ` +
        'the counts cannot be recombined yet',
    );
  } else {
    const chosen = valid.slice(0, K);
    out.combined = chosen.map((v) => v.trustee);
    const lambdas = lagrangeAtZero(chosen.map((v) => v.index));
    const log = new BoundedLog(parsed.totalBallots);
    const counts: number[] = [];
    for (const [i, [c, k]] of flat.entries()) {
      let shared: Point = IDENTITY;
      for (const [j, v] of chosen.entries()) shared = add(shared, mul(v.shares[i]!, lambdas[j]!));
      const n = log.solve(sub(parsed.beta[i]!, shared));
      if (n === null) {
        findings.push(
          finding(
            'decryption-mismatch',
            `${c}/${k}: the shares of ${out.combined.join(', ')} decrypt to no count in 0..${parsed.totalBallots}`,
          ),
        );
      }
      counts.push(n ?? -1);
    }
    if (counts.every((n) => n >= 0)) tally = tallyOf(manifest, (i) => counts[i]!);
  }
  out.tally = tally;

  // 4. The published result.
  if (inp.result === null) {
    if (tally !== null && inp.closed) missing('the election is closed on chain but no decryption is published');
    return out;
  }
  out.published = 'compared';
  findings.push(...compareResult(inp.result, manifest, out, parsed.totalBallots));
  return out;
}

/** The published aggregate read leniently (sums may be the identity), or what is wrong with its shape. */
function parseAggregate(v: unknown, manifest: ManifestV2): ParsedAggregate | string {
  if (!isPlainObject(v) || !hasExactKeys(v, AGGREGATE_KEYS))
    return `must have exactly the keys ${AGGREGATE_KEYS.join(', ')}`;
  if (v.version !== 2) return 'is not version 2';
  const n = v.totalBallots;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) return 'has no totalBallots count';
  const contests = v.contests;
  if (!isPlainObject(contests) || Object.keys(contests).length !== manifest.contests.length)
    return "does not list the manifest's contests";
  const alpha: Point[] = [];
  const beta: Point[] = [];
  for (const c of manifest.contests) {
    const row = ownValue(contests, c.id);
    if (!isPlainObject(row) || Object.keys(row).length !== c.choices.length)
      return `does not list the choices of contest ${c.id}`;
    for (const k of c.choices) {
      const cell = ownValue(row, k.id);
      if (!isPlainObject(cell) || !hasExactKeys(cell, ['alpha', 'beta']))
        return `has no {"alpha","beta"} for ${c.id}/${k.id}`;
      const a = decodeSum(cell.alpha);
      const b = decodeSum(cell.beta);
      if (a === null || b === null) return `has a point for ${c.id}/${k.id} that is not a sum of group elements`;
      alpha.push(a);
      beta.push(b);
    }
  }
  return { totalBallots: n, alpha, beta };
}

/** A decrypt message's shares when every one checks; findings name the trustee, contest and choice. */
function checkDecryptMessage(
  d: DecryptMessage,
  aggregate: ParsedAggregate,
  flat: readonly [string, string][],
  inp: DecryptionInputs,
  aggregateHash: string,
  findings: Finding[],
): Point[] | null {
  const bad = (message: string): void =>
    void findings.push(finding('partial-decryption-invalid', message, { trustee: d.trustee }));
  if (d.message.aggregateHash !== aggregateHash) {
    bad(`trustee ${d.trustee} decrypted aggregate ${short(String(d.message.aggregateHash))}, not the published one`);
    return null;
  }
  const shares = d.message.shares;
  const contestCount = inp.manifest.contests.length;
  if (!isPlainObject(shares) || Object.keys(shares).length !== contestCount) {
    bad(`trustee ${d.trustee}: the decrypt message's shares do not list the manifest's contests`);
    return null;
  }
  const verificationKey = inp.verificationKeys.get(d.trustee)!;
  const out: Point[] = [];
  let ok = true;
  for (const [i, [c, k]] of flat.entries()) {
    const row = ownValue(shares, c);
    const expectedChoices = inp.manifest.contests.find((x) => x.id === c)!.choices.length;
    const cell = isPlainObject(row) && Object.keys(row).length === expectedChoices ? ownValue(row, k) : undefined;
    const at = `trustee ${d.trustee}, ${c}/${k}`;
    if (!isPlainObject(cell) || !hasExactKeys(cell, ['share', 'proof'])) {
      bad(`${at}: no {"share","proof"} (or the contest lists other choices)`);
      ok = false;
      continue;
    }
    const share = decodeElement(cell.share);
    const pair = readPair(cell.proof);
    if (share === null || pair === null) {
      bad(`${at}: the share is not a group element, or its proof not {"c","s"} of canonical scalars`);
      ok = false;
      continue;
    }
    const statement = {
      electionId: inp.manifest.electionId,
      manifestHash: inp.manifestHash,
      aggregateHash,
      trustee: d.trustee,
      contest: c,
      choice: k,
      alpha: aggregate.alpha[i]!,
      share,
      verificationKey,
    };
    if (!verifyDecryptShare(statement, pair.c, pair.s)) {
      bad(`${at}: the partial decryption's proof does not verify`);
      ok = false;
      continue;
    }
    out.push(share);
  }
  return ok ? out : null;
}

/** λ_j = Π_{m∈S, m≠j} m·(m−j)^{−1} mod ℓ for each j of `indexes` (distinct trustee indexes). */
export function lagrangeAtZero(indexes: readonly number[]): bigint[] {
  return indexes.map((j) => {
    let lambda = 1n;
    for (const m of indexes) {
      if (m === j) continue;
      lambda = mulScalars(lambda, mulScalars(BigInt(m), invertScalar(subScalars(BigInt(m), BigInt(j)))));
    }
    return lambda;
  });
}

/** n·G = M for n ∈ [0, max], by baby-step giant-step with a table of ⌈√(max+1)⌉ points. */
export class BoundedLog {
  private readonly baby = new Map<string, number>();
  private readonly step: number;
  private readonly giant: Point;

  constructor(private readonly max: number) {
    this.step = Math.max(1, Math.ceil(Math.sqrt(max + 1)));
    let p: Point = IDENTITY;
    const g = mulBase(1n);
    for (let j = 0; j < this.step; j++) {
      this.baby.set(p.toString('latin1'), j);
      p = add(p, g);
    }
    this.giant = mulBase(BigInt(this.step));
  }

  solve(m: Point): number | null {
    let q = m;
    for (let i = 0; i * this.step <= this.max; i++) {
      const j = this.baby.get(q.toString('latin1'));
      if (j !== undefined) {
        const n = i * this.step + j;
        return n <= this.max ? n : null;
      }
      q = sub(q, this.giant);
    }
    return null;
  }
}

function tallyOf(manifest: ManifestV2, count: (flatIndex: number) => number): Tally {
  let i = 0;
  return Object.fromEntries(
    manifest.contests.map((c) => [c.id, Object.fromEntries(c.choices.map((k) => [k.id, count(i++)]))]),
  );
}

/** GET …/decryption against the recombination. */
function compareResult(result: unknown, manifest: ManifestV2, check: DecryptionCheck, totalBallots: number): Finding[] {
  const out: Finding[] = [];
  const differs = (message: string): void => void out.push(finding('decryption-mismatch', message));
  if (!isPlainObject(result) || !hasExactKeys(result, RESULT_KEYS)) {
    differs(`the published decryption must have exactly the keys ${RESULT_KEYS.join(', ')}`);
    return out;
  }
  if (result.version !== 2 || result.electionId !== manifest.electionId)
    differs('the published decryption is not a version 2 result of this election');
  if (result.aggregateHash !== check.aggregateHash)
    differs(`the published decryption is of aggregate ${short(String(result.aggregateHash))}, not the published one`);
  if (result.totalBallots !== totalBallots)
    differs(`the published decryption counts ${String(result.totalBallots)} ballots, the aggregate ${totalBallots}`);
  if (check.tally === null) {
    differs('a decryption is published, but no valid partial decryptions give its counts');
    return out;
  }
  if (totalBallots > 0 && jcs(result.trustees ?? null) !== jcs(check.combined))
    differs(
      `the published decryption names trustees ${jcs(result.trustees ?? null).slice(0, 200)}, the first ` +
        `${manifest.threshold} valid by index are ${jcs(check.combined)}`,
    );
  const tally = result.tally;
  for (const [c, choices] of Object.entries(check.tally)) {
    const row = isPlainObject(tally) ? ownValue(tally, c) : undefined;
    for (const [k, n] of Object.entries(choices)) {
      const stated = isPlainObject(row) ? ownValue(row, k) : undefined;
      if (stated !== n)
        differs(
          `the published decryption gives ${c}/${k} = ${stated === undefined ? 'nothing' : String(stated)}, the shares ${n}`,
        );
    }
  }
  if (isPlainObject(tally) && jcs(tally) !== jcs(check.tally) && out.length === 0)
    differs('the published decryption lists contests or choices the manifest does not have');
  return out;
}
