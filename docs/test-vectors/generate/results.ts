// results.json: an election whose contests may be left blank (minSelections 0), seven signed ballots, and
// what the results say about them: the counts per choice, the blank count and the ballots counted per
// contest, the v1 resultHash (over electionId, tally and totalBallots only: no blank counts), the JSON body
// and the CSV the results route serves. Counted here with plain loops, not with the server's or the
// verifier's code.
import { ed25519 } from '@noble/curves/ed25519.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { ledgerKey } from './election.js';
import { canonicalize, H, hex, seedOf } from './reference.js';

const electionId = 'results-2026';

export const resultsManifest = {
  version: 1,
  electionId,
  title: 'Test-vector election — blank votes',
  contests: [
    {
      id: 'referendum',
      title: 'Adopt the proposal?',
      choices: [
        { id: 'yes', label: 'Yes' },
        { id: 'no', label: 'No' },
      ],
      minSelections: 0,
      maxSelections: 1,
    },
    {
      id: 'council',
      title: 'Council (up to 2)',
      choices: [
        { id: 'ana', label: 'Ana' },
        { id: 'bo', label: 'Bo' },
        { id: 'chloe', label: 'Chloé' },
      ],
      minSelections: 0,
      maxSelections: 2,
    },
    {
      id: 'q1',
      title: 'Approve the law? (no blank vote)',
      choices: [
        { id: 'oui', label: 'Oui' },
        { id: 'non', label: 'Non' },
      ],
      minSelections: 1,
      maxSelections: 1,
    },
  ],
  opensAt: '2026-01-01T00:00:00.000Z',
  closesAt: '2030-12-31T23:59:59.999Z',
  windowSeconds: 60,
  ledgerKey: hex(ledgerKey),
};

// Seven ballots in seq order: the referendum ends Yes 2, No 4, blank 1 (the example); the council
// has 3 blank ballots and 6 votes on 4 ballots (up to 2 choices each, so blank is not ballots − votes).
const selectionsList: Record<string, string[]>[] = [
  { referendum: ['yes'], council: ['ana', 'bo'], q1: ['oui'] },
  { referendum: ['no'], council: [], q1: ['non'] },
  { referendum: [], council: ['chloe'], q1: ['oui'] },
  { referendum: ['no'], council: [], q1: ['oui'] },
  { referendum: ['yes'], council: ['bo'], q1: ['non'] },
  { referendum: ['no'], council: ['ana', 'chloe'], q1: ['oui'] },
  { referendum: ['no'], council: [], q1: ['oui'] },
];

export function resultsVectors() {
  const ballots = selectionsList.map((selections, seq) => {
    // The voters of the other vectors (same labels), two more for seven ballots.
    const seed = seedOf(`tallyproof test vector voter ${seq}`);
    const ballot = { version: 1, electionId, credential: hex(ed25519.getPublicKey(seed)), selections };
    const signature = hex(ed25519.sign(utf8ToBytes('tallyproof:ballot:v1:' + canonicalize(ballot)), seed));
    const submission = { ballot, signature };
    return { seq, seed: hex(seed), submission, ballotHash: hex(H(utf8ToBytes(canonicalize(submission)))) };
  });

  const tally: Record<string, Record<string, number>> = {};
  const contests: Record<string, { ballotsCounted: number; blank: number }> = {};
  for (const c of resultsManifest.contests) {
    tally[c.id] = Object.fromEntries(c.choices.map((k) => [k.id, 0]));
    contests[c.id] = { ballotsCounted: 0, blank: 0 };
  }
  for (const selections of selectionsList) {
    for (const c of resultsManifest.contests) {
      const chosen = selections[c.id]!;
      contests[c.id]!.ballotsCounted++;
      if (chosen.length === 0) contests[c.id]!.blank++;
      for (const k of chosen) tally[c.id]![k]!++;
    }
  }
  const totalBallots = selectionsList.length;
  const hashed = { electionId, tally, totalBallots };
  const pct = (n: number, of: number) => (of === 0 ? 0 : Math.round((1000 * n) / of) / 10);
  const percentOfBallotsCounted = Object.fromEntries(
    resultsManifest.contests.map((c) => {
      const of = contests[c.id]!.ballotsCounted;
      const row: Record<string, number> = Object.fromEntries(
        c.choices.map((k) => [k.id, pct(tally[c.id]![k.id]!, of)]),
      );
      return [c.id, { ...row, '(blank)': pct(contests[c.id]!.blank, of) }];
    }),
  );
  let csv = 'contest,choice,votes\r\n';
  for (const c of resultsManifest.contests) {
    for (const k of c.choices) csv += `${c.id},${k.id},${tally[c.id]![k.id]}\r\n`;
    csv += `${c.id},(blank),${contests[c.id]!.blank}\r\n${c.id},(ballots counted),${contests[c.id]!.ballotsCounted}\r\n`;
  }

  return {
    description:
      'Results of an election whose contests may be left blank. Every ballot lists every contest; an empty list ' +
      'is a blank vote in that contest. Per contest: tally (votes per choice), blank (ballots counted that ' +
      'selected nothing in it) and ballotsCounted (ballots counted that list it); percentages are of ' +
      'ballotsCounted of that contest. resultHash is the v1 hash, SHA-256(JCS({"electionId","tally","totalBallots"})): ' +
      'blank counts are not in it. results is the GET …/results body once every ballot is anchored; csv is ' +
      '?format=csv (rows whose choice is in parentheses are not choices).',
    manifest: resultsManifest,
    ballots,
    tally,
    totalBallots,
    contests,
    percentOfBallotsCounted,
    resultHashInput: canonicalize(hashed),
    resultHash: hex(H(utf8ToBytes(canonicalize(hashed)))),
    results: { electionId, tally, totalBallots, anchoredBallots: totalBallots, asOfSeq: totalBallots - 1, contests },
    csv,
  };
}
