// The demo election's texts are in one language, chosen by the locale (scripts/demo.ts), and valid as a
// manifest in either.
import { describe, expect, it } from 'vitest';
import { normalizeManifest } from '../../ledger/src/protocol/protocol.js';
import { demoLanguage, demoManifest } from '../demo.js';

const texts = (m: ReturnType<typeof demoManifest>): string[] => [
  m.title,
  ...m.contests.flatMap((c) => [c.title, ...c.choices.map((k) => k.label)]),
];

describe('demo election language', () => {
  it('follows the locale: LC_ALL, then LC_MESSAGES, then LANG; English unless it is French', () => {
    expect(demoLanguage({})).toBe('en');
    expect(demoLanguage({ LANG: 'fr_FR.UTF-8' })).toBe('fr');
    expect(demoLanguage({ LANG: 'fr' })).toBe('fr');
    expect(demoLanguage({ LANG: 'fr_CH.UTF-8', LC_ALL: 'C.UTF-8' })).toBe('en');
    expect(demoLanguage({ LANG: 'en_US.UTF-8', LC_MESSAGES: 'fr_BE.UTF-8' })).toBe('fr');
    expect(demoLanguage({ LANG: 'fy_NL.UTF-8' })).toBe('en');
    expect(demoLanguage({ LANG: 'de_CH.UTF-8' })).toBe('en');
  });

  it('writes every title and label in the one language, with the same ids, as a valid manifest', () => {
    const en = demoManifest(60, 'en');
    const fr = demoManifest(60, 'fr');
    expect(texts(en).join(' ')).not.toMatch(/Acceptez|Démo|Conseil|loi|Oui|Non\b/);
    expect(texts(en)).toContain('Do you accept the climate law?');
    expect(texts(fr).join(' ')).not.toMatch(/Do you|demo|council|Yes|No\b/);
    expect(texts(fr)).toContain('Acceptez-vous la loi sur le climat ?');
    const ids = (m: typeof en) => m.contests.map((c) => [c.id, c.choices.map((k) => k.id)]);
    expect(ids(fr)).toEqual(ids(en));
    for (const m of [en, fr]) expect(() => normalizeManifest(m, 'ab'.repeat(32))).not.toThrow();
  });
});
