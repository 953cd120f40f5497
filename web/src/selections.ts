// Selections and tallies read by contest and choice id. The ids come from the manifest and the server and
// may be names every object inherits (`constructor`, `length`, `then`): only own properties are read, and
// objects keyed by ids are built with Object.fromEntries (own data properties). Pure functions, no DOM:
// the voter and results pages use them, and web/test/selections.test.ts runs them under Node.
import type { Contest, Selections } from './protocol.js';

/** The choices selected in `contestId`; undefined when `sel` has no own list for it. */
export function chosenIn(sel: Selections | null | undefined, contestId: string): string[] | undefined {
  if (!sel || !Object.hasOwn(sel, contestId)) return undefined;
  const list = sel[contestId];
  return Array.isArray(list) ? list : undefined;
}

/** Every contest's checked values (in choice order), the blank vote's '' dropped. */
export function selectionsFrom(
  contests: readonly Contest[],
  checkedValues: (contestId: string) => string[],
): Selections {
  return Object.fromEntries(contests.map((c) => [c.id, checkedValues(c.id).filter((v) => v !== '')]));
}

export interface SelectionProblem {
  contest: Contest;
  kind: 'too-few' | 'too-many';
}

/** The manifest's rules: each contest within [minSelections, maxSelections]; a contest left out has none. */
export function selectionProblems(contests: readonly Contest[], sel: Selections): SelectionProblem[] {
  const problems: SelectionProblem[] = [];
  for (const c of contests) {
    const n = chosenIn(sel, c.id)?.length ?? 0;
    if (n < c.minSelections) problems.push({ contest: c, kind: 'too-few' });
    else if (n > c.maxSelections) problems.push({ contest: c, kind: 'too-many' });
  }
  return problems;
}

/** The labels of a contest's selected choices, for the review (an unknown id shows as itself). */
export function chosenLabels(c: Contest, sel: Selections | null | undefined): string[] {
  return (chosenIn(sel, c.id) ?? []).map((id) => c.choices.find((k) => k.id === id)?.label ?? id);
}

/** The votes for contestId/choiceId in a published tally; 0 when it lists none (or something not a count). */
export function countIn(tally: unknown, contestId: string, choiceId: string): number {
  if (typeof tally !== 'object' || tally === null || !Object.hasOwn(tally, contestId)) return 0;
  const row = (tally as Record<string, unknown>)[contestId];
  if (typeof row !== 'object' || row === null || !Object.hasOwn(row, choiceId)) return 0;
  const n = (row as Record<string, unknown>)[choiceId];
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : 0;
}
