// What the results page's parts share: the election shown and its latest results.
import type { ElectionInfo, Results } from '../api.js';

export interface State {
  election: ElectionInfo | null;
  /** The newest results seen (first GET, then the stream); null until one arrives. */
  results: Results | null;
}

export const state: State = {
  election: null,
  results: null,
};
