import { INDONESIAN_RUPIAH } from './codes.js';

/** Field 54 amount types: 01 ledger balance, 02 available balance; account type 00 (unspecified). */
const ACCOUNT_TYPE = '00';
const LEDGER_BALANCE = '01';
const AVAILABLE_BALANCE = '02';
const NAME_WIDTH = 30;

function amountSet(amountType: string, balanceSen: bigint): string {
  const sign = balanceSen < 0n ? 'D' : 'C';
  const magnitude = (balanceSen < 0n ? -balanceSen : balanceSen).toString();
  if (magnitude.length > 12) throw new RangeError('balance does not fit 12 digits of field 54');
  return ACCOUNT_TYPE + amountType + INDONESIAN_RUPIAH + sign + magnitude.padStart(12, '0');
}

/**
 * Field 54: two 20-character amount sets, ledger then available. For JHT they are the same amount,
 * because ATM hosts commonly show the available balance (CONTRACT).
 */
export function additionalAmounts(balanceSen: bigint): string {
  return amountSet(LEDGER_BALANCE, balanceSen) + amountSet(AVAILABLE_BALANCE, balanceSen);
}

/** Names go out as upper-case printable ASCII: accents are folded, anything else becomes a space. */
export function atmName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toUpperCase()
    .replace(/[^\x20-\x7e]/g, ' ')
    .slice(0, NAME_WIDTH)
    .padEnd(NAME_WIDTH, ' ');
}

/** Field 48: KPJ n11, name ans30, balance as-of date n8 YYYYMMDD: 49 characters. */
export function participantData(kpj: string, name: string, asOf: string): string {
  if (!/^\d{11}$/.test(kpj)) throw new RangeError('KPJ must be 11 digits');
  if (!/^\d{8}$/.test(asOf)) throw new RangeError('as-of date must be YYYYMMDD');
  return kpj + atmName(name) + asOf;
}

/** 1525000000n -> "Rp 15.250.000,00": Indonesian grouping (dot) and decimal comma. */
export function formatRupiah(sen: bigint): string {
  const negative = sen < 0n;
  const abs = negative ? -sen : sen;
  const rupiah = (abs / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, '.');
  const cents = (abs % 100n).toString().padStart(2, '0');
  return `${negative ? '-' : ''}Rp ${rupiah},${cents}`;
}

export interface ParsedBalance {
  ledgerSen: bigint;
  availableSen: bigint;
  currency: string;
}

/** Reads field 54 back (the ATM simulator and tests use it). */
export function parseAdditionalAmounts(field54: string): ParsedBalance | undefined {
  const sets = new Map<string, { currency: string; sen: bigint }>();
  for (let i = 0; i + 20 <= field54.length; i += 20) {
    const set = field54.slice(i, i + 20);
    const match = /^(\d{2})(\d{2})(\d{3})([CD])(\d{12})$/.exec(set);
    if (!match) return undefined;
    const sen = BigInt(match[5]!) * (match[4] === 'D' ? -1n : 1n);
    sets.set(match[2]!, { currency: match[3]!, sen });
  }
  const ledger = sets.get(LEDGER_BALANCE);
  const available = sets.get(AVAILABLE_BALANCE) ?? ledger;
  if (!ledger || !available) return undefined;
  return { ledgerSen: ledger.sen, availableSen: available.sen, currency: ledger.currency };
}
