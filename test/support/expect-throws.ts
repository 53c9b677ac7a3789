import { expect } from 'chai';

/** A class of errors, abstract ones included (so `Error` subclasses with any constructor fit). */
export type ErrorClass<E extends Error> = abstract new (...args: never[]) => E;

/** The error for a function that throws; a promise of it for one that returns a promise (await it). */
export type Thrown<E, R> = [R] extends [never] ? E : R extends PromiseLike<unknown> ? Promise<E> : E;

/**
 * Calls `fn` and returns what it threw (or, for a function returning a promise, what the promise rejected
 * with), typed, after checking it is an `errorClass` and, when given, that its `code` is `code`. Fails the
 * test when `fn` returns normally.
 */
export function expectThrows<E extends Error, R>(fn: () => R, errorClass: ErrorClass<E>, code?: string): Thrown<E, R> {
  return run(fn, errorClass, code) as Thrown<E, R>;
}

function run<E extends Error>(fn: () => unknown, errorClass: ErrorClass<E>, code: string | undefined): E | Promise<E> {
  let result: unknown;
  try {
    result = fn();
  } catch (error) {
    return checked(error, errorClass, code);
  }
  if (isPromiseLike(result)) {
    return Promise.resolve(result).then(
      () => expect.fail(`expected a rejection with ${errorClass.name}${code ? ` ${code}` : ''}, but the promise resolved`),
      (error: unknown) => checked(error, errorClass, code),
    );
  }
  return expect.fail(`expected ${errorClass.name}${code ? ` ${code}` : ''} to be thrown, but nothing was`);
}

function checked<E extends Error>(error: unknown, errorClass: ErrorClass<E>, code: string | undefined): E {
  expect(error).to.be.instanceOf(errorClass);
  if (code !== undefined) expect(error).to.have.property('code', code);
  return error as E;
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
