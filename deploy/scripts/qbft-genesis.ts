// The QBFT genesis of the production chain: Besu's extraData encoding (and its strict decoding, which
// the tests use), the fixed mixHash, free gas, and the deployer and anchorer funded.
import { decodeRlp, encodeRlp, getAddress, type RlpStructuredData } from 'ethers';

/** QBFT's fixed mixHash ("istanbul digest"): Besu refuses a QBFT genesis without it. */
export const QBFT_MIX_HASH = '0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365';
/** 10^24 wei for the deployer and the anchorer: gas is free (zeroBaseFee, --min-gas-price=0), this is headroom. */
const FUNDING_WEI = 10n ** 24n;

/**
 * The QBFT genesis extraData: RLP([vanity (32 zero bytes), [validator addresses], votes (empty list),
 * round (0, an RLP scalar: the empty string), seals (empty list)]).
 */
export function qbftExtraData(validatorAddresses: string[]): string {
  if (validatorAddresses.length === 0) throw new Error('QBFT needs at least one validator');
  const data: RlpStructuredData = [
    `0x${'00'.repeat(32)}`,
    validatorAddresses.map((a) => getAddress(a).toLowerCase()),
    [],
    '0x',
    [],
  ];
  return encodeRlp(data);
}

/** Inverse of qbftExtraData, strict about the shape; returns the checksummed validator addresses. */
export function decodeQbftExtraData(extraData: string): string[] {
  const decoded = decodeRlp(extraData);
  if (!Array.isArray(decoded) || decoded.length !== 5) throw new Error('QBFT extraData must be an RLP list of 5 items');
  const [vanity, validators, votes, round, seals] = decoded;
  if (typeof vanity !== 'string' || !/^0x(00){32}$/.test(vanity)) throw new Error('vanity must be 32 zero bytes');
  if (!Array.isArray(validators) || validators.some((v) => typeof v !== 'string' || !/^0x[0-9a-f]{40}$/.test(v))) {
    throw new Error('validators must be a list of 20-byte addresses');
  }
  if (!Array.isArray(votes) || votes.length !== 0) throw new Error('votes must be an empty list in a genesis');
  if (round !== '0x') throw new Error('round must be 0');
  if (!Array.isArray(seals) || seals.length !== 0) throw new Error('seals must be an empty list in a genesis');
  return (validators as string[]).map((v) => getAddress(v));
}

export function buildGenesis(opts: {
  chainId: number;
  blockPeriodSeconds: number;
  validators: string[];
  funded: string[];
}) {
  return {
    config: {
      chainId: opts.chainId,
      berlinBlock: 0,
      londonBlock: 0,
      // Free gas: base fee 0 (London) with --min-gas-price=0 on every node.
      zeroBaseFee: true,
      qbft: {
        blockperiodseconds: opts.blockPeriodSeconds,
        epochlength: 30000,
        requesttimeoutseconds: Math.max(4, opts.blockPeriodSeconds * 2),
      },
    },
    nonce: '0x0',
    timestamp: '0x0',
    gasLimit: '0x1fffffffffffff',
    difficulty: '0x1',
    mixHash: QBFT_MIX_HASH,
    coinbase: '0x0000000000000000000000000000000000000000',
    extraData: qbftExtraData(opts.validators),
    alloc: Object.fromEntries(
      opts.funded.map((a) => [getAddress(a).slice(2).toLowerCase(), { balance: `0x${FUNDING_WEI.toString(16)}` }]),
    ),
  };
}
