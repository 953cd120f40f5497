// The demo election `npm start` creates: two yes/no law questions and a multi-choice contest, all its texts in
// one language. A manifest has one title per contest and one label per choice (docs/protocol.md section 3),
// so the language is chosen once, when the demo election is created: French when the locale says so
// (LC_ALL, LC_MESSAGES, LANG, as POSIX orders them), else English. The ids are the same in both languages.
export const DEMO_ELECTION_ID = 'demo';

export type DemoLanguage = 'en' | 'fr';

/** The first locale variable set wins (POSIX precedence); `fr…` gives French, anything else English. */
export function demoLanguage(env: NodeJS.ProcessEnv = process.env): DemoLanguage {
  const locale = env.LC_ALL || env.LC_MESSAGES || env.LANG || '';
  return /^fr([_.@-]|$)/i.test(locale) ? 'fr' : 'en';
}

const TEXTS = {
  en: {
    title: 'Tallyproof demo — popular vote',
    climate: 'Do you accept the climate law?',
    digital: 'Do you accept the digital identity law?',
    yes: 'Yes',
    no: 'No',
    council: 'Municipal council (up to 3 choices)',
  },
  fr: {
    title: 'Démo Tallyproof — votation populaire',
    climate: 'Acceptez-vous la loi sur le climat ?',
    digital: 'Acceptez-vous la loi sur l’identité numérique ?',
    yes: 'Oui',
    no: 'Non',
    council: 'Conseil communal (jusqu’à 3 choix)',
  },
} as const;

export function demoManifest(windowSeconds = 60, language: DemoLanguage = demoLanguage()) {
  const now = Date.now();
  const s = TEXTS[language];
  const yesNo = [
    { id: 'oui', label: s.yes },
    { id: 'non', label: s.no },
  ];
  return {
    version: 1,
    electionId: DEMO_ELECTION_ID,
    title: s.title,
    contests: [
      { id: 'loi-climat', title: s.climate, choices: yesNo, minSelections: 0, maxSelections: 1 },
      { id: 'loi-numerique', title: s.digital, choices: yesNo, minSelections: 0, maxSelections: 1 },
      {
        id: 'conseil',
        title: s.council,
        choices: [
          { id: 'ana', label: 'Ana Duarte' },
          { id: 'bo', label: 'Bo Lindqvist' },
          { id: 'chloe', label: 'Chloé Martin' },
          { id: 'david', label: 'David Okafor' },
          { id: 'elif', label: 'Elif Yılmaz' },
        ],
        minSelections: 0,
        maxSelections: 3,
      },
    ],
    opensAt: new Date(now - 60_000).toISOString(),
    closesAt: new Date(now + 30 * 24 * 3600_000).toISOString(),
    windowSeconds,
  };
}
