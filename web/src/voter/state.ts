// What the voter page's steps share: the election, credential and selections in hand, the views the
// language switch re-renders, and the small helpers every step uses to show a message.
import { ApiError, type ElectionInfo } from '../api.js';
import { h } from '../dom.js';
import { t, type Key } from '../i18n.js';
import type { Selections } from '../protocol.js';

export interface State {
  election: ElectionInfo | null;
  seed: Uint8Array | null;
  credential: string | null;
  selections: Selections | null;
  /** What the receipt step shows, re-rendered on a language change. */
  receiptView: (() => Node) | null;
  checkView: (() => Node) | null;
}

export const state: State = {
  election: null,
  seed: null,
  credential: null,
  selections: null,
  receiptView: null,
  checkView: null,
};

/**
 * Forget the private key once the signed ballot is sent or kept on the device: its bytes overwritten, not
 * just dropped (another script or a memory dump of the page finds nothing), and the selections with it.
 * The public credential stays: it is not secret.
 */
export function clearSeed(): void {
  state.seed?.fill(0);
  state.seed = null;
  state.selections = null;
}

/** Set a message element's text and show it; null hides it. */
export function show(el: HTMLElement, text: string | null): void {
  el.textContent = text ?? '';
  el.hidden = text === null;
}

/** An API or network error in the page's language; a code without a label shows the server's message. */
export function apiMessage(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.code === 'network') return t('common.networkError', { message: err.message });
    const key = `error.${err.code}` as Key;
    const known = t(key, { message: err.message });
    return known !== key ? known : t('common.apiError', { message: err.message, code: err.code });
  }
  return (err as Error).message ?? String(err);
}

export function statusBadge(status: string, label: string): HTMLElement {
  return h('span', { class: `badge ${status}` }, label);
}
