// An election whose contest and choice ids are all names that JavaScript objects, arrays, functions,
// maps and promises already carry (`constructor`, `length`, `then`, …), each of them a legal id
// (^[a-z0-9][a-z0-9-]{0,63}$). Code that reads untrusted keys with `obj[key]` or `key in obj` instead of
// own-property checks or Maps finds inherited values there. Pure data and plain functions, importing
// nothing, so the server's, the verifier's and the page's tests all share it (verifier-cli/ tests included).
//
// Names with capitals or underscores (`toString`, `__proto__`, `__defineGetter__`) cannot be ids; the
// lowercase spellings are here as ordinary ids, and `__proto__` as a key a ballot may still send
// (HOSTILE_EXTRA_KEYS).

export interface HostileContest {
  id: string;
  title: string;
  choices: { id: string; label: string }[];
  minSelections: number;
  maxSelections: number;
}

/** The contests: `constructor` is the one a ballot most easily leaves out (it is on every object). */
export const HOSTILE_CONTESTS: readonly HostileContest[] = [
  contest('constructor', 1, 1, ['constructor', 'tostring', 'valueof']),
  contest('hasownproperty', 0, 2, ['hasownproperty', 'isprototypeof', 'propertyisenumerable', 'tolocalestring']),
  contest('length', 0, 1, ['length', 'prototype', 'name', 'call']),
  contest('then', 1, 3, ['then', 'map', 'get', 'has', 'size', 'keys', 'includes', 'push']),
];

/** Keys that are no id but that JSON.parse turns into own properties of a ballot's selections. */
export const HOSTILE_EXTRA_KEYS = ['__proto__', 'toString', '__defineGetter__'] as const;

function contest(id: string, minSelections: number, maxSelections: number, choices: string[]): HostileContest {
  return {
    id,
    title: `Contest ${id}`,
    choices: choices.map((c) => ({ id: c, label: `Choice ${c}` })),
    minSelections,
    maxSelections,
  };
}

/** The manifest as an election creator submits it (the server adds windowSeconds and ledgerKey). */
export function hostileManifestInput(
  electionId: string,
  now = Date.now(),
): {
  version: 1;
  electionId: string;
  title: string;
  contests: HostileContest[];
  opensAt: string;
  closesAt: string;
} {
  return {
    version: 1,
    electionId,
    title: `Hostile ids ${electionId}`,
    contests: structuredClone(HOSTILE_CONTESTS) as HostileContest[],
    opensAt: new Date(now - 3_600_000).toISOString(),
    closesAt: new Date(now + 24 * 3_600_000).toISOString(),
  };
}

/**
 * Selections in contest order (constructor, hasownproperty, length, then); null or a missing list leaves
 * that contest out. Built with Object.fromEntries: `then` is a contest id here, and such an object is
 * never awaited.
 */
export function hostileSelections(...lists: (string[] | null)[]): Record<string, string[]> {
  return Object.fromEntries(HOSTILE_CONTESTS.flatMap((c, i) => (lists[i] ? [[c.id, lists[i]] as const] : [])));
}

/**
 * Legal selections, one ballot each; together they pick every choice of every contest at least once,
 * and leave the optional contests blank too.
 */
export const HOSTILE_BALLOTS: readonly Record<string, string[]>[] = [
  hostileSelections(['constructor'], ['hasownproperty'], ['length'], ['then']),
  hostileSelections(['tostring'], ['isprototypeof', 'propertyisenumerable'], [], ['map']),
  hostileSelections(['valueof'], [], ['prototype'], ['get', 'has', 'size']),
  hostileSelections(['constructor'], ['tolocalestring'], ['name'], ['keys', 'includes']),
  hostileSelections(['valueof'], [], ['call'], ['push', 'then']),
];

/**
 * Selections that break the manifest in ways that reach inherited names: each must be refused as
 * invalid selections (never a crash). `constructor` left out is the case of issue 14.
 */
export const HOSTILE_INVALID_SELECTIONS: readonly { name: string; selections: () => Record<string, string[]> }[] = [
  { name: 'the constructor contest left out', selections: () => hostileSelections(null, [], [], ['then']) },
  { name: 'the length contest left out', selections: () => hostileSelections(['tostring'], [], null, ['then']) },
  {
    name: 'a choice of another contest (valueof is not a choice of then)',
    selections: () => hostileSelections(['tostring'], [], [], ['valueof']),
  },
  {
    name: 'an inherited name as a choice (tostring is no choice of length)',
    selections: () => hostileSelections(['tostring'], [], ['tostring'], ['then']),
  },
  {
    name: 'the constructor contest left out for a __proto__ key',
    // JSON.parse makes "__proto__" an own key, as it does for a request body.
    selections: () =>
      JSON.parse('{"__proto__":["constructor"],"hasownproperty":[],"length":[],"then":["then"]}') as Record<
        string,
        string[]
      >,
  },
  {
    name: 'the constructor contest left out for a toString key',
    selections: () => ({ toString: ['constructor'], ...hostileSelections(null, [], [], ['then']) }),
  },
];

/**
 * The tally of `ballots`, every contest and choice listed (zeros too), computed with Maps and built with
 * Object.fromEntries (own data properties), so it holds whatever the ids are.
 */
export function hostileTally(
  ballots: readonly Record<string, string[]>[] = HOSTILE_BALLOTS,
): Record<string, Record<string, number>> {
  const counts = new Map(HOSTILE_CONTESTS.map((c) => [c.id, new Map(c.choices.map((k) => [k.id, 0]))]));
  for (const b of ballots) {
    for (const [c, ks] of Object.entries(b)) {
      const row = counts.get(c);
      if (row === undefined) throw new Error(`hostileTally: no contest ${c}`);
      for (const k of ks) {
        const n = row.get(k);
        if (n === undefined) throw new Error(`hostileTally: no choice ${c}/${k}`);
        row.set(k, n + 1);
      }
    }
  }
  return Object.fromEntries([...counts].map(([c, row]) => [c, Object.fromEntries(row)]));
}
