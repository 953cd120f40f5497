// The CLI's --choose parsing with contest and choice ids that are JavaScript's own names: a contest named
// `constructor` left out of --choose is a blank vote where allowed and an error where not, never an
// inherited value.
import { describe, expect, it } from 'vitest';
import { HOSTILE_CONTESTS, hostileManifestInput } from '../../test/support/hostile-ids.js';
import type { Manifest } from '../../ledger/src/protocol/protocol.js';
import { CliError, selectionsFromChoices } from '../cli/selections.js';

const manifest = hostileManifestInput('cli-hostile') as unknown as Manifest;

describe('selectionsFromChoices with hostile ids', () => {
  it('gives own properties for every contest, [] for those not named', () => {
    const s = selectionsFromChoices(manifest, ['constructor=valueof', 'then=map,has']);
    expect(Object.keys(s).sort()).toEqual(HOSTILE_CONTESTS.map((c) => c.id).sort());
    expect(Object.entries(s)).toEqual(
      expect.arrayContaining([
        ['constructor', ['valueof']],
        ['hasownproperty', []],
        ['length', []],
        ['then', ['map', 'has']],
      ]),
    );
  });

  it('refuses to leave out a contest named constructor that needs a choice', () => {
    expect(() => selectionsFromChoices(manifest, ['then=then'])).toThrow(CliError);
    expect(() => selectionsFromChoices(manifest, ['then=then'])).toThrow(/contest constructor needs 1\.\.1/);
  });
});
