// The pages' selection and tally code (web/src/selections.ts) over the hostile-id election
// (test/support/hostile-ids.ts): contest and choice ids such as `constructor`, `length` or `then` are read
// as the ballot's and the tally's own entries, never as what every object inherits. Pure functions, run by
// `npm test` under Node.
import { describe, expect, it } from 'vitest';
import { chosenIn, chosenLabels, countIn, selectionProblems, selectionsFrom } from '../src/selections.js';
import type { Contest, Selections } from '../src/protocol.js';
import { HOSTILE_BALLOTS, HOSTILE_CONTESTS, hostileSelections, hostileTally } from '../../test/support/hostile-ids.js';

const contests = HOSTILE_CONTESTS as Contest[];
const byId = (id: string): Contest => contests.find((c) => c.id === id)!;

describe('web selections with ids that are JavaScript names', () => {
  it('reads a contest left out as no selection, not as the inherited member of that name', () => {
    const sel = hostileSelections(null, [], [], ['then']);
    expect(chosenIn(sel, 'constructor')).toBeUndefined();
    expect(chosenIn(sel, 'hasownproperty')).toEqual([]);
    expect(chosenIn(null, 'constructor')).toBeUndefined();
    expect(chosenLabels(byId('constructor'), sel)).toEqual([]);
    expect(selectionProblems(contests, sel)).toEqual([{ contest: byId('constructor'), kind: 'too-few' }]);
    expect(selectionProblems(contests, {})).toEqual([
      { contest: byId('constructor'), kind: 'too-few' },
      { contest: byId('then'), kind: 'too-few' },
    ]);
  });

  it('builds the selections as own entries and checks every legal ballot of the fixture', () => {
    for (const ballot of HOSTILE_BALLOTS) {
      const sel = selectionsFrom(contests, (id) => [...(ballot[id] ?? []), '']);
      expect(sel).toEqual(ballot);
      for (const c of contests) expect(Object.hasOwn(sel, c.id)).toBe(true);
      expect(selectionProblems(contests, sel)).toEqual([]);
      expect(chosenLabels(byId('constructor'), sel)).toEqual(
        new Map(Object.entries(ballot)).get('constructor')!.map((k) => `Choice ${k}`),
      );
    }
    const tooMany: Selections = { ...HOSTILE_BALLOTS[0]!, length: ['length', 'name'] };
    expect(selectionProblems(contests, tooMany)).toEqual([{ contest: byId('length'), kind: 'too-many' }]);
  });

  it('reads the published tally by own entries: a contest or choice it lists not counts 0', () => {
    const tally = hostileTally();
    for (const c of contests) for (const k of c.choices) expect(countIn(tally, c.id, k.id)).toBe(tally[c.id]![k.id]);
    expect(countIn(tally, 'constructor', 'constructor')).toBe(2);
    expect(countIn({}, 'constructor', 'constructor')).toBe(0);
    expect(countIn({ constructor: {} }, 'constructor', 'constructor')).toBe(0);
    expect(countIn({ length: { length: 'x' } }, 'length', 'length')).toBe(0);
    expect(countIn(null, 'then', 'then')).toBe(0);
  });
});
