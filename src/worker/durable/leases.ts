// Job locks as leases in a Durable Object's SQLite storage: a second job on
// the same name is refused while one holds it, and a lease that is not renewed
// (its job crashed) simply expires, so nothing stays stuck.
export interface Lease {
  name: string;
  holder: string;
  expiresAt: number;
}

export class Leases {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    sql.exec(`CREATE TABLE IF NOT EXISTS leases (
      name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at INTEGER NOT NULL)`);
  }

  /** Takes the lease, or returns the live lease someone else holds. */
  acquire(name: string, holder: string, ttlMs: number, now: number): Lease | { heldBy: Lease } {
    const current = this.#get(name);
    if (current && current.expiresAt > now && current.holder !== holder) return { heldBy: current };
    const lease = { name, holder, expiresAt: now + ttlMs };
    this.#sql.exec(
      "INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at",
      name,
      holder,
      lease.expiresAt,
    );
    return lease;
  }

  release(name: string, holder: string): boolean {
    const current = this.#get(name);
    if (!current || current.holder !== holder) return false;
    this.#sql.exec("DELETE FROM leases WHERE name = ?", name);
    return true;
  }

  /** Drops expired leases; returns the earliest expiry still pending, if any. */
  sweep(now: number): number | null {
    this.#sql.exec("DELETE FROM leases WHERE expires_at <= ?", now);
    return this.#sql
      .exec<{ next: number | null }>("SELECT MIN(expires_at) AS next FROM leases")
      .one().next;
  }

  #get(name: string): Lease | undefined {
    const row = this.#sql
      .exec<{ name: string; holder: string; expires_at: number }>(
        "SELECT * FROM leases WHERE name = ?",
        name,
      )
      .toArray()[0];
    return row && { name: row.name, holder: row.holder, expiresAt: row.expires_at };
  }
}
