// What the chain node answered, in the worker's terms: ethers' errors mapped onto a refusal or an outage.
import { isError } from 'ethers';
import { TALLY_ANCHOR_INTERFACE } from '../../contracts/index.js';
import { ChainRevertError, ChainUnavailableError, errorMessage } from './errors.js';

/** The revert data an ethers error carries, wherever this node and call path put it. */
function revertData(err: unknown): string | undefined {
  const e = err as { data?: unknown; info?: { error?: { data?: unknown } }; error?: { data?: unknown } };
  for (const candidate of [e.data, e.info?.error?.data, e.error?.data]) {
    if (typeof candidate === 'string' && candidate.startsWith('0x')) return candidate;
  }
  return undefined;
}

/** Map an ethers error to the worker's kinds, naming the call. */
export function classify(what: string, err: unknown): Error {
  if (err instanceof ChainRevertError || err instanceof ChainUnavailableError) return err;
  if (isError(err, 'CALL_EXCEPTION')) {
    const data = revertData(err);
    const parsed = data ? TALLY_ANCHOR_INTERFACE.parseError(data) : null;
    if (parsed)
      return new ChainRevertError(
        `${what}: the contract refused with ${parsed.name}(${parsed.args.map(String).join(', ')})`,
        parsed.name,
        [...parsed.args],
      );
    return new ChainRevertError(`${what}: the contract refused (${err.shortMessage})`, null);
  }
  const code = (err as { code?: string }).code;
  return new ChainUnavailableError(
    `${what}: ${code ? `${code}: ` : ''}${(err as { shortMessage?: string }).shortMessage ?? errorMessage(err)}`,
    { cause: err },
  );
}

/** Whether `err` is the contract refusing a call with the custom error `name`. */
export function refusedWith(err: unknown, name: string): boolean {
  return isError(err, 'CALL_EXCEPTION') && TALLY_ANCHOR_INTERFACE.parseError(revertData(err) ?? '0x')?.name === name;
}
