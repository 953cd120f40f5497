// The verifier's wire format v2 code against docs/test-vectors/v2/ (generated from the server's core by
// `npm run vectors`): a second implementation, so every file and every case is checked here — the group's
// encodings, ElGamal, each kind of proof valid and tampered, the key ceremony, partial decryptions and
// every pair's combination, a whole election, and audited ballots.
import { createDecipheriv, createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { toHex } from '../src/hex.js';
import { jcs } from '../src/jcs.js';
import { resultHash, type Tally } from '../src/protocol.js';
import { blockSums } from '../src/v2/aggregate.js';
import { checkAuditedBallot } from '../src/v2/audited-ballot.js';
import { ballotV2Context, checkSubmissionV2, flatChoiceCount } from '../src/v2/ballot.js';
import { aggregateJson, checkDecryption, jcsHash, lagrangeAtZero } from '../src/v2/decryption.js';
import {
  add,
  decodeElement,
  decodeScalar,
  hashToScalar,
  IDENTITY,
  mul,
  mulBase,
  ORDER,
  pointHex,
  scalarHex,
  type Point,
} from '../src/v2/group.js';
import { manifestV2Problem, type ManifestV2 } from '../src/v2/manifest.js';
import { verifyDecryptShare, verifyDisjunctive, verifyPok } from '../src/v2/proofs.js';
import { checkTranscript, type DecryptMessage } from '../src/v2/trustees.js';

const DIR = new URL('../../docs/test-vectors/v2/', import.meta.url);
const vector = (name: string): any => JSON.parse(readFileSync(new URL(name, DIR), 'utf8'));
const must = (hex: string): Point => {
  const p = decodeElement(hex);
  if (p === null) throw new Error(`not a group element: ${hex}`);
  return p;
};

const keygen = vector('keygen.json');
const manifest = keygen.manifest as ManifestV2;
const manifestHash = keygen.manifestHash as string;
const publicKey = must(keygen.publicKey);
const verificationKeys = new Map(
  Object.entries(keygen.verificationKeys as Record<string, string>).map(([id, x]) => [id, must(x)]),
);
const indexOf = (id: string): number => manifest.trustees.findIndex((t) => t.id === id) + 1;
const transcriptOf = (messages: unknown[]) => ({
  electionId: manifest.electionId,
  threshold: manifest.threshold,
  trustees: manifest.trustees,
  publicKey: keygen.publicKey,
  verificationKeys: keygen.verificationKeys,
  keyCeremony: 'complete',
  messages,
  refused: [],
});

describe('v2 vectors', () => {
  it('has every file section 12.10 lists, and this test reads each', () => {
    const files = readdirSync(DIR)
      .filter((f) => f.endsWith('.json'))
      .sort();
    expect(files).toEqual(
      ['audited-ballot', 'decryption', 'election', 'elgamal', 'group', 'keygen', 'proofs'].map((f) => `${f}.json`),
    );
  });

  it('group.json: ℓ, every element and scalar rule case by case, and Hs', () => {
    const g = vector('group.json');
    expect(BigInt(g.order)).toBe(ORDER);
    for (const e of g.elements) expect(decodeElement(e.hex) !== null, e.name).toBe(e.valid);
    for (const s of g.scalars) expect(decodeScalar(s.hex) !== null, s.name).toBe(s.valid);
    expect(g.hashToScalar.length).toBeGreaterThan(0);
    for (const h of g.hashToScalar) expect(scalarHex(hashToScalar(h.domain, h.obj))).toBe(h.scalar);
  });

  it('elgamal.json: α = r·G and β = m·G + r·H', () => {
    const v = vector('elgamal.json');
    const h = must(v.publicKey);
    for (const c of v.cases) {
      const r = decodeScalar(c.randomness)!;
      expect(pointHex(mulBase(r))).toBe(c.alpha);
      expect(pointHex(add(mulBase(BigInt(c.m)), mul(h, r)))).toBe(c.beta);
    }
  });

  it('proofs.json: every ballot, proof-of-knowledge and decrypt case, valid and tampered', () => {
    const v = vector('proofs.json');
    for (const c of v.ballot) {
      const alpha = decodeElement(c.alpha);
      const beta = decodeElement(c.beta);
      const key = decodeElement(c.context.publicKey);
      const pairs = { c: c.proof.c.map(decodeScalar), s: c.proof.s.map(decodeScalar) };
      const readable =
        alpha !== null && beta !== null && key !== null && [...pairs.c, ...pairs.s].every((x) => x !== null);
      const ok =
        readable &&
        verifyDisjunctive(
          { ...c.context, publicKey: key, publicKeyHex: c.context.publicKey, alpha, beta, values: c.values },
          pairs,
        );
      expect(ok, c.name).toBe(c.valid);
    }
    for (const c of v.pok) {
      const point = decodeElement(c.point);
      const cs = decodeScalar(c.proof.c);
      const ss = decodeScalar(c.proof.s);
      const ok = point !== null && cs !== null && ss !== null && verifyPok({ ...c.context, point }, cs, ss);
      expect(ok, c.name).toBe(c.valid);
    }
    for (const c of v.decrypt) {
      const [alpha, share, key] = [c.alpha, c.share, c.verificationKey].map(decodeElement);
      const cs = decodeScalar(c.proof.c);
      const ss = decodeScalar(c.proof.s);
      const ok =
        alpha !== null &&
        share !== null &&
        key !== null &&
        cs !== null &&
        ss !== null &&
        verifyDecryptShare({ ...c.context, alpha: alpha!, share: share!, verificationKey: key! }, cs, ss);
      expect(ok, c.name).toBe(c.valid);
    }
    expect(v.ballot.some((c: { valid: boolean }) => !c.valid)).toBe(true);
  });

  it('keygen.json: the transcript checks, and gives H and every X_j; the shares decrypt and pass Feldman', () => {
    expect(manifestV2Problem(manifest)).toBeNull();
    expect(toHex(createHash('sha256').update(jcs(manifest)).digest())).toBe(manifestHash);
    const check = checkTranscript(transcriptOf(keygen.messages), manifest, manifestHash);
    expect(check.findings).toEqual([]);
    expect(check.complete).toBe(true);
    expect(pointHex(check.publicKey!)).toBe(keygen.publicKey);
    for (const [id, x] of check.verificationKeys!) expect(pointHex(x)).toBe(keygen.verificationKeys[id]);
    for (const [id, x] of Object.entries(keygen.keyShares as Record<string, string>))
      expect(pointHex(mulBase(decodeScalar(x)!))).toBe(keygen.verificationKeys[id]);
    // 12.3 step 2 read as this verifier reads it: each share decrypts with the recipient's e_j and the
    // commitments vouch for it (s·G = Σ j^m·C_{i,m}).
    for (const envelope of keygen.messages.filter(
      (m: { message: { kind: string } }) => m.message.kind === 'keygen-shares',
    )) {
      const from = envelope.message.trustee as string;
      const commit = keygen.messages
        .find(
          (m: { message: { kind: string; trustee: string } }) =>
            m.message.kind === 'keygen-commit' && m.message.trustee === from,
        )
        .message.commitments.map(must) as Point[];
      for (const [to, { ephemeral, ciphertext }] of Object.entries(
        envelope.message.shares as Record<string, { ephemeral: string; ciphertext: string }>,
      )) {
        const e = decodeScalar(keygen.secrets[to].shareSecret)!;
        const shared = pointHex(mul(must(ephemeral), e));
        const key = createHash('sha256')
          .update('tallyproof:share:v2:')
          .update(jcs({ electionId: manifest.electionId, from, to, ephemeral, shared }))
          .digest();
        const bytes = Buffer.from(ciphertext, 'hex');
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.alloc(12));
        decipher.setAuthTag(bytes.subarray(32));
        const share = Buffer.concat([decipher.update(bytes.subarray(0, 32)), decipher.final()]).toString('hex');
        expect(share).toBe(keygen.sharesInClear[from][to]);
        let feldman: Point = IDENTITY;
        commit.forEach((c, m) => {
          feldman = add(feldman, mul(c, BigInt(indexOf(to)) ** BigInt(m)));
        });
        expect(pointHex(mulBase(decodeScalar(share)!))).toBe(pointHex(feldman));
      }
    }
  });

  it('keygen.json tampered: a message signed by another trustee, and a confirm with another key, are named', () => {
    const messages = structuredClone(keygen.messages);
    const bobCommit = messages.findIndex(
      (m: { message: { kind: string; trustee: string } }) =>
        m.message.kind === 'keygen-commit' && m.message.trustee === 'bob',
    );
    messages[bobCommit].signature = messages[0].signature;
    const check = checkTranscript(transcriptOf(messages), manifest, manifestHash);
    expect(check.findings.map((f) => `${f.code}:${f.trustee ?? ''}`)).toContain('trustee-message-invalid:bob');
    expect(check.publicKey).toBeNull();
  });

  const election = vector('election.json');

  it('election.json: every ballot valid, the aggregate, the decrypts, the result and its resultHash', () => {
    expect(jcs(election.manifest)).toBe(jcs(manifest));
    expect(election.publicKey).toBe(keygen.publicKey);
    const ctx = ballotV2Context(manifest, manifestHash, keygen.publicKey);
    const choices = flatChoiceCount(ctx);
    const packed = new Uint8Array(election.ballots.length * choices * 64);
    for (const [i, b] of election.ballots.entries()) {
      const check = checkSubmissionV2(b.submission, ctx);
      expect(check.ok, `ballot ${i}`).toBe(true);
      if (!check.ok) continue;
      expect(check.ballotHash).toBe(b.ballotHash);
      packed.set(check.ciphertexts, i * choices * 64);
    }
    const sums = blockSums(packed, election.ballots.length, choices, () => true);
    const expected = { sums, totalBallots: election.ballots.length };
    expect(aggregateJson(manifest, manifestHash, keygen.publicKey, expected)).toEqual(election.aggregate);
    expect(jcsHash(election.aggregate)).toBe(election.aggregateHash);
    const decrypts: DecryptMessage[] = election.decrypts.map((d: { message: Record<string, unknown> }) => ({
      trustee: d.message.trustee,
      index: indexOf(d.message.trustee as string),
      message: d.message,
    }));
    const check = checkDecryption({
      manifest,
      manifestHash,
      publicKey,
      verificationKeys,
      decrypts,
      expected,
      aggregate: election.aggregate,
      result: election.result,
      closed: true,
    });
    expect(check.findings).toEqual([]);
    expect(check.aggregate).toBe('matches');
    expect(check.tally).toEqual(election.result.tally);
    expect(check.combined).toEqual(election.result.trustees);
    expect(toHex(resultHash(manifest.electionId, check.tally as Tally, election.ballots.length))).toBe(
      election.resultHash,
    );
    // The selections in clear are what the tally counts.
    const counted: Tally = structuredClone(election.result.tally);
    for (const c of Object.values(counted)) for (const k of Object.keys(c)) c[k] = 0;
    for (const b of election.ballots)
      for (const [c, ks] of Object.entries(b.selections as Record<string, string[]>))
        for (const k of ks) counted[c]![k]!++;
    expect(counted).toEqual(election.result.tally);
  });

  it('election.json: the whole transcript (ceremony then decrypts) checks', () => {
    const check = checkTranscript(transcriptOf([...keygen.messages, ...election.decrypts]), manifest, manifestHash);
    expect(check.findings).toEqual([]);
    expect(check.decrypts.map((d) => d.trustee)).toEqual(
      election.decrypts.map((d: { message: { trustee: string } }) => d.message.trustee),
    );
  });

  it('decryption.json: every decrypt message checks, and every pair recombines to the same tally', () => {
    const d = vector('decryption.json');
    expect(jcsHash(d.aggregate)).toBe(d.aggregateHash);
    for (const combo of d.combinations) {
      const lambdas = lagrangeAtZero(combo.trustees.map(indexOf));
      expect(lambdas.map(scalarHex)).toEqual(combo.trustees.map((t: string) => combo.lagrange[t]));
      const decrypts = d.messages
        .filter((m: { message: { trustee: string } }) => combo.trustees.includes(m.message.trustee))
        .map((m: { message: Record<string, unknown> }) => ({
          trustee: m.message.trustee,
          index: indexOf(m.message.trustee as string),
          message: m.message,
        }));
      // The expected aggregate is the published one here (its sums are read back from it).
      const sums = new Uint8Array(flatChoiceCount(ballotV2Context(manifest, manifestHash, keygen.publicKey)) * 64);
      let i = 0;
      for (const c of manifest.contests)
        for (const k of c.choices) {
          sums.set(Buffer.from(d.aggregate.contests[c.id][k.id].alpha, 'hex'), 64 * i);
          sums.set(Buffer.from(d.aggregate.contests[c.id][k.id].beta, 'hex'), 64 * i++ + 32);
        }
      const check = checkDecryption({
        manifest,
        manifestHash,
        publicKey,
        verificationKeys,
        decrypts,
        expected: { sums, totalBallots: d.aggregate.totalBallots },
        aggregate: d.aggregate,
        result: null,
        closed: false,
      });
      expect(check.findings, combo.trustees.join('+')).toEqual([]);
      expect(check.tally).toEqual(combo.tally);
    }
  });

  it('audited-ballot.json: the valid opening shows its selections; the others fail', () => {
    const v = vector('audited-ballot.json');
    expect(v.publicKey).toBe(keygen.publicKey);
    for (const c of v.cases) {
      const check = checkAuditedBallot(c.audited, manifest, manifestHash, publicKey);
      expect(check.findings.length === 0, c.name).toBe(c.valid);
      if (c.valid) expect(check.selections).toEqual(c.selections);
    }
  });
});
