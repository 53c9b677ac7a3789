/** Format checks of the date and time fields (7, 12, 13); the codec already guarantees digits. */

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function isMonthDay(mmdd: string): boolean {
  const month = Number(mmdd.slice(0, 2));
  const day = Number(mmdd.slice(2, 4));
  return month >= 1 && month <= 12 && day >= 1 && day <= DAYS_IN_MONTH[month - 1]!;
}

export function isTimeOfDay(hhmmss: string): boolean {
  return Number(hhmmss.slice(0, 2)) <= 23 && Number(hhmmss.slice(2, 4)) <= 59 && Number(hhmmss.slice(4, 6)) <= 59;
}

export function isTransmissionDateTime(mmddhhmmss: string): boolean {
  return isMonthDay(mmddhhmmss.slice(0, 4)) && isTimeOfDay(mmddhhmmss.slice(4, 10));
}
