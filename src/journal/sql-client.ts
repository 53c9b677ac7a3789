import type { QueryResult, QueryResultRow } from 'pg';

/**
 * The one method of `pg.Pool` this module needs. A `pg.Pool` is one; tests wrap it to count statements
 * or to simulate an unreachable database.
 */
export interface SqlClient {
  query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
}
