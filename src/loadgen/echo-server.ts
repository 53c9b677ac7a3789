import { IsoMessage, Packager, loadProfile } from '../iso8583/index.js';
import { silentLogger } from '../observability/logger.js';
import { Field, Mti, ResponseCode, responseMti } from '../iso8583/vocabulary/index.js';
import type { Connection } from '../transport/connection.js';
import type { Reply } from '../transport/connection-types.js';
import { createFraming, type FramingName } from '../transport/framing/index.js';
import { startListener } from '../transport/server.js';
import { STAN_MODULUS } from './inquiry-template.js';
import { demoAnswerFor, type Identity } from './identities.js';

/** Deliberate mistakes, for tests of the generator's checks. N counts inquiries across connections, from 1. */
export interface EchoFaults {
  /** The Nth inquiry is answered with another STAN. */
  readonly wrongStanAt?: number;
  /** The Nth inquiry is answered twice. */
  readonly answerTwiceAt?: number;
  /** The Nth inquiry gets no answer. */
  readonly dropAt?: number;
  /** The Nth inquiry is answered `slowMs` late, while the others go on. */
  readonly slowAt?: number;
  readonly slowMs?: number;
}

export interface EchoServerOptions {
  readonly host?: string;
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  readonly profile?: string;
  readonly framing?: FramingName;
  readonly maxConnections?: number;
  readonly faults?: EchoFaults;
}

export interface EchoServer {
  readonly host: string;
  readonly port: number;
  /** Inquiries received so far. */
  readonly inquiries: number;
  close(): Promise<void>;
}

/** Fields a financial answer echoes (CONTRACT), and those of a network-management answer. */
const ECHOED_BY_INQUIRY = [
  Field.Pan, Field.ProcessingCode, Field.Amount, Field.TransmissionDateTime, Field.Stan, Field.LocalTime,
  Field.LocalDate, Field.AcquirerId, Field.ForwardingId, Field.Rrn, Field.TerminalId, Field.Currency, Field.Account,
] as const;
const ECHOED_BY_NETWORK = [Field.TransmissionDateTime, Field.Stan, Field.NetworkCode] as const;

function answerTo(request: IsoMessage, echoed: readonly number[]): IsoMessage {
  const answer = new IsoMessage(responseMti(request.mti));
  for (const field of echoed) {
    const value = request.get(field);
    if (value !== undefined) answer.set(field, value);
  }
  return answer;
}

/** The contract's answer for the demo data; any other card or account is "not linked" (14). */
function completeInquiryAnswer(request: IsoMessage, answer: IsoMessage): void {
  const pan = request.get(Field.Pan);
  const account = request.get(Field.Account);
  const identity: Identity | undefined = pan !== undefined ? { kind: 'pan', value: pan }
    : account !== undefined ? { kind: 'account', value: account } : undefined;
  const expected = identity && demoAnswerFor(identity);
  answer.set(Field.ResponseCode, expected?.responseCode ?? ResponseCode.NoParticipantLinked);
  if (expected?.participantData !== undefined) answer.set(Field.ParticipantData, expected.participantData);
  if (expected?.additionalAmounts !== undefined) answer.set(Field.AdditionalAmounts, expected.additionalAmounts);
}

/**
 * A framed ISO 8583 server that answers like the switch with none of its work: no database, no journal,
 * no pipeline, no logging. It runs on the switch's own transport and codec, so the load generator
 * against it measures what this machine can do for the same traffic: the ceiling for the switch.
 */
export async function startEchoServer(options: EchoServerOptions = {}): Promise<EchoServer> {
  const packager = new Packager(loadProfile(options.profile ?? 'iso87-ascii'));
  const faults = options.faults ?? {};
  let inquiries = 0;

  const onMessage = (body: Buffer, _context: unknown, connection: Connection): Reply | Promise<Reply> => {
    let request: IsoMessage;
    try {
      request = packager.unpack(body);
    } catch {
      return null;
    }
    if (request.mti === Mti.NetworkRequest) {
      return packager.pack(answerTo(request, ECHOED_BY_NETWORK).set(Field.ResponseCode, ResponseCode.Approved));
    }
    if (request.mti !== Mti.FinancialRequest && request.mti !== Mti.AuthorizationRequest) return null;
    const n = ++inquiries;
    if (n === faults.dropAt) return null;
    const answer = answerTo(request, ECHOED_BY_INQUIRY);
    completeInquiryAnswer(request, answer);
    if (n === faults.wrongStanAt) {
      const stan = Number(request.get(Field.Stan) ?? '0');
      answer.set(Field.Stan, String(((stan + STAN_MODULUS / 3) % STAN_MODULUS) + 1).padStart(6, '0'));
    }
    const packed = packager.pack(answer);
    if (n === faults.answerTwiceAt) connection.send(packed);
    if (n === faults.slowAt) return new Promise((resolve) => setTimeout(() => resolve(packed), faults.slowMs ?? 500));
    return packed;
  };

  const listener = await startListener({
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    framing: createFraming(options.framing ?? 'binary-2'),
    maxConnections: options.maxConnections ?? 10_000,
    maxInFlight: 100_000,
    logger: silentLogger(),
    onConnection: () => ({ onMessage }),
  });
  return {
    host: listener.host,
    port: listener.port,
    get inquiries() {
      return inquiries;
    },
    close: () => listener.closeAll({ graceMs: 1_000 }),
  };
}
