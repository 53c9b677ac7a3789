import type { QueryConfig, QueryResult, QueryResultRow } from 'pg';

/**
 * The one method of `pg.Pool` this module needs. A `pg.Pool` is one; tests wrap it to count statements
 * or to simulate an unreachable database.
 */
export interface SqlClient {
  query<R extends QueryResultRow = QueryResultRow>(text: string | QueryConfig, values?: unknown[]): Promise<QueryResult<R>>;
}

/**
 * The hot statements go by name: PostgreSQL then parses and plans them once per connection instead of for
 * every batch (planning an unnest INSERT cost more than running it). The name carries the text's variant.
 */
export function named(name: string, text: string, values: unknown[]): QueryConfig {
  return { name, text, values };
}
