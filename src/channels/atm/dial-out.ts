import type { Logger } from '../../observability/logger.js';
import type { Connection } from '../../transport/index.js';
import { NetworkCode, ResponseCode } from '../../iso8583/vocabulary/index.js';
import { networkRequest } from '../../iso8583/vocabulary/index.js';
import type { OutboundRequests } from './outbound-requests.js';
import type { Session } from './session.js';

const ANSWER_TIMEOUT_MS = 10_000;

/**
 * On a link the switch dialled: sign on, then send an echo test whenever the line has been quiet for
 * `echoIntervalMs`. A sign-on refused or an echo unanswered drops the link; the dialer reconnects with
 * backoff and this starts again.
 */
export function keepDialOutAlive(session: Session, connection: Connection, outbound: OutboundRequests, echoIntervalMs: number, log: Logger): void {
  const linkLog = log.child({ partner: session.partner.id, connection: connection.id });
  const traffic = (): number => connection.stats.framesIn + connection.stats.framesOut;
  let seen = traffic();

  void outbound.send(networkRequest(outbound.nextStan(), NetworkCode.SignOn), ANSWER_TIMEOUT_MS).then((answer) => {
    if (answer?.get(39) === ResponseCode.Approved) {
      session.setSignedOn(true);
      linkLog.info('signed on to the partner');
      return;
    }
    linkLog.warn({ responseCode: answer?.get(39) ?? 'none' }, 'sign-on to the partner failed: dropping the link');
    connection.destroy();
  });

  const timer = setInterval(() => {
    const now = traffic();
    if (now !== seen) {
      seen = now;
      return;
    }
    void outbound.send(networkRequest(outbound.nextStan(), NetworkCode.EchoTest), ANSWER_TIMEOUT_MS).then((answer) => {
      seen = traffic();
      if (answer) return;
      linkLog.warn('echo test unanswered: dropping the link');
      connection.destroy();
    });
  }, echoIntervalMs);
  timer.unref();
  void connection.closed.then(() => clearInterval(timer));
}
