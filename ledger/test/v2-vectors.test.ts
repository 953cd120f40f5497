// The server's v2 core (ledger/src/protocol/v2/) against docs/test-vectors/v2/: every valid case accepted,
// every invalid one refused, every derived value reproduced.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { strictVerify } from '../src/protocol/ed25519.js';
import { manifestHash, normalizeManifest } from '../src/protocol/protocol.js';
import * as v2 from '../src/protocol/v2/index.js';

const load = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../docs/test-vectors/v2/${name}`, import.meta.url), 'utf8'));
const el = (h: string) => Buffer.from(h, 'hex');

describe('v2 vectors: group', () => {
  const g = load('group.json');
  it('accepts exactly the group elements', () => {
    for (const e of g.elements) expect(v2.elementFromHex(e.hex) !== null, e.name).toBe(e.valid);
  });
  it('accepts exactly the canonical scalars', () => {
    for (const s of g.scalars) expect(v2.scalarFromHex(s.hex) !== null, s.name).toBe(s.valid);
  });
  it('hashes to the same scalars', () => {
    for (const h of g.hashToScalar) expect(v2.scalarToHex(v2.hashToScalar(h.domain, h.obj))).toBe(h.scalar);
  });
});

describe('v2 vectors: ElGamal', () => {
  it('reproduces every ciphertext from its randomness', () => {
    const e = load('elgamal.json');
    const h = el(e.publicKey);
    for (const c of e.cases) {
      const r = v2.scalarFromHex(c.randomness)!;
      expect(v2.hex(v2.mulBase(r))).toBe(c.alpha);
      expect(v2.hex(v2.add(v2.smallMultiple(c.m), v2.mul(r, h)))).toBe(c.beta);
    }
  });
});

describe('v2 vectors: proofs', () => {
  const p = load('proofs.json');
  it('ballot proofs', () => {
    for (const c of p.ballot) {
      const ctx = { ...c.context, publicKey: el(c.context.publicKey) };
      const proof = v2.disjunctiveFromJson(c.proof)!;
      const ok = v2.verifyDisjunctive(
        ctx,
        c.context.contest,
        c.context.choice,
        el(c.alpha),
        el(c.beta),
        c.values,
        proof,
      );
      expect(ok, c.name).toBe(c.valid);
    }
  });
  it('proofs of knowledge', () => {
    for (const c of p.pok) {
      const proof = { c: v2.scalarFromHex(c.proof.c)!, s: v2.scalarFromHex(c.proof.s)! };
      expect(v2.verifyPok(c.context, el(c.point), proof), c.name).toBe(c.valid);
    }
  });
  it('partial decryption proofs', () => {
    for (const c of p.decrypt) {
      const proof = { c: v2.scalarFromHex(c.proof.c)!, s: v2.scalarFromHex(c.proof.s)! };
      const ok = v2.verifyDecryptShare(c.context, el(c.alpha), el(c.share), el(c.verificationKey), proof);
      expect(ok, c.name).toBe(c.valid);
    }
  });
});

describe('v2 vectors: key generation and decryption', () => {
  const k = load('keygen.json');
  const manifest = normalizeManifest(k.manifest, k.manifest.ledgerKey);
  it('the manifest is stored as given and hashes to manifestHash', () => {
    expect(manifest).toEqual(k.manifest);
    expect(manifestHash(manifest).toString('hex')).toBe(k.manifestHash);
  });
  it('the board accepts every message in order, and the keys follow from the commitments', () => {
    const accepted: v2.TrusteeEnvelope[] = [];
    for (const env of k.messages) {
      const d = v2.boardDecision({ manifest, manifestHash: k.manifestHash, accepted, aggregate: null }, env);
      expect(d.kind, `${env.message.trustee} ${env.message.kind}`).toBe('accept');
      accepted.push(env);
    }
    expect(v2.electionPublicKey(manifest, accepted)).toBe(k.publicKey);
    expect(v2.ceremonyKeys(manifest, v2.commitsOf(accepted)).verificationKeys).toEqual(k.verificationKeys);
    for (const [id, x] of Object.entries(k.keyShares))
      expect(v2.hex(v2.mulBase(v2.scalarFromHex(x as string)!))).toBe(k.verificationKeys[id]);
  });
  it('a trustee recomputes its key share from the encrypted shares', () => {
    const commits = v2.commitsOf(k.messages);
    const shares = k.messages
      .filter((e: v2.TrusteeEnvelope) => e.message.kind === 'keygen-shares')
      .map((e: v2.TrusteeEnvelope) => e.message);
    for (const t of manifest.trustees!) {
      const { keyShare } = v2.makeKeygenConfirm(manifest, k.manifestHash, t.id, k.secrets[t.id], commits, shares);
      expect(keyShare).toBe(k.keyShares[t.id]);
    }
  });
  it('a share changed in transit is caught and its sender named', () => {
    const commits = v2.commitsOf(k.messages);
    const shares = structuredClone(
      k.messages
        .filter((e: v2.TrusteeEnvelope) => e.message.kind === 'keygen-shares')
        .map((e: v2.TrusteeEnvelope) => e.message),
    ) as v2.KeygenShares[];
    const fromBob = shares.find((s) => s.trustee === 'bob')!;
    const c = fromBob.shares.alice!.ciphertext;
    fromBob.shares.alice!.ciphertext = (c[0] === '0' ? '1' : '0') + c.slice(1);
    expect(() => v2.makeKeygenConfirm(manifest, k.manifestHash, 'alice', k.secrets.alice, commits, shares)).toThrow(
      expect.objectContaining({ name: 'BadShareError', from: 'bob' }),
    );
  });
  it('every pair of trustees decrypts to the same tally; a wrong share is refused, naming its trustee', () => {
    const d = load('decryption.json');
    expect(v2.aggregateHashOf(d.aggregate)).toBe(d.aggregateHash);
    for (const combo of d.combinations) {
      const msgs = d.messages.filter((m: v2.TrusteeEnvelope) => combo.trustees.includes(m.message.trustee));
      const result = v2.combineDecryptions(manifest, k.manifestHash, [...k.messages, ...msgs], d.aggregate)!;
      expect(result.tally).toEqual(combo.tally);
      expect(result.trustees).toEqual(combo.trustees);
    }
    const bad = structuredClone(d.messages[1]) as v2.TrusteeEnvelope<v2.DecryptMessage>;
    bad.message.shares.council!.bo!.share = d.messages[0].message.shares.council.bo.share;
    const problem = v2.decryptMessageProblem(manifest, k.manifestHash, k.messages, d.aggregate, bad.message);
    expect(problem?.message).toMatch(/trustee bob, contest council, choice bo/);
  });
});

describe('v2 vectors: an election end to end', () => {
  const e = load('election.json');
  const manifest = normalizeManifest(e.manifest, e.manifest.ledgerKey);
  const ctx = { manifest, manifestHash: e.manifestHash, publicKey: e.publicKey };
  it('every ballot is valid, signed, and hashes to its ballotHash; the aggregate and result follow', () => {
    const agg = new v2.Aggregator(manifest);
    for (const b of e.ballots) {
      const s = v2.parseEncryptedSubmission(b.submission);
      expect(v2.encryptedBallotProblem(ctx, s.ballot)).toBeNull();
      expect(strictVerify(el(s.ballot.credential), v2.encryptedBallotMessage(s.ballot), el(s.signature))).toBeNull();
      expect(v2.encryptedBallotHash(s).toString('hex')).toBe(b.ballotHash);
      agg.add(s.ballot);
    }
    expect(agg.result(e.manifestHash, e.publicKey)).toEqual(e.aggregate);
    const k = load('keygen.json');
    const result = v2.combineDecryptions(manifest, e.manifestHash, [...k.messages, ...e.decrypts], e.aggregate)!;
    expect(result).toEqual(e.result);
    expect(v2.decryptedResultHash(result)).toBe(e.resultHash);
    const expected: Record<string, Record<string, number>> = {};
    for (const c of manifest.contests) expected[c.id] = Object.fromEntries(c.choices.map((x) => [x.id, 0]));
    for (const b of e.ballots)
      for (const [c, list] of Object.entries(b.selections as Record<string, string[]>))
        for (const k2 of list) expected[c]![k2]!++;
    expect(result.tally).toEqual(expected);
  });
  it('tampering with one ciphertext or one proof makes the ballot invalid, naming the choice', () => {
    const s = structuredClone(e.ballots[2].submission.ballot) as v2.EncryptedBallot;
    s.contests.council!.choices[1]!.beta = e.ballots[3].submission.ballot.contests.council.choices[1].beta;
    expect(v2.encryptedBallotProblem(ctx, s)).toMatchObject({
      code: 'invalid-proof',
      contest: 'council',
      choice: 'bo',
    });
    const t = structuredClone(e.ballots[2].submission.ballot) as v2.EncryptedBallot;
    t.contests.referendum!.proof.c.reverse();
    expect(v2.encryptedBallotProblem(ctx, t)).toMatchObject({
      code: 'invalid-proof',
      contest: 'referendum',
      choice: null,
    });
  });
});

describe('v2 vectors: audited ballots', () => {
  it('the valid opening checks and reveals its selections; the others do not check', () => {
    const a = load('audited-ballot.json');
    const manifest = normalizeManifest(a.manifest, a.manifest.ledgerKey);
    const ctx = { manifest, manifestHash: a.manifestHash, publicKey: a.publicKey };
    for (const c of a.cases) {
      if (c.valid) expect(v2.checkAuditedBallot(ctx, c.audited), c.name).toEqual(c.selections);
      else expect(() => v2.checkAuditedBallot(ctx, c.audited), c.name).toThrow();
    }
  });
});
