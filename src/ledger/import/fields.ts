import type { CsvRecord } from './csv-records.js';
import type { RowError } from './errors.js';

/** Field checks shared by the file kinds. Each returns a reason (never quoting the value) or undefined. */

// eslint-disable-next-line no-control-regex -- control characters are exactly what this looks for
const CONTROL = /[\u0000-\u001f\u007f]/;

export const KPJ = /^[0-9]{11}$/;

export function kpjProblem(value: string): string | undefined {
  return KPJ.test(value) ? undefined : 'not 11 digits';
}

export function oneOf(allowed: readonly string[]): (value: string) => string | undefined {
  const text = allowed.length === 2 ? `${allowed[0]} or ${allowed[1]}` : `${allowed.slice(0, -1).join(', ')} or ${allowed.at(-1)}`;
  return (value) => (allowed.includes(value) ? undefined : `not ${text}`);
}

export function textProblem(max: number): (value: string) => string | undefined {
  return (value) => {
    const length = [...value].length;
    if (length < 1 || length > max) return `must be 1 to ${max} characters`;
    return CONTROL.test(value) ? 'contains a control character' : undefined;
  };
}

/** Collects the problems of one record's columns. */
export class RowChecker {
  readonly errors: RowError[] = [];
  constructor(private readonly line: number, private readonly values: CsvRecord['values']) {}

  /** The value when present and valid; undefined when absent from the file or invalid (then noted). */
  get(column: string, problem: (value: string) => string | undefined): string | undefined {
    const value = this.values.get(column);
    if (value === undefined) return undefined;
    const reason = problem(value);
    if (reason) {
      this.errors.push({ line: this.line, column, reason });
      return undefined;
    }
    return value;
  }

  fail(column: string, reason: string): void {
    this.errors.push({ line: this.line, column, reason });
  }

  raw(column: string): string | undefined {
    return this.values.get(column);
  }
}

export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i += 1) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}
