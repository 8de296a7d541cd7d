// postgresStore(pool): records in a PostgreSQL table, shared by every
// process that uses the database. `await store.migrate()` creates it.
// Each step is one statement in its own transaction (autocommit, READ
// COMMITTED, the default), so it is atomic and one round trip:
//   claim:    INSERT … ON CONFLICT (id) DO UPDATE that takes the row over only
//             when its `until_ms` has passed, and RETURNING the row as it is
//             after the statement: ours (claimed) or the existing one.
//   complete: UPDATE … WHERE id = $1 AND owner = $2 AND response IS NULL
//   release:  DELETE … WHERE id = $1 AND owner = $2 AND response IS NULL
// The upsert always returns the current row, even one committed by a
// concurrent transaction after ours began (a plain INSERT … DO NOTHING plus
// SELECT would not see it under READ COMMITTED): ON CONFLICT locks the row
// and re-reads its latest version. Every statement goes to the primary the
// pool connects to: a replica lags, and a claim checked there is the
// check-then-insert race again.
// Time is the database's: `until_ms` is computed and compared from
// clock_timestamp() inside each statement, never from the app server's clock.
// `pool`: a `pg` Pool (or anything with `query(config)` like it).

import { IdempotencyError } from '../errors.js';

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}(\.[a-z_][a-z0-9_]{0,62})?$/;
// The database's clock, in epoch ms.
const NOW_MS = '(extract(epoch from clock_timestamp()) * 1000)::bigint';

export function postgresStore(pool, { table = 'durafetch_idempotency', sweepEvery = 1000 } = {}) {
  if (!pool || typeof pool.query !== 'function') {
    throw new IdempotencyError('invalid-store', 'postgresStore(pool): expected a pg Pool (new pg.Pool(config), or anything with query() like it)');
  }
  if (typeof table !== 'string' || !IDENTIFIER.test(table)) {
    throw IdempotencyError.invalidOption('postgresStore(pool, { table })', 'a lower-case SQL identifier (schema.name allowed)', table);
  }
  if (!(Number.isSafeInteger(sweepEvery) && sweepEvery >= 0)) {
    throw IdempotencyError.invalidOption('postgresStore(pool, { sweepEvery })', 'a non-negative integer (0: never sweep by itself)', sweepEvery);
  }
  const name = table.replace('.', '_');
  // Named statements: parsed once per connection.
  const CLAIM = {
    name: `durafetch_claim_${name}`,
    // EXCLUDED.until_ms - $4 is the statement's one reading of the clock.
    text: `INSERT INTO ${table} AS r (id, fingerprint, owner, until_ms) VALUES ($1, $2, $3, ${NOW_MS} + $4::bigint)
      ON CONFLICT (id) DO UPDATE SET
        fingerprint = CASE WHEN r.until_ms <= EXCLUDED.until_ms - $4::bigint THEN EXCLUDED.fingerprint ELSE r.fingerprint END,
        owner       = CASE WHEN r.until_ms <= EXCLUDED.until_ms - $4::bigint THEN EXCLUDED.owner ELSE r.owner END,
        response    = CASE WHEN r.until_ms <= EXCLUDED.until_ms - $4::bigint THEN NULL ELSE r.response END,
        until_ms    = CASE WHEN r.until_ms <= EXCLUDED.until_ms - $4::bigint THEN EXCLUDED.until_ms ELSE r.until_ms END
      RETURNING owner, fingerprint, until_ms, response`,
  };
  const COMPLETE = {
    name: `durafetch_complete_${name}`,
    text: `UPDATE ${table} SET response = $3, until_ms = ${NOW_MS} + $4::bigint WHERE id = $1 AND owner = $2 AND response IS NULL`,
  };
  const RELEASE = {
    name: `durafetch_release_${name}`,
    text: `DELETE FROM ${table} WHERE id = $1 AND owner = $2 AND response IS NULL`,
  };
  let claims = 0;

  // A missing table is a setup mistake, not an outage: say so, once per
  // request, instead of a 503 that looks like one.
  const query = (config) => pool.query(config).catch((error) => {
    if (error?.code === '42P01') {
      throw new IdempotencyError('invalid-store', `postgresStore: the table ${table} does not exist: run \`await store.migrate()\` once before serving requests`, { cause: error });
    }
    throw error;
  });

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

    async claim(id, { fingerprint, owner, leaseMs }) {
      const { rows } = await query({ ...CLAIM, values: [id, fingerprint, owner, Math.ceil(leaseMs)] });
      if (sweepEvery > 0 && ++claims % sweepEvery === 0) store.deleteExpired().catch(() => {});
      const row = rows[0];
      if (row.owner === owner) return { claimed: true };
      return {
        claimed: false,
        fingerprint: row.fingerprint,
        until: Number(row.until_ms),
        response: row.response === null ? null : new Uint8Array(row.response.buffer, row.response.byteOffset, row.response.byteLength),
      };
    },

    async complete(id, { owner, response, ttlMs }) {
      const bytes = Buffer.from(response.buffer, response.byteOffset, response.byteLength);
      const { rowCount } = await query({ ...COMPLETE, values: [id, owner, bytes, Math.ceil(ttlMs)] });
      return rowCount === 1;
    },

    async release(id, owner) {
      const { rowCount } = await query({ ...RELEASE, values: [id, owner] });
      return rowCount === 1;
    },

    /**
     * Deletes up to `limit` records whose `until` has passed (by the
     * database's clock); resolves with how many. claim() runs it in the
     * background every `sweepEvery` claims.
     */
    async deleteExpired(limit = 1000) {
      const { rowCount } = await pool.query(
        `DELETE FROM ${table} WHERE id IN (SELECT id FROM ${table} WHERE until_ms <= ${NOW_MS} LIMIT $1)`, [limit]);
      return rowCount;
    },
  };
  return store;
}
