// The close's result for people: per contest, the votes per choice and the blank ballots, each with its
// percentage of the ballots counted in that contest (the JSON body, printed as well, has the numbers only).

interface CloseBody {
  electionId?: unknown;
  totalBallots?: unknown;
  tally?: unknown;
  contests?: unknown;
  closedAt?: unknown;
  ballotMode?: unknown;
  decryption?: unknown;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const own = (o: Record<string, unknown>, k: string): unknown => (Object.hasOwn(o, k) ? o[k] : undefined);

function percent(n: number, of: number): string {
  return of > 0 ? `${((100 * n) / of).toFixed(1)}%` : '–';
}

/** Lines such as `referendum: yes 2 (28.6%), no 4 (57.1%), blank 1 (14.3%) — % of 7 ballots`; '' for an odd body. */
export function closeSummary(body: CloseBody): string {
  if (body.ballotMode === 'encrypted' && !isObject(body.tally)) {
    const k =
      isObject(body.decryption) && typeof body.decryption.threshold === 'number' ? body.decryption.threshold : 'K';
    return (
      `election ${String(body.electionId)} closed` +
      (typeof body.totalBallots === 'number' ? ` with ${body.totalBallots} encrypted ballots` : '') +
      `; the count is published once ${k} trustees have decrypted it (docs/trustees.md)\n`
    );
  }
  if (!isObject(body.tally)) return '';
  const ballots = typeof body.totalBallots === 'number' ? body.totalBallots : undefined;
  const lines = [
    `election ${String(body.electionId)} closed` +
      (typeof body.closedAt === 'string' ? ` at ${body.closedAt}` : '') +
      (ballots === undefined ? '' : `: ${ballots === 1 ? '1 ballot' : `${ballots} ballots`} counted`),
  ];
  const contests = isObject(body.contests) ? body.contests : {};
  for (const [contest, choices] of Object.entries(body.tally)) {
    if (!isObject(choices)) continue;
    const counted = own(contests, contest);
    const of =
      isObject(counted) && typeof counted.ballotsCounted === 'number' ? counted.ballotsCounted : (ballots ?? 0);
    const parts = Object.entries(choices).map(([k, n]) => `${k} ${String(n)} (${percent(Number(n), of)})`);
    if (isObject(counted) && typeof counted.blank === 'number')
      parts.push(`blank ${counted.blank} (${percent(counted.blank, of)})`);
    lines.push(`  ${contest}: ${parts.join(', ')} — % of ${of === 1 ? '1 ballot' : `${of} ballots`}`);
  }
  return lines.join('\n') + '\n';
}
