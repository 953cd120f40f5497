// End to end with the real anchor worker and chain (test/support/stack.ts): an election created over the
// API is registered on chain, ballots get anchored proof bundles that verify on the contract, and the
// close puts the API's resultHash on chain.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonRpcProvider } from 'ethers';
import { ballotFor, selectionsFor, testManifest, voters } from '../../test/support/fixtures.js';
import { startStack, type Stack } from '../../test/support/stack.js';
import { electionKey, tallyAnchor } from '../../contracts/index.js';
import { request } from './helper.js';
import { until } from '../../test/support/wait.js';

let stack: Stack;
const E = 'e2e';

beforeAll(async () => {
  stack = await startStack();
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

describe('API + anchor worker + chain', () => {
  it('registers, anchors within windowSeconds + a few seconds, proves inclusion on chain, closes with the same resultHash', async () => {
    const api = (method: string, path: string, o: Parameters<typeof request>[3] = {}) =>
      request(stack.apiUrl, method, path, {
        ...o,
        headers: { ...o.headers, ...(o.admin ? { authorization: `Bearer ${stack.adminToken}` } : {}) },
        admin: false,
      });
    const vs = voters(6, `${E}-`);
    const manifest = testManifest(E, stack.ledgerKey.publicKeyHex, { windowSeconds: 1 });
    expect(
      (await api('POST', '/api/v1/elections', { admin: true, json: { manifest, roll: vs.map((v) => v.credential) } }))
        .status,
    ).toBe(201);
    const registered = await until(
      'registration',
      async () => (await api('GET', `/api/v1/elections/${E}`)).body.registration,
    );
    expect(registered.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    // The chain's public RPC URL is published beside chainId and contract (here anvil's, as the stack passes it).
    expect((await api('GET', `/api/v1/elections/${E}`)).body).toMatchObject({
      chainId: stack.chainId,
      contract: stack.contractAddress,
      chainRpcUrl: stack.rpcUrl,
    });

    const receipts = [];
    for (let i = 0; i < 4; i++) {
      const r = await api('POST', `/api/v1/elections/${E}/ballots`, { json: ballotFor(vs[i]!, E, selectionsFor(i)) });
      expect(r.status).toBe(201);
      receipts.push(r.body.receipt);
    }
    const provider = new JsonRpcProvider(stack.rpcUrl, stack.chainId, { staticNetwork: true });
    const contract = tallyAnchor(stack.contractAddress, provider);
    try {
      for (const receipt of receipts) {
        const bundle = await until(
          'anchor',
          async () => {
            const b = (await api('GET', `/api/v1/receipts/${receipt.ballotHash}`)).body;
            return b.status === 'anchored' ? b : null;
          },
          (1 + 15) * 1000,
        );
        // the promise: anchored within windowSeconds + 30 s of receivedAt
        expect(Date.now() - Date.parse(receipt.receivedAt)).toBeLessThan(31_000);
        expect(bundle.anchor).toMatchObject({
          chainId: stack.chainId,
          contract: stack.contractAddress,
          txHash: expect.stringMatching(/^0x/),
        });
        const ok = await contract.verifyInclusion(
          electionKey(E),
          bundle.window.index,
          bundle.inclusion.leafIndex,
          '0x' + receipt.ballotHash,
          bundle.inclusion.auditPath.map((h: string) => '0x' + h),
        );
        expect(ok).toBe(true);
      }
      const health = await api('GET', '/api/v1/health');
      expect(health.body).toMatchObject({ status: 'ok', database: 'up', chain: 'up', queue: 'up' });

      const closed = await api('POST', `/api/v1/elections/${E}/close`, { admin: true });
      expect(closed.status).toBe(202);
      expect(closed.body.totalBallots).toBe(4);
      const onChain = await until(
        'closeElection',
        async () => {
          const e = await contract.getElection(electionKey(E));
          return e.closed ? e : null;
        },
        30_000,
      );
      expect(onChain.resultHash).toBe('0x' + closed.body.resultHash);
      expect(Number(onChain.totalBallots)).toBe(4);
      const results = (await api('GET', `/api/v1/elections/${E}/results`)).body;
      expect(results).toMatchObject({ totalBallots: 4, anchoredBallots: 4, asOfSeq: 3 });
      expect(
        (await api('POST', `/api/v1/elections/${E}/ballots`, { json: ballotFor(vs[5]!, E) })).body.error.code,
      ).toBe('election-closed');
    } finally {
      provider.destroy();
    }
  }, 90_000);
});
