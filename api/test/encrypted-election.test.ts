// Whole encrypted elections on the real stack (test/support/stack.ts: API, anchor worker, anvil,
// PostgreSQL), everything over HTTP: the key ceremony of 3 trustees (threshold 2) posted to the board,
// ballots through the ballot route, the close, the aggregate the worker publishes after the last anchor,
// the decryption by 2 of the 3 trustees, and the decrypted result on chain. In the second election a
// trustee posts a wrong partial decryption: refused with invalid-proof naming it, on the public record, and
// the two others still decrypt (docs/protocol.md section 12).
import { JsonRpcProvider } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { electionKey, tallyAnchor } from '../../contracts/index.js';
import { Ceremony, expectedTally, trusteeManifest } from '../../ledger/test/helpers/trustee-ceremony.js';
import { sha256Hex } from '../../ledger/src/protocol/hash.js';
import * as v2 from '../../ledger/src/protocol/v2/index.js';
import { selectionsFor, voters } from '../../test/support/fixtures.js';
import { startStack, type Stack } from '../../test/support/stack.js';
import { until } from '../../test/support/wait.js';
import { request } from './helper.js';
import { auditElection } from './helpers/verifier.js';

let stack: Stack;

/** `tallyproof-verify audit` of an election against the API and the chain: the independent implementation. */
const audit = (electionId: string) => auditElection(stack, electionId);

beforeAll(async () => {
  stack = await startStack();
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

const api = (method: string, path: string, o: Parameters<typeof request>[3] = {}) =>
  request(stack.apiUrl, method, path, {
    ...o,
    headers: { ...o.headers, ...(o.admin ? { authorization: `Bearer ${stack.adminToken}` } : {}) },
    admin: false,
  });

const postMessage = (electionId: string, envelope: unknown) =>
  api('POST', `/api/v1/elections/${electionId}/trustee-messages`, { admin: true, json: envelope });

async function expectAccepted(electionId: string, envelopes: readonly v2.TrusteeEnvelope[]) {
  for (const env of envelopes) {
    const r = await postMessage(electionId, env);
    expect(r.status, r.text).toBe(201);
    expect(r.body).toMatchObject({ accepted: env.message.kind, trustee: env.message.trustee });
  }
}

/** The first `results` event of the stream. */
async function firstStreamEvent(electionId: string): Promise<any> {
  const controller = new AbortController();
  const res = await fetch(`${stack.apiUrl}/api/v1/elections/${electionId}/results/stream`, {
    signal: controller.signal,
  });
  const reader = res.body!.getReader();
  let text = '';
  try {
    while (!text.includes('\n\n')) text += new TextDecoder().decode((await reader.read()).value);
  } finally {
    controller.abort();
  }
  return JSON.parse(/^data: (.*)$/m.exec(text)![1]!);
}

/** Creates the election over the API and runs its key generation; resolves once the election is open. */
async function openElection(E: string, voterCount: number) {
  const manifest = trusteeManifest(E, stack.ledgerKey.publicKeyHex, { over: { windowSeconds: 1 } });
  const vs = voters(voterCount, `${E}-`);
  const created = await api('POST', '/api/v1/elections', {
    admin: true,
    json: { manifest, roll: vs.map((v) => v.credential) },
  });
  expect(created.status, created.text).toBe(201);
  const ceremony = new Ceremony(manifest);
  return {
    manifest,
    vs,
    ceremony,
    ctx: () => ({ manifest, manifestHash: ceremony.manifestHash, publicKey: ceremony.publicKey() }),
  };
}

describe('an encrypted election on the whole stack', () => {
  it('ceremony, ballots, close, aggregate, decryption by 2 of 3 (one missing), the result on chain', async () => {
    const E = 'enc-e2e';
    const { manifest, vs, ceremony, ctx } = await openElection(E, 6);
    const view = await api('GET', `/api/v1/elections/${E}`);
    expect(view.body).toMatchObject({
      status: 'scheduled',
      encryption: { publicKey: null, keyCeremony: 'in-progress', threshold: 2, trustees: ['t1', 't2', 't3'] },
    });
    expect(view.body.manifest).toMatchObject({ version: 2, ballotMode: 'encrypted', threshold: 2 });
    expect(Object.keys(view.body).at(-1)).toBe('encryption');

    const ids = ['t1', 't2', 't3'];
    const commits = ids.map((id) => ceremony.commit(id));
    await expectAccepted(E, commits);
    const repeat = await postMessage(E, commits[1]);
    expect([repeat.status, repeat.body]).toEqual([
      200,
      { accepted: 'keygen-commit', trustee: 't2', keyCeremony: 'in-progress' },
    ]);
    await expectAccepted(
      E,
      ids.map((id) => ceremony.sharesOf(id)),
    );
    const confirms = ids.map((id) => ceremony.confirm(id));
    await expectAccepted(E, confirms.slice(0, 2));
    // The trustees know H, but t3 has not confirmed it: the election does not take ballots yet.
    const early = await api('POST', `/api/v1/elections/${E}/ballots`, {
      json: v2.encryptBallot(ctx(), vs[0]!.seed, selectionsFor(0)).submission,
    });
    expect([early.status, early.body.error.code]).toEqual([403, 'election-not-open']);
    const last = await postMessage(E, confirms[2]);
    expect([last.status, last.body]).toEqual([
      201,
      { accepted: 'keygen-confirm', trustee: 't3', keyCeremony: 'complete' },
    ]);
    expect((await api('GET', `/api/v1/elections/${E}`)).body).toMatchObject({
      status: 'open',
      encryption: { publicKey: ceremony.publicKey(), keyCeremony: 'complete' },
    });
    expect((await api('GET', `/api/v1/elections/${E}/aggregate`)).body.error.code).toBe('not-closed');
    expect((await api('GET', `/api/v1/elections/${E}/decryption`)).body.error.code).toBe('not-decrypted');

    const cast = [0, 1, 2, 3, 4].map((i) => selectionsFor(i));
    for (const [i, selections] of cast.entries()) {
      const r = await api('POST', `/api/v1/elections/${E}/ballots`, {
        json: v2.encryptBallot(ctx(), vs[i]!.seed, selections).submission,
      });
      expect(r.status, r.text).toBe(201);
    }
    const live = await api('GET', `/api/v1/elections/${E}/results`);
    expect(live.body).toEqual({
      electionId: E,
      tally: null,
      totalBallots: 5,
      anchoredBallots: expect.any(Number),
      asOfSeq: 4,
      contests: null,
      ballotMode: 'encrypted',
      decryption: null,
    });
    expect(await firstStreamEvent(E)).toMatchObject({ totalBallots: 5, tally: null, ballotMode: 'encrypted' });

    const closed = await api('POST', `/api/v1/elections/${E}/close`, { admin: true });
    expect(closed.status, closed.text).toBe(202);
    expect(closed.body).toMatchObject({
      electionId: E,
      status: 'closed',
      tally: null,
      totalBallots: 5,
      resultHash: null,
      closeTx: null,
      ballotMode: 'encrypted',
    });
    // The worker seals and anchors the last window, then publishes the aggregate.
    const published = await until('the aggregate', async () => {
      const r = await api('GET', `/api/v1/elections/${E}/aggregate`);
      return r.status === 200 ? r : null;
    });
    const aggregate = published.body as v2.Aggregate;
    expect(aggregate).toMatchObject({ version: 2, electionId: E, publicKey: ceremony.publicKey(), totalBallots: 5 });
    const aggregateHash = sha256Hex(published.text);
    expect(aggregateHash).toBe(v2.aggregateHashOf(aggregate));
    expect((await api('GET', `/api/v1/elections/${E}/results`)).body).toMatchObject({
      tally: null,
      decryption: { status: 'waiting', threshold: 2, received: [], aggregateHash },
    });
    const again = await api('POST', `/api/v1/elections/${E}/close`, { admin: true });
    expect(again.body).toMatchObject({ resultHash: null, decryption: { status: 'waiting', aggregateHash } });

    // t2 is missing: t3 and t1 decrypt.
    await expectAccepted(E, [ceremony.decrypt('t3', aggregate)]);
    expect((await api('GET', `/api/v1/elections/${E}/decryption`)).status).toBe(409);
    await expectAccepted(E, [ceremony.decrypt('t1', aggregate)]);
    const decryption = await api('GET', `/api/v1/elections/${E}/decryption`);
    expect(decryption.status).toBe(200);
    const tally = expectedTally(manifest, cast);
    expect(decryption.body).toEqual({
      version: 2,
      electionId: E,
      aggregateHash,
      trustees: ['t1', 't3'],
      tally,
      totalBallots: 5,
    });
    const resultHash = v2.decryptedResultHash(decryption.body);

    const closeTx = await until('closeElection on chain', async () => {
      return (await api('GET', `/api/v1/elections/${E}`)).body.closeTx;
    });
    expect(closeTx.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    const provider = new JsonRpcProvider(stack.rpcUrl, stack.chainId, { staticNetwork: true });
    try {
      const onChain = await tallyAnchor(stack.contractAddress, provider).getElection(electionKey(E));
      expect(onChain.closed).toBe(true);
      expect(onChain.resultHash).toBe(`0x${resultHash}`);
      expect(Number(onChain.totalBallots)).toBe(5);
    } finally {
      provider.destroy();
    }
    expect((await api('GET', `/api/v1/elections/${E}`)).body).toMatchObject({
      status: 'closed',
      result: { resultHash, totalBallots: 5 },
    });

    const results = await api('GET', `/api/v1/elections/${E}/results`);
    expect(results.body).toEqual({
      electionId: E,
      tally,
      totalBallots: 5,
      anchoredBallots: 5,
      asOfSeq: 4,
      contests: { q1: { ballotsCounted: 5, blank: null }, council: { ballotsCounted: 5, blank: null } },
      ballotMode: 'encrypted',
      decryption: { status: 'complete', threshold: 2, received: ['t3', 't1'], aggregateHash },
    });
    // Choices in manifest order, as in a plaintext election's results.
    expect(Object.keys(results.body.tally.council)).toEqual(['ana', 'bo', 'chloe']);
    const csv = await api('GET', `/api/v1/elections/${E}/results?format=csv`);
    expect(csv.text.split('\r\n')).toEqual([
      'contest,choice,votes',
      `q1,oui,${tally.q1!.oui}`,
      `q1,non,${tally.q1!.non}`,
      'q1,(ballots counted),5',
      `council,ana,${tally.council!.ana}`,
      `council,bo,${tally.council!.bo}`,
      `council,chloe,${tally.council!.chloe}`,
      'council,(ballots counted),5',
      '',
    ]);

    const transcript = await api('GET', `/api/v1/elections/${E}/trustee-messages`);
    expect(transcript.body).toMatchObject({
      electionId: E,
      threshold: 2,
      trustees: manifest.trustees,
      publicKey: ceremony.publicKey(),
      keyCeremony: 'complete',
      refused: [],
    });
    expect(transcript.body.messages.map((m: v2.TrusteeEnvelope) => `${m.message.trustee} ${m.message.kind}`)).toEqual([
      ...ids.map((id) => `${id} keygen-commit`),
      ...ids.map((id) => `${id} keygen-shares`),
      ...ids.map((id) => `${id} keygen-confirm`),
      't3 decrypt',
      't1 decrypt',
    ]);

    // The verifier, an independent implementation, rechecks it all: every ballot's proofs, the transcript,
    // the aggregate, the partial decryptions, the counts and the result hash on chain.
    const run = await audit(E);
    expect(run.code, run.out.slice(-4000)).toBe(0);
  }, 180_000);

  it('a wrong partial decryption: refused, invalid-proof naming its trustee, recorded; two others decrypt', async () => {
    const E = 'enc-wrong-share';
    const { manifest, vs, ceremony, ctx } = await openElection(E, 4);
    await expectAccepted(E, ceremony.keyGeneration());
    const cast = vs.map((_, i) => selectionsFor(i + 1));
    for (const [i, v] of vs.entries()) {
      const r = await api('POST', `/api/v1/elections/${E}/ballots`, {
        json: v2.encryptBallot(ctx(), v.seed, cast[i]!).submission,
      });
      expect(r.status, r.text).toBe(201);
    }
    expect((await api('POST', `/api/v1/elections/${E}/close`, { admin: true })).status).toBe(202);
    const aggregate = (
      await until('the aggregate', async () => {
        const r = await api('GET', `/api/v1/elections/${E}/aggregate`);
        return r.status === 200 ? r : null;
      })
    ).body as v2.Aggregate;

    const wrong = await postMessage(E, ceremony.decrypt('t1', aggregate, { wrong: true }));
    expect(wrong.status).toBe(422);
    expect(wrong.body.error.code).toBe('invalid-proof');
    expect(wrong.body.error.message).toMatch(/^trustee t1, contest q1, choice oui: /);
    // The refused share was never stored (t1 could still post a correct one); t2 and t3 decrypt.
    await expectAccepted(E, [ceremony.decrypt('t2', aggregate), ceremony.decrypt('t3', aggregate)]);
    const decryption = await until('the decryption', async () => {
      const r = await api('GET', `/api/v1/elections/${E}/decryption`);
      return r.status === 200 ? r.body : null;
    });
    expect(decryption).toMatchObject({ trustees: ['t2', 't3'], tally: expectedTally(manifest, cast), totalBallots: 4 });

    const transcript = (await api('GET', `/api/v1/elections/${E}/trustee-messages`)).body;
    expect(transcript.refused).toEqual([
      {
        trustee: 't1',
        kind: 'decrypt',
        code: 'invalid-proof',
        message: wrong.body.error.message,
        receivedAt: expect.stringMatching(/Z$/),
      },
    ]);
    expect(transcript.messages.filter((m: v2.TrusteeEnvelope) => m.message.kind === 'decrypt')).toHaveLength(2);
    await until('closeElection on chain', async () => (await api('GET', `/api/v1/elections/${E}`)).body.closeTx);
    expect((await api('GET', `/api/v1/elections/${E}`)).body.result).toEqual({
      resultHash: v2.decryptedResultHash(decryption),
      totalBallots: 4,
    });
    const run = await audit(E);
    expect(run.code, run.out.slice(-4000)).toBe(0);
  }, 180_000);
});
