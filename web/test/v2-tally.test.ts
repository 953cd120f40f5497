// The results page's check of decrypted counts (web/src/v2/tally-check.ts) under Node, on a small
// encrypted election built by v2-election-fixture.ts: 3 trustees, threshold 2. Every pair of trustees gives
// verified counts; a wrong share, a wrong count, a changed aggregate or a forged message is caught and named.
import { beforeAll, describe, expect, it } from 'vitest';
import type { SubmissionV2 } from '../src/v2/ballot.js';
import { decodePoint, encodePoint, G } from '../src/v2/group.js';
import {
  aggregateHashOf,
  checkDecryptedTally,
  resultHashOf,
  type Aggregate,
  type TallyCheckInput,
  type TrusteeEnvelope,
} from '../src/v2/tally-check.js';
import {
  aggregateOf,
  castBallots,
  decryptionOf,
  decryptMessage,
  keyCeremony,
  plainTally,
  signEnvelope,
} from './v2-election-fixture.js';

const VOTES = [
  { referendum: ['yes'], council: ['ada', 'bob'] },
  { referendum: ['no'], council: ['bob'] },
  { referendum: [], council: ['cyd', 'ada'] },
  { referendum: ['yes'], council: ['bob', 'cyd'] },
];

const f = keyCeremony(3, 2);
let ballots: SubmissionV2[];
let aggregate: Aggregate;
let decrypts: TrusteeEnvelope[];
const tally = plainTally(f, VOTES);

beforeAll(async () => {
  ballots = await castBallots(f, VOTES);
  aggregate = aggregateOf(f, ballots);
  decrypts = [1, 2, 3].map((i) => decryptMessage(f, aggregate, i));
});

function input(used: number[], patch: Partial<TallyCheckInput> = {}): TallyCheckInput {
  return {
    manifest: f.manifest,
    manifestHash: f.manifestHash,
    transcript: { ...f.transcript, messages: [...f.transcript.messages, ...decrypts] },
    aggregate,
    decryption: decryptionOf(f, aggregate, used, tally),
    publishedKey: f.publicKey,
    shownTally: tally,
    resultHash: resultHashOf(f.manifest.electionId, tally, VOTES.length),
    ...patch,
  };
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

describe('checkDecryptedTally', () => {
  it('verifies the counts decrypted by any 2 of the 3 trustees', async () => {
    expect(tally).toEqual({ referendum: { yes: 2, no: 1 }, council: { ada: 2, bob: 3, cyd: 2 } });
    for (const used of [
      [1, 2],
      [1, 3],
      [2, 3],
    ]) {
      const fractions: number[] = [];
      const r = await checkDecryptedTally(input(used), (x) => fractions.push(x));
      expect(r, used.join('+')).toEqual({
        ok: true,
        aggregateHash: aggregateHashOf(aggregate),
        trustees: used.map((i) => `trustee-${i}`),
        sharesChecked: 10,
      });
      expect(fractions.at(-1)).toBe(1);
    }
  });

  it('names the trustee, contest and choice of a wrong share', async () => {
    const bad = clone(decrypts[2]!);
    const entry = (bad.message.shares as Record<string, Record<string, { share: string }>>).council!.bob!;
    entry.share = encodePoint(decodePoint(entry.share).add(G));
    const resigned = signEnvelope(bad.message, f.trusteeSeeds[2]!);
    const transcript = { ...f.transcript, messages: [...f.transcript.messages, decrypts[0]!, resigned] };
    expect(await checkDecryptedTally(input([1, 3], { transcript }))).toEqual({
      ok: false,
      code: 'share-proof',
      params: { trustee: 'trustee-3', contest: 'council', choice: 'bob' },
    });
  });

  it('catches a published count that is not the decryption', async () => {
    const wrong = clone(tally);
    wrong.council!.cyd = 1;
    const r = await checkDecryptedTally(input([1, 2], { decryption: decryptionOf(f, aggregate, [1, 2], wrong) }));
    expect(r).toEqual({
      ok: false,
      code: 'count-mismatch',
      params: { contest: 'council', choice: 'cyd', published: '1', computed: 2 },
    });
    // The results body showing other counts than the decryption, or another result hash.
    expect(await checkDecryptedTally(input([1, 2], { shownTally: wrong }))).toMatchObject({ code: 'shown-tally' });
    expect(await checkDecryptedTally(input([1, 2], { resultHash: '00'.repeat(32) }))).toMatchObject({
      code: 'result-hash',
    });
  });

  it('catches an aggregate that is not the one the trustees decrypted', async () => {
    const changed = clone(aggregate);
    changed.contests.referendum!.yes!.beta = encodePoint(decodePoint(changed.contests.referendum!.yes!.beta).add(G));
    const r = await checkDecryptedTally(input([1, 2], { aggregate: changed }));
    expect(r).toMatchObject({ ok: false, code: 'aggregate-hash' });
  });

  it('refuses a message not signed by its trustee, or a missing one', async () => {
    const forged = { ...decrypts[1]!, signature: decrypts[0]!.signature };
    const transcript = { ...f.transcript, messages: [...f.transcript.messages, decrypts[0]!, forged] };
    expect(await checkDecryptedTally(input([1, 2], { transcript }))).toEqual({
      ok: false,
      code: 'decrypt-signature',
      params: { trustee: 'trustee-2' },
    });
    const without = { ...f.transcript, messages: [...f.transcript.messages, decrypts[0]!] };
    expect(await checkDecryptedTally(input([1, 2], { transcript: without }))).toMatchObject({
      code: 'decrypt-missing',
      params: { trustee: 'trustee-2' },
    });
  });

  it('recomputes the election key and verification keys from the commitments', async () => {
    expect(await checkDecryptedTally(input([1, 2], { publishedKey: encodePoint(G) }))).toMatchObject({
      code: 'public-key',
      params: { where: 'election' },
    });
    const transcript = clone({ ...f.transcript, messages: [...f.transcript.messages, ...decrypts] });
    transcript.verificationKeys!['trustee-2'] = encodePoint(G);
    expect(await checkDecryptedTally(input([1, 2], { transcript }))).toMatchObject({
      code: 'verification-key',
      params: { trustee: 'trustee-2' },
    });
    // A commitment changed (and re-signed): its proof of knowledge fails.
    const commit = clone(f.transcript.messages[0]!);
    (commit.message.commitments as string[])[0] = encodePoint(G);
    const swapped = {
      ...f.transcript,
      messages: [signEnvelope(commit.message, f.trusteeSeeds[0]!), ...f.transcript.messages.slice(1), ...decrypts],
    };
    expect(await checkDecryptedTally(input([1, 2], { transcript: swapped }))).toMatchObject({
      code: 'keygen-proof',
      params: { trustee: 'trustee-1', purpose: 'commitment' },
    });
  });

  it('needs exactly K distinct trustees of the manifest', async () => {
    for (const used of [[1], [1, 1], [1, 2, 3]]) {
      expect(await checkDecryptedTally(input(used)), used.join(',')).toMatchObject({ code: 'decryption-trustees' });
    }
  });

  it('an election without ballots has zero counts and nothing to decrypt', async () => {
    const empty = aggregateOf(f, []);
    const zeros = plainTally(f, []);
    const r = await checkDecryptedTally(
      input([], {
        aggregate: empty,
        decryption: decryptionOf(f, empty, [], zeros),
        shownTally: zeros,
        resultHash: null,
      }),
    );
    expect(r).toMatchObject({ ok: true, sharesChecked: 0 });
  });
});
