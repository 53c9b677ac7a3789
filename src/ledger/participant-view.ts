import type { Pool } from 'pg';

/** What `jht-switch participant show` prints: masked forms only, as stored (migration 011). */
export interface ParticipantView {
  kpj: string;
  name: string;
  status: string;
  nikLast4: string | null;
  msisdnLast4: string | null;
  emailMasked: string | null;
  balanceSen: bigint;
  /** YYYY-MM-DD; null before the first posting. */
  asOf: string | null;
  links: { kind: string; last4: string; status: string; issuer: string | null; keyId: string | null }[];
}

export async function readParticipant(pool: Pool, kpj: string): Promise<ParticipantView | undefined> {
  const { rows: [row] } = await pool.query<{
    id: string; kpj_number: string; name: string; membership_status: string; nik_last4: string | null; msisdn_last4: string | null;
    email_masked: string | null; balance_sen: bigint | string | null; as_of: string | null;
  }>(`SELECT p.id, p.kpj_number, p.name, p.membership_status, p.nik_last4, p.msisdn_last4, p.email_masked,
             b.balance_sen, to_char(b.as_of, 'YYYY-MM-DD') AS as_of
        FROM participant p LEFT JOIN jht_balance b ON b.participant_id = p.id WHERE p.kpj_number = $1`, [kpj]);
  if (!row) return undefined;
  const { rows: links } = await pool.query<{ kind: string; last4: string; link_status: string; issuer: string | null; key_id: string | null }>(
    'SELECT kind, last4, link_status, issuer, key_id FROM instrument_link WHERE participant_id = $1 ORDER BY kind DESC, id', [row.id]);
  return {
    kpj: row.kpj_number, name: row.name, status: row.membership_status,
    nikLast4: row.nik_last4, msisdnLast4: row.msisdn_last4, emailMasked: row.email_masked,
    balanceSen: BigInt(row.balance_sen ?? 0), asOf: row.as_of,
    links: links.map((l) => ({ kind: l.kind, last4: l.last4, status: l.link_status, issuer: l.issuer, keyId: l.key_id })),
  };
}
