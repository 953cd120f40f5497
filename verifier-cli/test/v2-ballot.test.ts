// A v2 ballot's validity (docs/protocol.md 12.4), the transcript (12.3, 12.7), the decryption (12.5) and an
// audited ballot's opening (12.8), each on elections built by the test prover, then tampered: every
// problem is returned with the contest and choice (or trustee) it concerns, and hostile input — a few
// hundred random mutations of a valid ballot — gives a problem, never an exception.
import { describe, expect, it } from 'vitest';
import { ballotV2Context, checkBallotV2, checkSubmissionV2, flatChoiceCount } from '../src/v2/ballot.js';
import { checkAuditedBallot } from '../src/v2/audited-ballot.js';
import { blockSums } from '../src/v2/aggregate.js';
import { checkDecryption, jcsHash, type DecryptionInputs } from '../src/v2/decryption.js';
import { add, BASE, decodeElement, mod, mulBase, pointHex, scalarHex } from '../src/v2/group.js';
import type { ManifestV2 } from '../src/v2/manifest.js';
import { manifestV2Problem } from '../src/v2/manifest.js';
import { checkTranscript } from '../src/v2/trustees.js';
import { jcsText, makeVoter, manifestHashHex } from './support/election.js';
import {
  aggregateOf,
  buildEncryptedElection,
  castEncryptedBallot,
  decryptMessage,
  hexProof,
  signTrusteeMessage,
  transcriptOf,
  type BallotV2Json,
} from './v2-support/election.js';
import { encrypt, proveDisjunctive, seededRng } from './v2-support/prover.js';

const e = buildEncryptedElection({ electionId: 'ballot-test', voters: 4, windowSizes: [4], decryptBy: [1, 2, 3] });
const manifest = e.manifest as unknown as ManifestV2;
const manifestHash = manifestHashHex(e.manifest);
const ctx = ballotV2Context(manifest, manifestHash, pointHex(e.ceremony.publicKey));
const ballot = (): BallotV2Json => structuredClone(e.rows[0]!.ballot);
const problem = (b: unknown): string => {
  const check = checkBallotV2(b, ctx);
  return check.ok ? 'ok' : `${check.code}: ${check.problem}`;
};

describe('v2 manifest', () => {
  it('the built manifest is valid; each v2 rule is enforced', () => {
    expect(manifestV2Problem(e.manifest)).toBeNull();
    const bad = (patch: Record<string, unknown>) => manifestV2Problem({ ...e.manifest, ...patch });
    expect(bad({ ballotMode: 'plaintext' })).toMatch(/ballotMode/);
    expect(bad({ threshold: 4 })).toMatch(/threshold/);
    expect(bad({ threshold: 0 })).toMatch(/threshold/);
    expect(bad({ trustees: [] })).toMatch(/trustees/);
    expect(bad({ trustees: [e.manifest.trustees[0], e.manifest.trustees[0]] })).toMatch(/unique/);
    expect(bad({ trustees: [{ id: 'x', key: '01' + '00'.repeat(31) }], threshold: 1 })).toMatch(/small-order/);
    expect(bad({ version: 1 })).toMatch(/version must be 2/);
    expect(bad({ windowSeconds: 0 })).toMatch(/windowSeconds/);
    const many = Array.from({ length: 65 }, (_, i) => ({ id: `c${i}`, label: 'x' }));
    expect(bad({ contests: [{ id: 'big', title: 't', choices: many, minSelections: 0, maxSelections: 1 }] })).toMatch(
      /at most 64 choices/,
    );
  });
});

describe('v2 ballot validity', () => {
  it('every ballot of the election is valid, with its ciphertexts in manifest order', () => {
    for (const row of e.rows) {
      const check = checkBallotV2(row.ballot, ctx);
      expect(check.ok).toBe(true);
      if (!check.ok) continue;
      expect(check.ciphertexts.length).toBe(flatChoiceCount(ctx) * 64);
      const first = row.ballot.contests.q1!.choices[0]!;
      expect(Buffer.from(check.ciphertexts.subarray(0, 64)).toString('hex')).toBe(first.alpha + first.beta);
    }
  });

  it('shape problems are ballot-invalid', () => {
    const b = ballot();
    expect(problem({ ...b, extra: 1 })).toMatch(/^ballot-invalid: the ballot must have exactly the keys/);
    expect(problem({ ...b, version: 1 })).toMatch(/^ballot-invalid: ballot.version must be 2/);
    expect(problem({ ...b, electionId: 'other' })).toMatch(/^ballot-invalid: ballot.electionId/);
    const { council: _, ...onlyQ1 } = b.contests;
    expect(problem({ ...b, contests: onlyQ1 })).toMatch(/^ballot-invalid: a contest is missing/);
    expect(problem({ ...b, contests: { ...onlyQ1, mayor: b.contests.council } })).toMatch(/unknown contest "mayor"/);
    const fewer = ballot();
    fewer.contests.council!.choices.pop();
    expect(problem(fewer)).toMatch(/^ballot-invalid: contest council must have 3 choices/);
    const upper = ballot();
    upper.contests.council!.choices[1]!.alpha = upper.contests.council!.choices[1]!.alpha.toUpperCase();
    expect(problem(upper)).toMatch(/^ballot-invalid: contest council choice bo: alpha and beta must be/);
    const branches = ballot();
    branches.contests.council!.proof.c.pop();
    expect(problem(branches)).toMatch(/^ballot-invalid: contest council: its proof must have 3 c and 3 s/);
  });

  it('a point that is not a group element, or a scalar >= ℓ, is invalid-proof naming the contest and choice', () => {
    const small = ballot();
    small.contests.council!.choices[2]!.beta = 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f';
    expect(problem(small)).toBe('invalid-proof: contest council choice chloe: beta is not a group element');
    const identity = ballot();
    identity.contests.q1!.choices[0]!.alpha = '01' + '00'.repeat(31);
    expect(problem(identity)).toBe('invalid-proof: contest q1 choice oui: alpha is not a group element');
    const big = ballot();
    big.contests.q1!.choices[1]!.proof.s[0] = 'ff'.repeat(32);
    expect(problem(big)).toMatch(/^invalid-proof: contest q1 choice non: its proof has a scalar that is not canonical/);
  });

  it('proofs bind the choice, the order and the credential', () => {
    const swapped = ballot();
    const [a, b] = swapped.contests.council!.choices;
    swapped.contests.council!.choices[0] = b!;
    swapped.contests.council!.choices[1] = a!;
    expect(problem(swapped)).toBe(
      'invalid-proof: contest council choice ana: the proof that it encrypts 0 or 1 does not verify',
    );
    // A ciphertext (with its proof) copied into another voter's ballot.
    const copied = structuredClone(e.rows[1]!.ballot);
    copied.contests.q1!.choices[0] = ballot().contests.q1!.choices[0]!;
    expect(problem(copied)).toMatch(/^invalid-proof: contest q1 choice oui: the proof/);
    // The whole contest copied: the choices' proofs name another credential.
    const wholesale = structuredClone(e.rows[1]!.ballot);
    wholesale.contests = ballot().contests;
    expect(problem(wholesale)).toMatch(/^invalid-proof: contest q1 choice oui/);
  });

  it('a voter selecting two choices of a 1-of-2 contest: each choice proves 0 or 1, the contest does not', () => {
    const voter = makeVoter('ballot-test-cheat');
    const rng = seededRng('cheat');
    const row = castEncryptedBallot(voter, e.manifest, e.ceremony.publicKey, { q1: ['oui'], council: [] }, 0, rng);
    const cheat = structuredClone(row.ballot);
    // Re-encrypt "non" as selected, with a valid choice proof: both choices now encrypt 1.
    const r = rng();
    const { alpha, beta } = encrypt(1, r, e.ceremony.publicKey);
    const st = {
      electionId: e.electionId,
      manifestHash,
      publicKey: e.ceremony.publicKey,
      publicKeyHex: pointHex(e.ceremony.publicKey),
      credential: voter.credential,
      contest: 'q1',
      choice: 'non',
      alpha,
      beta,
      values: [0, 1],
    };
    cheat.contests.q1!.choices[1] = {
      alpha: pointHex(alpha),
      beta: pointHex(beta),
      proof: hexProof(proveDisjunctive(st, 1, r, rng)),
    };
    expect(problem(row.ballot)).toBe('ok');
    expect(problem(cheat)).toBe('invalid-proof: contest q1: the proof that 1 choice is selected does not verify');
  });

  it('a submission: validity, then the signature by the credential (strict), and the ballot hash', () => {
    const row = e.rows[2]!;
    const ok = checkSubmissionV2({ ballot: row.ballot, signature: row.signature }, ctx);
    expect(ok).toMatchObject({ ok: true, ballotHash: row.ballotHash });
    const other = makeVoter('someone-else');
    const forged = other.sign(Buffer.from(`tallyproof:ballot:v2:${row.ballotText}`)).toString('hex');
    expect(checkSubmissionV2({ ballot: row.ballot, signature: forged }, ctx)).toMatchObject({
      ok: false,
      code: 'bad-signature',
    });
    const v1Signed = e.voters[2]!.sign(Buffer.from(`tallyproof:ballot:v1:${row.ballotText}`)).toString('hex');
    expect(checkSubmissionV2({ ballot: row.ballot, signature: v1Signed }, ctx)).toMatchObject({
      code: 'bad-signature',
    });
  });

  it('hostile input: 400 random mutations of a valid ballot each give a problem, none throws', () => {
    const rng = seededRng('mutations');
    const pick = (n: number): number => Number(rng() % BigInt(n));
    const junk = [
      null,
      0,
      -1,
      1.5,
      '',
      'zz',
      true,
      [],
      {},
      '00'.repeat(32),
      'ff'.repeat(32),
      '01' + '00'.repeat(31),
      'x'.repeat(64),
    ];
    for (let i = 0; i < 400; i++) {
      const b = JSON.parse(jcsText(ballot()));
      // Walk to a random leaf and replace it (or a random container).
      let node: unknown = b;
      let parent: Record<string, unknown> | unknown[] = b;
      let key: string | number = 'contests';
      for (let depth = 0; depth < 8 && typeof node === 'object' && node !== null; depth++) {
        const keys = Array.isArray(node) ? node.map((_, k) => k) : Object.keys(node);
        if (keys.length === 0) break;
        parent = node as Record<string, unknown>;
        key = keys[pick(keys.length)]!;
        node = (node as Record<string | number, unknown>)[key];
        if (pick(4) === 0) break;
      }
      (parent as Record<string | number, unknown>)[key] = junk[pick(junk.length)];
      let check: ReturnType<typeof checkBallotV2> | undefined;
      expect(() => {
        check = checkBallotV2(b, ctx);
      }).not.toThrow();
      if (jcsText(b) !== jcsText(ballot())) expect(check!.ok, jcsText(b).slice(0, 200)).toBe(false);
    }
    for (const v of [null, 1, 'ballot', [], { version: 2 }]) expect(checkBallotV2(v, ctx).ok).toBe(false);
  });
});

describe('v2 transcript', () => {
  const transcript = transcriptOf(e);

  it('the ceremony and decrypts check: H, every X_j, complete', () => {
    const check = checkTranscript(transcript, manifest, manifestHash);
    expect(check.findings).toEqual([]);
    expect(check.complete).toBe(true);
    expect(pointHex(check.publicKey!)).toBe(pointHex(e.ceremony.publicKey));
    expect(check.decrypts.map((d) => [d.trustee, d.index])).toEqual([
      ['trustee-a', 1],
      ['trustee-b', 2],
      ['trustee-c', 3],
    ]);
  });

  const named = (t: unknown): string[] =>
    checkTranscript(t, manifest, manifestHash).findings.map((f) => `${f.code}${f.trustee ? `@${f.trustee}` : ''}`);

  it('a confirm with another election key (re-signed) names its trustee', () => {
    const messages = structuredClone(transcript.messages);
    const confirm = messages.findIndex((m) => m.message.kind === 'keygen-confirm' && m.message.trustee === 'trustee-b');
    messages[confirm] = signTrusteeMessage(e.trustees[1]!, {
      ...messages[confirm]!.message,
      publicKey: pointHex(BASE),
    });
    expect(named({ ...transcript, messages })).toEqual(['trustee-message-invalid@trustee-b', 'transcript-invalid']);
  });

  it('a repeated message, and a message posted out of phase, name their trustee', () => {
    const messages = structuredClone(transcript.messages);
    expect(named({ ...transcript, messages: [...messages.slice(0, 1), messages[0]!, ...messages.slice(1)] })).toEqual([
      'trustee-message-invalid@trustee-a',
    ]);
    // trustee-a's shares before trustee-c's commit
    const early = [messages[0]!, messages[1]!, messages[3]!, messages[2]!, ...messages.slice(4)];
    expect(named({ ...transcript, messages: early })[0]).toBe('trustee-message-invalid@trustee-a');
  });

  it('what the board publishes beside the messages must agree with them', () => {
    expect(named({ ...transcript, publicKey: pointHex(mulBase(5n)) })).toEqual(['transcript-invalid']);
    expect(named({ ...transcript, keyCeremony: 'in-progress' })).toEqual(['transcript-invalid']);
    expect(named({ ...transcript, threshold: 3 })).toEqual(['transcript-invalid']);
    const withoutConfirm = transcript.messages.filter(
      (m) => !(m.message.kind === 'keygen-confirm' && m.message.trustee === 'trustee-c'),
    );
    const check = checkTranscript({ ...transcript, messages: withoutConfirm.slice(0, 8) }, manifest, manifestHash);
    expect(check.complete).toBe(false);
    expect(check.publicKey).not.toBeNull(); // H follows from the commits alone
  });

  it('hostile transcripts give findings, never exceptions', () => {
    for (const t of [
      null,
      [],
      { ...transcript, messages: 'x' },
      { ...transcript, messages: [null, 1, { message: 1 }] },
    ])
      expect(() => checkTranscript(t, manifest, manifestHash)).not.toThrow();
    expect(
      named({
        ...transcript,
        messages: [{ message: { trustee: 'trustee-a', kind: 'keygen-commit' }, signature: 'zz' }],
      })[0],
    ).toBe('trustee-message-invalid@trustee-a');
  });
});

describe('v2 decryption', () => {
  const check = checkTranscript(transcriptOf(e), manifest, manifestHash);
  const sums = (rows = e.rows) => {
    const n = flatChoiceCount(ctx);
    const packed = new Uint8Array(rows.length * n * 64);
    for (const [i, r] of rows.entries()) {
      const c = checkBallotV2(r.ballot, ctx);
      if (c.ok) packed.set(c.ciphertexts, i * n * 64);
    }
    return blockSums(packed, rows.length, n, () => true);
  };
  const inputs = (patch: Partial<DecryptionInputs> = {}): DecryptionInputs => ({
    manifest,
    manifestHash,
    publicKey: e.ceremony.publicKey,
    verificationKeys: check.verificationKeys!,
    decrypts: check.decrypts,
    expected: { sums: sums(), totalBallots: e.rows.length },
    aggregate: e.aggregate,
    result: e.decryption,
    closed: true,
    ...patch,
  });

  it('the aggregate matches, every share checks, the first K by index are combined', () => {
    const d = checkDecryption(inputs());
    expect(d.findings).toEqual([]);
    expect(d.aggregate).toBe('matches');
    expect(d.validDecryptions).toEqual(['trustee-a', 'trustee-b', 'trustee-c']);
    expect(d.combined).toEqual(['trustee-a', 'trustee-b']);
    expect(d.tally).toEqual(e.tally);
  });

  it('a decrypt of another aggregate, and a share that fails, are named; the remaining K still decrypt', () => {
    const other = { ...check.decrypts[0]!, message: { ...check.decrypts[0]!.message, aggregateHash: '00'.repeat(32) } };
    const message = structuredClone(check.decrypts[1]!.message) as {
      shares: Record<string, Record<string, { share: string }>>;
    };
    message.shares.q1!.non!.share = pointHex(add(decodeElement(message.shares.q1!.non!.share)!, BASE));
    const bad = { ...check.decrypts[1]!, message: message as unknown as Record<string, unknown> };
    const d = checkDecryption(
      inputs({ decrypts: [other, bad, check.decrypts[2]!], result: { ...e.decryption, trustees: ['trustee-c'] } }),
    );
    expect(d.findings.map((f) => `${f.code}@${f.trustee}@${f.severity}`)).toEqual([
      'partial-decryption-invalid@trustee-a@error',
      'partial-decryption-invalid@trustee-b@error',
      'decryption-incomplete@undefined@error',
      'decryption-mismatch@undefined@error',
    ]);
    expect(d.findings[1]!.message).toMatch(
      /trustee trustee-b, q1\/non: the partial decryption's proof does not verify/,
    );
    expect(d.tally).toBeNull();
    // With a and c valid, a and c decrypt.
    const ac = checkDecryption(
      inputs({ decrypts: [check.decrypts[0]!, bad, check.decrypts[2]!], result: null, closed: false }),
    );
    expect(ac.combined).toEqual(['trustee-a', 'trustee-c']);
    expect(ac.tally).toEqual(e.tally);
  });

  it('fewer than K: a warning while not closed on chain', () => {
    const d = checkDecryption(inputs({ decrypts: check.decrypts.slice(0, 1), result: null, closed: false }));
    expect(d.findings.map((f) => `${f.code}:${f.severity}`)).toEqual(['decryption-incomplete:warning']);
  });

  it('an aggregate that sums to no count in [0, N] is a decryption-mismatch naming the choice', () => {
    // The published aggregate claims 1 ballot, but its ciphertexts are the sum of all 4 ballots.
    const aggregate = { ...e.aggregate, totalBallots: 1 };
    const decrypts = [e.trustees[0]!, e.trustees[1]!].map((t) =>
      decryptMessage(e.manifest, t, aggregate, seededRng('d')),
    );
    const transcript = checkTranscript(transcriptOf(e, [...e.ceremony.messages, ...decrypts]), manifest, manifestHash);
    const d = checkDecryption(inputs({ decrypts: transcript.decrypts, aggregate, result: null }));
    const codes = d.findings.map((f) => f.code);
    expect(codes).toContain('aggregate-mismatch');
    expect(codes).toContain('decryption-mismatch');
    expect(d.findings.find((f) => f.code === 'decryption-mismatch')!.message).toMatch(/decrypt to no count in 0\.\.1/);
  });

  it('no ballot: every count is 0 without any decryption', () => {
    const empty = aggregateOf(e.manifest, e.ceremony.publicKey, []);
    const d = checkDecryption(
      inputs({
        decrypts: [],
        expected: { sums: sums([]), totalBallots: 0 },
        aggregate: empty,
        result: { ...e.decryption, aggregateHash: jcsHash(empty), trustees: [], totalBallots: 0, tally: zeroTally() },
      }),
    );
    expect(d.findings).toEqual([]);
    expect(d.tally).toEqual(zeroTally());
  });
});

function zeroTally() {
  return { q1: { oui: 0, non: 0 }, council: { ana: 0, bo: 0, chloe: 0 } };
}

describe('v2 audited ballot', () => {
  const row = e.rows[3]!;
  const opening = (selectedFlip?: [string, number], randomnessShift = 0n) => ({
    version: 2,
    kind: 'audited-ballot',
    submission: { ballot: row.ballot, signature: row.signature },
    ballotHash: row.ballotHash,
    openings: Object.fromEntries(
      e.manifest.contests.map((c) => [
        c.id,
        c.choices.map((k, i) => {
          const flip = selectedFlip !== undefined && selectedFlip[0] === c.id && selectedFlip[1] === i;
          return {
            selected: row.selections[c.id]!.includes(k.id) !== flip,
            randomness: scalarHex(mod(row.randomness[c.id]![i]! + (flip ? 0n : randomnessShift))),
          };
        }),
      ]),
    ),
  });

  it('opens to its selections', () => {
    const check = checkAuditedBallot(opening(), manifest, manifestHash, e.ceremony.publicKey);
    expect(check.findings).toEqual([]);
    expect(check.selections).toEqual(row.selections);
    expect(check.ballotHash).toBe(row.ballotHash);
  });

  it('a device that shows another choice than it encrypted is caught, and so is a wrong hash', () => {
    const flipped = checkAuditedBallot(opening(['council', 1]), manifest, manifestHash, e.ceremony.publicKey);
    expect(flipped.findings.map((f) => f.code)).toEqual(['opening-mismatch']);
    expect(flipped.findings[0]!.message).toMatch(/council\/bo does not encrypt/);
    expect(flipped.selections).toBeNull();
    const wrongR = checkAuditedBallot(opening(undefined, 1n), manifest, manifestHash, e.ceremony.publicKey);
    expect(wrongR.findings.map((f) => f.code)).toEqual(['opening-mismatch']);
    const hash = checkAuditedBallot(
      { ...opening(), ballotHash: 'ab'.repeat(32) },
      manifest,
      manifestHash,
      e.ceremony.publicKey,
    );
    expect(hash.findings.map((f) => f.code)).toEqual(['opening-mismatch']);
    for (const v of [null, {}, { ...opening(), openings: [] }, { ...opening(), submission: 1 }])
      expect(checkAuditedBallot(v, manifest, manifestHash, e.ceremony.publicKey).findings.length).toBeGreaterThan(0);
  });
});
