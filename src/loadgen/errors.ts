/** Why a load run could not start or go on (not a wrong answer: those are counted, not thrown). */
export type LoadgenErrorCode =
  | 'LOADGEN_CONNECT_FAILED'
  | 'LOADGEN_SIGN_ON_FAILED'
  | 'LOADGEN_ALL_CONNECTIONS_LOST'
  | 'LOADGEN_TEMPLATE'
  | 'LOADGEN_BAD_OPTIONS';

export class LoadgenError extends Error {
  override readonly name = 'LoadgenError';
  constructor(readonly code: LoadgenErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
  }
}
