/**
 * Applies a Durable Object's SQLite migrations in order, recording the version reached in
 * `_schema`. Call from the constructor inside `blockConcurrencyWhile` (it does no I/O beyond
 * the object's own storage, which is synchronous).
 */
export function migrateSqlite(sql: SqlStorage, migrations: readonly string[]): void {
  sql.exec("CREATE TABLE IF NOT EXISTS _schema (version INTEGER NOT NULL)");
  const row = sql.exec<{ version: number }>("SELECT version FROM _schema").toArray()[0];
  const current = row?.version ?? 0;
  for (let v = current; v < migrations.length; v++) {
    sql.exec(migrations[v] as string);
  }
  if (!row) sql.exec("INSERT INTO _schema (version) VALUES (?)", migrations.length);
  else if (current < migrations.length) sql.exec("UPDATE _schema SET version = ?", migrations.length);
}

/** Capped exponential backoff in milliseconds for the `attempt`-th retry (1-based). */
export function backoffMs(attempt: number, baseMs = 1000, capMs = 5 * 60_000): number {
  return Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
}
