// A chain outage: anvil stopped (its state kept in a file) for several windows, then started again on the
// same port. Sealing goes on meanwhile, status() reports the chain down and the growing lag, and once the
// chain is back every window goes out, in order.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/support/db.js';
import { anvilProvider, restartAnvil } from '../../test/support/anvil.js';
import { tallyAnchor } from '../../contracts/index.js';
import { listWindows } from '../../ledger/src/index.js';
import { startAnchorWorker } from '../src/index.js';
import {
  allAnchored,
  Ballots,
  captureLog,
  expectLedgerMatchesChain,
  expectReceiptsProvenOnChain,
  startChain,
  waitFor,
  type TestChain,
} from './helpers.js';

let db: TestDatabase;
let chain: TestChain;
let ballots: Ballots;
const stateDir = mkdtempSync(join(tmpdir(), 'tallyproof-anvil-state-'));

beforeAll(async () => {
  [db, chain] = await Promise.all([createTestDatabase(), startChain({ stateFile: join(stateDir, 'state.json') })]);
  ballots = new Ballots(db.app);
});

afterAll(async () => {
  await ballots?.close();
  chain?.provider.destroy();
  await chain?.node.stop();
  await db?.drop();
  rmSync(stateDir, { recursive: true, force: true });
});

describe('chain outage', () => {
  it('keeps sealing while the chain is down and anchors every window in order once it is back', async () => {
    const id = 'outage';
    const { lines, log } = captureLog();
    await ballots.election(db.app, id, 60, 1);
    const worker = await startAnchorWorker({
      databaseUrl: db.appUrl,
      chainRpcUrl: chain.node.rpcUrl,
      chainPrivateKey: chain.anchorerKey,
      contractAddress: chain.address,
      reconcileIntervalMs: 500,
      log,
    });
    try {
      const receipts = await ballots.cast(id, 5);
      await waitFor('first windows anchored', () => allAnchored(db.app, id), 15_000);
      const before = (await listWindows(db.app, id)).length;

      chain.provider.destroy();
      await chain.node.stop();
      expect(await worker.status()).toMatchObject({ chain: 'down', queue: 'up' });
      for (let round = 0; round < 4; round++) {
        receipts.push(...(await ballots.cast(id, 5)));
        await new Promise((r) => setTimeout(r, 1100));
      }
      const during = await listWindows(db.app, id);
      expect(during.length - before, 'windows sealed during the outage').toBeGreaterThanOrEqual(3);
      expect(during.slice(before).every((w) => w.anchor === null)).toBe(true);
      const down = await worker.status();
      expect(down.chain).toBe('down');
      expect(down.pendingWindows).toBeGreaterThanOrEqual(3);
      expect(down.anchorLagSeconds).toBeGreaterThan(3);
      expect(lines.some((l) => l.msg.startsWith('chain unavailable'))).toBe(true);

      chain.node = await restartAnvil(chain.node);
      chain.provider = anvilProvider(chain.node);
      chain.contract = tallyAnchor(chain.address, chain.provider);
      await waitFor('every window anchored after the outage', () => allAnchored(db.app, id), 20_000);

      const windows = await listWindows(db.app, id);
      const blocks = windows.map((w) => w.anchor!.blockNumber);
      expect(blocks, 'anchored in window order').toEqual([...blocks].sort((a, b) => a - b));
      expect(new Set(blocks).size, 'one transaction per window').toBe(blocks.length);
      await expectLedgerMatchesChain(db.app, chain, id);
      await expectReceiptsProvenOnChain(db.app, chain, receipts);
      expect(await worker.status()).toMatchObject({ chain: 'up', queue: 'up', pendingWindows: 0, anchorLagSeconds: 0 });
      expect(lines.some((l) => l.msg === 'chain reachable again')).toBe(true);
    } finally {
      await worker.stop();
    }
  });
});
