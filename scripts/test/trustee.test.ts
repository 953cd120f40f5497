// `tallyproof trustee …` and the encrypted `vote`, purely offline: files in, files out, through the real CLI.
// The test plays the bulletin board with the core's own rule (boardDecision), so every message the CLI
// writes is checked as the server will check it. One election: 3 trustees, threshold 2, the whole key
// ceremony, ballots encrypted by `vote --offline`, an audited ballot, the decryption by t1 and t3 only (t2
// is missing: any 2 of 3 suffice). Another: a trustee who deals shares off its commitments is named by
// `confirm` (exit 4), and so is one whose share does not decrypt; an altered transcript is refused.
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyPairFromSeed } from '../../ledger/src/protocol/ed25519.js';
import { type Manifest, manifestHash, normalizeManifest } from '../../ledger/src/protocol/protocol.js';
import * as v2 from '../../ledger/src/protocol/v2/index.js';
import type { TrusteeFile } from '../cli/trustee-file.js';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../bin/tallyproof.js', import.meta.url));
/** Nothing listens there: a command given it works without the network or fails. */
const NO_API = 'http://127.0.0.1:9';
const LEDGER_KEY = keyPairFromSeed(Buffer.alloc(32, 7)).publicKey.toString('hex');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tallyproof-trustee-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const at = (name: string) => join(dir, name);

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { cwd: dir });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function ok(args: string[]): Promise<string> {
  const r = await cli(args);
  expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

const readTrustee = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as TrusteeFile;
const readJsonFile = (file: string) => JSON.parse(readFileSync(file, 'utf8'));
const mode = (file: string) => statSync(file).mode & 0o777;

/** An encrypted election whose trustees are new trustee files made by `trustee new`. */
async function setUp(electionId: string, ids: string[], threshold: number) {
  const entries = await Promise.all(
    ids.map(async (id) => {
      const stdout = await ok(['trustee', 'new', '--id', id, '--out', at(`${electionId}-${id}.json`)]);
      return JSON.parse(stdout) as { id: string; key: string };
    }),
  );
  const manifest = normalizeManifest(
    {
      version: 2,
      electionId,
      title: 'Encrypted',
      contests: [
        {
          id: 'q',
          title: 'Q',
          choices: [
            { id: 'yes', label: 'Yes' },
            { id: 'no', label: 'No' },
            { id: 'maybe', label: 'Maybe' },
          ],
          minSelections: 0,
          maxSelections: 1,
        },
        {
          id: 'council',
          title: 'Council',
          choices: [
            { id: 'ana', label: 'Ana' },
            { id: 'bo', label: 'Bo' },
            { id: 'cy', label: 'Cy' },
          ],
          minSelections: 1,
          maxSelections: 2,
        },
      ],
      opensAt: '2026-01-01T00:00:00.000Z',
      closesAt: '2036-01-01T00:00:00.000Z',
      ballotMode: 'encrypted',
      trustees: entries,
      threshold,
    },
    LEDGER_KEY,
  );
  const mh = manifestHash(manifest).toString('hex');
  const view = {
    manifest,
    manifestHash: mh,
    status: 'scheduled',
    encryption: { publicKey: null as string | null, keyCeremony: 'in-progress', threshold, trustees: ids },
  };
  const electionFile = at(`${electionId}-election.json`);
  writeFileSync(electionFile, JSON.stringify(view, null, 2));
  return { manifest, mh, view, electionFile, trusteeFile: (id: string) => at(`${electionId}-${id}.json`) };
}

/** The bulletin board, with the server's rule; its transcript written as GET …/trustee-messages serves it. */
class Board {
  accepted: v2.TrusteeEnvelope[] = [];
  aggregate: v2.Aggregate | null = null;
  constructor(
    private readonly manifest: Manifest,
    private readonly mh: string,
  ) {}
  post(file: string): v2.TrusteeEnvelope {
    const env = readJsonFile(file);
    const d = v2.boardDecision(
      { manifest: this.manifest, manifestHash: this.mh, accepted: this.accepted, aggregate: this.aggregate },
      env,
    );
    expect(d, file).toEqual({ kind: 'accept', message: env.message });
    this.accepted.push(env);
    return env;
  }
  transcript(file: string): string {
    const complete = v2.ceremonyComplete(this.manifest, this.accepted);
    const keys = complete ? v2.ceremonyKeys(this.manifest, v2.commitsOf(this.accepted)) : null;
    writeFileSync(
      file,
      JSON.stringify({
        electionId: this.manifest.electionId,
        threshold: this.manifest.threshold,
        trustees: this.manifest.trustees,
        publicKey: keys?.publicKey ?? null,
        verificationKeys: keys?.verificationKeys ?? null,
        keyCeremony: complete ? 'complete' : 'in-progress',
        messages: this.accepted,
        refused: [],
      }),
    );
    return file;
  }
}

describe('the key ceremony, encrypted votes and the decryption, offline', () => {
  const ids = ['t1', 't2', 't3'];
  let e: Awaited<ReturnType<typeof setUp>>;
  let board: Board;
  let publicKey: string;
  const voters = [0, 1, 2, 3].map((i) => {
    const seed = Buffer.alloc(32, 40 + i);
    return { credential: keyPairFromSeed(seed).publicKey.toString('hex'), seed: seed.toString('hex') };
  });
  const votes = [['q=yes', 'council=ana,bo'], ['q=no', 'council=bo'], ['q=yes', 'council=cy'], ['council=ana']];

  it('trustee new writes a 0600 file and prints the public entry of its key', async () => {
    e = await setUp('enc-cli', ids, 2);
    board = new Board(e.manifest, e.mh);
    for (const [i, id] of ids.entries()) {
      const tf = readTrustee(e.trusteeFile(id));
      expect(mode(e.trusteeFile(id))).toBe(0o600);
      expect(tf).toMatchObject({ kind: 'tallyproof-trustee', version: 1, id, election: null });
      expect(keyPairFromSeed(Buffer.from(tf.signingSeed, 'hex')).publicKey.toString('hex')).toBe(tf.key);
      expect(e.manifest.trustees![i]).toEqual({ id, key: tf.key });
    }
    const again = await cli(['trustee', 'new', '--id', 't1', '--out', e.trusteeFile('t1')]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('refusing to overwrite a trustee file');
  });

  it('commit keeps the polynomial in the trustee file and writes a keygen-commit the board accepts', async () => {
    const before = readTrustee(e.trusteeFile('t1'));
    await Promise.all(
      ids.map((id) =>
        ok([
          'trustee',
          'commit',
          '--trustee',
          e.trusteeFile(id),
          '--election',
          e.electionFile,
          '--out',
          at(`commit-${id}.json`),
        ]),
      ),
    );
    for (const id of ids) {
      const env = board.post(at(`commit-${id}.json`));
      const tf = readTrustee(e.trusteeFile(id));
      expect(mode(e.trusteeFile(id))).toBe(0o600);
      expect(tf.election).toMatchObject({ electionId: 'enc-cli', manifestHash: e.mh, keyShare: null });
      expect(tf.election!.keygen!.coefficients).toHaveLength(2);
      expect(tf.election!.commit).toEqual(env);
      // The commitments are those of the secrets kept.
      expect(env.message.kind === 'keygen-commit' && env.message.commitments[0]).toBe(
        v2.hex(v2.mulBase(v2.scalarFromHex(tf.election!.keygen!.coefficients[0])!)),
      );
    }
    expect(readTrustee(e.trusteeFile('t1')).signingSeed).toBe(before.signingSeed);

    // Run again: the same message, the same secrets (the board takes a byte-identical repeat).
    const kept = readFileSync(e.trusteeFile('t1'), 'utf8');
    const again = await cli([
      'trustee',
      'commit',
      '--trustee',
      e.trusteeFile('t1'),
      '--election',
      e.electionFile,
      '--out',
      at('commit-t1-again.json'),
    ]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('the same message written again');
    expect(readJsonFile(at('commit-t1-again.json'))).toEqual(readJsonFile(at('commit-t1.json')));
    expect(readFileSync(e.trusteeFile('t1'), 'utf8')).toBe(kept);
  });

  it('an election file whose manifest was altered, or a message over the trustee file, is refused', async () => {
    const altered = readJsonFile(e.electionFile);
    altered.manifest.title = 'Another title';
    writeFileSync(at('altered.json'), JSON.stringify(altered));
    const r = await cli([
      'trustee',
      'commit',
      '--trustee',
      e.trusteeFile('t1'),
      '--election',
      at('altered.json'),
      '--out',
      at('never.json'),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('does not hash to the manifestHash');
    const over = await cli([
      'trustee',
      'commit',
      '--trustee',
      e.trusteeFile('t1'),
      '--election',
      e.electionFile,
      '--out',
      e.trusteeFile('t2'),
    ]);
    expect(over.code).toBe(2);
    expect(over.stderr).toContain('is a trustee file; refusing to write a message over it');
    expect(existsSync(at('never.json'))).toBe(false);
  });

  it('shares needs every commit on the board, then writes shares the board accepts; secrets kept', async () => {
    const partial = at('transcript-partial.json');
    const full = new Board(e.manifest, e.mh);
    full.accepted = board.accepted.slice(0, 2);
    full.transcript(partial);
    const early = await cli([
      'trustee',
      'shares',
      '--trustee',
      e.trusteeFile('t1'),
      '--election',
      e.electionFile,
      '--transcript',
      partial,
      '--out',
      at('never.json'),
    ]);
    expect(early.code).toBe(2);
    expect(early.stderr).toContain('waiting for t3');

    const keygenBefore = ids.map((id) => readTrustee(e.trusteeFile(id)).election!.keygen);
    const transcript = board.transcript(at('transcript-1.json'));
    await Promise.all(
      ids.map((id) =>
        ok([
          'trustee',
          'shares',
          '--trustee',
          e.trusteeFile(id),
          '--election',
          e.electionFile,
          '--transcript',
          transcript,
          '--out',
          at(`shares-${id}.json`),
        ]),
      ),
    );
    for (const [i, id] of ids.entries()) {
      board.post(at(`shares-${id}.json`));
      expect(readTrustee(e.trusteeFile(id)).election!.keygen).toEqual(keygenBefore[i]);
      expect(mode(e.trusteeFile(id))).toBe(0o600);
    }
  });

  it('confirm checks every share, keeps the key share, and every trustee confirms the same election key', async () => {
    const transcript = board.transcript(at('transcript-2.json'));
    const outputs = await Promise.all(
      ids.map((id) =>
        cli([
          'trustee',
          'confirm',
          '--trustee',
          e.trusteeFile(id),
          '--election',
          e.electionFile,
          '--transcript',
          transcript,
          '--out',
          at(`confirm-${id}.json`),
        ]),
      ),
    );
    for (const id of ids) board.post(at(`confirm-${id}.json`));
    expect(v2.ceremonyComplete(e.manifest, board.accepted)).toBe(true);
    publicKey = v2.electionPublicKey(e.manifest, board.accepted)!;
    const keys = v2.ceremonyKeys(e.manifest, v2.commitsOf(board.accepted));
    for (const [i, id] of ids.entries()) {
      expect(outputs[i]!.code, outputs[i]!.stderr).toBe(0);
      expect(outputs[i]!.stderr).toContain(`election key ${publicKey}`);
      const tf = readTrustee(e.trusteeFile(id));
      expect(mode(e.trusteeFile(id))).toBe(0o600);
      expect(tf.election!.publicKey).toBe(publicKey);
      expect(tf.election!.keygen).toBeNull();
      expect(v2.hex(v2.mulBase(v2.scalarFromHex(tf.election!.keyShare)!))).toBe(keys.verificationKeys[id]);
    }
    // Any two key shares give the secret key of H (Lagrange at 0): the shares are those of H.
    const x = (id: string) => v2.scalarFromHex(readTrustee(e.trusteeFile(id)).election!.keyShare)!;
    const secret = v2.mod(v2.lagrange([1, 3], 1) * x('t1') + v2.lagrange([1, 3], 3) * x('t3'));
    expect(v2.hex(v2.mulBase(secret))).toBe(publicKey);
  });

  it('vote encrypts and proves offline, checking the election key against the transcript', async () => {
    const view = readJsonFile(e.electionFile);
    view.encryption = { ...view.encryption, publicKey, keyCeremony: 'complete' };
    writeFileSync(e.electionFile, JSON.stringify(view));
    const transcript = board.transcript(at('transcript-3.json'));
    const credentials = at('credentials.jsonl');
    writeFileSync(credentials, voters.map((v) => `${JSON.stringify(v)}\n`).join(''));
    const vote = (i: number, extra: string[]) =>
      cli([
        'vote',
        '--offline',
        '--api',
        NO_API,
        '--election',
        'enc-cli',
        '--manifest',
        e.electionFile,
        '--transcript',
        transcript,
        '--credential',
        credentials,
        '--voter',
        voters[i]!.credential,
        ...votes[i]!.flatMap((c) => ['--choose', c]),
        ...extra,
      ]);
    const results = await Promise.all(voters.map((_, i) => vote(i, ['--out', at(`ballot-${i}.json`)])));
    const ctx = { manifest: e.manifest, manifestHash: e.mh, publicKey };
    const aggregator = new v2.Aggregator(e.manifest);
    for (const [i, r] of results.entries()) {
      expect(r.code, r.stderr).toBe(0);
      const file = at(`ballot-${i}.json`);
      expect(mode(file)).toBe(0o600);
      const submission = v2.parseEncryptedSubmission(readJsonFile(file));
      expect(submission.ballot.credential).toBe(voters[i]!.credential);
      expect(v2.encryptedBallotProblem(ctx, submission.ballot)).toBeNull();
      expect(r.stdout).toContain(v2.encryptedBallotHash(submission).toString('hex'));
      aggregator.add(submission.ballot);
    }
    board.aggregate = aggregator.result(e.mh, publicKey);
    writeFileSync(at('aggregate.json'), JSON.stringify(board.aggregate, null, 2));

    // An audited ballot: opened, checked, never cast; submit refuses it.
    const audit = await vote(0, ['--audit-out', at('audited.json')]);
    expect(audit.code, audit.stderr).toBe(0);
    expect(audit.stdout).toContain('it encrypts: q=yes council=ana,bo');
    expect(mode(at('audited.json'))).toBe(0o600);
    expect(v2.checkAuditedBallot(ctx, readJsonFile(at('audited.json')))).toEqual({
      q: ['yes'],
      council: ['ana', 'bo'],
    });
    const cast = await cli(['submit', at('audited.json'), '--api', NO_API]);
    expect(cast.code).toBe(2);
    expect(cast.stderr).toContain('it can never be cast');

    // A view whose election key is not the trustees': refused before anything is encrypted.
    const wrongView = { ...view, encryption: { ...view.encryption, publicKey: v2.hex(v2.mulBase(12345n)) } };
    writeFileSync(at('wrong-view.json'), JSON.stringify(wrongView));
    const wrong = await cli([
      'vote',
      '--offline',
      '--api',
      NO_API,
      '--election',
      'enc-cli',
      '--manifest',
      at('wrong-view.json'),
      '--transcript',
      transcript,
      '--credential',
      credentials,
      '--choose',
      'council=ana',
      '--out',
      at('never.json'),
    ]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain("is not the one the trustees' signed messages make");
    expect(existsSync(at('never.json'))).toBe(false);
  });

  it('decrypt by t1 and t3 (t2 missing): proofs verify, and the counts are the votes', async () => {
    await Promise.all(
      ['t3', 't1'].map((id) =>
        ok([
          'trustee',
          'decrypt',
          '--trustee',
          e.trusteeFile(id),
          '--election',
          e.electionFile,
          '--aggregate',
          at('aggregate.json'),
          '--out',
          at(`decrypt-${id}.json`),
        ]),
      ),
    );
    for (const id of ['t3', 't1']) {
      const env = readJsonFile(at(`decrypt-${id}.json`)) as v2.TrusteeEnvelope<v2.DecryptMessage>;
      expect(v2.decryptMessageProblem(e.manifest, e.mh, board.accepted, board.aggregate!, env.message)).toBeNull();
      board.post(at(`decrypt-${id}.json`));
      expect(mode(e.trusteeFile(id))).toBe(0o600);
      expect(readTrustee(e.trusteeFile(id)).election!.keyShare).not.toBeNull();
    }
    const result = v2.combineDecryptions(e.manifest, e.mh, board.accepted, board.aggregate!)!;
    expect(result.trustees).toEqual(['t1', 't3']);
    expect(result.tally).toEqual({ q: { yes: 2, no: 1, maybe: 0 }, council: { ana: 2, bo: 2, cy: 1 } });
    expect(result.totalBallots).toBe(4);

    // Another aggregate (one ballot fewer: its difference with the first would reveal that ballot): refused.
    const aggregator = new v2.Aggregator(e.manifest);
    for (const i of [0, 1, 2]) aggregator.add(readJsonFile(at(`ballot-${i}.json`)).ballot);
    writeFileSync(at('aggregate-other.json'), JSON.stringify(aggregator.result(e.mh, publicKey)));
    const other = await cli([
      'trustee',
      'decrypt',
      '--trustee',
      e.trusteeFile('t1'),
      '--election',
      e.electionFile,
      '--aggregate',
      at('aggregate-other.json'),
      '--out',
      at('never.json'),
    ]);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain('already decrypted another aggregate');
    expect(existsSync(at('never.json'))).toBe(false);
  });

  it('a trustee file holding another election is refused unless copied and forced', async () => {
    const next = await setUp('enc-cli-next', ['t9'], 1);
    const view = readJsonFile(next.electionFile);
    // The same trustee key in the new election's manifest.
    const t1 = readTrustee(e.trusteeFile('t1'));
    view.manifest.trustees = [{ id: 't1', key: t1.key }];
    view.manifestHash = manifestHash(view.manifest).toString('hex');
    writeFileSync(next.electionFile, JSON.stringify(view));
    const kept = readFileSync(e.trusteeFile('t1'), 'utf8');
    const args = (file: string) => [
      'trustee',
      'commit',
      '--trustee',
      file,
      '--election',
      next.electionFile,
      '--out',
      at('next-commit.json'),
    ];
    const refused = await cli(args(e.trusteeFile('t1')));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('already holds the secrets of election enc-cli');
    expect(readFileSync(e.trusteeFile('t1'), 'utf8')).toBe(kept);
    const copy = at('t1-next.json');
    copyFileSync(e.trusteeFile('t1'), copy);
    await ok([...args(copy), '--force']);
    expect(readTrustee(copy).election!.electionId).toBe('enc-cli-next');
    expect(readTrustee(e.trusteeFile('t1')).election!.keyShare).not.toBeNull();
  });
});

describe('a wrong share is caught and its sender named', () => {
  const ids = ['u1', 'u2', 'u3'];
  let e: Awaited<ReturnType<typeof setUp>>;
  let board: Board;

  const step = (kind: 'commit' | 'shares' | 'confirm', id: string, transcript?: string) =>
    cli([
      'trustee',
      kind,
      '--trustee',
      e.trusteeFile(id),
      '--election',
      e.electionFile,
      ...(transcript ? ['--transcript', transcript] : []),
      '--out',
      at(`bad-${kind}-${id}.json`),
    ]);

  it('a share off its commitments makes confirm fail (exit 4) naming the sender; the file is unchanged', async () => {
    e = await setUp('enc-cli-bad', ids, 2);
    board = new Board(e.manifest, e.mh);
    for (const r of await Promise.all(ids.map((id) => step('commit', id)))) expect(r.code, r.stderr).toBe(0);
    for (const id of ids) board.post(at(`bad-commit-${id}.json`));
    // u2 deals its shares from another polynomial than the one it committed to.
    const u2 = readTrustee(e.trusteeFile('u2'));
    u2.election!.keygen!.coefficients[1] = v2.hex(v2.randomScalar());
    writeFileSync(e.trusteeFile('u2'), JSON.stringify(u2), { mode: 0o600 });
    const t1 = board.transcript(at('bad-transcript-1.json'));
    for (const r of await Promise.all(ids.map((id) => step('shares', id, t1)))) expect(r.code, r.stderr).toBe(0);
    for (const id of ids) board.post(at(`bad-shares-${id}.json`));
    const t2 = board.transcript(at('bad-transcript-2.json'));

    const kept = readFileSync(e.trusteeFile('u1'), 'utf8');
    const r = await step('confirm', 'u1', t2);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("trustee u2's share to u1 does not match its commitments");
    expect(r.stderr).toContain(
      'the key ceremony must be run again, from a new election whose manifest leaves out trustee u2',
    );
    expect(readFileSync(e.trusteeFile('u1'), 'utf8')).toBe(kept);
    expect(existsSync(at('bad-confirm-u1.json'))).toBe(false);
  });

  it('a share that does not decrypt (signed by its sender) names the sender too', async () => {
    // u1's share to u3 altered, and signed again with u1's own key: the board takes it (it checks the shape).
    const forged = new Board(e.manifest, e.mh);
    const u1Seed = Buffer.from(readTrustee(e.trusteeFile('u1')).signingSeed, 'hex');
    forged.accepted = board.accepted.map((env) => {
      if (env.message.kind !== 'keygen-shares' || env.message.trustee !== 'u1') return env;
      const message = structuredClone(env.message);
      const c = message.shares.u3!.ciphertext;
      message.shares.u3!.ciphertext = (c[0] === '0' ? '1' : '0') + c.slice(1);
      return v2.signTrusteeMessage(u1Seed, message);
    });
    const r = await step('confirm', 'u3', forged.transcript(at('bad-transcript-forged.json')));
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("trustee u1's share to u3 does not decrypt");
  });

  it('a transcript altered on the way (not signed by its trustee) is refused', async () => {
    const altered = readJsonFile(at('bad-transcript-2.json'));
    const shares = altered.messages.find(
      (m: v2.TrusteeEnvelope) => m.message.kind === 'keygen-shares' && m.message.trustee === 'u1',
    );
    shares.message.shares.u3.ephemeral = altered.messages[0].message.shareKey;
    writeFileSync(at('bad-transcript-altered.json'), JSON.stringify(altered));
    const r = await step('confirm', 'u3', at('bad-transcript-altered.json'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('(keygen-shares of u1) is one the board must refuse (bad-signature');
  });
});
