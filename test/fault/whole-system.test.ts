// Issue 8, item 4: the whole system under faults. The production topology as processes on this machine
// (our own PostgreSQL 15, Redis when REDIS_URL is set, anvil, two API processes, the anchor worker), a
// bounded load of clients that retry, and in sequence: kill -9 of one API process (started again a few
// seconds later), a PostgreSQL restart, the chain stopped for three windows. Afterwards every ballot a
// client saw acknowledged is in the ledger exactly once and anchored, seq is gap-free, the receipts
// verify, no client saw a 5xx other than 503, and the verifier's audit passes. test/fault/README.md.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ballotFor, selectionsFor, testManifest, voters } from '../support/fixtures.js';
import { anvilProvider } from '../../contracts/local-chain.js';
import { electionKey, tallyAnchor, TALLY_ANCHOR_INTERFACE } from '../../contracts/index.js';
import { ballotHash, verifyReceipt, type Receipt, type Submission } from '../../ledger/src/protocol/protocol.js';
import { rootFromInclusionProof } from '../../ledger/src/protocol/merkle.js';
import { startLoad, type LoadStats } from './load.js';
import { sleep, waitFor } from './processes.js';
import { startFaultStack, type FaultStack } from './stack.js';

const VOTERS = 800;
const WINDOW_SECONDS = 2;
const VERIFIER = fileURLToPath(new URL('../../verifier-cli/bin/tallyproof-verify.js', import.meta.url));
const E = `fault-${randomBytes(3).toString('hex')}`;

let stack: FaultStack;
const t0 = Date.now();
const since = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
const note = (line: string) => console.log(`[fault ${since()}] ${line}`);

/** What happened when, for the report and for the checks on the chain outage. */
const timeline: { at: number; event: string }[] = [];
const mark = (event: string) => {
  timeline.push({ at: Date.now(), event });
  note(event);
};

let stats: LoadStats;
let submissions: Submission[];
let hashes: string[];
const faults = { chainDownAt: 0, chainUpAt: 0, inFlightAtKill: 0, apiKillExit: '' };

async function api(
  method: string,
  path: string,
  body?: unknown,
  base = stack.apiUrls[0]!,
): Promise<{ status: number; json: any; text: string }> {
  const res = await fetch(base + path, {
    method,
    headers: {
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(method !== 'GET' ? { authorization: `Bearer ${stack.adminToken}` } : {}),
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

/** The same admin request until it is answered with one of `ok` (a 503 or a network error is retried). */
async function adminUntil(
  method: string,
  path: string,
  body: unknown,
  ok: number[],
): Promise<{ status: number; json: any }> {
  return waitFor(
    `${method} ${path}`,
    async () => {
      const r = await api(method, path, body);
      if (ok.includes(r.status)) return r;
      if (r.status !== 503) throw new Error(`${method} ${path} answered ${r.status}: ${r.text}`);
      return null;
    },
    60_000,
    500,
  );
}

/**
 * Both API processes answer again. The stack restarts a process that died on its own (compose's restart
 * policy), so a check that starts right after one did waits for it; every such exit is reported.
 */
let exitsReported = 0;
async function apisServing(): Promise<void> {
  for (const e of stack.unexpectedExits.slice(exitsReported))
    note(
      `${e.name} exited on its own at ${((e.at - t0) / 1000).toFixed(1)} s (code ${e.exit.code}, signal ${e.exit.signal}); its output:\n${e.output.slice(-1500)}`,
    );
  exitsReported = stack.unexpectedExits.length;
  for (const url of stack.apiUrls) {
    await waitFor(
      `${url} answering`,
      async () => (await fetch(`${url}/api/v1/health`, { signal: AbortSignal.timeout(5000) })).status > 0,
      60_000,
      250,
    );
  }
}

beforeAll(async () => {
  stack = await startFaultStack({ log: note });
  note(
    `stack up: PostgreSQL (own, embedded 15), queue on ${stack.redisUrl ? `Redis (prefix ${stack.queuePrefix})` : 'PostgreSQL'}, anvil ${stack.rpcUrl}, APIs ${stack.apiUrls.join(' ')}`,
  );
}, 180_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

describe('the whole system under faults (issue 8, item 4)', () => {
  it('keeps acknowledging ballots while an API process is killed -9, PostgreSQL restarts and the chain stops for 3 windows', async () => {
    const vs = voters(VOTERS, `${E}-`);
    const created = await adminUntil(
      'POST',
      '/api/v1/elections',
      {
        manifest: testManifest(E, stack.ledgerKey.publicKeyHex, { windowSeconds: WINDOW_SECONDS }),
        roll: vs.map((v) => v.credential),
      },
      [201],
    );
    expect(created.json.electionId).toBe(E);
    // The registration comes first, so that the outage below delays anchors, not the registration.
    await waitFor(
      'the election registered on chain',
      async () => (await api('GET', `/api/v1/elections/${E}`)).json?.registration?.txHash,
      60_000,
      250,
    );
    mark('election registered');

    submissions = vs.map((v, i) => ballotFor(v, E, selectionsFor(i)));
    hashes = submissions.map((s) => ballotHash(s).toString('hex'));
    let released = false;
    const load = startLoad({
      apis: stack.apiUrls,
      electionId: E,
      submissions,
      ballotHashes: hashes,
      ratePerSecond: 25,
      maxInFlight: 64,
      deadline: Date.now() + 120_000,
      reserve: 200,
      trickleRatePerSecond: 4,
      released: () => released,
      maxBackoffMs: 2000,
    });
    stats = load.stats;
    const acked = () => stats.acknowledged.size;
    const moreAcks = async (n: number, what: string) => {
      const target = acked() + n;
      await waitFor(what, async () => acked() >= target, 60_000, 100);
    };
    const apiB = stack.apis[1]!;

    try {
      // 1. kill -9 one API process under load, start it again a few seconds later (same port)
      await moreAcks(80, 'ballots before the first fault');
      // kill it while a request to it is in flight, if one comes along within a few seconds
      await waitFor('a request in flight to api-b', async () => stats.inFlight(stack.apiUrls[1]) > 0, 5000, 1).catch(
        () => false,
      );
      faults.inFlightAtKill = stats.inFlight(stack.apiUrls[1]);
      stats.phase = 'api-b-killed';
      const exit = await apiB.kill9();
      faults.apiKillExit = `signal ${exit.signal}`;
      mark(`api-b killed -9 with ${faults.inFlightAtKill} requests in flight to it`);
      await sleep(3000);
      stats.phase = 'api-b-restarting';
      await apiB.start();
      stats.phase = 'after-api-restart';
      mark('api-b started again');
      await moreAcks(60, 'ballots after the API restart');
      await sleep(1000);

      // 2. restart PostgreSQL: fast shutdown, 3 s down, started again on the same port and data directory
      stats.phase = 'postgres-down';
      await stack.stopPostgres();
      mark('PostgreSQL stopped');
      await sleep(3000);
      await stack.startPostgres();
      stats.phase = 'after-postgres-restart';
      mark('PostgreSQL started again');
      await moreAcks(60, 'ballots after the PostgreSQL restart');
      await sleep(1000);

      // 3. stop the chain while the worker seals at least 2 windows (and 3 windows' time at least), then
      //    start it again with its state
      stats.phase = 'chain-down';
      await stack.stopChain();
      faults.chainDownAt = Date.now();
      mark('anvil stopped');
      await sleep(3 * WINDOW_SECONDS * 1000);
      await waitFor(
        '2 windows sealed while the chain is down',
        async () => {
          const [r] =
            await stack.admin`SELECT count(*)::int AS n FROM windows WHERE election_id = ${E} AND sealed_at >= ${new Date(faults.chainDownAt)}`;
          return r!.n >= 2;
        },
        60_000,
        250,
      );
      await stack.startChain();
      faults.chainUpAt = Date.now();
      stats.phase = 'after-chain-restart';
      mark('anvil started again');
      await moreAcks(40, 'ballots after the chain restart');
    } finally {
      released = true;
      stats.phase = stats.phase === 'after-chain-restart' ? 'tail' : `${stats.phase}-aborted`;
    }
    await load.done;
    mark(`load done: ${acked()} of ${VOTERS} acknowledged, ${stats.requests} requests, ${stats.retries} retries`);
    note(`client view per phase (sent in): ${JSON.stringify(stats.summary())}`);
    if (stats.timeouts.length > 0) {
      const groups = new Map<string, number[]>();
      for (const t of stats.timeouts) {
        const k = `${t.phase} to api-${'ab'[stack.apiUrls.indexOf(t.api)]}`;
        groups.set(k, [...(groups.get(k) ?? []), t.sentAtMs]);
      }
      note(
        `requests without an answer within 10 s (sent in phase → count, sent between ms of the load): ${[...groups].map(([k, v]) => `${k}: ${v.length} (${Math.min(...v)}–${Math.max(...v)})`).join('; ')}`,
      );
    }
    if (stack.unexpectedExits.length > 0)
      note(
        `processes that exited on their own: ${JSON.stringify(stack.unexpectedExits.map(({ name, exit, at, output }) => ({ name, exit, at: `${((at - t0) / 1000).toFixed(1)} s`, output: output.slice(-1500) })))}`,
      );
    exitsReported = stack.unexpectedExits.length;

    // No client saw a 5xx other than 503 (nor a 4xx: every ballot is valid and every retry byte-identical).
    const statuses = [...stats.statuses().keys()];
    expect(
      statuses.filter((s) => /^5\d\d$/.test(s) && s !== '503'),
      'no 5xx other than 503',
    ).toEqual([]);
    expect(stats.unexpected, 'answers other than 200, 201, 503').toEqual([]);
    expect(stats.wrongReceipts).toEqual([]);
    // Every ballot was acknowledged in the end: the system came back from every fault.
    expect(stats.givenUp).toEqual([]);
    expect(acked()).toBe(VOTERS);
    // The load ran through every fault.
    for (const phase of ['api-b-killed', 'postgres-down', 'chain-down']) {
      expect(stats.byPhase.get(phase)?.size ?? 0, `requests during ${phase}`).toBeGreaterThan(0);
    }
    expect(faults.apiKillExit).toBe('signal SIGKILL');
  }, 240_000);

  it('after the close: every acknowledged ballot is in the ledger exactly once and anchored, seq gap-free, receipts valid', async () => {
    expect(stats?.acknowledged.size, 'the load ran').toBeGreaterThan(0);
    await apisServing();
    const closed = await adminUntil('POST', `/api/v1/elections/${E}/close`, undefined, [202]);
    const total = closed.json.totalBallots as number;
    mark(`close requested: ${total} ballots`);
    await waitFor(
      'the close recorded',
      async () => (await stack.admin`SELECT close_tx FROM elections WHERE election_id = ${E}`)[0]?.close_tx,
      90_000,
      250,
    );
    mark('close on chain');

    const acked = [...stats.acknowledged.values()];
    const rows =
      await stack.admin`SELECT seq, encode(ballot_hash, 'hex') AS h, encode(credential, 'hex') AS c FROM ballots WHERE election_id = ${E} ORDER BY seq`;
    const n = rows.length;
    expect(total).toBe(n);
    // seq is 0..n-1, no gap, no repeat; the head agrees
    expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: n }, (_, i) => i));
    const [head] =
      await stack.admin`SELECT next_seq, sealed_through, closed FROM election_heads WHERE election_id = ${E}`;
    expect([Number(head!.next_seq), Number(head!.sealed_through), head!.closed]).toEqual([n, n, true]);
    // one row per ballot hash and per credential
    expect(new Set(rows.map((r) => r.h)).size).toBe(n);
    expect(new Set(rows.map((r) => r.c)).size).toBe(n);
    const dupes =
      await stack.admin`SELECT count(*)::int AS n FROM (SELECT ballot_hash FROM ballots GROUP BY ballot_hash HAVING count(*) > 1) d`;
    expect(dupes[0]!.n).toBe(0);
    // every acknowledged ballot is there once, at its receipt's seq, and only ballots the clients sent are
    const bySeq = new Map(rows.map((r) => [Number(r.seq), r]));
    const ledgerPub = Buffer.from(stack.ledgerKey.publicKeyHex, 'hex');
    for (const a of acked) {
      const row = bySeq.get(a.receipt.seq);
      expect(row?.h, `ballot ${a.index} at seq ${a.receipt.seq}`).toBe(hashes[a.index]);
      expect(row?.c).toBe(submissions[a.index]!.ballot.credential);
      expect(verifyReceipt(ledgerPub, a.receipt), `receipt of ballot ${a.index} verifies with the ledger key`).toBe(
        true,
      );
    }
    const sent = new Set(hashes);
    expect(rows.filter((r) => !sent.has(r.h as string))).toEqual([]);
    expect(n).toBe(acked.length); // every ballot was acknowledged, so the ledger holds exactly them

    // anchored: windows contiguous over 0..n-1, each with its anchor transaction, each on chain once with the same root
    const windows =
      await stack.admin`SELECT window_index, first_seq, count, encode(root, 'hex') AS root, anchor_tx, sealed_at, anchored_at FROM windows WHERE election_id = ${E} ORDER BY window_index`;
    let next = 0;
    for (const [i, w] of windows.entries()) {
      expect([Number(w.window_index), Number(w.first_seq)]).toEqual([i, next]);
      expect(w.anchor_tx, `window ${i} anchored`).toMatch(/^0x[0-9a-f]{64}$/);
      next += Number(w.count);
    }
    expect(next).toBe(n);
    const provider = anvilProvider(stack.chain());
    try {
      const contract = tallyAnchor(stack.contractAddress, provider);
      const key = electionKey(E);
      expect(Number(await contract.windowCount(key))).toBe(windows.length);
      const events = await contract.queryFilter(contract.filters.WindowAnchored!(key), 0, 'latest');
      expect(events.length, 'one WindowAnchored event per window: nothing anchored twice').toBe(windows.length);
      const roots = new Map<number, string>();
      for (const w of windows) {
        const onChain = await contract.getWindow(key, Number(w.window_index));
        expect([Number(onChain.firstSeq), Number(onChain.count), onChain.root]).toEqual([
          Number(w.first_seq),
          Number(w.count),
          '0x' + w.root,
        ]);
        const ev = events.find(
          (e) => Number(TALLY_ANCHOR_INTERFACE.parseLog(e)!.args.windowIndex) === Number(w.window_index),
        );
        expect(
          ev?.transactionHash,
          `window ${w.window_index}: the ledger records the transaction that anchored it`,
        ).toBe(w.anchor_tx);
        roots.set(Number(w.window_index), onChain.root);
      }
      const election = await contract.getElection(key);
      expect([election.closed, Number(election.totalBallots), Number(election.anchoredBallots)]).toEqual([true, n, n]);

      // each acknowledged ballot's proof bundle, from either API, leads to the root on chain
      let cursor = 0;
      await Promise.all(
        Array.from({ length: 6 }, async (_, lane) => {
          while (cursor < acked.length) {
            const a = acked[cursor++]!;
            // A 503 asks the client to retry (docs/protocol.md, Retry-After); a reader does.
            const path = `/api/v1/receipts/${a.receipt.ballotHash}`;
            const r = await waitFor(
              `GET ${path}`,
              async () => {
                const res = await api('GET', path, undefined, stack.apiUrls[lane % 2]!);
                return res.status === 503 ? null : res;
              },
              60_000,
              500,
            );
            expect(r.status).toBe(200);
            expect(r.json.status, `ballot ${a.index}`).toBe('anchored');
            expect(r.json.receipt as Receipt).toEqual(a.receipt);
            const computed = rootFromInclusionProof(
              Buffer.from(a.receipt.ballotHash, 'hex'),
              r.json.inclusion.leafIndex,
              r.json.window.count,
              (r.json.inclusion.auditPath as string[]).map((h) => Buffer.from(h, 'hex')),
            );
            expect(
              '0x' + computed?.toString('hex'),
              `ballot ${a.index} proves into window ${r.json.window.index}`,
            ).toBe(roots.get(r.json.window.index));
          }
        }),
      );
    } finally {
      provider.destroy();
    }

    // The chain outage overlapped sealing: windows sealed while it was down were anchored after it came back.
    const sealedWhileDown = windows.filter((w) => {
      const sealed = (w.sealed_at as Date).getTime();
      return sealed >= faults.chainDownAt && sealed < faults.chainUpAt;
    });
    const lagMs = windows.map((w) => (w.anchored_at as Date).getTime() - (w.sealed_at as Date).getTime());
    note(
      `${windows.length} windows; ${sealedWhileDown.length} sealed while the chain was down (anchored after it came back); anchor lag after sealing: max ${Math.max(...lagMs)} ms`,
    );
    note(
      `acknowledged with 200 (an earlier attempt had committed but its reply was lost): ${acked.filter((a) => a.status === 200).length}; acknowledged after more than one attempt: ${acked.filter((a) => a.attempts > 1).length}; in flight to api-b at the kill: ${faults.inFlightAtKill}`,
    );
    expect(sealedWhileDown.length, 'windows sealed during the chain outage').toBeGreaterThanOrEqual(2);
    for (const w of sealedWhileDown) expect((w.anchored_at as Date).getTime()).toBeGreaterThanOrEqual(faults.chainUpAt);
  }, 180_000);

  it("the verifier's audit passes against the API and the chain", async () => {
    expect(stats?.acknowledged.size, 'the load ran').toBeGreaterThan(0);
    await apisServing();
    const args = [
      'audit',
      '--election',
      E,
      '--api',
      stack.apiUrls[1]!,
      '--rpc',
      stack.chain().rpcUrl,
      '--contract',
      stack.contractAddress,
      '--threads',
      '1',
      '--no-progress',
      '--report',
      join(stack.dir, 'audit.json'),
    ];
    const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [VERIFIER, ...args],
        { timeout: 150_000, maxBuffer: 16 * 1024 * 1024 },
        (err, stdout, stderr) => {
          resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr });
        },
      );
    });
    note(`verifier: exit ${run.code}\n${run.stdout.slice(-1500)}${run.stderr.slice(-1500)}`);
    expect(run.code, `tallyproof-verify audit:\n${run.stdout.slice(-4000)}\n${run.stderr.slice(-2000)}`).toBe(0);
  }, 180_000);
});
