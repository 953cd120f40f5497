// test-vectors/v2/*.json: wire format v2 (docs/protocol.md section 12) from fixed seeds. Unlike the v1
// families, these are produced by the server's core (ledger/src/protocol/v2/): proofs are randomized, so
// the independent check is the other way round — the verifier (verifier-cli/src/v2/) and the voter page
// (web/src/v2/), written separately, must accept every valid case and refuse every invalid one.
// Every random scalar is Hs("tallyproof:vector-rng:v2:", {seed, label}) (seededScalars).
import { ed25519 } from '@noble/curves/ed25519.js';
import { keyPairFromSeed } from '../../../ledger/src/protocol/ed25519.js';
import { manifestHash, normalizeManifest } from '../../../ledger/src/protocol/protocol.js';
import * as v2 from '../../../ledger/src/protocol/v2/index.js';
import { hex, seedOf } from './reference.js';

const random = v2.seededScalars('tallyproof v2 test vectors');
const ledgerKey = hex(ed25519.getPublicKey(seedOf('tallyproof test vector ledger key')));
const trusteeSeeds = ['alice', 'bob', 'carol'].map((n) => seedOf(`tallyproof v2 trustee ${n}`));
const trustees = trusteeSeeds.map((s, i) => ({
  id: ['alice', 'bob', 'carol'][i]!,
  key: keyPairFromSeed(s).publicKey.toString('hex'),
}));

export const v2Manifest = normalizeManifest(
  {
    version: 2,
    electionId: 'secret-2026',
    title: 'Test-vector election — encrypted ballots',
    contests: [
      {
        id: 'referendum',
        title: 'Adopt the proposal?',
        choices: [
          { id: 'yes', label: 'Yes' },
          { id: 'no', label: 'No' },
          { id: 'abstain', label: 'Abstain' },
        ],
        minSelections: 0,
        maxSelections: 1,
      },
      {
        id: 'council',
        title: 'Council (1 or 2)',
        choices: [
          { id: 'ana', label: 'Ana' },
          { id: 'bo', label: 'Bo' },
          { id: 'chloe', label: 'Chloé' },
        ],
        minSelections: 1,
        maxSelections: 2,
      },
    ],
    opensAt: '2026-01-01T00:00:00.000Z',
    closesAt: '2026-01-02T00:00:00.000Z',
    windowSeconds: 60,
    ballotMode: 'encrypted',
    trustees,
    threshold: 2,
  },
  ledgerKey,
);
const mh = manifestHash(v2Manifest).toString('hex');

/** The ceremony, run once: every envelope in posting order, the secrets, the keys. */
function ceremony() {
  const accepted: v2.TrusteeEnvelope[] = [];
  const post = (i: number, m: v2.TrusteeMessage) => {
    const env = v2.signTrusteeMessage(trusteeSeeds[i]!, m);
    const d = v2.boardDecision({ manifest: v2Manifest, manifestHash: mh, accepted, aggregate: null }, env);
    if (d.kind !== 'accept') throw new Error(`vector ceremony: ${JSON.stringify(d)}`);
    accepted.push(env);
  };
  const secrets = trustees.map((t, i) => {
    const { message, secrets } = v2.makeKeygenCommit(v2Manifest, mh, t.id, random);
    post(i, message);
    return secrets;
  });
  const commits = v2.commitsOf(accepted);
  for (const [i, t] of trustees.entries())
    post(i, v2.makeKeygenShares(v2Manifest, mh, t.id, secrets[i]!, commits, random));
  const shares = accepted.filter((e) => e.message.kind === 'keygen-shares').map((e) => e.message as v2.KeygenShares);
  const keyShares = trustees.map((t, i) => {
    const { message, keyShare } = v2.makeKeygenConfirm(v2Manifest, mh, t.id, secrets[i]!, commits, shares);
    post(i, message);
    return keyShare;
  });
  const keys = v2.ceremonyKeys(v2Manifest, commits);
  return { accepted, secrets, keyShares, ...keys };
}
const dkg = ceremony();
const ctx: v2.EncryptedElectionContext = { manifest: v2Manifest, manifestHash: mh, publicKey: dkg.publicKey };

const voterSeeds = Array.from({ length: 5 }, (_, i) => seedOf(`tallyproof v2 voter ${i}`));
const votes: Record<string, string[]>[] = [
  { referendum: ['yes'], council: ['ana'] },
  { referendum: ['no'], council: ['ana', 'bo'] },
  { referendum: ['yes'], council: ['chloe'] },
  { referendum: [], council: ['bo', 'chloe'] },
  { referendum: ['abstain'], council: ['ana'] },
];
const ballots = votes.map((v, i) => v2.encryptBallot(ctx, voterSeeds[i]!, v, random));

function aggregateAll() {
  const agg = new v2.Aggregator(v2Manifest);
  for (const b of ballots) agg.add(b.submission.ballot);
  return agg.result(mh, dkg.publicKey);
}
const aggregate = aggregateAll();
const aggregateHash = v2.aggregateHashOf(aggregate);
const decrypts = trustees.map((t, i) =>
  v2.signTrusteeMessage(
    trusteeSeeds[i]!,
    v2.makeDecryptShare(v2Manifest, mh, t.id, dkg.keyShares[i]!, aggregate, random),
  ),
);

// ---- group.json ----
const P = ed25519.Point;
const enc = (p: InstanceType<typeof P>) => hex(p.toBytes());
const order8 = P.fromHex('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a');
function notOnCurve(): string {
  for (let y = 2; ; y++) {
    const b = new Uint8Array(32);
    b[0] = y;
    try {
      P.fromBytes(b);
    } catch {
      return hex(b);
    }
  }
}
export function groupVectors() {
  const L = v2.ORDER;
  const scalarHex = (s: bigint) => Buffer.from(s.toString(16).padStart(64, '0'), 'hex').reverse().toString('hex');
  return {
    description:
      'Section 12.1. elements: is each encoding a group element (canonical, on the curve, not of small order, in ' +
      'the prime-order subgroup)? scalars: is each a canonical scalar (< ℓ)? hashToScalar: Hs examples.',
    order: L.toString(),
    elements: [
      { name: 'base point G', hex: enc(P.BASE), valid: true },
      { name: '2G', hex: enc(P.BASE.double()), valid: true },
      { name: 'the election key of keygen.json', hex: dkg.publicKey, valid: true },
      { name: 'identity (small order)', hex: `01${'00'.repeat(31)}`, valid: false, reason: 'small-order' },
      { name: 'point of order 8', hex: enc(order8), valid: false, reason: 'small-order' },
      { name: 'point of order 2, (0,-1)', hex: `ec${'ff'.repeat(30)}7f`, valid: false, reason: 'small-order' },
      {
        name: 'G + a point of order 8 (mixed order)',
        hex: enc(P.BASE.add(order8)),
        valid: false,
        reason: 'not-in-subgroup',
      },
      {
        name: '2G + (0,-1) (mixed order)',
        hex: enc(P.BASE.double().add(P.fromHex(`ec${'ff'.repeat(30)}7f`))),
        valid: false,
        reason: 'not-in-subgroup',
      },
      { name: 'y = p (non-canonical)', hex: `ed${'ff'.repeat(30)}7f`, valid: false, reason: 'non-canonical' },
      {
        name: 'y = p + 1 (non-canonical encoding of the identity)',
        hex: `ee${'ff'.repeat(30)}7f`,
        valid: false,
        reason: 'non-canonical',
      },
      {
        name: 'negative zero (0,1) with the sign bit',
        hex: `01${'00'.repeat(30)}80`,
        valid: false,
        reason: 'non-canonical',
      },
      { name: 'not on the curve', hex: notOnCurve(), valid: false, reason: 'not-on-curve' },
      { name: 'too short', hex: enc(P.BASE).slice(0, 62), valid: false, reason: 'length' },
    ],
    scalars: [
      { name: 'zero', hex: scalarHex(0n), valid: true },
      { name: 'one', hex: scalarHex(1n), valid: true },
      { name: 'ℓ − 1', hex: scalarHex(L - 1n), valid: true },
      { name: 'ℓ', hex: scalarHex(L), valid: false },
      { name: 'ℓ + 1', hex: scalarHex(L + 1n), valid: false },
      { name: '2^256 − 1', hex: 'ff'.repeat(32), valid: false },
      { name: 'ℓ − 1 in upper-case hex', hex: scalarHex(L - 1n).toUpperCase(), valid: false },
    ],
    hashToScalar: [
      {
        domain: 'tallyproof:vector-rng:v2:',
        obj: { seed: 's', label: 'l' },
        scalar: v2.scalarToHex(v2.hashToScalar('tallyproof:vector-rng:v2:', { seed: 's', label: 'l' })),
      },
      {
        domain: 'tallyproof:pok:v2:',
        obj: { a: 'é', b: [1, 2] },
        scalar: v2.scalarToHex(v2.hashToScalar('tallyproof:pok:v2:', { a: 'é', b: [1, 2] })),
      },
    ],
  };
}

// ---- elgamal.json ----
export function elgamalVectors() {
  const h = v2.elementFromHex(dkg.publicKey)!;
  const cases = [0, 1, 1, 0, 2].map((m, i) => {
    const r = random(`elgamal/${i}`);
    return {
      m,
      randomness: v2.scalarToHex(r),
      alpha: v2.hex(v2.mulBase(r)),
      beta: v2.hex(v2.add(v2.smallMultiple(m), v2.mul(r, h))),
    };
  });
  return {
    description: 'Exponential ElGamal (12.4): alpha = r·G, beta = m·G + r·H under the election key H of keygen.json.',
    publicKey: dkg.publicKey,
    cases,
  };
}

// ---- proofs.json ----
export function proofVectors() {
  const b = ballots[0]!.submission.ballot;
  const k = b.contests.referendum!.choices[0]!;
  const flip = (s: string) => v2.scalarToHex(v2.scalarFromHex(s)! + 1n);
  const ballotCase = (
    name: string,
    credential: string,
    contest: string,
    choice: string | null,
    alpha: string,
    beta: string,
    values: number[],
    proof: unknown,
    valid: boolean,
  ) => ({
    name,
    context: {
      electionId: v2Manifest.electionId,
      manifestHash: mh,
      publicKey: dkg.publicKey,
      credential,
      contest,
      choice,
    },
    alpha,
    beta,
    values,
    proof,
    valid,
  });
  const contest = b.contests.council!;
  const sumA = v2.hex(v2.sum(contest.choices.map((c) => Buffer.from(c.alpha, 'hex'))));
  const sumB = v2.hex(v2.sum(contest.choices.map((c) => Buffer.from(c.beta, 'hex'))));
  const other = ballots[1]!.submission.ballot.credential;
  const commit = dkg.accepted[0]!.message as v2.KeygenCommit;
  const d = decrypts[0]!.message;
  const share = d.shares.referendum!.yes!;
  const decryptCase = (name: string, trustee: string, shareHex: string, proof: v2.ProofJson, valid: boolean) => ({
    name,
    context: {
      electionId: v2Manifest.electionId,
      manifestHash: mh,
      aggregateHash,
      trustee,
      contest: 'referendum',
      choice: 'yes',
    },
    alpha: aggregate.contests.referendum!.yes!.alpha,
    share: shareHex,
    verificationKey: dkg.verificationKeys[trustee],
    proof,
    valid,
  });
  return {
    description:
      'Section 12.3–12.5. ballot: disjunctive Chaum–Pedersen proofs (choice proofs over values [0,1], contest proofs ' +
      'over min..max on the sum of the choices); pok: Schnorr proofs of knowledge; decrypt: partial-decryption proofs. ' +
      'valid says whether the proof verifies.',
    ballot: [
      ballotCase('choice proof', b.credential, 'referendum', 'yes', k.alpha, k.beta, [0, 1], k.proof, true),
      ballotCase(
        'contest proof (range 1..2 on the sum)',
        b.credential,
        'council',
        null,
        sumA,
        sumB,
        [1, 2],
        contest.proof,
        true,
      ),
      ballotCase('bound to another credential', other, 'referendum', 'yes', k.alpha, k.beta, [0, 1], k.proof, false),
      ballotCase('bound to another choice', b.credential, 'referendum', 'no', k.alpha, k.beta, [0, 1], k.proof, false),
      ballotCase(
        'a response changed',
        b.credential,
        'referendum',
        'yes',
        k.alpha,
        k.beta,
        [0, 1],
        { c: k.proof.c, s: [flip(k.proof.s[0]!), k.proof.s[1]] },
        false,
      ),
      ballotCase(
        'challenges swapped',
        b.credential,
        'referendum',
        'yes',
        k.alpha,
        k.beta,
        [0, 1],
        { c: [k.proof.c[1], k.proof.c[0]], s: k.proof.s },
        false,
      ),
      ballotCase(
        'another ciphertext',
        b.credential,
        'referendum',
        'yes',
        k.alpha,
        b.contests.referendum!.choices[1]!.beta,
        [0, 1],
        k.proof,
        false,
      ),
      ballotCase(
        'range proof checked against other values',
        b.credential,
        'council',
        null,
        sumA,
        sumB,
        [0, 1],
        contest.proof,
        false,
      ),
    ],
    pok: [
      {
        name: 'commitment proof of alice',
        context: { electionId: v2Manifest.electionId, manifestHash: mh, trustee: 'alice', purpose: 'commitment' },
        point: commit.commitments[0],
        proof: commit.commitmentProof,
        valid: true,
      },
      {
        name: 'share-key proof of alice',
        context: { electionId: v2Manifest.electionId, manifestHash: mh, trustee: 'alice', purpose: 'share-key' },
        point: commit.shareKey,
        proof: commit.shareKeyProof,
        valid: true,
      },
      {
        name: 'commitment proof checked as the share key',
        context: { electionId: v2Manifest.electionId, manifestHash: mh, trustee: 'alice', purpose: 'share-key' },
        point: commit.commitments[0],
        proof: commit.commitmentProof,
        valid: false,
      },
      {
        name: 'claimed by bob',
        context: { electionId: v2Manifest.electionId, manifestHash: mh, trustee: 'bob', purpose: 'commitment' },
        point: commit.commitments[0],
        proof: commit.commitmentProof,
        valid: false,
      },
    ],
    decrypt: [
      decryptCase('partial decryption of alice', 'alice', share.share, share.proof, true),
      decryptCase(
        'a wrong share with the right proof',
        'alice',
        v2.hex(v2.add(Buffer.from(share.share, 'hex'), v2.mulBase(1n))),
        share.proof,
        false,
      ),
      decryptCase('checked against bob’s verification key', 'bob', share.share, share.proof, false),
    ],
  };
}

// ---- keygen.json ----
export function keygenVectors() {
  return {
    description:
      'Section 12.3: a 3-trustee, threshold-2 key generation. messages are the signed envelopes in posting order; ' +
      'secrets, shares and keyShares are what each trustee keeps (given here so that implementations can be checked ' +
      'step by step); publicKey and verificationKeys follow from the keygen-commit messages alone.',
    manifest: v2Manifest,
    manifestHash: mh,
    trusteeSeeds: Object.fromEntries(trustees.map((t, i) => [t.id, hex(trusteeSeeds[i]!)])),
    secrets: Object.fromEntries(trustees.map((t, i) => [t.id, dkg.secrets[i]])),
    sharesInClear: Object.fromEntries(
      trustees.map((from, i) => [
        from.id,
        Object.fromEntries(
          trustees.map((to, j) => {
            const coeffs = dkg.secrets[i]!.coefficients.map((c) => v2.scalarFromHex(c)!);
            let acc = 0n;
            for (let m = coeffs.length - 1; m >= 0; m--) acc = v2.mod(acc * BigInt(j + 1) + coeffs[m]!);
            return [to.id, v2.scalarToHex(acc)];
          }),
        ),
      ]),
    ),
    messages: dkg.accepted,
    publicKey: dkg.publicKey,
    verificationKeys: dkg.verificationKeys,
    keyShares: Object.fromEntries(trustees.map((t, i) => [t.id, dkg.keyShares[i]])),
  };
}

// ---- decryption.json ----
export function decryptionVectors() {
  const pairs = [
    [0, 1],
    [0, 2],
    [1, 2],
  ];
  return {
    description:
      'Section 12.5: the aggregate of election.json, every trustee’s decrypt message, and the combination by every pair ' +
      'of trustees (lagrange: λ_j for that pair), which all give the same tally.',
    aggregate,
    aggregateHash,
    messages: decrypts,
    combinations: pairs.map((pair) => {
      const accepted = [...dkg.accepted, ...pair.map((i) => decrypts[i]!)];
      const result = v2.combineDecryptions(v2Manifest, mh, accepted, aggregate)!;
      const indexes = pair.map((i) => i + 1);
      return {
        trustees: pair.map((i) => trustees[i]!.id),
        lagrange: Object.fromEntries(pair.map((i) => [trustees[i]!.id, v2.scalarToHex(v2.lagrange(indexes, i + 1))])),
        tally: result.tally,
      };
    }),
  };
}

// ---- election.json ----
export function electionVectors() {
  const accepted = [...dkg.accepted, decrypts[0]!, decrypts[2]!];
  const result = v2.combineDecryptions(v2Manifest, mh, accepted, aggregate)!;
  return {
    description:
      'A small encrypted election end to end: manifest, key ceremony (keygen.json), five ballots with their ' +
      'selections in clear, the aggregate, the decrypt messages of alice and carol, the result and its resultHash.',
    manifest: v2Manifest,
    manifestHash: mh,
    publicKey: dkg.publicKey,
    roll: voterSeeds.map((s) => keyPairFromSeed(s).publicKey.toString('hex')),
    ballots: ballots.map((b, i) => ({ selections: votes[i], submission: b.submission, ballotHash: b.ballotHash })),
    aggregate,
    aggregateHash,
    decrypts: [decrypts[0], decrypts[2]],
    result,
    resultHash: v2.decryptedResultHash(result),
  };
}

// ---- audited-ballot.json ----
export function auditedBallotVectors() {
  const audited = v2.auditedBallot(
    v2.encryptBallot(ctx, voterSeeds[0]!, { referendum: ['no'], council: ['bo'] }, random),
  );
  const wrongFlag = structuredClone(audited);
  wrongFlag.openings.referendum![1]!.selected = false;
  wrongFlag.openings.referendum![0]!.selected = true;
  const wrongRandomness = structuredClone(audited);
  wrongRandomness.openings.council![0]!.randomness = v2.scalarToHex(random('audited/wrong'));
  const wrongHash = structuredClone(audited);
  wrongHash.ballotHash = ballots[0]!.ballotHash;
  return {
    description:
      'Section 12.8: an audited (Benaloh-challenged) ballot of election.json and three openings that must not check.',
    manifest: v2Manifest,
    manifestHash: mh,
    publicKey: dkg.publicKey,
    cases: [
      { name: 'valid', audited, valid: true, selections: { referendum: ['no'], council: ['bo'] } },
      { name: 'opening claims another choice', audited: wrongFlag, valid: false },
      { name: 'wrong randomness', audited: wrongRandomness, valid: false },
      { name: 'ballotHash of another ballot', audited: wrongHash, valid: false },
    ],
  };
}
