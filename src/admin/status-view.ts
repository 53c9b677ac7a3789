import type { ReloadResult } from '../channels/atm/control.js';
import type { DrainResult, StatusReport } from './protocol.js';

/** Plain-text views of the admin answers, for a terminal 80+ columns wide. */

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}

function duration(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return `${Math.max(0, Math.floor(ms / 1000))}s`;
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const rest = `${hours}h ${String(minutes % 60).padStart(2, '0')}m`;
  return days > 0 ? `${days}d ${rest}` : rest;
}

function milliseconds(value: number | null): string {
  if (value === null) return '-';
  return `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`;
}

/** 'HH:MM:SS' of an ISO timestamp today, the date too otherwise; as given if it is not a date. */
function since(iso: string, now: Date): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  const time = at.toISOString().slice(11, 19);
  return at.toISOString().slice(0, 10) === now.toISOString().slice(0, 10) ? time : `${at.toISOString().slice(0, 10)} ${time}`;
}

export function formatStatus(report: StatusReport, now: Date = new Date()): string {
  const s = report.switch;
  const started = new Date(s.startedAt);
  const uptime = Number.isNaN(started.getTime()) ? '' : ` (up ${duration(now.getTime() - started.getTime())})`;
  const listeners = s.listeners.map((l) => `${l.host}:${l.port} (${l.partners.join(', ') || 'no partner'})`);
  const recent = report.recent;
  const lines = [
    `switch     ${s.instanceId}  ${s.accepting ? 'accepting' : 'NOT ACCEPTING (draining or stopping)'}`,
    `started    ${s.startedAt}${uptime}`,
    `listeners  ${listeners.join('; ') || '-'}`,
    `ledger     breaker ${s.breaker === 'closed' ? 'closed' : s.breaker.toUpperCase()}   journal queue ${s.journalQueueDepth}   in flight ${s.inFlight}`,
    recent
      ? `recent     ${recent.tps.toFixed(1)} tps   p50 ${milliseconds(recent.p50Ms)}   p99 ${milliseconds(recent.p99Ms)}   max ${milliseconds(recent.maxMs)}` +
        `   (${recent.count} in the last ${Math.round(recent.windowSeconds)} s)`
      : 'recent     - (metrics are off)',
    '',
  ];
  const partners = s.partners.map((partner) => [
    partner.id, partner.name, partner.endpoint,
    String(partner.sessions.length), String(partner.sessions.filter((session) => session.signedOn).length),
  ]);
  lines.push(...table(['PARTNER', 'NAME', 'ENDPOINT', 'CONNECTIONS', 'SIGNED ON'], partners), '');
  const connections = s.partners.flatMap((partner) => partner.sessions.map((session) => [
    session.id, partner.id, session.remote, session.direction, session.signedOn ? 'yes' : 'NO',
    String(session.inFlight), since(session.openedAt, now),
  ]));
  if (connections.length === 0) lines.push('no partner is connected');
  else lines.push(...table(['CONNECTION', 'PARTNER', 'REMOTE', 'DIRECTION', 'SIGNED ON', 'IN FLIGHT', 'SINCE (UTC)'], connections));
  return `${lines.join('\n')}\n`;
}

export function formatDrain(result: DrainResult): string {
  const state = result.accepting ? 'the drain finished but the switch still reports accepting' : 'no longer accepting';
  return `drained: ${state}, ${result.inFlight} in flight. The process keeps running until it is stopped (SIGTERM).\n`;
}

export function formatReload(result: ReloadResult): string {
  const list = (ids: readonly string[]): string => (ids.length > 0 ? ids.join(', ') : '-');
  return [
    'reloaded:',
    `  kept     ${list(result.kept)}`,
    `  added    ${list(result.added)}`,
    `  changed  ${list(result.changed)}${result.changed.length > 0 ? '   (their connections were closed: the partners reconnect)' : ''}`,
    `  removed  ${list(result.removed)}`,
    '',
  ].join('\n');
}
