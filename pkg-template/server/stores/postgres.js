// postgresStore(pool): records in a PostgreSQL table, shared by every
// process that uses the database. `await store.migrate()` creates it.
// Each step is one statement, so it is atomic and one round trip:
//   claim:    INSERT … ON CONFLICT (id) DO UPDATE that takes the row over only
//             when its `until_ms` has passed, and RETURNING the row as it is
//             after the statement: ours (claimed) or the existing one.
//   complete: UPDATE … WHERE id = $1 AND owner = $2 AND response IS NULL
//   release:  DELETE … WHERE id = $1 AND owner = $2 AND response IS NULL
// The upsert always returns the current row, even one committed by a
// concurrent transaction after ours began (a plain INSERT … DO NOTHING plus
// SELECT would not see it under READ COMMITTED).
// `pool`: a `pg` Pool (or anything with `query(config)` like it).

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}(\.[a-z_][a-z0-9_]{0,62})?$/;

export function postgresStore(pool, { table = 'durafetch_idempotency', sweepEvery = 1000 } = {}) {
  if (!pool || typeof pool.query !== 'function') {
    throw new TypeError('postgresStore(pool): expected a pg Pool (an object with query())');
  }
  if (typeof table !== 'string' || !IDENTIFIER.test(table)) {
    throw new TypeError(`postgresStore(pool, { table }): a lower-case SQL identifier (schema.name allowed), got ${JSON.stringify(table)}`);
  }
  if (!(Number.isSafeInteger(sweepEvery) && sweepEvery >= 0)) {
    throw new TypeError('postgresStore(pool, { sweepEvery }): a non-negative integer (0: never sweep by itself)');
  }
  const name = table.replace('.', '_');
  // Named statements: parsed once per connection.
  const CLAIM = {
    name: `durafetch_claim_${name}`,
    text: `INSERT INTO ${table} AS r (id, fingerprint, owner, until_ms) VALUES ($1, $2, $3, $4)
      ON CONFLICT (id) DO UPDATE SET
        fingerprint = CASE WHEN r.until_ms <= $5 THEN EXCLUDED.fingerprint ELSE r.fingerprint END,
        owner       = CASE WHEN r.until_ms <= $5 THEN EXCLUDED.owner ELSE r.owner END,
        response    = CASE WHEN r.until_ms <= $5 THEN NULL ELSE r.response END,
        until_ms    = CASE WHEN r.until_ms <= $5 THEN EXCLUDED.until_ms ELSE r.until_ms END
      RETURNING owner, fingerprint, until_ms, response`,
  };
  const COMPLETE = {
    name: `durafetch_complete_${name}`,
    text: `UPDATE ${table} SET response = $3, until_ms = $4 WHERE id = $1 AND owner = $2 AND response IS NULL`,
  };
  const RELEASE = {
    name: `durafetch_release_${name}`,
    text: `DELETE FROM ${table} WHERE id = $1 AND owner = $2 AND response IS NULL`,
  };
  let claims = 0;

  const store = {
    /** Creates the table and its index if missing; safe to run from many processes at once. */
    async migrate() {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        // Concurrent CREATE … IF NOT EXISTS can still collide in the catalog: serialise them.
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`durafetch:${table}`]);
        await client.query(`CREATE TABLE IF NOT EXISTS ${table} (
          id text PRIMARY KEY,
          fingerprint text NOT NULL,
          owner text NOT NULL,
          until_ms bigint NOT NULL,
          response bytea
        )`);
        await client.query(`CREATE INDEX IF NOT EXISTS ${name}_until_ms ON ${table} (until_ms)`);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },

    async claim(id, { fingerprint, owner, now, until }) {
      const { rows } = await pool.query({ ...CLAIM, values: [id, fingerprint, owner, Math.ceil(until), Math.floor(now)] });
      if (sweepEvery > 0 && ++claims % sweepEvery === 0) store.deleteExpired(now).catch(() => {});
      const row = rows[0];
      if (row.owner === owner) return { claimed: true };
      return {
        claimed: false,
        fingerprint: row.fingerprint,
        until: Number(row.until_ms),
        response: row.response === null ? null : new Uint8Array(row.response.buffer, row.response.byteOffset, row.response.byteLength),
      };
    },

    async complete(id, { owner, response, until }) {
      const bytes = Buffer.from(response.buffer, response.byteOffset, response.byteLength);
      const { rowCount } = await pool.query({ ...COMPLETE, values: [id, owner, bytes, Math.ceil(until)] });
      return rowCount === 1;
    },

    async release(id, owner) {
      const { rowCount } = await pool.query({ ...RELEASE, values: [id, owner] });
      return rowCount === 1;
    },

    /**
     * Deletes up to `limit` records whose `until` has passed; resolves with how
     * many. claim() runs it in the background every `sweepEvery` claims.
     */
    async deleteExpired(now = Date.now(), limit = 1000) {
      const { rowCount } = await pool.query(
        `DELETE FROM ${table} WHERE id IN (SELECT id FROM ${table} WHERE until_ms <= $1 LIMIT $2)`, [Math.floor(now), limit]);
      return rowCount;
    },
  };
  return store;
}
