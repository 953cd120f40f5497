// The page's version 2 ballots (web/src/v2/ballot.ts, benaloh.ts) under Node: a ballot encrypted, proven
// and signed on the device is valid (docs/protocol.md 12.4), a ciphertext copied into another credential's
// ballot is not, the audited-ballot file of 12.8 checks and shows what was encrypted, a tampered one does
// not, and an audited ballot can never be cast.
import { ed25519 } from '@noble/curves/ed25519.js';
import { hexToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { jcs, publicKeyOf, sha256Hex } from '../src/protocol.js';
import {
  auditedBallotFile,
  ballotMessageV2,
  checkAuditedBallot,
  encryptBallot,
  verifyBallotV2,
  type ElectionKeyContext,
  type SubmissionV2,
} from '../src/v2/ballot.js';
import { AuditedBallotError, BenalohDevice } from '../src/v2/benaloh.js';
import { decodeScalar, encodeScalar } from '../src/v2/group.js';
import { keyCeremony, randomSeed } from './v2-election-fixture.js';

const fixture = keyCeremony(3, 2);
const ctx: ElectionKeyContext = {
  manifest: fixture.manifest,
  manifestHash: fixture.manifestHash,
  publicKey: fixture.publicKey,
};
const VOTE = { referendum: ['no'], council: ['ada', 'cyd'] };

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

describe('v2 ballots (12.4)', () => {
  it('encrypts, proves and signs a valid ballot; ballotHash is H(JCS(submission))', async () => {
    const seed = randomSeed();
    const fractions: number[] = [];
    const enc = await encryptBallot(ctx, seed, VOTE, (f) => fractions.push(f));
    const { ballot, signature } = enc.submission;
    expect(Object.keys(ballot).sort()).toEqual(['contests', 'credential', 'electionId', 'version']);
    expect(ballot.version).toBe(2);
    expect(ballot.credential).toBe(publicKeyOf(seed));
    expect(ballot.contests.referendum!.choices).toHaveLength(2);
    expect(ballot.contests.council!.choices).toHaveLength(3);
    // One branch per count in [min, max]: referendum 0..1, council 1..2.
    expect(ballot.contests.referendum!.proof.c).toHaveLength(2);
    expect(ballot.contests.council!.proof.c).toHaveLength(2);
    expect(new TextDecoder().decode(ballotMessageV2(ballot))).toBe(`tallyproof:ballot:v2:${jcs(ballot)}`);
    expect(ed25519.verify(hexToBytes(signature), ballotMessageV2(ballot), hexToBytes(ballot.credential))).toBe(true);
    expect(enc.ballotHash).toBe(sha256Hex(jcs({ ballot, signature })));
    expect(fractions.at(-1)).toBe(1);
    expect(await verifyBallotV2(enc.submission, ctx)).toEqual({ ok: true });
  });

  it('encrypts a blank vote and every count in range; refuses selections that break the manifest', async () => {
    for (const vote of [
      { referendum: [], council: ['bob'] },
      { referendum: ['yes'], council: ['ada', 'bob'] },
    ]) {
      const enc = await encryptBallot(ctx, randomSeed(), vote);
      expect(await verifyBallotV2(enc.submission, ctx)).toEqual({ ok: true });
    }
    await expect(encryptBallot(ctx, randomSeed(), { referendum: [], council: [] })).rejects.toThrow(/council/);
    await expect(encryptBallot(ctx, randomSeed(), { referendum: ['yes', 'no'], council: ['ada'] })).rejects.toThrow();
    await expect(encryptBallot(ctx, randomSeed(), { referendum: ['maybe'], council: ['ada'] })).rejects.toThrow(
      /maybe/,
    );
  });

  it('is invalid once anything is changed, naming the contest and choice', async () => {
    const seed = randomSeed();
    const enc = await encryptBallot(ctx, seed, VOTE);
    const other = await encryptBallot(ctx, seed, { referendum: ['yes'], council: ['bob'] });
    const resign = (s: SubmissionV2): SubmissionV2 => ({
      ballot: s.ballot,
      signature: Buffer.from(ed25519.sign(ballotMessageV2(s.ballot), seed)).toString('hex'),
    });

    // Council's 'bob' (0 here) swapped, with its proof, for the other ballot's (1), same credential,
    // re-signed: the choice proof still holds, but the contest's sum becomes 3, above its maximum of 2.
    const swapped = clone(enc.submission);
    swapped.ballot.contests.council!.choices[1] = clone(other.submission.ballot.contests.council!.choices[1]!);
    const r1 = await verifyBallotV2(resign(swapped), ctx);
    expect(r1).toMatchObject({ ok: false, contest: 'council' });

    // A choice's proof altered.
    const badProof = clone(enc.submission);
    const p = badProof.ballot.contests.referendum!.choices[0]!.proof;
    p.s[0] = encodeScalar(decodeScalar(p.s[0]!) + 1n);
    expect(await verifyBallotV2(resign(badProof), ctx)).toMatchObject({
      ok: false,
      contest: 'referendum',
      choice: 'yes',
    });

    // A point that is not a group element.
    const badPoint = clone(enc.submission);
    badPoint.ballot.contests.referendum!.choices[1]!.alpha = '01' + '00'.repeat(31);
    expect(await verifyBallotV2(resign(badPoint), ctx)).toMatchObject({
      ok: false,
      contest: 'referendum',
      choice: 'no',
    });

    // Choices reordered; a contest missing; an extra key.
    const reordered = clone(enc.submission);
    reordered.ballot.contests.council!.choices.reverse();
    expect(await verifyBallotV2(resign(reordered), ctx)).toMatchObject({ ok: false, contest: 'council' });
    const missing = clone(enc.submission);
    delete (missing.ballot.contests as Record<string, unknown>).council;
    expect((await verifyBallotV2(resign(missing), ctx)).ok).toBe(false);
    const extra = clone(enc.submission) as unknown as { ballot: Record<string, unknown> };
    extra.ballot.selections = {};
    expect((await verifyBallotV2(extra, ctx)).ok).toBe(false);

    // The signature: another key's, or over the v1 prefix.
    const unsigned = clone(enc.submission);
    unsigned.signature = other.submission.signature;
    expect(await verifyBallotV2(unsigned, ctx)).toMatchObject({ ok: false, reason: /signature/ });
  });

  it('binds proofs to the credential: a ciphertext copied into another voter ballot fails', async () => {
    const victim = await encryptBallot(ctx, randomSeed(), VOTE);
    const copierSeed = randomSeed();
    const copied = clone(victim.submission);
    copied.ballot.credential = publicKeyOf(copierSeed);
    const resigned: SubmissionV2 = {
      ballot: copied.ballot,
      signature: Buffer.from(ed25519.sign(ballotMessageV2(copied.ballot), copierSeed)).toString('hex'),
    };
    expect(await verifyBallotV2(resigned, ctx)).toMatchObject({ ok: false, contest: 'referendum', choice: 'yes' });
  });

  it('refuses a ballot made for another election key or manifest', async () => {
    const enc = await encryptBallot(ctx, randomSeed(), VOTE);
    const other = keyCeremony(3, 2);
    expect((await verifyBallotV2(enc.submission, { ...ctx, publicKey: other.publicKey })).ok).toBe(false);
    expect((await verifyBallotV2(enc.submission, { ...ctx, manifestHash: '00'.repeat(32) })).ok).toBe(false);
  });
});

describe('v2 audited ballots (12.8)', () => {
  it('checks an opening and shows what it encrypted', async () => {
    const enc = await encryptBallot(ctx, randomSeed(), VOTE);
    const file = auditedBallotFile(enc);
    expect(Object.keys(file).sort()).toEqual(['ballotHash', 'kind', 'openings', 'submission', 'version']);
    expect(file.openings.council!.map((o) => o.selected)).toEqual([true, false, true]);
    // What the page offers for download is JSON: check it after a round trip.
    const check = checkAuditedBallot(JSON.parse(JSON.stringify(file)), ctx);
    expect(check).toEqual({ ok: true, selections: VOTE, ballotHash: enc.ballotHash });
  });

  it('fails when an opening lies, the hash is not the submission, or the file is not one', async () => {
    const enc = await encryptBallot(ctx, randomSeed(), VOTE);
    const file = auditedBallotFile(enc);
    // A device that encrypted "yes" but claims "no" is caught.
    const lying = clone(file);
    lying.openings.referendum![0]!.selected = true;
    lying.openings.referendum![1]!.selected = false;
    expect(checkAuditedBallot(lying, ctx)).toMatchObject({ ok: false, contest: 'referendum', choice: 'yes' });
    const wrongR = clone(file);
    wrongR.openings.council![2]!.randomness = encodeScalar(decodeScalar(wrongR.openings.council![2]!.randomness) + 1n);
    expect(checkAuditedBallot(wrongR, ctx)).toMatchObject({ ok: false, contest: 'council', choice: 'cyd' });
    const wrongHash = clone(file);
    wrongHash.ballotHash = '00'.repeat(32);
    expect(checkAuditedBallot(wrongHash, ctx)).toMatchObject({ ok: false, reason: /hash/ });
    expect(checkAuditedBallot({ ...file, kind: 'receipt' }, ctx).ok).toBe(false);
    expect(checkAuditedBallot(null, ctx).ok).toBe(false);
    const short = clone(file);
    short.openings.council!.pop();
    expect(checkAuditedBallot(short, ctx)).toMatchObject({ ok: false, contest: 'council' });
    expect(checkAuditedBallot(file, { ...ctx, publicKey: keyCeremony(2, 1).publicKey })).toMatchObject({ ok: false });
  });
});

describe('v2 Benaloh challenge on the device', () => {
  it('an audited ballot can never be cast; the next one has new randomness', async () => {
    const device = new BenalohDevice();
    const seed = randomSeed();
    const first = await device.prepare(ctx, seed, VOTE);
    expect(first).not.toBeNull();
    expect(device.ballot?.ballotHash).toBe(first!.ballotHash);
    const file = device.audit();
    expect(file.ballotHash).toBe(first!.ballotHash);
    expect(device.wasAudited(first!.ballotHash)).toBe(true);
    // Gone: nothing to cast, nothing to audit again.
    expect(device.ballot).toBeNull();
    expect(() => device.takeForCast()).toThrow(AuditedBallotError);
    expect(() => device.audit()).toThrow(AuditedBallotError);

    const second = await device.prepare(ctx, seed, VOTE);
    expect(second!.ballotHash).not.toBe(first!.ballotHash);
    expect(second!.openings.referendum![1]!.randomness).not.toBe(first!.openings.referendum![1]!.randomness);
    const cast = device.takeForCast();
    expect(cast.ballotHash).toBe(second!.ballotHash);
    // Handed out to be cast: it can no longer be audited (a cast ballot is never opened).
    expect(() => device.audit()).toThrow(AuditedBallotError);
    expect(device.wasAudited(cast.ballotHash)).toBe(false);
  });

  it('keeps only the newest encryption when the choices change while one runs', async () => {
    const device = new BenalohDevice();
    const seed = randomSeed();
    const stale = device.prepare(ctx, seed, VOTE);
    const fresh = device.prepare(ctx, seed, { referendum: ['yes'], council: ['bob'] });
    expect(await stale).toBeNull();
    const kept = await fresh;
    expect(device.ballot?.ballotHash).toBe(kept!.ballotHash);
    device.discard();
    expect(device.ballot).toBeNull();
    expect(() => device.takeForCast()).toThrow(AuditedBallotError);
  });
});
