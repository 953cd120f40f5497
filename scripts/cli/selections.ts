// The CLI's `--choose contest=choice,…` options turned into a ballot's selections, checked against the
// manifest before anything is signed.
import type { Manifest } from '../../ledger/src/protocol/protocol.js';

/** A mistake in the command line: printed without a stack, exit code 2. */
export class CliError extends Error {}

/** `--choose q1=oui --choose council=ana,bo` → selections; contests not named get [] (a blank vote where allowed). */
export function selectionsFromChoices(manifest: Manifest, choose: string[]): Record<string, string[]> {
  // A Map: contest ids may be JavaScript's own names (`constructor`), which a plain object already has.
  const selections = new Map<string, string[]>();
  for (const c of choose) {
    const m = /^([^=]+)=(.*)$/.exec(c);
    if (!m) throw new CliError(`--choose ${c}: expected contest=choice[,choice…]`);
    const contest = manifest.contests.find((x) => x.id === m[1]);
    if (!contest)
      throw new CliError(
        `--choose ${c}: no contest "${m[1]}"; contests: ${manifest.contests.map((x) => x.id).join(', ')}`,
      );
    const picks = m[2] === '' ? [] : m[2]!.split(',');
    for (const p of picks)
      if (!contest.choices.some((k) => k.id === p))
        throw new CliError(
          `--choose ${c}: no choice "${p}" in ${contest.id}; choices: ${contest.choices.map((k) => k.id).join(', ')}`,
        );
    selections.set(contest.id, picks);
  }
  for (const contest of manifest.contests) {
    if (!selections.has(contest.id)) selections.set(contest.id, []);
    const n = selections.get(contest.id)!.length;
    if (n < contest.minSelections || n > contest.maxSelections) {
      throw new CliError(
        `contest ${contest.id} needs ${contest.minSelections}..${contest.maxSelections} choices, got ${n} (use --choose ${contest.id}=…)`,
      );
    }
  }
  return Object.fromEntries(selections);
}
