// Ingest of encrypted ballots (docs/protocol.md 12.4) through the Ingestor on a real database: the key
// ceremony gates the opening, the proofs are checked in the proof pool's threads before the ballot is
// committed, every refusal is counted and stores nothing, and an accepted ballot is stored, exported and
// receipted exactly as a version 1 ballot (its JCS, ballotHash = H(JCS({ballot, signature}))).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/support/db.js';
import { ballotFor, testManifest, voters, type Voter } from '../../test/support/fixtures.js';
import { Ingestor, type IngestOutcome, createElection, ledgerPages, receiptFor, validateRoll } from '../src/index.js';
import { ledgerKeyFromSeed } from '../src/ledger-key.js';
import { ProofPool } from '../src/proof-pool.js';
import { ProtocolError } from '../src/protocol/errors.js';
import { jcs } from '../src/protocol/jcs.js';
import { keyPairFromSeed, signMessage } from '../src/protocol/ed25519.js';
import { ballotMessage, type Manifest, verifyReceipt } from '../src/protocol/protocol.js';
import {
  type EncryptedBallot,
  type EncryptedElectionContext,
  type EncryptedSubmission,
  encryptBallot,
  encryptedBallotHash,
  encryptedBallotMessage,
} from '../src/protocol/v2/ballot.js';
import { add, elementFromHex, hex, mulBase } from '../src/protocol/v2/group.js';
import { VerifyPool } from '../src/verify-pool.js';
import { completeKeyCeremony, encryptedManifest, postToBoard } from './helpers/encrypted-election.js';

const ledgerKey = ledgerKeyFromSeed(Buffer.alloc(32, 12));
const ledgerPub = Buffer.from(ledgerKey.publicKeyHex, 'hex');
const E = 'enc-ingest';
const WAITING = 'enc-waiting';
const PLAIN = 'plain-ingest';

let db: TestDatabase;
let verifier: VerifyPool;
let proofs: ProofPool;
let ingestor: Ingestor;
let manifest: Manifest;
let ctx: EncryptedElectionContext;
let vs: Voter[];
let plainVoters: Voter[];

beforeAll(async () => {
  db = await createTestDatabase();
  verifier = new VerifyPool({ threads: 1 });
  proofs = new ProofPool({ threads: 2, maxBatch: 3 });
  ingestor = new Ingestor({ sql: db.app, ledgerKey, verifier, proofs });
  manifest = encryptedManifest(E, ledgerKey.publicKeyHex);
  vs = voters(30, `${E}-`);
  await createElection(db.app, manifest, await validateRoll(vs.map((v) => v.credential)));
  ctx = await completeKeyCeremony(postToBoard(db.app, E), manifest);
  plainVoters = voters(3, `${PLAIN}-`);
  await createElection(
    db.app,
    testManifest(PLAIN, ledgerKey.publicKeyHex),
    await validateRoll(plainVoters.map((v) => v.credential)),
  );
});

afterAll(async () => {
  await ingestor?.close();
  await proofs?.close();
  await verifier?.close();
  await db?.drop();
});

async function counts(electionId: string) {
  const [b] = await db.admin`SELECT count(*)::int AS n FROM ballots WHERE election_id = ${electionId}`;
  const [r] = await db.admin`SELECT coalesce(sum(count), 0)::int AS n FROM rejected_attempt_counts`;
  return { ballots: b!.n as number, rejected: r!.n as number };
}

/** Submit and check the refusal: its code and message, one more count, no ballot stored. */
async function refused(electionId: string, body: unknown, code: string, message?: string | RegExp) {
  const before = await counts(electionId);
  const o = await ingestor.submit(electionId, body, '192.0.2.7');
  expect(o.kind, JSON.stringify(o)).toBe('rejected');
  if (o.kind !== 'rejected') return;
  expect(o.code).toBe(code);
  if (typeof message === 'string') expect(o.message).toBe(message);
  else if (message) expect(o.message).toMatch(message);
  const after = await counts(electionId);
  expect(after.ballots).toBe(before.ballots);
  expect(after.rejected - before.rejected, `counted refusal ${code}`).toBe(1);
}

const vote = (v: Voter, i = 0) =>
  encryptBallot(ctx, v.seed, {
    q1: [i % 2 === 0 ? 'oui' : 'non'],
    council: [[], ['ana'], ['bo', 'chloe']][i % 3]!,
  }).submission;

/** The ballot changed by `edit` and signed again by `signer`: only the proofs can refuse it. */
function resigned(sub: EncryptedSubmission, signer: Voter, edit: (b: EncryptedBallot) => void): EncryptedSubmission {
  const ballot = structuredClone(sub.ballot);
  edit(ballot);
  const key = keyPairFromSeed(signer.seed);
  return { ballot, signature: signMessage(key.privateKeyObject, encryptedBallotMessage(ballot)).toString('hex') };
}

describe('encrypted ingest', () => {
  it('refuses a key that is not on the roll before checking its proofs (made-up keys cannot buy proof time)', async () => {
    const outsider = voters(1, 'enc-outsider-')[0]!;
    // Tampered proofs, signed by a key that is on no roll: the roll check answers, not the proofs.
    const sub = resigned(encryptBallot(ctx, outsider.seed, { q1: ['oui'], council: [] }).submission, outsider, (b) => {
      b.contests.q1!.choices[0]!.proof.c.reverse();
    });
    await refused(E, sub, 'credential-not-on-roll', new RegExp(`credential ${outsider.credential} is not on the roll`));
  });

  it('takes no ballot before the key ceremony is complete (election-not-open, counted), then opens', async () => {
    const waiting = encryptedManifest(WAITING, ledgerKey.publicKeyHex);
    const [voter] = voters(1, `${WAITING}-`);
    await createElection(db.app, waiting, await validateRoll([voter!.credential]));
    // Encrypted to a key of no ceremony: refused before its proofs are looked at.
    const someKey: EncryptedElectionContext = {
      manifest: waiting,
      manifestHash: '00'.repeat(32),
      publicKey: hex(mulBase(5n)),
    };
    const early = encryptBallot(someKey, voter!.seed, { q1: ['oui'], council: [] }).submission;
    await refused(
      WAITING,
      early,
      'election-not-open',
      'the election opens once its trustees have completed the key ceremony',
    );
    const waitingCtx = await completeKeyCeremony(postToBoard(db.app, WAITING), waiting);
    ingestor.elections.invalidate(WAITING); // the ingest caches an election for a second
    expect((await ingestor.elections.get(WAITING))!.encryption).toMatchObject({
      keyCeremony: 'complete',
      publicKey: waitingCtx.publicKey,
    });
    const ballot = encryptBallot(waitingCtx, voter!.seed, { q1: ['non'], council: ['ana'] }).submission;
    expect((await ingestor.submit(WAITING, ballot)).kind).toBe('accepted');
  });

  it('accepts a valid ballot: receipt, ballotHash, stored and exported as its exact JCS', async () => {
    const sub = vote(vs[0]!);
    const o = await ingestor.submit(E, sub);
    expect(o.kind, JSON.stringify(o)).toBe('accepted');
    if (o.kind !== 'accepted') return;
    expect(o.receipt).toMatchObject({ version: 1, electionId: E, seq: 0 });
    expect(o.receipt.ballotHash).toBe(encryptedBallotHash(sub).toString('hex'));
    expect(verifyReceipt(ledgerPub, o.receipt)).toBe(true);
    expect(await receiptFor(db.app, ledgerKey, o.receipt.ballotHash)).toEqual(o.receipt);
    const [row] = await db.admin`SELECT ballot, encode(signature, 'hex') AS sig FROM ballots
                                 WHERE election_id = ${E} AND seq = 0`;
    expect(row!.ballot).toBe(jcs(sub.ballot));
    expect(row!.sig).toBe(sub.signature);
    let exported = '';
    for await (const page of ledgerPages(db.app, E, 0, 1)) exported += page;
    expect(exported).toContain(`"ballot":${jcs(sub.ballot)},`);
    expect(JSON.parse(exported)).toEqual({
      seq: 0,
      ballotHash: o.receipt.ballotHash,
      ballot: sub.ballot,
      signature: sub.signature,
      receivedAt: o.receipt.receivedAt,
    });
  });

  it('a byte-identical resubmission gets the original receipt; another ballot of the credential is a duplicate', async () => {
    const sub = vote(vs[1]!);
    const first = await ingestor.submit(E, sub);
    expect(first.kind).toBe('accepted');
    const again = await ingestor.submit(E, structuredClone(sub));
    expect(again).toEqual({ kind: 'resubmitted', receipt: (first as { receipt: unknown }).receipt });
    const before = await counts(E);
    const other = await ingestor.submit(E, vote(vs[1]!, 1));
    expect(other.kind).toBe('duplicate');
    expect((other as { receipt: { seq: number } }).receipt.seq).toBe(
      (first as { receipt: { seq: number } }).receipt.seq,
    );
    expect((await counts(E)).ballots).toBe(before.ballots);
  });

  it('refuses a tampered ciphertext, naming its choice (invalid-proof)', async () => {
    const sub = vote(vs[2]!);
    const tampered = resigned(sub, vs[2]!, (b) => {
      const c = b.contests.council!.choices[1]!;
      c.beta = hex(add(elementFromHex(c.beta)!, mulBase(1n))); // still a group element: one more vote for bo
    });
    await refused(
      E,
      tampered,
      'invalid-proof',
      'contest council, choice bo: the proof that it encrypts 0 or 1 does not verify',
    );
  });

  it('refuses a tampered proof, naming its choice (invalid-proof)', async () => {
    const sub = vote(vs[3]!);
    const tampered = resigned(sub, vs[3]!, (b) => {
      const p = b.contests.q1!.choices[0]!.proof;
      p.s[1] = p.s[0]!;
    });
    await refused(
      E,
      tampered,
      'invalid-proof',
      'contest q1, choice oui: the proof that it encrypts 0 or 1 does not verify',
    );
    // The contest's range proof too.
    const range = resigned(sub, vs[3]!, (b) => {
      const p = b.contests.council!.proof;
      p.c.reverse();
    });
    await refused(
      E,
      range,
      'invalid-proof',
      /^contest council: the proof that 0\.\.2 choices are selected does not verify$/,
    );
  });

  it("refuses a ciphertext copied from another credential's ballot, signed by the copier (invalid-proof)", async () => {
    const victim = vote(vs[4]!);
    expect((await ingestor.submit(E, victim)).kind).toBe('accepted');
    const copier = vs[5]!;
    const copied = resigned(vote(copier), copier, (b) => {
      b.contests.q1 = structuredClone(victim.ballot.contests.q1!);
    });
    await refused(
      E,
      copied,
      'invalid-proof',
      'contest q1, choice oui: the proof that it encrypts 0 or 1 does not verify',
    );
  });

  it('refuses a point that is not a group element (invalid-proof) and a missing contest (invalid-selections)', async () => {
    const sub = vote(vs[6]!);
    const identity = resigned(sub, vs[6]!, (b) => {
      b.contests.q1!.choices[1]!.alpha = `01${'00'.repeat(31)}`;
    });
    await refused(E, identity, 'invalid-proof', 'contest q1, choice non: not a group element');
    const missing = resigned(sub, vs[6]!, (b) => {
      delete b.contests.council;
    });
    await refused(E, missing, 'invalid-selections', 'contest council is missing');
    const short = resigned(sub, vs[6]!, (b) => {
      b.contests.council!.choices.pop();
    });
    await refused(E, short, 'invalid-selections', 'contest council has 2 ciphertexts for 3 choices');
    // The voter's own ballot still goes in afterwards: refusals stored nothing.
    expect((await ingestor.submit(E, sub)).kind).toBe('accepted');
  });

  it('checks the signature over the version 2 domain before the proofs (bad-signature)', async () => {
    const sub = vote(vs[7]!);
    const key = keyPairFromSeed(vs[7]!.seed);
    // Signed over the version 1 message of the same bytes: not a version 2 signature.
    const v1Signed = {
      ballot: sub.ballot,
      signature: signMessage(key.privateKeyObject, ballotMessage(sub.ballot as never)).toString('hex'),
    };
    await refused(E, v1Signed, 'bad-signature', /^signature rejected: /);
    const other = resigned(sub, vs[8]!, () => {}); // signed by another key than the credential's
    await refused(E, other, 'bad-signature', /^signature rejected: /);
  });

  it('refuses a ballot of the other version than the election takes (invalid-body), and a bad shape', async () => {
    await refused(E, ballotFor(vs[9]!, E), 'invalid-body', `election ${E} takes encrypted ballots (version 2)`);
    const onPlain = encryptBallot({ ...ctx, manifest: { ...manifest, electionId: PLAIN } }, plainVoters[0]!.seed, {
      q1: ['oui'],
      council: [],
    }).submission;
    await refused(PLAIN, onPlain, 'invalid-body', `election ${PLAIN} takes plaintext ballots (version 1)`);
    const sub = vote(vs[10]!);
    await refused(E, { ...sub, extra: 1 }, 'invalid-body', 'body.extra: is not allowed');
    const upper = structuredClone(sub);
    upper.ballot.contests.q1!.choices[0]!.alpha = upper.ballot.contests.q1!.choices[0]!.alpha.toUpperCase();
    await refused(E, upper, 'invalid-hex');
    await refused(E, { ...sub, ballot: { ...sub.ballot, electionId: PLAIN } }, 'wrong-election');
  });

  it('commits many ballots checked across the proof threads, gap-free, each with its own receipt', async () => {
    const batch = vs.slice(11, 27).map((v, i) => vote(v, i));
    const outcomes: IngestOutcome[] = await Promise.all(batch.map((s) => ingestor.submit(E, s)));
    for (const o of outcomes) expect(o.kind, JSON.stringify(o)).toBe('accepted');
    const seqs = outcomes.map((o) => (o as { receipt: { seq: number } }).receipt.seq).sort((a, b) => a - b);
    const [head] = await db.admin`SELECT next_seq FROM election_heads WHERE election_id = ${E}`;
    const next = Number(head!.next_seq);
    expect(seqs).toEqual(Array.from({ length: batch.length }, (_, i) => next - batch.length + i));
    for (const [i, o] of outcomes.entries()) {
      expect((o as { receipt: { ballotHash: string } }).receipt.ballotHash).toBe(
        encryptedBallotHash(batch[i]!).toString('hex'),
      );
    }
  });

  it('answers an outage of the proof threads with 503 unavailable, storing nothing', async () => {
    const sub = vote(vs[27]!);
    await proofs.close();
    const before = await counts(E);
    const err = await ingestor.submit(E, sub).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err).toMatchObject({ code: 'unavailable', message: 'proof verification is unavailable; retry later' });
    expect(await counts(E)).toEqual(before);
  });
});
