// The demo election `npm start` creates: two yes/no law questions ("oui/non") and a multi-choice contest.
export const DEMO_ELECTION_ID = 'demo';

export function demoManifest(windowSeconds = 60) {
  const now = Date.now();
  return {
    version: 1,
    electionId: DEMO_ELECTION_ID,
    title: 'Démo Tallyproof — votation populaire',
    contests: [
      {
        id: 'loi-climat',
        title: 'Acceptez-vous la loi sur le climat ?',
        choices: [
          { id: 'oui', label: 'Oui' },
          { id: 'non', label: 'Non' },
        ],
        minSelections: 0,
        maxSelections: 1,
      },
      {
        id: 'loi-numerique',
        title: 'Acceptez-vous la loi sur l’identité numérique ?',
        choices: [
          { id: 'oui', label: 'Oui' },
          { id: 'non', label: 'Non' },
        ],
        minSelections: 0,
        maxSelections: 1,
      },
      {
        id: 'conseil',
        title: 'Conseil communal (jusqu’à 3 choix)',
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
