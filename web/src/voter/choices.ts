// Steps 3 and 4 up to the cast: one fieldset per contest (radios for one choice, with "blank" when
// none is allowed; checkboxes otherwise, the rest disabled at the maximum), the manifest's minimum and
// maximum checked before review with the errors named per contest, and the review of the ballot.
import { $, append, h, hexCode, moreDetails, replace, reveal } from '../dom.js';
import { t } from '../i18n.js';
import type { Contest, Selections } from '../protocol.js';
import { chosenIn, chosenLabels, selectionProblems, selectionsFrom } from '../selections.js';
import {
  isEncryptedElection,
  leaveEncryptedReview,
  startEncryptedReview,
  wireEncryptedReview,
} from '../v2/voter-ui.js';
import { show, state } from './state.js';

const contestsBox = $('#contests');
const choicesError = $('#choices-error');

function hintFor(c: Contest): string {
  if (c.maxSelections === 1) return c.minSelections === 1 ? t('choices.pickOne') : t('choices.pickOneOrNone');
  if (c.minSelections === c.maxSelections) return t('choices.pickExactly', { n: c.maxSelections });
  if (c.minSelections === 0) return t('choices.pickUpTo', { max: c.maxSelections });
  return t('choices.pickRange', { min: c.minSelections, max: c.maxSelections });
}

/** What is checked now, contest by contest (in choice order). */
function currentSelections(): Selections {
  return selectionsFrom(state.election?.manifest.contests ?? [], (id) =>
    [...contestsBox.querySelectorAll<HTMLInputElement>(`[data-contest="${id}"]:checked`)].map((i) => i.value),
  );
}

/** Whether a re-rendered input (a choice, or '' for "blank") starts checked. */
type WasChecked = (contestId: string, value: string) => boolean;

/**
 * The inputs checked now, exactly: a re-render (a language switch) must not turn a contest the voter has not
 * touched into a blank vote, so "blank" is kept only where its radio was checked.
 */
function checkedInputs(): WasChecked {
  const checked = new Map<string, Set<string>>();
  for (const input of contestsBox.querySelectorAll<HTMLInputElement>('input[data-contest]:checked')) {
    const contestId = input.dataset.contest ?? '';
    checked.set(contestId, (checked.get(contestId) ?? new Set()).add(input.value));
  }
  return (contestId, value) => checked.get(contestId)?.has(value) ?? false;
}

/** The selections already reviewed (none on a first render): a contest reviewed with none shows as blank. */
function reviewedSelections(sel: Selections | null): WasChecked {
  return (contestId, value) => {
    const chosen = chosenIn(sel, contestId);
    return value === '' ? chosen !== undefined && chosen.length === 0 : (chosen?.includes(value) ?? false);
  };
}

function updateLimits(c: Contest): void {
  if (c.maxSelections === 1) return;
  const boxes = [...contestsBox.querySelectorAll<HTMLInputElement>(`[data-contest="${c.id}"]`)];
  const n = boxes.filter((b) => b.checked).length;
  for (const b of boxes) {
    b.disabled = !b.checked && n >= c.maxSelections;
    b.closest('.choice')?.classList.toggle('disabled', b.disabled);
  }
  const counter = contestsBox.querySelector(`#count-${c.id}`);
  if (counter) counter.textContent = t('choices.count', { n, max: c.maxSelections });
}

function contestFieldset(c: Contest, wasChecked: WasChecked): HTMLFieldSetElement {
  const single = c.maxSelections === 1;
  const name = `contest-${c.id}`;
  const fs = h(
    'fieldset',
    { id: `fs-${c.id}`, 'aria-describedby': `hint-${c.id} err-${c.id}` },
    h('legend', {}, c.title),
    h('p', { class: 'help', id: `hint-${c.id}` }, hintFor(c)),
  );
  for (const k of c.choices) {
    const input = h('input', {
      type: single ? 'radio' : 'checkbox',
      name,
      value: k.id,
      'data-contest': c.id,
      id: `${name}-${k.id}`,
    });
    input.checked = wasChecked(c.id, k.id);
    input.addEventListener('change', () => {
      updateLimits(c);
      fs.classList.remove('invalid');
      $(`#err-${c.id}`, fs).hidden = true;
    });
    append(fs, h('label', { class: 'choice', for: input.id }, input, h('span', {}, k.label)));
  }
  if (single && c.minSelections === 0) {
    const blank = h('input', { type: 'radio', name, value: '', 'data-contest': c.id, id: `${name}--blank` });
    blank.checked = wasChecked(c.id, '');
    blank.addEventListener('change', () => fs.classList.remove('invalid'));
    append(fs, h('label', { class: 'choice', for: blank.id }, blank, h('span', {}, t('choices.blank'))));
  }
  if (!single) append(fs, h('p', { class: 'help', id: `count-${c.id}`, 'aria-live': 'polite' }));
  append(fs, h('p', { class: 'notice bad', id: `err-${c.id}`, hidden: true }));
  return fs;
}

/**
 * The contests of the election, keeping what is checked across a re-render of the same election (or, on a
 * first render, what was reviewed); another election's checks are not carried over.
 */
export function renderContests(): void {
  const e = state.election;
  if (!e) return;
  const sameElection = contestsBox.dataset.election === e.manifest.electionId;
  const wasChecked = sameElection ? checkedInputs() : reviewedSelections(state.selections);
  contestsBox.dataset.election = e.manifest.electionId;
  replace(contestsBox, ...e.manifest.contests.map((c) => contestFieldset(c, wasChecked)));
  for (const c of e.manifest.contests) updateLimits(c);
}

/** The manifest's rules: each contest within [min, max]. */
function validateSelections(sel: Selections): { contest: Contest; message: string }[] {
  return selectionProblems(state.election?.manifest.contests ?? [], sel).map(({ contest: c, kind }) => ({
    contest: c,
    message:
      kind === 'too-few'
        ? t('choices.tooFew', { contest: c.title, min: c.minSelections })
        : t('choices.tooMany', { contest: c.title, max: c.maxSelections }),
  }));
}

function onReview(ev: SubmitEvent): void {
  ev.preventDefault();
  const sel = currentSelections();
  const problems = validateSelections(sel);
  for (const c of state.election?.manifest.contests ?? []) {
    $(`#fs-${c.id}`).classList.remove('invalid');
    $(`#err-${c.id}`).hidden = true;
  }
  if (problems.length > 0) {
    for (const p of problems) {
      $(`#fs-${p.contest.id}`).classList.add('invalid');
      show($(`#err-${p.contest.id}`), p.message);
    }
    replace(
      choicesError,
      h('strong', {}, t('choices.fix')),
      h('ul', {}, ...problems.map((p) => h('li', {}, p.message))),
    );
    choicesError.hidden = false;
    contestsBox.querySelector<HTMLInputElement>(`#fs-${problems[0]!.contest.id} input:not(:disabled)`)?.focus();
    return;
  }
  choicesError.hidden = true;
  state.selections = sel;
  renderReview();
  $('#step-choices').hidden = true;
  show($('#cast-error'), null);
  reveal($('#step-review'));
  // An encrypted election: the ballot is encrypted and signed now, its hash shown before cast or audit.
  if (isEncryptedElection()) startEncryptedReview();
}

/** The ballot as it will be signed: each contest's choices (or "blank") and the credential. */
export function renderReview(): void {
  const e = state.election;
  const sel = state.selections;
  if (!e || !sel) return;
  const rows: Node[] = [];
  for (const c of e.manifest.contests) {
    const labels = chosenLabels(c, sel);
    const chosen = labels.length > 0 ? labels.join(', ') : h('em', {}, t('review.blank'));
    rows.push(h('dt', {}, c.title), h('dd', {}, chosen));
  }
  // The credential's 64 hex digits are for checking, not reading: behind "Details".
  rows.push(
    h('dt', {}, t('review.credential')),
    h('dd', {}, moreDetails(t('common.details'), hexCode(state.credential ?? ''))),
  );
  replace($('#review-list'), ...rows);
}

export function wireChoicesStep(): void {
  $<HTMLFormElement>('#ballot-form').addEventListener('submit', onReview);
  wireEncryptedReview();
  $('#edit-button').addEventListener('click', () => {
    leaveEncryptedReview();
    $('#step-review').hidden = true;
    reveal($('#step-choices'));
  });
}
