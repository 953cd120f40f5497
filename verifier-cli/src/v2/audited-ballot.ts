// `tallyproof-verify audited-ballot FILE`: an audited ballot's opening (docs/protocol.md 12.8, the Benaloh
// challenge) checked from the text — its ballotHash is the submission's, and every choice opens:
// α = r·G and β = m·G + r·H with m = 1 when selected; the selections respect the manifest. The
// submission's validity (shape, proofs, signature) is checked too: a device must not show a ballot it
// could not have cast. It prints what the ballot encrypted.
// The manifest and the election key come from the server (--api: the election, and H computed from the
// key ceremony's transcript, never taken from the server's word) or from files (--manifest with
// --public-key or --trustee-messages).
import type { Engine } from '../ed25519.js';
import { finding, InputError, type Finding } from '../errors.js';
import { isHex, short, toHex } from '../hex.js';
import { hasExactKeys, isPlainObject, manifestHash, ownValue } from '../protocol.js';
import { apiBase, getJson } from '../sources/http.js';
import { parseJson, readText } from '../sources/source.js';
import { ballotV2Context, checkSubmissionV2, submissionHash } from './ballot.js';
import { add, decodeElement, decodeScalar, mul, mulBase, pointHex, type Point } from './group.js';
import { manifestV2Problem, type ManifestV2 } from './manifest.js';
import { checkTranscript } from './trustees.js';

const OPENING_KEYS = ['version', 'kind', 'submission', 'ballotHash', 'openings'];

export interface AuditedBallotReport {
  tool: 'tallyproof-verify audited-ballot';
  file: string;
  electionId: string | null;
  ballotHash: string | null;
  /** The election key the ballot was checked against, and where it came from. */
  publicKey: string | null;
  publicKeyFrom: 'transcript' | 'argument' | null;
  /** What the ballot encrypted: per contest, the selected choices (manifest order); null when it does not open. */
  selections: Record<string, string[]> | null;
  passed: string[];
  verdict: 'checks' | 'fails';
  findings: Finding[];
}

export interface AuditedBallotOptions {
  file: string;
  api?: string;
  manifest?: string;
  publicKey?: string;
  trusteeMessages?: string;
  engine?: Engine;
}

/** Reads the opening, the manifest and H, and checks the opening. */
export async function runAuditedBallot(opts: AuditedBallotOptions): Promise<AuditedBallotReport> {
  const opening = parseJson(await readText(opts.file, 'audited ballot'), `audited ballot file ${opts.file}`);
  const electionId = electionIdOf(opening);
  const findings: Finding[] = [];
  let manifest: unknown;
  let transcript: unknown = null;
  let claimedKey: string | undefined;
  if (opts.api !== undefined) {
    if (opts.manifest !== undefined || opts.publicKey !== undefined || opts.trusteeMessages !== undefined)
      throw new InputError('give either --api, or --manifest with --public-key or --trustee-messages, not both');
    if (electionId === null) throw new InputError(`${opts.file} names no election (submission.ballot.electionId)`);
    const base = `${apiBase(opts.api)}/api/v1/elections/${encodeURIComponent(electionId)}`;
    const election = await getJson(base);
    if (!isPlainObject(election) || !Object.hasOwn(election, 'manifest'))
      throw new InputError(`GET ${base} did not return {"manifest",…}`);
    manifest = election.manifest;
    const encryption = election.encryption;
    if (isPlainObject(encryption) && typeof encryption.publicKey === 'string') claimedKey = encryption.publicKey;
    transcript = await getJson(`${base}/trustee-messages`, true);
    if (transcript === null) throw new InputError(`GET ${base}/trustee-messages answered 404: no key ceremony`);
  } else {
    if (opts.manifest === undefined || (opts.publicKey === undefined) === (opts.trusteeMessages === undefined))
      throw new InputError(
        'give --api URL, or --manifest FILE with one of --public-key HEX or --trustee-messages FILE',
      );
    const value = parseJson(await readText(opts.manifest, 'manifest'), `manifest file ${opts.manifest}`);
    manifest = isPlainObject(value) && Object.hasOwn(value, 'manifest') ? value.manifest : value;
    if (opts.trusteeMessages !== undefined)
      transcript = parseJson(
        await readText(opts.trusteeMessages, 'trustee messages'),
        `trustee messages file ${opts.trusteeMessages}`,
      );
  }

  const report: AuditedBallotReport = {
    tool: 'tallyproof-verify audited-ballot',
    file: opts.file,
    electionId,
    ballotHash: null,
    publicKey: null,
    publicKeyFrom: null,
    selections: null,
    passed: [],
    verdict: 'fails',
    findings,
  };
  const problem = manifestV2Problem(manifest);
  if (problem !== null) {
    findings.push(finding('manifest-invalid', `not an encrypted election's manifest: ${problem}`));
    return report;
  }
  const m = manifest as ManifestV2;
  const hash = toHex(manifestHash(manifest));
  let publicKey: Point | null = null;
  if (transcript !== null) {
    const check = checkTranscript(transcript, m, hash, opts.engine);
    findings.push(...check.findings);
    publicKey = check.publicKey;
    report.publicKeyFrom = 'transcript';
    if (publicKey !== null && claimedKey !== undefined && claimedKey !== pointHex(publicKey))
      findings.push(
        finding(
          'transcript-invalid',
          `the server names election key ${short(claimedKey)}, its transcript gives ${short(pointHex(publicKey))}`,
        ),
      );
  } else {
    publicKey = decodeElement(opts.publicKey);
    report.publicKeyFrom = 'argument';
    if (publicKey === null) throw new InputError('--public-key must be a group element (32-byte lowercase hex)');
  }
  if (publicKey === null) return report;
  report.publicKey = pointHex(publicKey);
  const opened = checkAuditedBallot(opening, m, hash, publicKey, opts.engine);
  findings.push(...opened.findings);
  report.passed.push(...opened.passed);
  report.ballotHash = opened.ballotHash;
  report.selections = opened.selections;
  report.verdict = findings.some((f) => f.severity === 'error') ? 'fails' : 'checks';
  return report;
}

function electionIdOf(opening: unknown): string | null {
  if (!isPlainObject(opening) || !isPlainObject(opening.submission)) return null;
  const ballot = opening.submission.ballot;
  return isPlainObject(ballot) && typeof ballot.electionId === 'string' ? ballot.electionId : null;
}

export interface OpeningCheck {
  findings: Finding[];
  passed: string[];
  ballotHash: string | null;
  selections: Record<string, string[]> | null;
}

/** The opening against the manifest and H. Never throws on bad input. */
export function checkAuditedBallot(
  opening: unknown,
  manifest: ManifestV2,
  manifestHashHex: string,
  publicKey: Point,
  engine: Engine = 'node',
): OpeningCheck {
  const out: OpeningCheck = { findings: [], passed: [], ballotHash: null, selections: null };
  const fail = (code: Finding['code'], message: string): OpeningCheck => {
    out.findings.push(finding(code, message));
    return out;
  };
  if (!isPlainObject(opening) || !hasExactKeys(opening, OPENING_KEYS))
    return fail('opening-mismatch', `an audited ballot has exactly the keys ${OPENING_KEYS.join(', ')}`);
  if (opening.version !== 2 || opening.kind !== 'audited-ballot')
    return fail('opening-mismatch', 'not a version 2 "audited-ballot"');
  const submission = opening.submission;
  if (
    !isPlainObject(submission) ||
    !hasExactKeys(submission, ['ballot', 'signature']) ||
    !isHex(submission.signature, 64)
  )
    return fail('opening-mismatch', 'the submission is not {"ballot","signature"} with a 64-byte hex signature');

  // The hash shown to the voter before the choice to cast or audit.
  const hash = submissionHash(submission.ballot, submission.signature);
  out.ballotHash = hash;
  if (opening.ballotHash !== hash)
    out.findings.push(
      finding(
        'opening-mismatch',
        `ballotHash is ${short(String(opening.ballotHash))}, the submission's is ${short(hash)}`,
      ),
    );
  else out.passed.push(`ballotHash ${hash} is the submission's`);

  // The ballot as it would have been cast.
  const ctx = ballotV2Context(manifest, manifestHashHex, pointHex(publicKey));
  const valid = checkSubmissionV2(submission, ctx, engine);
  if (valid.ok) out.passed.push("the ballot is valid: every proof and the credential's signature verify");
  else out.findings.push(finding(valid.code, valid.problem));

  // Every choice opens.
  const contests = isPlainObject(submission.ballot) ? submission.ballot.contests : undefined;
  const openings = opening.openings;
  if (!isPlainObject(openings) || Object.keys(openings).length !== manifest.contests.length)
    return fail('opening-mismatch', "openings must list the manifest's contests");
  const selections: Record<string, string[]> = {};
  for (const c of manifest.contests) {
    const list = ownValue(openings, c.id);
    const cast = isPlainObject(contests) ? ownValue(contests, c.id) : undefined;
    const castChoices = isPlainObject(cast) && Array.isArray(cast.choices) ? cast.choices : [];
    if (!Array.isArray(list) || list.length !== c.choices.length)
      return fail(
        'opening-mismatch',
        `openings of ${c.id} must list its ${c.choices.length} choices in manifest order`,
      );
    const chosen: string[] = [];
    for (const [k, choice] of c.choices.entries()) {
      const at = `${c.id}/${choice.id}`;
      const o: unknown = list[k];
      if (!isPlainObject(o) || !hasExactKeys(o, ['selected', 'randomness']) || typeof o.selected !== 'boolean')
        return fail('opening-mismatch', `the opening of ${at} must be {"selected": true|false, "randomness"}`);
      const r = decodeScalar(o.randomness);
      if (r === null) return fail('opening-mismatch', `the randomness of ${at} is not a canonical scalar`);
      const ciphertext: unknown = castChoices[k];
      const alpha = isPlainObject(ciphertext) ? decodeElement(ciphertext.alpha) : null;
      const beta = isPlainObject(ciphertext) ? decodeElement(ciphertext.beta) : null;
      if (alpha === null || beta === null) return fail('opening-mismatch', `the ballot has no ciphertext for ${at}`);
      const m = o.selected ? 1n : 0n;
      if (!alpha.equals(mulBase(r)) || !beta.equals(add(mulBase(m), mul(publicKey, r))))
        return fail(
          'opening-mismatch',
          `${at} does not encrypt ${o.selected ? 'a selection' : 'no selection'} with the randomness given: ` +
            'the device encrypted something else than it shows',
        );
      if (o.selected) chosen.push(choice.id);
    }
    if (chosen.length < c.minSelections || chosen.length > c.maxSelections)
      return fail(
        'ballot-invalid',
        `${c.id}: ${chosen.length} selections opened, the manifest allows ${c.minSelections}..${c.maxSelections}`,
      );
    selections[c.id] = chosen;
  }
  out.passed.push('every choice opens to its ciphertext with the randomness given');
  out.selections = selections;
  return out;
}

/** The report as text. */
export function formatAuditedBallot(r: AuditedBallotReport): string {
  const lines = [
    `Audited ballot ${r.ballotHash ?? '(no hash)'}${r.electionId === null ? '' : ` of election ${r.electionId}`}`,
  ];
  if (r.publicKey !== null) lines.push(`  election key ${r.publicKey} (from the ${r.publicKeyFrom})`);
  for (const p of r.passed) lines.push(`  ✓ ${p}`);
  for (const f of r.findings) lines.push(`  ${f.severity === 'error' ? '✗' : '!'} ${f.code.padEnd(22)} ${f.message}`);
  if (r.selections !== null) {
    lines.push('', 'It encrypted:');
    for (const [c, ks] of Object.entries(r.selections))
      lines.push(`  ${c}: ${ks.length === 0 ? '(nothing)' : ks.join(', ')}`);
  }
  lines.push('');
  lines.push(
    r.verdict === 'checks'
      ? 'CHECKS: the ballot encrypts what is shown above; it was opened, so it can never be cast.'
      : 'FAILS: the opening does not check out (see above).',
  );
  return lines.join('\n') + '\n';
}
