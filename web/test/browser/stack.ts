// The real stack the browser tests drive: a fresh PostgreSQL database (test/support/db.ts), anvil with
// TallyAnchor deployed (test/support/anvil.ts, contracts/index.ts), the anchor worker (BullMQ on its
// PostgreSQL backend) and the API serving web/dist, all on 127.0.0.1.
//
// Built from the shared pieces as they stand; once test/support/stack.ts (startStack) exists this can be
// replaced by it.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { Wallet } from 'ethers';
import { createTestDatabase, type TestDatabase } from '../../../test/support/db.js';
import { anvilProvider, startAnvil, type AnvilNode } from '../../../test/support/anvil.js';
import { ballotFor, testManifest, voters, type Voter } from '../../../test/support/fixtures.js';
import { deployTallyAnchor } from '../../../contracts/index.js';
import { ledgerKeyFromSeed } from '../../../ledger/src/ledger-key.js';
import type { Manifest, Receipt } from '../../../ledger/src/protocol/protocol.js';
import { buildApp } from '../../../api/src/app.js';
import { startAnchorWorker, type AnchorWorker } from '../../../anchor-worker/src/index.js';

export const ADMIN_TOKEN = 'web-test-admin-token-0123456789';
export const WEB_DIST = fileURLToPath(new URL('../../dist', import.meta.url));

export interface WebStack {
  /** The API's base URL, which serves the pages too. */
  url: string;
  rpcUrl: string;
  chainId: number;
  contract: string;
  ledgerKey: string;
  db: TestDatabase;
  /** An open election with `n` test voters (plus `extraCredentials` on the roll), registered on chain. */
  election(
    id: string,
    n: number,
    opts?: { windowSeconds?: number; extraCredentials?: string[]; over?: Partial<Manifest> },
  ): Promise<{ manifest: Manifest; voters: Voter[] }>;
  /** Cast a ballot over HTTP, as another client would. */
  cast(electionId: string, v: Voter, selections?: Record<string, string[]>): Promise<Receipt>;
  /** The admin close (POST …/close), as `tallyproof election close` sends it: the 202 body. */
  close(electionId: string): Promise<{ resultHash: string; totalBallots: number; closedAt: string }>;
  api<T = any>(path: string): Promise<T>;
  stop(): Promise<void>;
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => null);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function startWebStack(): Promise<WebStack> {
  const stops: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch((err: Error) => console.error(`stack stop: ${err.message}`));
  };
  try {
    const db = await createTestDatabase();
    stops.push(() => db.drop());

    const node: AnvilNode = await startAnvil();
    stops.push(() => node.stop());
    const provider = anvilProvider(node);
    const owner = new Wallet(node.accounts[0]!.privateKey, provider);
    const anchorer = new Wallet(node.accounts[1]!.privateKey, provider);
    const deployment = await deployTallyAnchor(owner, { anchorers: [anchorer.address] });
    provider.destroy();

    const worker: AnchorWorker = await startAnchorWorker({
      databaseUrl: db.appUrl,
      redisUrl: null,
      chainRpcUrl: node.rpcUrl,
      chainPrivateKey: node.accounts[1]!.privateKey,
      contractAddress: deployment.address,
      queuePrefix: `tp-web-${randomBytes(4).toString('hex')}`,
      reconcileIntervalMs: 1000,
      fault: null,
      log: () => {},
    });
    stops.push(() => worker.stop());

    const ledgerKey = ledgerKeyFromSeed(randomBytes(32));
    const app: FastifyInstance = await buildApp({
      sql: db.app,
      ledgerKey,
      adminToken: ADMIN_TOKEN,
      verifyThreads: 1,
      rollCheckThreads: 1,
      anchorRequests: worker.requests,
      chain: { chainId: node.chainId, contract: deployment.address, publicRpcUrl: node.rpcUrl },
      webDir: WEB_DIST,
      processMetrics: false,
      resultsPollMs: 200,
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    stops.push(() => app.close());
    const addr = app.server.address();
    const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;

    const api = async <T>(path: string, init?: RequestInit): Promise<T> => {
      const res = await fetch(url + path, init);
      const text = await res.text();
      if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${path}: ${res.status} ${text}`);
      return JSON.parse(text) as T;
    };

    return {
      url,
      rpcUrl: node.rpcUrl,
      chainId: node.chainId,
      contract: deployment.address,
      ledgerKey: ledgerKey.publicKeyHex,
      db,
      api,
      async election(id, n, opts = {}) {
        const manifest = testManifest(id, ledgerKey.publicKeyHex, {
          windowSeconds: opts.windowSeconds ?? 2,
          ...opts.over,
        });
        const vs = voters(n, `${id}-`);
        await api('/api/v1/elections', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
          body: JSON.stringify({ manifest, roll: [...vs.map((v) => v.credential), ...(opts.extraCredentials ?? [])] }),
        });
        await waitFor(
          `registration of ${id}`,
          async () => (await api<{ registration: unknown }>(`/api/v1/elections/${id}`)).registration,
        );
        return { manifest, voters: vs };
      },
      async cast(electionId, v, selections) {
        const body = await api<{ receipt: Receipt }>(`/api/v1/elections/${electionId}/ballots`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(ballotFor(v, electionId, selections)),
        });
        return body.receipt;
      },
      close(electionId) {
        return api(`/api/v1/elections/${electionId}/close`, {
          method: 'POST',
          headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        });
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
