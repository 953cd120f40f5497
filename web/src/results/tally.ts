// The live tally: one block per contest with a bar per choice and one for blank ballots, the ballots counted
// and anchored, kept current by the results stream (Server-Sent Events). Percentages are of the ballots
// counted in the contest (its `contests[id].ballotsCounted`), blank ones included, and the block says so.
import { resultsStreamUrl, type Results } from '../api.js';
import { $, h, replace } from '../dom.js';
import { formatNumber, t } from '../i18n.js';
import { countIn } from '../selections.js';
import { countsPending, isEncryptedResults, renderEncrypted } from '../v2/results-ui.js';
import { state } from './state.js';
import { scheduleWindows } from './windows.js';

/**
 * Per contest, the ballots counted and the blank ones (docs/protocol.md, "Results"); absent from older
 * servers; `blank` is null in an encrypted election (a blank vote is not encrypted separately).
 */
type ContestCounts = Record<string, { ballotsCounted: number; blank: number | null }>;

let live = false;
/** Whether the contest blocks were built without counts (an encrypted election before its decryption). */
let builtPending = false;

export function renderLive(): void {
  const el = $('#live');
  el.textContent = live ? t('results.live') : t('results.reconnecting');
  el.classList.toggle('off', !live);
}

/** Build the contest blocks (once per election and language); updateTally fills the numbers. */
export function renderContests(): void {
  if (!state.election) return;
  builtPending = countsPending();
  if (builtPending) {
    // Encrypted, not decrypted yet: the contests and their choices, no count (renderEncrypted says why).
    replace(
      $('#contests'),
      ...state.election.manifest.contests.map((c) =>
        h(
          'section',
          { class: 'card', 'aria-labelledby': `h-${c.id}` },
          h('h2', { id: `h-${c.id}` }, c.title),
          h('ul', { class: 'pending-choices' }, ...c.choices.map((k) => h('li', {}, k.label))),
        ),
      ),
    );
    updateTally();
    return;
  }
  replace(
    $('#contests'),
    ...state.election.manifest.contests.map((c) =>
      h(
        'section',
        { class: 'card', 'aria-labelledby': `h-${c.id}` },
        h('h2', { id: `h-${c.id}` }, c.title),
        c.maxSelections > 1 ? h('p', { class: 'help' }, t('results.rule', { max: c.maxSelections })) : null,
        h('p', { class: 'help', 'data-basis': c.id }),
        h(
          'ol',
          { class: 'bars' },
          ...c.choices.map((k) => barRow(c.id, k)),
          // Where a blank vote is allowed; elsewhere only once blank ballots are counted anyway (updateTally).
          c.minSelections === 0 ? barRow(c.id) : null,
        ),
      ),
    ),
  );
  updateTally();
}

/** A bar: a choice's (`contest/choice`) or, given a contest id alone, the contest's blank ballots. */
function barRow(contest: string, choice?: { id: string; label: string }): HTMLElement {
  const label = choice ? choice.label : t('results.blank');
  return h(
    'li',
    choice ? { 'data-choice': `${contest}/${choice.id}` } : { 'data-blank': contest },
    h('div', { class: 'bar-label' }, h('span', { class: 'name' }, label), h('span', { class: 'count' })),
    h('div', { class: 'bar', 'aria-hidden': 'true' }, h('span')),
  );
}

function fillRow(li: HTMLElement, n: number, of: number): void {
  const pct = of > 0 ? (100 * n) / of : 0;
  const votes = n === 1 ? t('results.vote1') : t('results.votes', { n: formatNumber(n) });
  $('.count', li).textContent = `${votes} · ${t('results.percentOf', { percent: formatNumber(pct, 1) })}`;
  $<HTMLElement>('.bar > span', li).style.width = `${Math.min(100, pct)}%`;
  li.dataset.count = String(n);
}

function updateTally(): void {
  const { election, results } = state;
  if (!election || !results) return;
  // The counts of an encrypted election appear with its decryption: the blocks are built again then.
  if (countsPending() !== builtPending) {
    renderContests();
    return;
  }
  if (isEncryptedResults()) renderEncrypted();
  $('#total').textContent = formatNumber(results.totalBallots);
  $('#anchored').textContent = formatNumber(results.anchoredBallots);
  $('#as-of').textContent = results.asOfSeq >= 0 ? t('results.asOf', { seq: results.asOfSeq }) : t('results.none');
  if (builtPending) return;
  const contests = (results as Results & { contests?: ContestCounts | null }).contests;
  for (const c of election.manifest.contests) {
    // Own properties only: contest ids may be names objects inherit (`constructor`, …).
    const counts = contests && Object.hasOwn(contests, c.id) ? contests[c.id] : undefined;
    const of = counts?.ballotsCounted ?? results.totalBallots;
    const basis = document.querySelector<HTMLElement>(`[data-basis="${c.id}"]`);
    if (basis) basis.textContent = of === 1 ? t('results.basis1') : t('results.basis', { n: formatNumber(of) });
    for (const k of c.choices) {
      const li = document.querySelector<HTMLElement>(`[data-choice="${c.id}/${k.id}"]`);
      if (li) fillRow(li, countIn(results.tally, c.id, k.id), of);
    }
    let blank = document.querySelector<HTMLElement>(`[data-blank="${c.id}"]`);
    if (!blank && counts && counts.blank !== null && counts.blank > 0) {
      blank = barRow(c.id);
      basis?.nextElementSibling?.append(blank);
    }
    if (blank) {
      // A server that does not count blanks (or an encrypted election) gets no row rather than a wrong zero.
      if (counts && counts.blank !== null) fillRow(blank, counts.blank, of);
      blank.hidden = !counts || counts.blank === null;
    }
  }
}

let stream: EventSource | null = null;

export function connectStream(id: string): void {
  stream?.close();
  stream = new EventSource(resultsStreamUrl(id));
  const onData = (ev: MessageEvent<string>) => {
    try {
      const r = JSON.parse(ev.data) as Results;
      if (typeof r?.totalBallots !== 'number' || typeof r.tally !== 'object') return;
      applyResults(r);
    } catch {
      // not a results event (comment or keep-alive)
    }
    if (!live) {
      live = true;
      renderLive();
    }
  };
  stream.onmessage = onData;
  stream.addEventListener('results', onData as EventListener);
  stream.onopen = () => {
    live = true;
    renderLive();
  };
  stream.onerror = () => {
    // EventSource reconnects by itself (the server's retry: field, else a few seconds).
    live = false;
    renderLive();
  };
}

export function applyResults(r: Results): void {
  const before = state.results;
  // Late events from a reconnect can be older than what is shown: keep the newest.
  if (before && r.asOfSeq < before.asOfSeq && r.anchoredBallots <= before.anchoredBallots) return;
  state.results = r;
  updateTally();
  if (!before || before.anchoredBallots !== r.anchoredBallots || before.totalBallots !== r.totalBallots)
    scheduleWindows();
}
