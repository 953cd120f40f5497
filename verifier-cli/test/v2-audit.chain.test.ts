// `audit` of encrypted elections (wire format v2) in file mode against a real chain (anvil): a clean
// election passes, on the main thread and on worker threads, with k of n trustees decrypting; each
// tampering — a ciphertext, a proof, a partial decryption, a trustee message, the aggregate, the result —
// is found and named by seq or trustee. The elections are built by test/v2-support/ (the verifier's own
// prover) and by the server core's vectors (docs/test-vectors/v2/election.json), anchored with the
// deployer account. Also `audited-ballot` on the vectors' openings.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployTallyAnchor, tallyAnchor, type TallyAnchorContract } from '../../contracts/index.js';
import { anvilProvider, startAnvil, type AnvilNode } from '../../test/support/anvil.js';
import type { AuditReport } from '../src/audit/audit.js';
import { EXIT, type Finding } from '../src/errors.js';
import { decodeElement, mulBase, add, pointHex } from '../src/v2/group.js';
import { jcsText, manifestHashHex, mth, resultHashHex, rollRootHex, electionKeyOf } from './support/election.js';
import { cli, readReport } from './support/run.js';
import {
  anchorEncryptedElection,
  buildEncryptedElection,
  encryptedResultsOf,
  finishElection,
  rowLineV2,
  signTrusteeMessage,
  transcriptOf,
  writeEncryptedElectionFiles,
  type EncryptedElectionFiles,
  type BallotV2Json,
  type TestEncryptedElection,
  type V2Row,
} from './v2-support/election.js';
import { startFakeV2Server, type FakeV2Server } from './v2-support/fake-server.js';
import { seededRng } from './v2-support/prover.js';

let chain: AnvilNode;
let contract: string;
let anchor: TallyAnchorContract;
let dir: string;
let clean: TestEncryptedElection;
let cleanFiles: EncryptedElectionFiles;

beforeAll(async () => {
  chain = await startAnvil();
  const wallet = new Wallet(chain.accounts[0]!.privateKey, anvilProvider(chain));
  contract = (await deployTallyAnchor(wallet)).address;
  anchor = tallyAnchor(contract, wallet);
  dir = mkdtempSync(join(tmpdir(), 'tallyproof-verify-v2-audit-'));
  // 12 ballots in windows of 5 and 7 (seq 0..4, 5..11); 3 trustees, threshold 2, decrypted by a and b.
  clean = buildEncryptedElection({ electionId: 'enc-clean', voters: 12, windowSizes: [5, 7] });
  await anchorEncryptedElection(anchor, clean);
  cleanFiles = writeEncryptedElectionFiles(join(dir, 'clean'), clean);
});

afterAll(async () => {
  await chain?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Findings as "code@seqN", "code@trustee", "code" strings. */
const where = (findings: readonly Finding[]): string[] =>
  findings.map(
    (f) => `${f.code}${f.seq === undefined ? '' : `@seq${f.seq}`}${f.trustee === undefined ? '' : `@${f.trustee}`}`,
  );

interface AuditRun {
  code: number;
  stdout: string;
  report: AuditReport;
  where: string[];
}

let runs = 0;
async function audit(
  e: TestEncryptedElection,
  files: EncryptedElectionFiles,
  opts: { threads?: string; omit?: ('aggregate' | 'decryption' | 'trusteeMessages')[] } = {},
): Promise<AuditRun> {
  const report = join(dir, `report-${++runs}.json`);
  const args = ['audit', '--election', e.electionId, '--ledger', files.ledger, '--manifest', files.manifest];
  args.push('--roll', files.roll, '--results', files.results, '--rpc', chain.rpcUrl, '--contract', contract);
  const omit = new Set(opts.omit ?? []);
  if (!omit.has('trusteeMessages')) args.push('--trustee-messages', files.trusteeMessages);
  if (!omit.has('aggregate')) args.push('--aggregate', files.aggregate);
  if (!omit.has('decryption')) args.push('--decryption', files.decryption);
  args.push('--report', report, '--threads', opts.threads ?? '0');
  const run = await cli(args);
  if (run.code === EXIT.usage) throw new Error(`audit usage error: ${run.stderr}`);
  const parsed = readReport<AuditReport>(report);
  return { code: run.code, stdout: run.stdout, report: parsed, where: where(parsed.findings) };
}

/** The clean election's files with some contents replaced. */
function cleanWith(name: string, override: Parameters<typeof writeEncryptedElectionFiles>[2]): EncryptedElectionFiles {
  return writeEncryptedElectionFiles(join(dir, name), clean, override);
}

const lines = (rows: readonly V2Row[]): string[] => rows.map(rowLineV2);

/** A row whose stored ballot text is `ballot` (not re-signed: what tampering after the fact gives). */
function withBallot(row: V2Row, ballot: BallotV2Json): V2Row {
  return { ...row, ballot, ballotText: jcsText(ballot) };
}

describe('audit of an encrypted election: a clean one passes', () => {
  it('on the main thread: every ballot, the transcript, the aggregate, the decryption and the chain', async () => {
    const r = await audit(clean, cleanFiles);
    expect(r.report.findings).toEqual([]);
    expect(r.code).toBe(EXIT.ok);
    expect(r.report.ledger).toMatchObject({ rows: 12, countable: 12, unanchoredRows: 0 });
    expect(r.report.recount?.tally).toEqual(clean.tally);
    expect(r.report.recount?.resultHash).toBe(resultHashHex(clean.electionId, clean.tally, 12));
    expect(r.report.encryption).toMatchObject({
      ballotMode: 'encrypted',
      publicKey: pointHex(clean.ceremony.publicKey),
      keyCeremony: 'complete',
      threshold: 2,
      aggregate: 'matches',
      combined: ['trustee-a', 'trustee-b'],
      publishedDecryption: 'compared',
    });
    expect(r.stdout).toMatch(/decrypted by trustee-a, trustee-b \(2 valid partial decryptions\)/);
    expect(r.stdout).toMatch(/PASS/);
  });

  it('on two worker threads, with the node and the noble signature engines', async () => {
    const r = await audit(clean, cleanFiles, { threads: '2' });
    expect(r.report.findings).toEqual([]);
    expect(r.report.threads).toBe(2);
    expect(r.report.recount?.tally).toEqual(clean.tally);
    const noble = await cli([
      'audit',
      ...['--election', clean.electionId, '--ledger', cleanFiles.ledger, '--manifest', cleanFiles.manifest],
      ...['--roll', cleanFiles.roll, '--trustee-messages', cleanFiles.trusteeMessages],
      ...['--aggregate', cleanFiles.aggregate, '--decryption', cleanFiles.decryption, '--results', cleanFiles.results],
      ...['--rpc', chain.rpcUrl, '--contract', contract, '--threads', '2', '--engine', 'noble', '--json'],
    ]);
    expect(noble.code).toBe(EXIT.ok);
    expect((JSON.parse(noble.stdout) as AuditReport).verdict).toBe('pass');
  });

  it('k of n: trustees a and c decrypt, b is missing', async () => {
    const e = buildEncryptedElection({ electionId: 'enc-k-of-n', voters: 6, windowSizes: [6], decryptBy: [3, 1] });
    await anchorEncryptedElection(anchor, e);
    const r = await audit(e, writeEncryptedElectionFiles(join(dir, 'k-of-n'), e));
    expect(r.report.findings).toEqual([]);
    expect(r.report.encryption?.combined).toEqual(['trustee-a', 'trustee-c']);
    expect(r.report.recount?.tally).toEqual(e.tally);
  });

  it('while open: turnout only, nothing to decrypt yet', async () => {
    const e = buildEncryptedElection({ electionId: 'enc-open', voters: 5, windowSizes: [3] });
    await anchorEncryptedElection(anchor, e, { close: false });
    const results = { ...encryptedResultsOf(e), tally: null, contests: null, decryption: null };
    const transcript = { ...transcriptOf(e, e.ceremony.messages) };
    const files = writeEncryptedElectionFiles(join(dir, 'open'), e, { results, transcript });
    const r = await audit(e, files, { omit: ['aggregate', 'decryption'] });
    expect(r.where).toEqual(['unanchored@seq3']);
    expect(r.report.findings[0]!.severity).toBe('warning');
    expect(r.code).toBe(EXIT.ok);
    expect(r.report.recount).toBeNull();
    expect(r.report.encryption).toMatchObject({ aggregate: 'not available', keyCeremony: 'complete' });
  });

  it("the server core's vector election (docs/test-vectors/v2/election.json) passes", async () => {
    const keygen = JSON.parse(readFileSync(new URL('../../docs/test-vectors/v2/keygen.json', import.meta.url), 'utf8'));
    const v = JSON.parse(readFileSync(new URL('../../docs/test-vectors/v2/election.json', import.meta.url), 'utf8'));
    const receivedAt = new Date().toISOString();
    const ledger = v.ballots.map(
      (b: { submission: { ballot: unknown; signature: string }; ballotHash: string }, seq: number) =>
        rowLineV2({
          seq,
          ballotHash: b.ballotHash,
          ballotText: jcsText(b.submission.ballot),
          signature: b.submission.signature,
          receivedAt,
        }),
    );
    const n = v.ballots.length as number;
    const transcript = {
      electionId: v.manifest.electionId,
      threshold: v.manifest.threshold,
      trustees: v.manifest.trustees,
      publicKey: keygen.publicKey,
      verificationKeys: keygen.verificationKeys,
      keyCeremony: 'complete',
      messages: [...keygen.messages, ...v.decrypts],
      refused: [],
    };
    const files = {
      ledger: join(dir, 'vectors-ledger.ndjson'),
      manifest: join(dir, 'vectors-manifest.json'),
      roll: join(dir, 'vectors-roll.json'),
      trusteeMessages: join(dir, 'vectors-transcript.json'),
      aggregate: join(dir, 'vectors-aggregate.json'),
      decryption: join(dir, 'vectors-decryption.json'),
    };
    writeFileSync(files.ledger, ledger.join('\n') + '\n');
    writeFileSync(files.manifest, JSON.stringify(v.manifest));
    writeFileSync(files.roll, JSON.stringify(v.roll));
    writeFileSync(files.trusteeMessages, JSON.stringify(transcript));
    writeFileSync(files.aggregate, JSON.stringify(v.aggregate));
    writeFileSync(files.decryption, JSON.stringify(v.result));
    const key = electionKeyOf(v.manifest.electionId);
    await (await anchor.registerElection(key, `0x${manifestHashHex(v.manifest)}`, `0x${rollRootHex(v.roll)}`)).wait();
    const root = mth(v.ballots.map((b: { ballotHash: string }) => Buffer.from(b.ballotHash, 'hex'))).toString('hex');
    await (await anchor.anchorWindow(key, 0, 0, n, `0x${root}`)).wait();
    await (await anchor.closeElection(key, `0x${v.resultHash}`, n)).wait();
    const report = join(dir, 'vectors-report.json');
    const run = await cli([
      'audit',
      ...['--election', v.manifest.electionId, '--ledger', files.ledger, '--manifest', files.manifest],
      ...['--roll', files.roll, '--trustee-messages', files.trusteeMessages, '--aggregate', files.aggregate],
      ...['--decryption', files.decryption, '--rpc', chain.rpcUrl, '--contract', contract, '--report', report],
    ]);
    const parsed = readReport<AuditReport>(report);
    expect(parsed.findings).toEqual([]);
    expect(run.code).toBe(EXIT.ok);
    expect(parsed.recount?.tally).toEqual(v.result.tally);
    expect(parsed.recount?.resultHash).toBe(v.resultHash);
  });
});

describe('audit of an encrypted election: each tampering is named', () => {
  it('one ciphertext changed in the ledger: its seq (proof, signature, hash) and its window', async () => {
    const rows = structuredClone(clean.rows);
    const ballot = structuredClone(rows[4]!.ballot);
    const other = rows[5]!.ballot.contests.council!.choices[1]!.alpha;
    ballot.contests.council!.choices[1]!.alpha = other;
    rows[4] = withBallot(rows[4]!, ballot);
    const r = await audit(clean, cleanWith('ciphertext', { lines: lines(rows) }));
    expect(r.code).toBe(EXIT.failed);
    expect(r.where).toContain('invalid-proof@seq4');
    expect(r.where).toContain('bad-signature@seq4');
    expect(r.where).toContain('ballot-hash-mismatch@seq4');
    expect(r.report.findings.find((f) => f.code === 'invalid-proof')?.message).toMatch(/contest council choice bo/);
    // Not counted: the published aggregate (which counts it) and the chain's total differ from the ledger's.
    expect(r.where).toContain('aggregate-mismatch');
    expect(r.where).toContain('total-ballots-mismatch');
  });

  it("one proof changed, and the ballot re-signed by its voter (a server that took an invalid ballot): only the proof's seq", async () => {
    const e = buildEncryptedElection({ electionId: 'enc-bad-proof', voters: 8, windowSizes: [8] });
    const victim = e.rows[6]!;
    const ballot = structuredClone(victim.ballot);
    const s = ballot.contests.council!.proof.s; // 3 branches: 0, 1 or 2 selected
    [s[0], s[1]] = [s[1]!, s[0]!];
    const ballotText = jcsText(ballot);
    const voter = e.voters[6]!;
    const signature = voter.sign(Buffer.from(`tallyproof:ballot:v2:${ballotText}`, 'utf8')).toString('hex');
    const ballotHash = createHashHex(jcsText({ ballot, signature }));
    e.rows[6] = { ...victim, ballot, ballotText, signature, ballotHash };
    // The server's aggregate, decryption and close count the ballot as if it were valid.
    const forged = finishElection(
      { electionId: e.electionId, voters: 8, windowSizes: [8] },
      e.manifest,
      e.trustees,
      e.ceremony,
      e.voters,
      e.rows,
      seededRng('forged'),
    );
    await anchorEncryptedElection(anchor, forged);
    const r = await audit(forged, writeEncryptedElectionFiles(join(dir, 'bad-proof'), forged));
    expect(r.code).toBe(EXIT.failed);
    expect(r.where[0]).toBe('invalid-proof@seq6');
    expect(r.report.findings[0]!.message).toMatch(
      /contest council: the proof that 0 to 2 choices are selected does not verify/,
    );
    expect(r.where.filter((w) => w.includes('@seq'))).toEqual(['invalid-proof@seq6']);
    expect(r.report.ledger.countable).toBe(7);
  });

  it('one partial decryption wrong (re-signed by its trustee): names the trustee, contest and choice; the others decrypt', async () => {
    const e = buildEncryptedElection({
      electionId: 'enc-bad-share',
      voters: 6,
      windowSizes: [6],
      decryptBy: [1, 2, 3],
    });
    const b = e.trustees[1]!;
    const message = structuredClone(e.decrypts[1]!.message) as {
      shares: Record<string, Record<string, { share: string }>>;
    };
    const cell = message.shares.council!.chloe!;
    cell.share = pointHex(add(decodeElement(cell.share)!, mulBase(1n)));
    e.decrypts[1] = signTrusteeMessage(b, message as unknown as Record<string, unknown>);
    e.decryption.trustees = ['trustee-a', 'trustee-c'];
    await anchorEncryptedElection(anchor, e);
    const r = await audit(e, writeEncryptedElectionFiles(join(dir, 'bad-share'), e));
    expect(r.code).toBe(EXIT.failed);
    expect(r.where).toEqual(['partial-decryption-invalid@trustee-b']);
    expect(r.report.findings[0]!.message).toMatch(/trustee trustee-b, council\/chloe/);
    expect(r.report.encryption?.combined).toEqual(['trustee-a', 'trustee-c']);
    expect(r.report.recount?.tally).toEqual(e.tally);
  });

  it('a published tally that is not the decryption: decryption, results and chain disagree', async () => {
    const e = buildEncryptedElection({ electionId: 'enc-wrong-tally', voters: 6, windowSizes: [6] });
    const wrong = structuredClone(e.tally);
    wrong.q1!.oui! += 1;
    wrong.q1!.non! -= 1;
    await anchorEncryptedElection(anchor, e, { close: { tally: wrong, totalBallots: 6 } });
    const files = writeEncryptedElectionFiles(join(dir, 'wrong-tally'), e, {
      decryption: { ...e.decryption, tally: wrong },
      results: { ...encryptedResultsOf(e), tally: wrong },
    });
    const r = await audit(e, files);
    expect(r.code).toBe(EXIT.failed);
    expect(r.where).toContain('decryption-mismatch');
    expect(r.where).toContain('tally-mismatch');
    expect(r.where).toContain('result-hash-mismatch');
    expect(r.report.recount?.tally).toEqual(e.tally);
  });

  it('a changed aggregate: the mismatch, and every decryption of it', async () => {
    const aggregate = structuredClone(clean.aggregate) as {
      contests: Record<string, Record<string, { beta: string }>>;
    };
    const cell = aggregate.contests.q1!.oui!;
    cell.beta = pointHex(add(decodeElement(cell.beta)!, mulBase(1n)));
    const r = await audit(clean, cleanWith('aggregate', { aggregate }));
    expect(r.code).toBe(EXIT.failed);
    expect(r.where).toContain('aggregate-mismatch');
    expect(r.report.findings.find((f) => f.code === 'aggregate-mismatch')?.message).toMatch(/beta of q1\/oui/);
    expect(r.where).toContain('partial-decryption-invalid@trustee-a');
    expect(r.where).toContain('partial-decryption-invalid@trustee-b');
  });

  it('a keygen-commit whose proof of knowledge fails (re-signed by its trustee): the trustee, and no key to check ballots', async () => {
    const messages = structuredClone(transcriptOf(clean).messages);
    const commit = messages[2]!.message as { commitmentProof: { s: string } };
    commit.commitmentProof.s = (commit as unknown as { shareKeyProof: { s: string } }).shareKeyProof.s;
    messages[2] = signTrusteeMessage(clean.trustees[2]!, messages[2]!.message);
    const r = await audit(clean, cleanWith('bad-pok', { transcript: { ...transcriptOf(clean), messages } }));
    expect(r.code).toBe(EXIT.failed);
    expect(r.where).toContain('trustee-message-invalid@trustee-c');
    expect(r.where).toContain('transcript-invalid');
    expect(r.report.ledger.rows).toBe(0); // the audit stops before the ledger: no key to check it with
  });

  it('a trustee message not signed by its trustee: names it', async () => {
    const messages = structuredClone(transcriptOf(clean).messages);
    messages[4] = signTrusteeMessage(clean.trustees[0]!, messages[4]!.message); // trustee-b's shares, signed by a
    const r = await audit(clean, cleanWith('bad-signature', { transcript: { ...transcriptOf(clean), messages } }));
    expect(r.code).toBe(EXIT.failed);
    expect(r.where).toContain('trustee-message-invalid@trustee-b');
  });

  it('closed on chain without a published decryption: decryption-incomplete is an error', async () => {
    const r = await audit(clean, cleanFiles, { omit: ['decryption'] });
    expect(r.code).toBe(EXIT.failed);
    expect(r.where).toEqual(['decryption-incomplete']);
    expect(r.report.findings[0]!.severity).toBe('error');
  });

  it('without the transcript: the audit cannot check the ballots, and says so', async () => {
    const r = await audit(clean, cleanFiles, { omit: ['trusteeMessages'] });
    expect(r.code).toBe(EXIT.failed);
    expect(r.where).toEqual(['transcript-invalid']);
  });
});

describe('audit --api and audited-ballot --api of an encrypted election (a stand-in server)', () => {
  let server: FakeV2Server;
  let open: TestEncryptedElection;

  beforeAll(async () => {
    server = await startFakeV2Server();
    const info = (e: TestEncryptedElection, status: string) => ({
      manifest: e.manifest,
      manifestHash: manifestHashHex(e.manifest),
      rollRoot: rollRootHex(e.roll),
      rollSize: e.roll.length,
      status,
      chainId: chain.chainId,
      contract,
      encryption: {
        publicKey: pointHex(e.ceremony.publicKey),
        keyCeremony: 'complete',
        threshold: 2,
        trustees: e.manifest.trustees.map((t) => t.id),
      },
    });
    server.elections.set(clean.electionId, {
      info: info(clean, 'closed'),
      roll: clean.roll,
      ledgerLines: lines(clean.rows),
      results: encryptedResultsOf(clean),
      transcript: transcriptOf(clean),
      aggregate: clean.aggregate,
      decryption: clean.decryption,
    });
    // Open: no aggregate (409 not-closed), no decryption (409 not-decrypted), no counts yet.
    open = buildEncryptedElection({ electionId: 'enc-api-open', voters: 4, windowSizes: [4] });
    await anchorEncryptedElection(anchor, open, { close: false });
    server.elections.set(open.electionId, {
      info: info(open, 'open'),
      roll: open.roll,
      ledgerLines: lines(open.rows),
      results: { ...encryptedResultsOf(open), tally: null, contests: null, decryption: null },
      transcript: transcriptOf(open, open.ceremony.messages),
    });
  });

  afterAll(async () => {
    await server?.close();
  });

  const auditApi = async (electionId: string) => {
    const report = join(dir, `api-report-${++runs}.json`);
    const run = await cli([
      'audit',
      ...['--election', electionId, '--api', server.url, '--rpc', chain.rpcUrl, '--contract', contract],
      ...['--report', report, '--threads', '2'],
    ]);
    return { ...run, report: readReport<AuditReport>(report) };
  };

  it('a closed one passes, reading the transcript, the aggregate and the decryption from the API', async () => {
    const r = await auditApi(clean.electionId);
    expect(r.report.findings).toEqual([]);
    expect(r.code).toBe(EXIT.ok);
    expect(r.report.recount?.tally).toEqual(clean.tally);
    for (const route of ['trustee-messages', 'aggregate', 'decryption'])
      expect(server.requests).toContain(`GET /api/v1/elections/${clean.electionId}/${route}`);
  });

  it('a server that names voters another election key than its transcript gives is caught', async () => {
    const entry = server.elections.get(clean.electionId)!;
    const honest = entry.info as Record<string, unknown>;
    entry.info = { ...honest, encryption: { ...(honest.encryption as object), publicKey: pointHex(mulBase(7n)) } };
    try {
      const r = await auditApi(clean.electionId);
      expect(r.code).toBe(EXIT.failed);
      expect(where(r.report.findings)).toEqual(['transcript-invalid']);
      expect(r.report.findings[0]!.message).toMatch(/names election key .* to voters/);
    } finally {
      entry.info = honest;
    }
  });

  it('an open one passes with 409 for the aggregate and the decryption', async () => {
    const r = await auditApi(open.electionId);
    expect(r.report.findings).toEqual([]);
    expect(r.code).toBe(EXIT.ok);
    expect(r.report.recount).toBeNull();
    expect(r.report.encryption).toMatchObject({ aggregate: 'not available', publishedDecryption: 'not available' });
  });

  const openingOf = (e: TestEncryptedElection, seq: number, flip = false) => {
    const row = e.rows[seq]!;
    return {
      version: 2,
      kind: 'audited-ballot',
      submission: { ballot: row.ballot, signature: row.signature },
      ballotHash: row.ballotHash,
      openings: Object.fromEntries(
        e.manifest.contests.map((c) => [
          c.id,
          c.choices.map((k, i) => ({
            selected: row.selections[c.id]!.includes(k.id) !== (flip && c.id === 'q1'),
            randomness: hexScalar(row.randomness[c.id]![i]!),
          })),
        ]),
      ),
    };
  };

  it('audited-ballot --api: H from the transcript; what it encrypted; a lying device fails', async () => {
    const file = join(dir, 'api-audited.json');
    writeFileSync(file, JSON.stringify(openingOf(open, 2)));
    const ok = await cli(['audited-ballot', file, '--api', server.url, '--json']);
    expect(ok.code).toBe(EXIT.ok);
    const report = JSON.parse(ok.stdout);
    expect(report).toMatchObject({
      verdict: 'checks',
      publicKeyFrom: 'transcript',
      selections: open.rows[2]!.selections,
    });
    writeFileSync(file, JSON.stringify(openingOf(open, 2, true)));
    const lie = await cli(['audited-ballot', file, '--api', server.url]);
    expect(lie.code).toBe(EXIT.failed);
    expect(lie.stdout).toMatch(/opening-mismatch/);
  });

  it('audited-ballot --api: a server naming another election key than its transcript gives is caught', async () => {
    const entry = server.elections.get(open.electionId)!;
    const honest = entry.info;
    entry.info = { ...(honest as object), encryption: { publicKey: pointHex(mulBase(7n)) } };
    try {
      const file = join(dir, 'api-audited-key.json');
      writeFileSync(file, JSON.stringify(openingOf(open, 1)));
      const r = await cli(['audited-ballot', file, '--api', server.url, '--json']);
      expect(r.code).toBe(EXIT.failed);
      expect(JSON.parse(r.stdout).findings.map((f: Finding) => f.code)).toEqual(['transcript-invalid']);
    } finally {
      entry.info = honest;
    }
  });
});

describe('audited-ballot', () => {
  const v = JSON.parse(
    readFileSync(new URL('../../docs/test-vectors/v2/audited-ballot.json', import.meta.url), 'utf8'),
  );
  const keygen = JSON.parse(readFileSync(new URL('../../docs/test-vectors/v2/keygen.json', import.meta.url), 'utf8'));

  it("checks the vectors' openings: exit 0 and the selections for the valid one, 1 for the others", async () => {
    const manifest = join(dir, 'ab-manifest.json');
    writeFileSync(manifest, JSON.stringify(v.manifest));
    const transcript = join(dir, 'ab-transcript.json');
    writeFileSync(
      transcript,
      JSON.stringify({
        electionId: v.manifest.electionId,
        threshold: v.manifest.threshold,
        trustees: v.manifest.trustees,
        publicKey: keygen.publicKey,
        verificationKeys: keygen.verificationKeys,
        keyCeremony: 'complete',
        messages: keygen.messages,
        refused: [],
      }),
    );
    for (const [i, c] of v.cases.entries()) {
      const file = join(dir, `audited-${i}.json`);
      writeFileSync(file, JSON.stringify(c.audited));
      const byKey = await cli(['audited-ballot', file, '--manifest', manifest, '--public-key', v.publicKey, '--json']);
      expect(byKey.code, c.name).toBe(c.valid ? EXIT.ok : EXIT.failed);
      const report = JSON.parse(byKey.stdout);
      if (c.valid) expect(report.selections).toEqual(c.selections);
      const byTranscript = await cli([
        'audited-ballot',
        file,
        '--manifest',
        manifest,
        '--trustee-messages',
        transcript,
      ]);
      expect(byTranscript.code, c.name).toBe(c.valid ? EXIT.ok : EXIT.failed);
      if (c.valid) expect(byTranscript.stdout).toMatch(/referendum: no\n {2}council: bo\n\nCHECKS/);
    }
  });

  it('usage: neither --api nor --manifest is exit 2', async () => {
    const file = join(dir, 'audited-0.json');
    expect((await cli(['audited-ballot', file])).code).toBe(EXIT.usage);
  });
});

function hexScalar(k: bigint): string {
  return Buffer.from(k.toString(16).padStart(64, '0'), 'hex').reverse().toString('hex');
}

function createHashHex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
