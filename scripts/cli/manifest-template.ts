// `tallyproof election init`: an example manifest to edit, with defaults that `election create` accepts as
// written (docs/operations.md, "Lifecycle"). No ledgerKey: the server fills in its own.
import { ValidationError, normalizeManifest } from '../../ledger/src/protocol/protocol.js';
import { CliError } from './selections.js';

export interface ManifestTemplateOptions {
  electionId: string;
  title: string;
  /** Voting opens this long after `now` (0: at once). */
  opensInMs: number;
  /** Voting closes this long after it opens. */
  openForMs: number;
  windowSeconds: number;
  now?: number;
}

/** A duration such as 2h, 90m, 7d, 30s, or 0: milliseconds. */
export function parseDuration(flag: string, v: string): number {
  if (v === '0') return 0;
  const m = /^(\d+)([dhms])$/.exec(v);
  if (!m) throw new CliError(`${flag} ${v}: expected a duration such as 2h, 90m, 7d or 30s`);
  return Number(m[1]) * { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 }[m[2] as 'd' | 'h' | 'm' | 's'];
}

/** The example manifest (key order as in docs/protocol.md §3), checked by the server's own validator. */
export function manifestTemplate(o: ManifestTemplateOptions) {
  // Whole seconds, not in the future: "opens now" means ballots are taken as soon as the roll is in.
  const opens = Math.floor(((o.now ?? Date.now()) + o.opensInMs) / 1000) * 1000;
  const manifest = {
    version: 1,
    electionId: o.electionId,
    title: o.title,
    contests: [
      {
        id: 'q1',
        title: 'Do you accept the proposal?',
        choices: [
          { id: 'yes', label: 'Yes' },
          { id: 'no', label: 'No' },
        ],
        // 0: a blank vote is allowed (an empty selection); 1: one answer at most.
        minSelections: 0,
        maxSelections: 1,
      },
    ],
    opensAt: new Date(opens).toISOString(),
    closesAt: new Date(opens + o.openForMs).toISOString(),
    windowSeconds: o.windowSeconds,
  };
  try {
    // Any key: the template carries none, so only the shape and the rules are checked here.
    normalizeManifest(manifest, '00'.repeat(32));
  } catch (err) {
    if (err instanceof ValidationError) throw new CliError(`not a valid manifest: ${err.message}`);
    throw err;
  }
  return manifest;
}
