// The trustees' board and the encrypted tally on a real database (docs/protocol.md 12.3, 12.5, 12.7):
// the ceremony's order and repeat rules as the board stores them, the key that opens the election, the
// aggregate of the ledger's ballots published once at the close, the decryption by k of n with a wrong
// partial decryption refused and named on the public record, and the tables' append-only rules.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/support/db.js';
import { selectionsFor, voters, type Voter } from '../../test/support/fixtures.js';
import {
  Ingestor,
  closeElection,
  closeEncryptedElection,
  closeHead,
  computeTally,
  createElection,
  decryptionProgress,
  electionsToReconcile,
  getAggregate,
  getDecryption,
  getElection,
  notYetOpen,
  postTrusteeMessage,
  trusteeTranscript,
  validateRoll,
} from '../src/index.js';
import { ledgerKeyFromSeed } from '../src/ledger-key.js';
import { ProofPool } from '../src/proof-pool.js';
import type { Manifest } from '../src/protocol/protocol.js';
import * as v2 from '../src/protocol/v2/index.js';
import { VerifyPool } from '../src/verify-pool.js';
import { Ceremony, expectedTally, trusteeManifest } from './helpers/trustee-ceremony.js';

const ledgerKey = ledgerKeyFromSeed(Buffer.alloc(32, 21));

let db: TestDatabase;
let verifier: VerifyPool;
let proofs: ProofPool;
let ingestor: Ingestor;

beforeAll(async () => {
  db = await createTestDatabase();
  verifier = new VerifyPool({ threads: 1 });
  proofs = new ProofPool({ threads: 1 });
  ingestor = new Ingestor({ sql: db.app, ledgerKey, verifier, proofs });
});

afterAll(async () => {
  await proofs?.close();
  await verifier?.close();
  await db?.drop();
});

async function newElection(id: string, n: number, opts: { k?: number } = {}) {
  const manifest = trusteeManifest(id, ledgerKey.publicKeyHex, { k: opts.k });
  const vs = voters(n, `${id}-`);
  await createElection(db.app, manifest, await validateRoll(vs.map((v) => v.credential)));
  return { manifest, vs, ceremony: new Ceremony(manifest) };
}

const post = (electionId: string, envelope: unknown) => postTrusteeMessage(db.app, electionId, envelope, '192.0.2.7');

async function postAll(electionId: string, envelopes: readonly v2.TrusteeEnvelope[]) {
  for (const env of envelopes) expect((await post(electionId, env)).kind).toBe('accepted');
}

/** Casts each voter's ballot (selectionsFor(i)) through the ingest; resolves with the selections and ballots. */
async function castAll(manifest: Manifest, ceremony: Ceremony, vs: readonly Voter[]) {
  const ctx = { manifest, manifestHash: ceremony.manifestHash, publicKey: ceremony.publicKey() };
  const selections = vs.map((_, i) => selectionsFor(i));
  const ballots = vs.map((v, i) => v2.encryptBallot(ctx, v.seed, selections[i]!).submission);
  const outcomes = await Promise.all(ballots.map((b) => ingestor.submit(manifest.electionId, b)));
  for (const o of outcomes) expect(o.kind, JSON.stringify(o)).toBe('accepted');
  return { selections, ballots };
}

const reconciled = async (id: string) => (await electionsToReconcile(db.app)).some((r) => r.electionId === id);

describe('the key ceremony on the board', () => {
  it('keeps the order, takes a byte-identical repeat, refuses a second message, and opens the election', async () => {
    const E = 'ceremony';
    const { manifest, vs, ceremony } = await newElection(E, 2);
    const before = (await getElection(db.app, E))!;
    expect(before.encryption).toEqual({
      threshold: 2,
      trustees: ['t1', 't2', 't3'],
      publicKey: null,
      keyCeremony: 'in-progress',
    });
    expect(notYetOpen(before)).toBe(true);

    const commits = ['t1', 't2', 't3'].map((id) => ceremony.commit(id));
    await postAll(E, commits.slice(0, 2));
    // keygen-shares before every keygen-commit is in: out of order, and on the public record (t1 signed it).
    const outOfOrder = await post(E, ceremony.sharesOf('t1'));
    expect(outOfOrder).toMatchObject({ kind: 'refused', code: 'ceremony-phase', recorded: true });
    await postAll(E, [commits[2]!]);
    expect(await post(E, commits[0])).toMatchObject({ kind: 'repeat', accepted: 'keygen-commit', trustee: 't1' });
    const second = await post(E, ceremony.commit('t1', 'another polynomial'));
    expect(second).toMatchObject({ kind: 'refused', code: 'trustee-message-exists', recorded: true });
    // Signed by t2's key but naming t1: not a trustee's message, so only counted.
    const forged = v2.signTrusteeMessage(ceremony.trustees[1]!.seed, commits[0]!.message);
    expect(await post(E, forged)).toMatchObject({ kind: 'refused', code: 'bad-signature', recorded: false });
    expect(await post(E, { message: { kind: 'keygen-commit' } })).toMatchObject({
      kind: 'refused',
      code: 'invalid-body',
      recorded: false,
    });

    const shares = ['t1', 't2', 't3'].map((id) => ceremony.sharesOf(id));
    const confirms = ['t1', 't2', 't3'].map((id) => ceremony.confirm(id));
    expect(await post(E, confirms[0])).toMatchObject({ kind: 'refused', code: 'ceremony-phase' });
    await postAll(E, shares);
    expect(await post(E, confirms[0])).toMatchObject({ kind: 'accepted', keyCeremony: 'in-progress' });
    expect(await post(E, confirms[1])).toMatchObject({ kind: 'accepted', keyCeremony: 'in-progress' });
    expect(notYetOpen((await getElection(db.app, E))!)).toBe(true);
    // The key is known to the trustees, but not confirmed by all: ballots are not taken yet.
    const early = { manifest, manifestHash: ceremony.manifestHash, publicKey: ceremony.publicKey() };
    const tooSoon = await ingestor.submit(E, v2.encryptBallot(early, vs[0]!.seed, selectionsFor(0)).submission);
    expect(tooSoon).toMatchObject({ kind: 'rejected', code: 'election-not-open' });
    expect(await post(E, confirms[2])).toMatchObject({ kind: 'accepted', keyCeremony: 'complete', decrypted: false });
    expect(await post(E, confirms[2])).toMatchObject({ kind: 'repeat', keyCeremony: 'complete' });

    const after = (await getElection(db.app, E))!;
    expect(after.encryption).toMatchObject({ publicKey: ceremony.publicKey(), keyCeremony: 'complete' });
    expect(notYetOpen(after)).toBe(false);

    const transcript = await trusteeTranscript(db.app, E);
    const keys = v2.ceremonyKeys(
      manifest,
      commits.map((c) => c.message),
    );
    expect(transcript).toMatchObject({
      electionId: E,
      threshold: 2,
      trustees: manifest.trustees,
      publicKey: keys.publicKey,
      verificationKeys: keys.verificationKeys,
      keyCeremony: 'complete',
    });
    expect(transcript.messages).toEqual([...commits, ...shares, ...confirms]);
    expect(transcript.refused.map((r) => [r.trustee, r.kind, r.code])).toEqual([
      ['t1', 'keygen-shares', 'ceremony-phase'],
      ['t1', 'keygen-commit', 'trustee-message-exists'],
      ['t1', 'keygen-confirm', 'ceremony-phase'],
    ]);
    const [{ n }] = await db.admin`SELECT coalesce(sum(count), 0)::int AS n FROM rejected_attempt_counts
                                   WHERE election_id = ${E} AND client = '192.0.2.7'`;
    expect(n).toBe(2);
    // The election key now lets ballots in (once the ingest's cached record is renewed, as the route does).
    ingestor.elections.invalidate(E);
    await castAll(manifest, ceremony, vs);
  });

  it('serialises one election’s posts: concurrent posts get gap-free positions, one message per kind', async () => {
    const E = 'concurrent';
    const { ceremony } = await newElection(E, 1);
    const rival = ceremony.commit('t1', 'rival');
    const outcomes = await Promise.all([
      ...['t1', 't2', 't3'].map((id) => post(E, ceremony.commit(id))),
      post(E, rival),
    ]);
    expect(outcomes.filter((o) => o.kind === 'accepted')).toHaveLength(3);
    expect(outcomes.filter((o) => o.kind === 'refused' && o.code === 'trustee-message-exists')).toHaveLength(1);
    const rows =
      await db.app`SELECT position, trustee FROM trustee_messages WHERE election_id = ${E} ORDER BY position`;
    expect(rows.map((r) => r.position)).toEqual([0, 1, 2]);
    expect(new Set(rows.map((r) => r.trustee))).toEqual(new Set(['t1', 't2', 't3']));
  });

  it('its tables are append-only for the application role and the owner alike', async () => {
    const E = 'append-only';
    const { ceremony } = await newElection(E, 1);
    await postAll(E, [ceremony.commit('t1')]);
    expect(await post(E, ceremony.commit('t1', 'again'))).toMatchObject({ recorded: true });
    for (const sql of [db.app, db.admin]) {
      await expect(sql`UPDATE trustee_messages SET trustee = 't2' WHERE election_id = ${E}`).rejects.toThrow(
        /permission denied|not allowed/,
      );
      await expect(sql`DELETE FROM trustee_messages WHERE election_id = ${E}`).rejects.toThrow(
        /permission denied|not allowed/,
      );
      await expect(sql`DELETE FROM trustee_refusals WHERE election_id = ${E}`).rejects.toThrow(
        /permission denied|not allowed/,
      );
      await expect(sql`TRUNCATE aggregates`).rejects.toThrow(/permission denied|not allowed/);
    }
    for (const table of ['election_keys', 'aggregates', 'decryptions', 'trustee_refusals'])
      await expect(db.app.unsafe(`UPDATE ${table} SET election_id = election_id`)).rejects.toThrow(/permission denied/);
    const t = await trusteeTranscript(db.app, E);
    expect([t.messages.length, t.refused.length]).toEqual([1, 1]);
  });
});

describe('the encrypted close', () => {
  it('publishes the aggregate once, and 2 of 3 trustees decrypt it; a wrong share is refused and named', async () => {
    const E = 'enc-close';
    const { manifest, vs, ceremony } = await newElection(E, 7);
    await postAll(E, ceremony.keyGeneration());
    const { selections } = await castAll(manifest, ceremony, vs);
    await expect(closeEncryptedElection(db.app, E)).rejects.toThrow(/not closed/);
    expect(await decryptionProgress(db.app, E)).toBeNull();

    await closeHead(db.app, E);
    expect(await reconciled(E)).toBe(true);
    const first = await closeEncryptedElection(db.app, E);
    expect(first).toMatchObject({ status: 'waiting', nextSeq: 7, stored: null, recount: null });
    // The aggregate is the sum of the stored ballots' ciphertexts.
    const aggregator = new v2.Aggregator(manifest);
    const rows = await db.app`SELECT ballot FROM ballots WHERE election_id = ${E} ORDER BY seq`;
    for (const r of rows) aggregator.add(JSON.parse(r.ballot as string));
    const expected = aggregator.result(ceremony.manifestHash, ceremony.publicKey());
    const stored = (await getAggregate(db.app, E))!;
    expect(stored.aggregate).toEqual(expected);
    expect(stored.aggregateHash).toBe(v2.aggregateHashOf(expected));
    expect(first.aggregateHash).toBe(stored.aggregateHash);
    expect((await closeEncryptedElection(db.app, E)).aggregateHash).toBe(stored.aggregateHash);
    // Waiting for the trustees: nothing for the anchor worker to do.
    expect(await reconciled(E)).toBe(false);
    expect(await decryptionProgress(db.app, E)).toEqual({
      aggregateHash: stored.aggregateHash,
      totalBallots: 7,
      received: [],
      result: null,
    });

    const wrong = await post(E, ceremony.decrypt('t2', stored.aggregate, { wrong: true }));
    expect(wrong).toMatchObject({ kind: 'refused', code: 'invalid-proof', recorded: true });
    expect((wrong as { message: string }).message).toMatch(/trustee t2, contest q1, choice oui/);
    expect(await post(E, ceremony.decrypt('t3', stored.aggregate))).toMatchObject({
      kind: 'accepted',
      decrypted: false,
    });
    expect(await getDecryption(db.app, E)).toBeNull();
    expect((await decryptionProgress(db.app, E))!.received).toEqual(['t3']);
    expect(await post(E, ceremony.decrypt('t1', stored.aggregate))).toMatchObject({
      kind: 'accepted',
      decrypted: true,
    });

    const decryption = (await getDecryption(db.app, E))!;
    expect(decryption.result).toEqual({
      version: 2,
      electionId: E,
      aggregateHash: stored.aggregateHash,
      trustees: ['t1', 't3'],
      tally: expectedTally(manifest, selections),
      totalBallots: 7,
    });
    expect(decryption.resultHash).toBe(v2.decryptedResultHash(decryption.result));
    expect((await getElection(db.app, E))!).toMatchObject({ resultHash: decryption.resultHash, totalBallots: 7 });
    const done = await closeEncryptedElection(db.app, E);
    expect(done).toMatchObject({ status: 'decrypted', nextSeq: 7 });
    expect(done.stored).toEqual({ resultHash: decryption.resultHash, totalBallots: 7 });
    expect(done.recount).toEqual(done.stored);
    expect(await reconciled(E)).toBe(true);

    // t2's correct share, late: accepted (it verifies), the stored result stays.
    expect(await post(E, ceremony.decrypt('t2', stored.aggregate))).toMatchObject({
      kind: 'accepted',
      decrypted: false,
    });
    expect((await getDecryption(db.app, E))!.resultJcs).toBe(decryption.resultJcs);
    const transcript = await trusteeTranscript(db.app, E);
    expect(transcript.refused).toEqual([
      expect.objectContaining({ trustee: 't2', kind: 'decrypt', code: 'invalid-proof' }),
    ]);
    expect(transcript.messages.filter((m) => m.message.kind === 'decrypt').map((m) => m.message.trustee)).toEqual([
      't3',
      't1',
      't2',
    ]);
    // The plaintext paths refuse an encrypted election rather than count ballots without selections.
    await expect(computeTally(db.app, E)).rejects.toThrow(/encrypted/);
    await expect(closeElection(db.app, E)).rejects.toThrow(/encrypted/);
  });

  it('refuses a decrypt before the close, and one for another aggregate', async () => {
    const E = 'enc-early';
    const { manifest, vs, ceremony } = await newElection(E, 2);
    await postAll(E, ceremony.keyGeneration());
    const { ballots } = await castAll(manifest, ceremony, vs);
    // The aggregate as the trustees would compute it themselves, before the server published one.
    const aggregator = new v2.Aggregator(manifest);
    for (const b of ballots) aggregator.add(b.ballot);
    const own = aggregator.result(ceremony.manifestHash, ceremony.publicKey());
    expect(await post(E, ceremony.decrypt('t1', own))).toMatchObject({ kind: 'refused', code: 'ceremony-phase' });
    await closeHead(db.app, E);
    await closeEncryptedElection(db.app, E);
    const other = { ...own, totalBallots: 3 };
    expect(await post(E, ceremony.decrypt('t1', other))).toMatchObject({ kind: 'refused', code: 'invalid-body' });
    expect(await post(E, ceremony.decrypt('t1', own))).toMatchObject({ kind: 'accepted' });
  });

  it('an election without ballots has its result at the close, every count 0', async () => {
    const E = 'enc-empty';
    const { manifest, ceremony } = await newElection(E, 3);
    await postAll(E, ceremony.keyGeneration());
    await closeHead(db.app, E);
    const c = await closeEncryptedElection(db.app, E);
    expect(c).toMatchObject({ status: 'decrypted', nextSeq: 0 });
    expect(c.recount).toEqual(c.stored);
    const d = (await getDecryption(db.app, E))!;
    expect(d.result).toMatchObject({ trustees: [], tally: expectedTally(manifest, []), totalBallots: 0 });
    expect(c.stored!.resultHash).toBe(d.resultHash);
  });

  it('an election whose key ceremony never completed closes with no ballot and no aggregate', async () => {
    const E = 'enc-no-key';
    const { manifest, ceremony } = await newElection(E, 3);
    await postAll(E, [ceremony.commit('t1')]);
    await closeHead(db.app, E);
    const c = await closeEncryptedElection(db.app, E);
    expect(c).toMatchObject({ status: 'decrypted', nextSeq: 0, aggregateHash: null });
    expect(c.stored).toEqual(c.recount);
    const zero = v2.decryptedResultHash({
      version: 2,
      electionId: E,
      aggregateHash: '',
      trustees: [],
      tally: expectedTally(manifest, []),
      totalBallots: 0,
    });
    expect(c.stored!.resultHash).toBe(zero);
    expect(await getAggregate(db.app, E)).toBeNull();
  });
});
