// npm start's encrypted demo election (scripts/demo-secret.ts) on the real stack: the demo trustees make the
// key through the board's HTTP routes (and a second run, as after a restart, posts nothing twice), voters
// cast encrypted ballots, and after the close two of the three trustees decrypt the count by themselves.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encryptBallot } from '../../ledger/src/protocol/v2/index.js';
import { voters } from '../../test/support/fixtures.js';
import { startStack, type Stack } from '../../test/support/stack.js';
import { until } from '../../test/support/wait.js';
import {
  DEMO_SECRET_ELECTION_ID,
  demoSecretManifest,
  type Injector,
  injectedBoard,
  loadDemoTrustees,
  runDemoCeremony,
  watchDemoDecryption,
} from '../demo-secret.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

/** The Injector the demo uses in process, over real HTTP here. */
const overHttp = (): Injector => ({
  async inject({ method, url, headers, payload }) {
    const res = await fetch(`${stack.apiUrl}${url}`, {
      method,
      headers: { ...headers, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
      body: payload === undefined ? undefined : JSON.stringify(payload),
    });
    return { statusCode: res.status, body: await res.text() };
  },
});

describe('the encrypted demo election', () => {
  it('is keyed by three demo trustees and decrypted by two of them after the close', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'demo-secret-')), 'demo-trustees.json');
    const app = overHttp();
    const admin = { authorization: `Bearer ${stack.adminToken}` };
    const manifest = { ...demoSecretManifest(loadDemoTrustees(file), 60, 1), ledgerKey: stack.ledgerKey.publicKeyHex };
    const vs = voters(4, 'demo-secret-');
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/elections',
      headers: admin,
      payload: { manifest, roll: vs.map((v) => v.credential) },
    });
    expect(created.statusCode, created.body).toBe(201);

    const board = injectedBoard(app, stack.adminToken);
    await runDemoCeremony(board, file);
    await runDemoCeremony(board, file); // a restart: every step is already on the board
    const transcript = (await board.transcript()) as { messages: unknown[]; keyCeremony?: string };
    expect(transcript.messages).toHaveLength(9);
    const view = await board.election();
    const publicKey = (view as unknown as { encryption: { publicKey: string } }).encryption.publicKey;
    await until('the encrypted demo election opens', async () => {
      const e = await app.inject({ method: 'GET', url: `/api/v1/elections/${DEMO_SECRET_ELECTION_ID}` });
      return JSON.parse(e.body).status === 'open';
    });

    const choices = ['oui', 'non', 'oui', 'plus-tard'];
    for (const [i, v] of vs.entries()) {
      const { submission } = encryptBallot(
        { manifest: view.manifest, manifestHash: view.manifestHash, publicKey },
        v.seed,
        { bibliotheque: [choices[i]!] },
      );
      const r = await app.inject({
        method: 'POST',
        url: `/api/v1/elections/${DEMO_SECRET_ELECTION_ID}/ballots`,
        payload: submission,
      });
      expect(r.statusCode, r.body).toBe(201);
    }
    let decrypted = false;
    const stop = watchDemoDecryption(board, file, () => {
      decrypted = true;
    });
    try {
      const closed = await app.inject({
        method: 'POST',
        url: `/api/v1/elections/${DEMO_SECRET_ELECTION_ID}/close`,
        headers: admin,
      });
      expect(closed.statusCode, closed.body).toBe(202);
      await until('the demo trustees decrypt', async () => decrypted, 120_000);
      await until('the decryption is published', async () => {
        const r = await app.inject({ method: 'GET', url: `/api/v1/elections/${DEMO_SECRET_ELECTION_ID}/decryption` });
        return r.statusCode === 200;
      });
    } finally {
      stop();
    }
    const result = JSON.parse(
      (await app.inject({ method: 'GET', url: `/api/v1/elections/${DEMO_SECRET_ELECTION_ID}/decryption` })).body,
    );
    expect(result.trustees).toEqual(['alice', 'carol']);
    expect(result.tally).toEqual({ bibliotheque: { oui: 2, non: 1, 'plus-tard': 1 } });
  }, 240_000);
});
