import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { networkRequest } from '../client/atm-messages.js';
import { Iso8583DecodeError, Packager, loadProfile, type IsoMessage } from '../iso8583/index.js';
import { Field, Mti, NetworkCode, ResponseCode, responseMti } from '../iso8583/vocabulary/index.js';
import { FrameReader } from '../transport/frame-reader.js';
import { createFraming, type Framing, type FramingName } from '../transport/framing/index.js';
import { checkAnswer, NO_RESPONSE_CODE } from './answer-check.js';
import { LoadgenError } from './errors.js';
import type { ExpectedAnswer, Identity } from './identities.js';
import { InFlightRequests, Taken } from './in-flight-requests.js';
import { InquiryTemplate, RequestClock } from './inquiry-template.js';
import type { RunStats } from './stats.js';

/** The staging buffer starts small (idle connections cost little) and doubles up to this while batches outgrow it. */
const STAGING_MIN_BYTES = 2 * 1024;
const STAGING_MAX_BYTES = 64 * 1024;

const INQUIRY_RESPONSE_MTI = responseMti(Mti.FinancialRequest);

export interface LoadConnectionOptions {
  readonly host: string;
  readonly port: number;
  readonly framing: Framing;
  readonly packager: Packager;
  readonly acquirerId: string;
  /** Field 41 of every request on this connection (8 characters): unique per connection and run. */
  readonly terminalId: string;
  readonly identities: readonly Identity[];
  /** The contract's answer per identity (same order), when the generator checks content. */
  readonly expected: readonly (ExpectedAnswer | undefined)[];
  readonly stats: RunStats;
  readonly clock: RequestClock;
  readonly timeoutMs: number;
  /** First identity used, so connections do not all start on the same card. */
  readonly firstIdentity?: number;
  /** Slots for recent requests (see InFlightRequests): about what is normally in flight. Default 1024. */
  readonly ringSize?: number;
}

/** Where and how generator connections talk to the switch: what the load run and the idle connections share. */
export interface EndpointSettings {
  readonly host: string;
  readonly port: number;
  readonly acquirerId?: string | undefined;
  readonly profile?: string | undefined;
  readonly framing?: FramingName | undefined;
}

export function endpointOptions(settings: EndpointSettings): Pick<LoadConnectionOptions, 'host' | 'port' | 'framing' | 'packager' | 'acquirerId' | 'clock'> {
  return {
    host: settings.host,
    port: settings.port,
    framing: createFraming(settings.framing ?? 'binary-2'),
    packager: new Packager(loadProfile(settings.profile ?? 'iso87-ascii')),
    acquirerId: settings.acquirerId ?? '99901',
    clock: new RequestClock(),
  };
}

/**
 * One generator connection. Requests are prepacked templates copied into a staging buffer and written
 * with one socket write per batch; each answer is decoded, matched to its request by STAN alone (one
 * terminal per connection: see InFlightRequests) and checked. No closure or promise per request.
 */
export class LoadConnection {
  /** In closed-loop mode, the requests kept in flight; 0 in open-loop (rate) mode. */
  window = 0;
  /** Whether new requests may go out (closed-loop refills stop when the run ends). */
  accepting = true;

  private readonly socket: net.Socket;
  private readonly options: LoadConnectionOptions;
  private readonly reader: FrameReader;
  private readonly templates: InquiryTemplate[];
  private readonly terminalField: string;
  private readonly requests: InFlightRequests;
  private nextIdentity: number;
  private staging = Buffer.allocUnsafe(STAGING_MIN_BYTES);
  private staged = 0;
  private open = true;
  /** Arrival time of the chunk whose frames are being handled. */
  private arrivedAt = 0;
  private signOnWaiter: ((answer: IsoMessage) => boolean) | undefined;
  private signOnAbort: ((error: Error) => void) | undefined;
  private readonly closedPromise: Promise<void>;

  private constructor(socket: net.Socket, options: LoadConnectionOptions) {
    this.socket = socket;
    this.options = options;
    this.terminalField = options.terminalId.padEnd(8, ' ');
    this.requests = new InFlightRequests(options.ringSize ?? 1024, options.stats, options.timeoutMs);
    const time = options.clock.now();
    this.templates = options.identities.map((identity) => new InquiryTemplate(
      { packager: options.packager, identity, acquirerId: options.acquirerId, terminalId: options.terminalId }, time));
    this.nextIdentity = (options.firstIdentity ?? 0) % options.identities.length;
    this.reader = new FrameReader(options.framing, (body) => this.onFrame(body));
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => undefined); // 'close' follows and does the accounting
    this.closedPromise = new Promise((resolve) => socket.once('close', () => {
      this.onClose();
      resolve();
    }));
  }

  static connect(options: LoadConnectionOptions): Promise<LoadConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: options.host, port: options.port });
      const fail = (error: Error): void => reject(new LoadgenError('LOADGEN_CONNECT_FAILED',
        `cannot connect to ${options.host}:${options.port}: ${error.message}`, { cause: error }));
      socket.once('error', fail);
      socket.once('connect', () => {
        socket.off('error', fail);
        resolve(new LoadConnection(socket, options));
      });
    });
  }

  get isOpen(): boolean {
    return this.open;
  }

  get inFlight(): number {
    return this.requests.count;
  }

  /** Sends 0800 / 70 = 001 and waits for its 0810 with 39 = 00. */
  signOn(timeoutMs: number): Promise<void> {
    const stanText = String(this.requests.untracked()).padStart(6, '0');
    const body = this.options.packager.pack(networkRequest(stanText, NetworkCode.SignOn));
    return new Promise((resolve, reject) => {
      const fail = (error: Error): void => {
        clearTimeout(timer);
        this.signOnWaiter = undefined;
        this.signOnAbort = undefined;
        reject(error);
      };
      const timer = setTimeout(() => fail(new LoadgenError('LOADGEN_SIGN_ON_FAILED',
        `no answer to the sign-on of terminal ${this.options.terminalId} in ${timeoutMs} ms`)), timeoutMs);
      this.signOnAbort = fail;
      this.signOnWaiter = (answer) => {
        if (answer.mti !== Mti.NetworkResponse || answer.get(Field.Stan) !== stanText) return false;
        clearTimeout(timer);
        this.signOnWaiter = undefined;
        this.signOnAbort = undefined;
        const code = answer.get(Field.ResponseCode);
        if (code === ResponseCode.Approved) resolve();
        else reject(new LoadgenError('LOADGEN_SIGN_ON_FAILED', `sign-on refused with ${code ?? 'no response code'}`));
        return true;
      };
      body.copy(this.staging, this.stage(body.length));
      this.flush();
    });
  }

  /**
   * Stages one inquiry (written at the next flush). `scheduledMs` (performance.now() time) is when it
   * was due: latency counts from then, so a late sender cannot hide a slow server.
   */
  send(scheduledMs: number): boolean {
    if (!this.open) return false;
    const identity = this.nextIdentity;
    this.nextIdentity = identity + 1 === this.templates.length ? 0 : identity + 1;
    const template = this.templates[identity]!;
    const offset = this.stage(template.length);
    template.writeTo(this.staging, offset, this.requests.begin(scheduledMs, identity), this.options.clock.now());
    return true;
  }

  /** Closed loop: tops the requests in flight up to `window`. */
  refill(): void {
    if (!this.accepting || !this.open) return;
    const missing = this.window - this.requests.count;
    if (missing <= 0) return;
    const now = performance.now();
    for (let i = 0; i < missing; i++) this.send(now);
  }

  /** Writes everything staged as one socket write. */
  flush(): void {
    if (this.staged === 0 || !this.open) return;
    // The socket may hold on to what it is given until the kernel takes it: hand it a copy.
    const out = Buffer.allocUnsafe(this.staged);
    this.staging.copy(out, 0, 0, this.staged);
    this.staged = 0;
    this.socket.write(out);
  }

  /** Counts requests older than the timeout as timed out. */
  sweep(nowMs: number): void {
    this.requests.sweep(nowMs);
  }

  /** Ends the connection (FIN), destroying it if the peer has not closed within `graceMs`. */
  async close(graceMs = 2_000): Promise<void> {
    this.flush();
    this.socket.end();
    const timer = setTimeout(() => this.socket.destroy(), graceMs);
    await this.closedPromise;
    clearTimeout(timer);
  }

  /** Reserves `bytes` plus the frame header in the staging buffer; returns where the body goes. */
  private stage(bodyBytes: number): number {
    const { framing } = this.options;
    const frameBytes = framing.headerLength + bodyBytes;
    if (this.staged + frameBytes > this.staging.length) {
      if (this.staging.length < STAGING_MAX_BYTES) {
        const larger = Buffer.allocUnsafe(Math.max(this.staging.length * 2, this.staged + frameBytes));
        this.staging.copy(larger, 0, 0, this.staged);
        this.staging = larger;
      } else {
        this.flush();
        if (frameBytes > this.staging.length) this.staging = Buffer.allocUnsafe(frameBytes);
      }
    }
    framing.writeHeader(this.staging, this.staged, bodyBytes);
    this.staged += frameBytes;
    return this.staged - bodyBytes;
  }

  private onData(chunk: Buffer): void {
    this.arrivedAt = performance.now();
    try {
      this.reader.push(chunk);
    } catch {
      // A bad length header: nothing after it can be trusted. What is in flight is lost.
      this.socket.destroy();
      return;
    }
    if (this.window > 0) this.refill();
    this.flush();
  }

  private onFrame(body: Buffer): void {
    const { packager, stats } = this.options;
    let answer: IsoMessage;
    let decoded = true;
    try {
      answer = packager.unpack(body);
    } catch (error) {
      if (!(error instanceof Iso8583DecodeError) || error.partial === undefined) {
        stats.phaseAt(this.arrivedAt).recordError('undecodable');
        return;
      }
      answer = error.partial;
      decoded = false;
    }
    if (this.signOnWaiter?.(answer) === true) return;
    const stanText = answer.get(Field.Stan);
    const taken = this.requests.take(stanText === undefined ? Number.NaN : Number(stanText));
    if (taken === Taken.Request) this.settle(answer, decoded, this.requests.takenScheduledAt, this.requests.takenIdentity);
    else if (taken === Taken.Late) stats.lateAnswers++;
    else stats.phaseAt(this.arrivedAt).recordError('unmatched');
  }

  /** The answer to a request in flight: counted, timed, checked. */
  private settle(answer: IsoMessage, decoded: boolean, scheduled: number, identity: number): void {
    const phase = this.options.stats.phaseAt(scheduled);
    phase.recordAnswer(answer.get(Field.ResponseCode) ?? NO_RESPONSE_CODE, (this.arrivedAt - scheduled) * 1000);
    const wrong = decoded
      ? checkAnswer(answer, INQUIRY_RESPONSE_MTI, this.terminalField, this.options.expected[identity])
      : 'undecodable';
    if (wrong !== undefined) phase.recordError(wrong);
  }

  private onClose(): void {
    this.open = false;
    this.signOnAbort?.(new LoadgenError('LOADGEN_SIGN_ON_FAILED',
      `connection of terminal ${this.options.terminalId} closed before its sign-on was answered`));
    this.requests.loseAll();
  }
}
