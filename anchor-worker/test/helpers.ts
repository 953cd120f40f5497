// Shared set-up for the anchor worker tests: a chain with TallyAnchor deployed, elections with voters,
// ballots through the real ingest path, and the end-to-end check that ledger and chain agree.
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { Wallet, type JsonRpcProvider } from 'ethers';
import type { Sql } from 'postgres';
import { anvilProvider, startAnvil, type AnvilNode, type AnvilOptions } from '../../test/support/anvil.js';
import { ballotFor, selectionsFor, testManifest, voters, type Voter } from '../../test/support/fixtures.js';
import {
  deployTallyAnchor,
  electionKey,
  tallyAnchor,
  TALLY_ANCHOR_INTERFACE,
  type TallyAnchorContract,
} from '../../contracts/index.js';
import { VerifyPool } from '../../ledger/src/verify-pool.js';
import { ledgerKeyFromSeed } from '../../ledger/src/ledger-key.js';
import {
  Ingestor,
  auditPathFor,
  computeTally,
  createElection,
  listWindows,
  resultHash,
  rootFromInclusionProof,
  validateRoll,
  type Manifest,
  type Receipt,
} from '../../ledger/src/index.js';

export const ledgerKey = ledgerKeyFromSeed(Buffer.alloc(32, 11));
export const REDIS_URL = process.env.REDIS_URL || null;

export interface TestChain {
  node: AnvilNode;
  provider: JsonRpcProvider;
  address: string;
  /** Read-only view of the contract. */
  contract: TallyAnchorContract;
  /** The worker's account (allow-listed). */
  anchorerKey: string;
  /** A second allow-listed account, for playing a rogue writer. */
  rogue: TallyAnchorContract;
}

/** anvil + TallyAnchor owned by account 0, with accounts 1 (the worker) and 2 (rogue) allow-listed. */
export async function startChain(opts: AnvilOptions = {}): Promise<TestChain> {
  const node = await startAnvil(opts);
  const provider = anvilProvider(node);
  const [owner, anchorer, rogue] = node.accounts.slice(0, 3).map((a) => new Wallet(a.privateKey, provider)) as [
    Wallet,
    Wallet,
    Wallet,
  ];
  const d = await deployTallyAnchor(owner, { anchorers: [anchorer.address, rogue.address] });
  return {
    node,
    provider,
    address: d.address,
    contract: tallyAnchor(d.address, provider),
    anchorerKey: node.accounts[1]!.privateKey,
    rogue: tallyAnchor(d.address, rogue),
  };
}

export function queuePrefix(): string {
  return `tp-test-${randomBytes(4).toString('hex')}`;
}

export class Ballots {
  readonly pool = new VerifyPool({ threads: 1 });
  readonly ingestor: Ingestor;
  private readonly cursor = new Map<string, number>();
  private readonly rolls = new Map<string, Voter[]>();

  constructor(sql: Sql) {
    this.ingestor = new Ingestor({ sql, ledgerKey, verifier: this.pool });
  }

  async election(
    sql: Sql,
    electionId: string,
    size: number,
    windowSeconds: number,
    over: Partial<Manifest> = {},
  ): Promise<void> {
    const vs = voters(size, `${electionId}-`);
    const roll = await validateRoll(vs.map((v) => v.credential));
    await createElection(sql, testManifest(electionId, ledgerKey.publicKeyHex, { windowSeconds, ...over }), roll);
    this.rolls.set(electionId, vs);
    this.cursor.set(electionId, 0);
  }

  /** Cast the next n voters' ballots; resolves with their receipts. */
  async cast(electionId: string, n: number): Promise<Receipt[]> {
    const vs = this.rolls.get(electionId)!;
    const from = this.cursor.get(electionId)!;
    if (from + n > vs.length) throw new Error(`election ${electionId} has only ${vs.length} voters`);
    this.cursor.set(electionId, from + n);
    const outcomes = await Promise.all(
      vs
        .slice(from, from + n)
        .map((v, i) => this.ingestor.submit(electionId, ballotFor(v, electionId, selectionsFor(from + i)))),
    );
    return outcomes.map((o) => {
      if (o.kind !== 'accepted') throw new Error(`ballot not accepted: ${JSON.stringify(o)}`);
      return o.receipt;
    });
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  timeoutMs = 30_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`,
      );
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Every ballot committed so far is in a window whose anchor is recorded. */
export async function allAnchored(sql: Sql, electionId: string): Promise<boolean> {
  const [r] = await sql`
    SELECT h.next_seq, h.sealed_through, (SELECT count(*) FROM windows w WHERE w.election_id = h.election_id AND w.anchor_tx IS NULL)::int AS pending
    FROM election_heads h WHERE h.election_id = ${electionId}`;
  return Number(r!.next_seq) > 0 && Number(r!.next_seq) === Number(r!.sealed_through) && r!.pending === 0;
}

/**
 * The ledger and the chain agree: the same windows (range and root), contiguous from seq 0, each anchored
 * by exactly one transaction, which is the one the ledger recorded; the registration and the close too.
 */
export async function expectLedgerMatchesChain(
  sql: Sql,
  chain: TestChain,
  electionId: string,
  opts: { closed?: boolean } = {},
): Promise<void> {
  const key = electionKey(electionId);
  const windows = await listWindows(sql, electionId);
  expect(Number(await chain.contract.windowCount(key))).toBe(windows.length);
  const events = await chain.contract.queryFilter(chain.contract.filters.WindowAnchored!(key), 0, 'latest');
  expect(events.length, 'one WindowAnchored event per window').toBe(windows.length);
  let next = 0;
  for (const w of windows) {
    expect(w.firstSeq).toBe(next);
    next += w.count;
    const onChain = await chain.contract.getWindow(key, w.index);
    expect([Number(onChain.firstSeq), Number(onChain.count), onChain.root]).toEqual([
      w.firstSeq,
      w.count,
      '0x' + w.root,
    ]);
    const ev = events.find((e) => Number(TALLY_ANCHOR_INTERFACE.parseLog(e)!.args.windowIndex) === w.index);
    expect(w.anchor?.txHash, `window ${w.index} anchor tx`).toBe(ev?.transactionHash);
    expect(w.anchor?.blockNumber).toBe(ev?.blockNumber);
  }
  const [e] =
    await sql`SELECT e.registration_tx, e.close_tx, encode(e.result_hash, 'hex') AS result_hash, e.total_ballots, h.next_seq, h.sealed_through
                        FROM elections e JOIN election_heads h USING (election_id) WHERE election_id = ${electionId}`;
  expect(Number(e!.sealed_through)).toBe(next);
  const [registered] = await chain.contract.queryFilter(chain.contract.filters.ElectionRegistered!(key), 0, 'latest');
  expect(e!.registration_tx).toBe(registered!.transactionHash);
  if (opts.closed) {
    const [closedEv] = await chain.contract.queryFilter(chain.contract.filters.ElectionClosed!(key), 0, 'latest');
    expect(e!.close_tx).toBe(closedEv!.transactionHash);
    const onChain = await chain.contract.getElection(key);
    const tally = await computeTally(sql, electionId);
    expect(onChain.closed).toBe(true);
    expect(onChain.resultHash).toBe('0x' + resultHash(tally));
    expect(e!.result_hash).toBe(resultHash(tally));
    expect(Number(onChain.totalBallots)).toBe(tally.totalBallots);
    expect(tally.totalBallots).toBe(Number(e!.next_seq));
  }
}

/** Each receipt's inclusion proof verifies against the root read from the chain, off chain and with verifyInclusion. */
export async function expectReceiptsProvenOnChain(sql: Sql, chain: TestChain, receipts: Receipt[]): Promise<void> {
  for (const r of receipts) {
    const proof = (await auditPathFor(sql, r.electionId, r.seq))!;
    expect(proof, `proof for seq ${r.seq}`).not.toBeNull();
    const key = electionKey(r.electionId);
    const onChain = await chain.contract.getWindow(key, proof.window.index);
    const path = proof.auditPath.map((h) => Buffer.from(h, 'hex'));
    const computed = rootFromInclusionProof(
      Buffer.from(r.ballotHash, 'hex'),
      proof.leafIndex,
      Number(onChain.count),
      path,
    );
    expect('0x' + computed!.toString('hex')).toBe(onChain.root);
    expect(
      await chain.contract.verifyInclusion(
        key,
        proof.window.index,
        proof.leafIndex,
        '0x' + r.ballotHash,
        proof.auditPath.map((h) => '0x' + h),
      ),
    ).toBe(true);
  }
}

/** Collects log lines of a worker. */
export function captureLog(echo = false) {
  const lines: { msg: string; fields: Record<string, unknown> }[] = [];
  const log = (msg: string, fields: object = {}) => {
    lines.push({ msg, fields: fields as Record<string, unknown> });
    if (echo) console.log(msg, JSON.stringify(fields));
  };
  return { lines, log };
}

/** Remove a test run's BullMQ keys from Redis. */
export async function dropRedisPrefix(redisUrl: string, prefix: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
