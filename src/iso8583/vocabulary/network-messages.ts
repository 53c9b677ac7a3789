import { IsoMessage } from '../index.js';
import { Mti } from './codes.js';

function two(n: number): string {
  return String(n).padStart(2, '0');
}

/** Field 7 (MMDDhhmmss in UTC, as ISO 8583 asks), 12 (hhmmss local) and 13 (MMDD local). */
export function messageTimestamps(now = new Date()): { f7: string; f12: string; f13: string } {
  return {
    f7: two(now.getUTCMonth() + 1) + two(now.getUTCDate()) + two(now.getUTCHours()) + two(now.getUTCMinutes()) + two(now.getUTCSeconds()),
    f12: two(now.getHours()) + two(now.getMinutes()) + two(now.getSeconds()),
    f13: two(now.getMonth() + 1) + two(now.getDate()),
  };
}

/** 0800 network management request: 001 sign-on, 002 sign-off, 301 echo test. */
export function networkRequest(stan: string, code: '001' | '002' | '301'): IsoMessage {
  return new IsoMessage(Mti.NetworkRequest, { 7: messageTimestamps().f7, 11: stan, 70: code });
}
