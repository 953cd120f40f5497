// The live tally: one block per contest with a bar per choice, the ballots counted and anchored, kept
// current by the results stream (Server-Sent Events).
import { resultsStreamUrl, type Results } from '../api.js';
import { $, h, replace } from '../dom.js';
import { formatNumber, t } from '../i18n.js';
import { countIn } from '../selections.js';
import { state } from './state.js';
import { scheduleWindows } from './windows.js';

let live = false;

export function renderLive(): void {
  const el = $('#live');
  el.textContent = live ? t('results.live') : t('results.reconnecting');
  el.classList.toggle('off', !live);
}

/** Build the contest blocks (once per election and language); updateTally fills the numbers. */
export function renderContests(): void {
  if (!state.election) return;
  replace(
    $('#contests'),
    ...state.election.manifest.contests.map((c) =>
      h(
        'section',
        { class: 'card', 'aria-labelledby': `h-${c.id}` },
        h('h2', { id: `h-${c.id}` }, c.title),
        c.maxSelections > 1 ? h('p', { class: 'help' }, t('results.rule', { max: c.maxSelections })) : null,
        h(
          'ol',
          { class: 'bars' },
          ...c.choices.map((k) =>
            h(
              'li',
              { 'data-choice': `${c.id}/${k.id}` },
              h('div', { class: 'bar-label' }, h('span', { class: 'name' }, k.label), h('span', { class: 'count' })),
              h('div', { class: 'bar', 'aria-hidden': 'true' }, h('span')),
            ),
          ),
        ),
      ),
    ),
  );
  updateTally();
}

function updateTally(): void {
  const { election, results } = state;
  if (!election || !results) return;
  $('#total').textContent = formatNumber(results.totalBallots);
  $('#anchored').textContent = formatNumber(results.anchoredBallots);
  $('#as-of').textContent = results.asOfSeq >= 0 ? t('results.asOf', { seq: results.asOfSeq }) : t('results.none');
  const total = results.totalBallots;
  for (const c of election.manifest.contests) {
    for (const k of c.choices) {
      const li = document.querySelector<HTMLElement>(`[data-choice="${c.id}/${k.id}"]`);
      if (!li) continue;
      const n = countIn(results.tally, c.id, k.id);
      const pct = total > 0 ? (100 * n) / total : 0;
      const votes = n === 1 ? t('results.vote1') : t('results.votes', { n: formatNumber(n) });
      $('.count', li).textContent = `${votes} · ${t('results.percentOf', { percent: formatNumber(pct, 1) })}`;
      $<HTMLElement>('.bar > span', li).style.width = `${Math.min(100, pct)}%`;
      li.dataset.count = String(n);
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

function applyResults(r: Results): void {
  const before = state.results;
  // Late events from a reconnect can be older than what is shown: keep the newest.
  if (before && r.asOfSeq < before.asOfSeq && r.anchoredBallots <= before.anchoredBallots) return;
  state.results = r;
  updateTally();
  if (!before || before.anchoredBallots !== r.anchoredBallots || before.totalBallots !== r.totalBallots)
    scheduleWindows();
}
