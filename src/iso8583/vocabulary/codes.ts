/** The domain's magic values, named once (CONTRACT.md "Response codes" and "Messages"). */

export const ResponseCode = {
  Approved: '00',
  UnsupportedTransaction: '12',
  InvalidAmount: '13',
  NoParticipantLinked: '14',
  FormatError: '30',
  ParticipantBlocked: '57',
  MacFailure: '63',
  AcquirerNotPermitted: '58',
  LedgerUnavailable: '91',
  DuplicateTransmission: '94',
  SystemError: '96',
  PartnerLimitExceeded: '97',
} as const;
export type ResponseCode = (typeof ResponseCode)[keyof typeof ResponseCode];

/** What each code means, for operators, logs and the ATM simulator. */
export const RESPONSE_CODE_MEANING: Readonly<Record<ResponseCode, string>> = {
  '00': 'approved: balance returned',
  '12': 'unsupported MTI or processing code',
  '13': 'field 4 present and not zero',
  '14': 'no participant is linked to that card or account',
  '30': 'format error: a mandatory field missing or malformed',
  '57': "participant's link or membership is blocked or not active",
  '58': 'acquirer not bound to this connection, session not signed on, or card outside the partner\'s BINs',
  '63': 'MAC missing or wrong',
  '91': 'ledger unavailable',
  '94': 'duplicate transmission',
  '96': 'internal failure',
  '97': 'partner limit exceeded (requests per second or in flight): retry later',
};

export function describeResponseCode(code: string): string {
  return (RESPONSE_CODE_MEANING as Record<string, string>)[code] ?? 'unknown response code';
}

export const Field = {
  Pan: 2,
  ProcessingCode: 3,
  Amount: 4,
  TransmissionDateTime: 7,
  Stan: 11,
  LocalTime: 12,
  LocalDate: 13,
  MerchantType: 18,
  PosEntryMode: 22,
  AcquirerId: 32,
  ForwardingId: 33,
  Track2: 35,
  Rrn: 37,
  ResponseCode: 39,
  TerminalId: 41,
  CardAcceptorId: 42,
  CardAcceptorLocation: 43,
  ParticipantData: 48,
  Currency: 49,
  AdditionalAmounts: 54,
  Mac: 64,
  NetworkCode: 70,
  OriginalData: 90,
  Account: 102,
  Mac2: 128,
} as const;

export const NetworkCode = { SignOn: '001', SignOff: '002', EchoTest: '301' } as const;

export const Mti = {
  AuthorizationRequest: '0100',
  AuthorizationRepeat: '0101',
  FinancialRequest: '0200',
  FinancialRepeat: '0201',
  ReversalAdvice: '0420',
  ReversalAdviceRepeat: '0421',
  ReversalResponse: '0430',
  NetworkRequest: '0800',
  NetworkResponse: '0810',
} as const;

export const INDONESIAN_RUPIAH = '360';

/** JHT balance inquiry: processing code 31xx00 (31 = balance inquiry, xx = account type, 00 = to-account). */
export function isBalanceInquiry(processingCode: string): boolean {
  return processingCode.length === 6 && processingCode.startsWith('31') && processingCode.endsWith('00');
}

/** The response MTI of a request: function digit + 1, and a repeat (xx01) answered as the original (xx10). */
export function responseMti(requestMti: string): string {
  return `${requestMti.slice(0, 2)}${Number(requestMti[2]) + 1}0`;
}

/** Requests and advices (function digit even) expect an answer; responses (odd) never do. */
export function expectsResponse(mti: string): boolean {
  return Number(mti[2]) % 2 === 0;
}
