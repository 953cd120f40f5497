// The close as it happened (GET /api/v1/elections/{id}: closedAt, result, closeTx): when ballots actually
// stopped (an early admin close, else the scheduled closesAt), the result hash the close took, the
// closeElection transaction once the chain confirmed it, and how to audit the result.
import { $, h, hexCode, moreDetails, replace } from '../dom.js';
import { formatDate, formatNumber, t } from '../i18n.js';
import { isManifestV2 } from '../v2/ballot.js';
import { state } from './state.js';
import { auditCommand } from './verify-command.js';

export function renderClose(): void {
  const e = state.election;
  const section = $('#close-section');
  if (e?.status !== 'closed') {
    section.hidden = true;
    return;
  }
  const closedAt = e.closedAt ?? e.manifest.closesAt;
  const early = Date.parse(closedAt) < Date.parse(e.manifest.closesAt);
  const result = e.result ?? null;
  const tx = e.closeTx ?? null;
  // An encrypted election's result is taken once the trustees have decrypted, not at the close itself.
  const pendingKey = isManifestV2(e.manifest) ? 'v2.results.resultPending' : 'results.resultPending';
  // Ordinary words first (when, how many, whether the chain has it); the hash and the transaction behind
  // "Details".
  replace(
    $('#close-details'),
    h(
      'dl',
      { class: 'kv' },
      h('dt', {}, t('results.closedAt')),
      h(
        'dd',
        { 'data-testid': 'closed-at' },
        formatDate(closedAt),
        early
          ? h('span', { class: 'help' }, ' ', t('results.closedEarly', { when: formatDate(e.manifest.closesAt) }))
          : null,
      ),
      h('dt', {}, t('results.resultBallots')),
      h('dd', {}, result ? formatNumber(result.totalBallots) : t(pendingKey)),
      h('dt', {}, t('results.closeOnChain')),
      h(
        'dd',
        { 'data-testid': 'close-on-chain' },
        tx ? t('results.onChainDone') : t(result ? 'results.closeTxPending' : 'results.closeTxAfterResult'),
      ),
    ),
    moreDetails(
      t('common.details'),
      h(
        'dl',
        { class: 'kv' },
        h('dt', {}, t('results.resultHash')),
        h('dd', { 'data-testid': 'result-hash' }, result ? hexCode(result.resultHash) : t(pendingKey)),
        h('dt', {}, t('results.closeTx')),
        h(
          'dd',
          { 'data-testid': 'close-tx' },
          ...(tx
            ? [hexCode(tx.txHash), tx.blockNumber === null ? null : ` · ${t('results.block')} ${tx.blockNumber}`]
            : [t(result ? 'results.closeTxPending' : 'results.closeTxAfterResult')]),
        ),
      ),
    ),
    h(
      'p',
      {},
      t('results.auditIntro'),
      ' ',
      h('a', { href: '#h-verify', 'data-testid': 'audit-link' }, t('results.auditLink')),
    ),
    h('pre', { class: 'cmd', id: 'close-audit-cmd' }, auditCommand()),
  );
  section.hidden = false;
}
