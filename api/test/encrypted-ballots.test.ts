// POST /api/v1/elections/{id}/ballots with encrypted ballots (docs/protocol.md 12.4, 12.9) over real HTTP on
// a real database: the key ceremony posted through the trustees' route opens the election; a valid ballot
// gets its 201 and receipt, every refusal its status, code and audit count with nothing stored; the body
// limits of both versions; the ledger export and the proof bundle serve the stored ballot unchanged.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ballotFor, voters, type Voter } from '../../test/support/fixtures.js';
import { jcs } from '../../ledger/src/protocol/jcs.js';
import { keyPairFromSeed, signMessage } from '../../ledger/src/protocol/ed25519.js';
import { ERROR_CODES } from '../../ledger/src/protocol/errors.js';
import { type Manifest, verifyReceipt } from '../../ledger/src/protocol/protocol.js';
import {
  type EncryptedBallot,
  type EncryptedElectionContext,
  type EncryptedSubmission,
  encryptBallot,
  encryptedBallotHash,
  encryptedBallotMessage,
} from '../../ledger/src/protocol/v2/ballot.js';
import type { TrusteeEnvelope } from '../../ledger/src/protocol/v2/trustees.js';
import { add, elementFromHex, hex, mulBase } from '../../ledger/src/protocol/v2/group.js';
import { completeKeyCeremony, encryptedManifest, wideContest } from '../../ledger/test/helpers/encrypted-election.js';
import { build, ledgerCounts, testLedgerKey, type TestApi } from './helper.js';

let api: TestApi;
const E = 'enc-ballots';
const WIDE = 'enc-wide';
const PLAIN = 'plain-ballots';
const urlOf = (id: string) => `/api/v1/elections/${id}/ballots`;
const ledgerPub = Buffer.from(testLedgerKey.publicKeyHex, 'hex');
let manifest: Manifest;
let ctx: EncryptedElectionContext;
let wideCtx: EncryptedElectionContext;
let vs: Voter[];
let wideVoters: Voter[];
let plainVoters: Voter[];

/** Creates an encrypted election with `n` voters through the admin API. */
async function createEncrypted(id: string, n: number, manifest: Manifest): Promise<Voter[]> {
  const roll = voters(n, `${id}-`);
  const r = await api.request('POST', '/api/v1/elections', {
    admin: true,
    json: { manifest, roll: roll.map((v) => v.credential) },
  });
  expect(r.status, r.text).toBe(201);
  return roll;
}

/** The key ceremony's messages posted as the trustees' operator does: the admin trustee-messages route. */
const overHttp = (id: string) => async (envelope: TrusteeEnvelope) => {
  const r = await api.request('POST', `/api/v1/elections/${id}/trustee-messages`, { admin: true, json: envelope });
  expect(r.status, r.text).toBe(201);
};

beforeAll(async () => {
  api = await build();
  manifest = encryptedManifest(E, testLedgerKey.publicKeyHex);
  vs = await createEncrypted(E, 20, manifest);
  // Not open yet: the ceremony is run by the first test.
  const wide = encryptedManifest(WIDE, testLedgerKey.publicKeyHex, [wideContest('many', 46)]);
  wideVoters = await createEncrypted(WIDE, 2, wide);
  wideCtx = await completeKeyCeremony(overHttp(WIDE), wide);
  ({ voters: plainVoters } = await api.election(PLAIN, 3));
});

afterAll(async () => {
  await api?.close();
});

/** Post and check the refusal: status, code, message, exactly one more audit count, nothing stored. */
async function refused(
  electionId: string,
  init: { json?: unknown; body?: string; headers?: Record<string, string> },
  status: number,
  code: string,
  message?: string,
) {
  const before = await ledgerCounts(api.db, electionId);
  const r = await api.request('POST', urlOf(electionId), init);
  expect(r.status, r.text).toBe(status);
  expect(r.body).toEqual({ error: { code, message: message ?? expect.any(String) } });
  expect(ERROR_CODES[code as keyof typeof ERROR_CODES].status).toBe(status);
  const after = await ledgerCounts(api.db, electionId);
  expect(after.ballots).toBe(before.ballots);
  expect(after.nextSeq).toBe(before.nextSeq);
  expect(after.rejected - before.rejected, `audit count for ${code}`).toBe(1);
  return r;
}

const vote = (c: EncryptedElectionContext, v: Voter, i = 0) =>
  encryptBallot(c, v.seed, { q1: [i % 2 ? 'non' : 'oui'], council: [[], ['chloe'], ['ana', 'bo']][i % 3]! }).submission;

function resigned(sub: EncryptedSubmission, signer: Voter, edit: (b: EncryptedBallot) => void): EncryptedSubmission {
  const ballot = structuredClone(sub.ballot);
  edit(ballot);
  const key = keyPairFromSeed(signer.seed);
  return { ballot, signature: signMessage(key.privateKeyObject, encryptedBallotMessage(ballot)).toString('hex') };
}

describe('POST encrypted ballots', () => {
  it('403 election-not-open until the key ceremony is complete; the ceremony over the trustees route opens it', async () => {
    const early = encryptBallot(
      { manifest, manifestHash: '11'.repeat(32), publicKey: hex(mulBase(3n)) },
      vs[19]!.seed,
      { q1: ['oui'], council: [] },
    ).submission;
    await refused(
      E,
      { json: early },
      403,
      'election-not-open',
      'the election opens once its trustees have completed the key ceremony',
    );
    ctx = await completeKeyCeremony(overHttp(E), manifest);
  });

  it('201 with a receipt of ballotHash H(JCS({ballot, signature})); exported and bundled unchanged', async () => {
    const sub = vote(ctx, vs[0]!);
    const r = await api.request('POST', urlOf(E), { json: sub });
    expect(r.status, r.text).toBe(201);
    expect(Object.keys(r.body)).toEqual(['receipt']);
    const { receipt } = r.body;
    expect(receipt).toMatchObject({ version: 1, electionId: E, seq: 0 });
    expect(receipt.ballotHash).toBe(encryptedBallotHash(sub).toString('hex'));
    expect(verifyReceipt(ledgerPub, receipt)).toBe(true);
    const [row] = await api.db.admin`SELECT ballot FROM ballots WHERE election_id = ${E} AND seq = 0`;
    expect(row!.ballot).toBe(jcs(sub.ballot));

    const exported = await api.request('GET', `/api/v1/elections/${E}/ledger`);
    expect(exported.status).toBe(200);
    expect(exported.text).toContain(`"ballot":${jcs(sub.ballot)},"signature":"${sub.signature}"`);
    const line = JSON.parse(exported.text.split('\n')[0]!);
    expect(line).toMatchObject({ seq: 0, ballotHash: receipt.ballotHash, ballot: sub.ballot });
    const bundle = await api.request('GET', `/api/v1/receipts/${receipt.ballotHash}`);
    expect(bundle.status).toBe(200);
    expect(bundle.body).toMatchObject({ receipt, status: 'pending' });
  });

  it('200 with the original receipt for a byte-identical resubmission', async () => {
    const sub = vote(ctx, vs[1]!, 1);
    const first = await api.request('POST', urlOf(E), { json: sub });
    expect(first.status, first.text).toBe(201);
    const before = await ledgerCounts(api.db, E);
    const again = await api.request('POST', urlOf(E), { json: sub });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(await ledgerCounts(api.db, E)).toEqual(before);
  });

  it('422 invalid-proof naming the choice: tampered ciphertext, tampered proof, ciphertext of another credential', async () => {
    const sub = vote(ctx, vs[2]!);
    const ciphertext = resigned(sub, vs[2]!, (b) => {
      const c = b.contests.q1!.choices[1]!;
      c.alpha = hex(add(elementFromHex(c.alpha)!, mulBase(7n)));
    });
    await refused(
      E,
      { json: ciphertext },
      422,
      'invalid-proof',
      'contest q1, choice non: the proof that it encrypts 0 or 1 does not verify',
    );
    const proof = resigned(sub, vs[2]!, (b) => {
      const p = b.contests.council!.choices[2]!.proof;
      p.c = [p.c[1]!, p.c[0]!];
    });
    await refused(
      E,
      { json: proof },
      422,
      'invalid-proof',
      'contest council, choice chloe: the proof that it encrypts 0 or 1 does not verify',
    );
    // Another voter's accepted ballot, its council contest copied whole into this voter's, signed by it.
    const victim = vote(ctx, vs[3]!, 2);
    expect((await api.request('POST', urlOf(E), { json: victim })).status).toBe(201);
    const copied = resigned(sub, vs[2]!, (b) => {
      b.contests.council = structuredClone(victim.ballot.contests.council!);
    });
    await refused(
      E,
      { json: copied },
      422,
      'invalid-proof',
      'contest council, choice ana: the proof that it encrypts 0 or 1 does not verify',
    );
    // Nothing of it stuck: the voter's own ballot still goes in.
    expect((await api.request('POST', urlOf(E), { json: sub })).status).toBe(201);
  });

  it('422 invalid-selections for a missing contest', async () => {
    const missing = resigned(vote(ctx, vs[4]!), vs[4]!, (b) => {
      delete b.contests.q1;
    });
    await refused(E, { json: missing }, 422, 'invalid-selections', 'contest q1 is missing');
  });

  it('a version 2 body of 20 KiB is read and accepted; over 64 KiB is 413', async () => {
    const sub = encryptBallot(wideCtx, wideVoters[0]!.seed, { many: ['c45'] }).submission;
    const body = JSON.stringify(sub);
    expect(Buffer.byteLength(body)).toBeGreaterThan(20 * 1024);
    expect(Buffer.byteLength(body)).toBeLessThan(64 * 1024);
    const r = await api.request('POST', urlOf(WIDE), { body, headers: { 'content-type': 'application/json' } });
    expect(r.status, r.text).toBe(201);
    expect(r.body.receipt.ballotHash).toBe(encryptedBallotHash(sub).toString('hex'));
    const other = encryptBallot(wideCtx, wideVoters[1]!.seed, { many: [] }).submission;
    const huge = JSON.stringify({ ...other, pad: 'x'.repeat(65 * 1024) });
    await refused(WIDE, { body: huge, headers: { 'content-type': 'application/json' } }, 413, 'body-too-large');
  });

  it('a version 1 body keeps its 16 KiB limit (413), on either kind of election; 16 KiB itself is read', async () => {
    const headers = { 'content-type': 'application/json' };
    const v1 = ballotFor(plainVoters[0]!, PLAIN);
    const big = JSON.stringify({ ...v1, pad: 'x'.repeat(17 * 1024) });
    await refused(PLAIN, { body: big, headers }, 413, 'body-too-large');
    await refused(E, { body: big, headers }, 413, 'body-too-large');
    await refused(PLAIN, { body: `${'['.repeat(17 * 1024)}`, headers }, 413, 'body-too-large'); // not even JSON
    const padded = JSON.stringify({ ...v1, pad: '' });
    const atLimit = padded.replace('"pad":""', `"pad":"${'y'.repeat(16 * 1024 - padded.length)}"`);
    expect(Buffer.byteLength(atLimit)).toBe(16 * 1024);
    await refused(PLAIN, { body: atLimit, headers }, 400, 'invalid-body');
  });

  it('400 invalid-body for a version 2 ballot on a plaintext election and the reverse', async () => {
    const onPlain = encryptBallot({ ...ctx, manifest: { ...ctx.manifest, electionId: PLAIN } }, plainVoters[1]!.seed, {
      q1: ['oui'],
      council: [],
    }).submission;
    await refused(
      PLAIN,
      { json: onPlain },
      400,
      'invalid-body',
      `election ${PLAIN} takes plaintext ballots (version 1)`,
    );
    await refused(
      E,
      { json: ballotFor(vs[5]!, E) },
      400,
      'invalid-body',
      `election ${E} takes encrypted ballots (version 2)`,
    );
    // The plaintext election is as it was: its own ballots go in.
    expect((await api.request('POST', urlOf(PLAIN), { json: ballotFor(plainVoters[1]!, PLAIN) })).status).toBe(201);
  });

  it('documents both bodies in the OpenAPI document', async () => {
    const spec = (await api.request('GET', '/docs/json')).body;
    const body = spec.paths['/api/v1/elections/{electionId}/ballots'].post.requestBody.content['application/json'];
    // OpenAPI 3.0 has no `const`: the generator writes a one-value enum.
    type Version = { const?: number; enum?: number[] };
    const versions = body.schema.oneOf.map((b: { properties: { ballot: { properties: { version: Version } } } }) => {
      const v = b.properties.ballot.properties.version;
      return v.const ?? v.enum?.[0];
    });
    expect(versions).toEqual([1, 2]);
  });
});
