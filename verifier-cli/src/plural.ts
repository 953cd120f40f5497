// Counts in the printed output and findings: "1 window", "2 windows" (never "1 windows").

/** `n` and the noun agreeing with it; `plural` for the irregular ones ("entry"/"entries"). */
export function counted(n: number | bigint, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 || n === 1n ? singular : plural}`;
}
