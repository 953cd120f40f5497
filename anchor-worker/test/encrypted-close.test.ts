// The close of encrypted elections (docs/protocol.md 12.5) by the worker in-process, against real anvil and
// PostgreSQL: the head closes, every window is sealed and anchored, the aggregate is published, and the
// close step returns while the trustees have not decrypted; the decryption, posted to the board with no
// request to the worker, lets the reconcile pass put the decrypted result on chain. Without ballots, or
// without a completed key ceremony, the result (every count 0) goes on chain at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sql } from 'postgres';
import { createTestDatabase, type TestDatabase } from '../../test/support/db.js';
import { selectionsFor, voters } from '../../test/support/fixtures.js';
import { electionKey } from '../../contracts/index.js';
import {
  Ingestor,
  createElection,
  electionsToReconcile,
  getAggregate,
  getDecryption,
  postTrusteeMessage,
  validateRoll,
} from '../../ledger/src/index.js';
import { ProofPool } from '../../ledger/src/proof-pool.js';
import { VerifyPool } from '../../ledger/src/verify-pool.js';
import * as v2 from '../../ledger/src/protocol/v2/index.js';
import { Ceremony, expectedTally, trusteeManifest } from '../../ledger/test/helpers/trustee-ceremony.js';
import { startAnchorWorker, type AnchorEvent, type AnchorWorker } from '../src/index.js';
import { captureLog, expectLedgerMatchesChain, ledgerKey, startChain, waitFor, type TestChain } from './helpers.js';

let db: TestDatabase;
let chain: TestChain;
let verifier: VerifyPool;
let proofs: ProofPool;
let ingestor: Ingestor;
let worker: AnchorWorker;
const logs = captureLog();
const events: AnchorEvent[] = [];

beforeAll(async () => {
  [db, chain] = await Promise.all([createTestDatabase(), startChain()]);
  verifier = new VerifyPool({ threads: 1 });
  proofs = new ProofPool({ threads: 1 });
  ingestor = new Ingestor({ sql: db.app, ledgerKey, verifier, proofs });
  worker = await startAnchorWorker({
    databaseUrl: db.appUrl,
    redisUrl: null,
    chainRpcUrl: chain.node.rpcUrl,
    chainPrivateKey: chain.anchorerKey,
    contractAddress: chain.address,
    reconcileIntervalMs: 300,
    log: logs.log,
    onEvent: (e) => events.push(e),
  });
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await proofs?.close();
  await verifier?.close();
  chain?.provider.destroy();
  await chain?.node.stop();
  await db?.drop();
});

const row = async (sql: Sql, id: string) =>
  (
    await sql`SELECT registration_tx, close_tx, encode(result_hash, 'hex') AS result_hash FROM elections
             WHERE election_id = ${id}`
  )[0]!;

async function post(electionId: string, envelope: v2.TrusteeEnvelope) {
  const outcome = await postTrusteeMessage(db.app, electionId, envelope);
  expect(outcome.kind, JSON.stringify(outcome)).toBe('accepted');
  return outcome;
}

/** An encrypted election with `n` voters, registered on chain; `ceremony: false` leaves its key generation undone. */
async function registeredElection(E: string, n: number, opts: { ceremony?: boolean } = {}) {
  const manifest = trusteeManifest(E, ledgerKey.publicKeyHex, { over: { windowSeconds: 1 } });
  const vs = voters(n, `${E}-`);
  await createElection(db.app, manifest, await validateRoll(vs.map((v) => v.credential)));
  const ceremony = new Ceremony(manifest);
  if (opts.ceremony !== false) for (const env of ceremony.keyGeneration()) await post(E, env);
  await worker.requests.requestRegistration(E);
  await waitFor('registration', async () => (await row(db.app, E)).registration_tx);
  return { manifest, vs, ceremony };
}

const onChain = (id: string) => chain.contract.getElection(electionKey(id));

describe('the worker closes encrypted elections', () => {
  it('publishes the aggregate, waits for the trustees, then the reconcile pass closes with the result', async () => {
    const E = 'enc-worker';
    const { manifest, vs, ceremony } = await registeredElection(E, 6);
    const ctx = { manifest, manifestHash: ceremony.manifestHash, publicKey: ceremony.publicKey() };
    const cast = vs.map((_, i) => selectionsFor(i));
    const outcomes = await Promise.all(
      vs.map((v, i) => ingestor.submit(E, v2.encryptBallot(ctx, v.seed, cast[i]!).submission)),
    );
    for (const o of outcomes) expect(o.kind).toBe('accepted');

    await worker.requests.requestClose(E);
    const aggregate = await waitFor('the aggregate', () => getAggregate(db.app, E), 20_000);
    expect(aggregate.aggregate.totalBallots).toBe(6);
    await waitFor('the close step waiting for the trustees', async () =>
      logs.lines.some((l) => l.msg.startsWith('aggregate published') && l.fields.electionId === E),
    );
    // Sealed and anchored, not closed: the chain waits for the decrypted result.
    await expectLedgerMatchesChain(db.app, chain, E);
    expect((await row(db.app, E)).close_tx).toBeNull();
    expect((await onChain(E)).closed).toBe(false);
    expect((await electionsToReconcile(db.app)).map((r) => r.electionId)).not.toContain(E);

    // Two trustees decrypt (t1 is missing); nobody asks the worker: its reconcile pass finds the result.
    await post(E, ceremony.decrypt('t2', aggregate.aggregate));
    const last = await post(E, ceremony.decrypt('t3', aggregate.aggregate));
    expect(last).toMatchObject({ decrypted: true });
    const decryption = (await getDecryption(db.app, E))!;
    expect(decryption.result.tally).toEqual(expectedTally(manifest, cast));
    await waitFor('closeElection on chain', async () => (await row(db.app, E)).close_tx, 20_000);

    const closed = await onChain(E);
    expect(closed.closed).toBe(true);
    expect(closed.resultHash).toBe(`0x${decryption.resultHash}`);
    expect(Number(closed.totalBallots)).toBe(6);
    expect((await row(db.app, E)).result_hash).toBe(decryption.resultHash);
    expect(events.filter((e) => e.type === 'closed' && e.electionId === E)).toHaveLength(1);
    expect(events.filter((e) => e.type === 'halted')).toEqual([]);
  });

  it('an encrypted election without ballots closes on chain at once, every count 0', async () => {
    const E = 'enc-worker-empty';
    const { manifest } = await registeredElection(E, 2);
    await worker.requests.requestClose(E);
    await waitFor('closeElection on chain', async () => (await row(db.app, E)).close_tx, 20_000);
    const d = (await getDecryption(db.app, E))!;
    expect(d.result).toMatchObject({ trustees: [], totalBallots: 0, tally: expectedTally(manifest, []) });
    expect((await onChain(E)).resultHash).toBe(`0x${d.resultHash}`);
  });

  it('an encrypted election whose key ceremony never completed closes with no ballot and no aggregate', async () => {
    const E = 'enc-worker-no-key';
    const { manifest, ceremony } = await registeredElection(E, 2, { ceremony: false });
    await post(E, ceremony.commit('t1'));
    await worker.requests.requestClose(E);
    await waitFor('closeElection on chain', async () => (await row(db.app, E)).close_tx, 20_000);
    expect(await getAggregate(db.app, E)).toBeNull();
    const zero = v2.decryptedResultHash({
      version: 2,
      electionId: E,
      aggregateHash: '',
      trustees: [],
      tally: expectedTally(manifest, []),
      totalBallots: 0,
    });
    const closed = await onChain(E);
    expect([closed.resultHash, Number(closed.totalBallots)]).toEqual([`0x${zero}`, 0]);
  });
});
