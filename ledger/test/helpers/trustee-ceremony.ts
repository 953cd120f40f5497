// Trustees for the board and encrypted-close tests (docs/protocol.md 12.3, 12.5): an encrypted manifest
// with n trustees of fixed seeds, and each trustee's steps as the CLI would run them (the core's
// functions), giving the signed envelopes to post. The helper keeps what each trustee keeps on its own
// machine (its polynomial, its share key, then its key share), and nothing of the board.
import { createHash } from 'node:crypto';
import { keyPairFromSeed } from '../../src/protocol/ed25519.js';
import { type Contest, type Manifest, manifestHash } from '../../src/protocol/protocol.js';
import * as v2 from '../../src/protocol/v2/index.js';
import { testManifest } from '../../../test/support/fixtures.js';

export interface TestTrustee {
  id: string;
  seed: Buffer;
  key: string;
}

export function testTrustees(electionId: string, n: number): TestTrustee[] {
  return Array.from({ length: n }, (_, i) => {
    const id = `t${i + 1}`;
    const seed = createHash('sha256').update(`tallyproof test trustee ${electionId} ${id}`).digest();
    return { id, seed, key: keyPairFromSeed(seed).publicKey.toString('hex') };
  });
}

/** The test manifest (open now, contests q1 and council) as an encrypted election of n trustees, threshold k. */
export function trusteeManifest(
  electionId: string,
  ledgerKey: string,
  opts: { n?: number; k?: number; contests?: Contest[]; over?: Partial<Manifest> } = {},
): Manifest {
  const trustees = testTrustees(electionId, opts.n ?? 3).map((t) => ({ id: t.id, key: t.key }));
  const fields = {
    version: 2,
    ballotMode: 'encrypted',
    trustees,
    threshold: opts.k ?? 2,
    ...(opts.contests ? { contests: opts.contests } : {}),
    ...opts.over,
  };
  return testManifest(electionId, ledgerKey, fields as unknown as Partial<Manifest>);
}

/** The trustees of one election, each step a signed envelope. */
export class Ceremony {
  readonly manifestHash: string;
  readonly trustees: TestTrustee[];
  private readonly random: v2.ScalarSource;
  private readonly secrets = new Map<string, v2.TrusteeSecrets>();
  private readonly commits = new Map<string, v2.KeygenCommit>();
  private readonly shares = new Map<string, v2.KeygenShares>();
  private readonly keyShares = new Map<string, string>();

  constructor(readonly manifest: Manifest) {
    this.manifestHash = manifestHash(manifest).toString('hex');
    this.trustees = testTrustees(manifest.electionId, manifest.trustees?.length ?? 0);
    this.random = v2.seededScalars(`ceremony ${manifest.electionId}`);
  }

  private trustee(id: string): TestTrustee {
    const t = this.trustees.find((x) => x.id === id);
    if (!t) throw new Error(`no trustee ${id}`);
    return t;
  }

  sign<M extends v2.TrusteeMessage>(id: string, message: M): v2.TrusteeEnvelope<M> {
    return v2.signTrusteeMessage(this.trustee(id).seed, message);
  }

  /** Step 1; `label` gives another polynomial (a second, different keygen-commit). */
  commit(id: string, label = ''): v2.TrusteeEnvelope<v2.KeygenCommit> {
    const random: v2.ScalarSource = label ? v2.seededScalars(`${this.manifest.electionId} ${label}`) : this.random;
    const { message, secrets } = v2.makeKeygenCommit(this.manifest, this.manifestHash, id, random);
    if (!label) {
      this.secrets.set(id, secrets);
      this.commits.set(id, message);
    }
    return this.sign(id, message);
  }

  /** Step 2, once every trustee's commit was made here. */
  sharesOf(id: string): v2.TrusteeEnvelope<v2.KeygenShares> {
    const message = v2.makeKeygenShares(
      this.manifest,
      this.manifestHash,
      id,
      this.secrets.get(id)!,
      [...this.commits.values()],
      this.random,
    );
    this.shares.set(id, message);
    return this.sign(id, message);
  }

  /** Step 3, once every trustee's shares were made here; keeps the key share. */
  confirm(id: string): v2.TrusteeEnvelope<v2.KeygenConfirm> {
    const { message, keyShare } = v2.makeKeygenConfirm(
      this.manifest,
      this.manifestHash,
      id,
      this.secrets.get(id)!,
      [...this.commits.values()],
      [...this.shares.values()],
    );
    this.keyShares.set(id, keyShare);
    return this.sign(id, message);
  }

  /** Every message of the key generation, in an order the board accepts. */
  keyGeneration(): v2.TrusteeEnvelope[] {
    const ids = this.trustees.map((t) => t.id);
    return [
      ...ids.map((id) => this.commit(id)),
      ...ids.map((id) => this.sharesOf(id)),
      ...ids.map((id) => this.confirm(id)),
    ];
  }

  /** H as the trustees compute it (after keyGeneration). */
  publicKey(): string {
    return v2.ceremonyKeys(this.manifest, [...this.commits.values()]).publicKey;
  }

  /** Step 4: the partial decryption of `aggregate`; `wrong` uses a key share off by one (its proofs fail). */
  decrypt(id: string, aggregate: v2.Aggregate, opts: { wrong?: boolean } = {}): v2.TrusteeEnvelope<v2.DecryptMessage> {
    let keyShare = this.keyShares.get(id)!;
    if (opts.wrong) keyShare = v2.scalarToHex(v2.scalarFromHex(keyShare)! + 1n);
    return this.sign(id, v2.makeDecryptShare(this.manifest, this.manifestHash, id, keyShare, aggregate, this.random));
  }
}

/** Expected counts of a list of selections, every choice of the manifest listed. */
export function expectedTally(
  manifest: Manifest,
  selections: readonly Record<string, readonly string[]>[],
): Record<string, Record<string, number>> {
  const tally: Record<string, Record<string, number>> = {};
  for (const c of manifest.contests) tally[c.id] = Object.fromEntries(c.choices.map((k) => [k.id, 0]));
  for (const s of selections) for (const [c, ks] of Object.entries(s)) for (const k of ks) tally[c]![k]!++;
  return tally;
}
