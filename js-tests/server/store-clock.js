// Moving a store's own clock forward, for tests of stores that read time
// themselves (Redis TIME, PostgreSQL clock_timestamp()) and so cannot be
// handed a virtual clock: `advance(ms)` ages every record by ms, which is
// what the store's clock moving on by ms does to them (a lease or a ttl
// that had ms or less left ends). The store's code under test is unchanged.

// A redisStore record's lease or ttl is its PX, counted by Redis: aging it
// is shortening what is left of it.
const AGE_REDIS_RECORD = `
local left = redis.call('PTTL', KEYS[1])
if left < 0 then return 0 end
left = left - tonumber(ARGV[1])
if left <= 0 then redis.call('DEL', KEYS[1]) return 1 end
redis.call('PEXPIRE', KEYS[1], left)
return 1`;

/** `{ advance, slackMs }` for redisStore(client) records under `prefix` (a node-redis client on one server). */
export function redisStoreClock(client, prefix = 'durafetch:idempotency:') {
  return {
    // Real time may pass between two steps of a case: "just before the end"
    // is checked this long before it.
    slackMs: 2_000,
    async advance(ms) {
      // Pipelined: records pile up over a suite, and real time passing between
      // two steps of a case is what slackMs has to cover.
      const keys = await client.keys(`${prefix}*`);
      await Promise.all(keys.map((key) => client.eval(AGE_REDIS_RECORD, { keys: [key], arguments: [String(ms)] })));
    },
  };
}

/** `{ advance, slackMs }` for postgresStore(pool) records in `table`. */
export function postgresStoreClock(pool, table = 'durafetch_idempotency') {
  return {
    slackMs: 2_000,
    async advance(ms) {
      await pool.query(`UPDATE ${table} SET until_ms = until_ms - $1`, [ms]);
    },
  };
}

/**
 * `{ advance, slackMs, close }` for redisStore records on a Redis Cluster:
 * every master's records aged, in parallel, through one connection per
 * master opened at the first advance (the topology holds while a suite runs;
 * asking the whole cluster for it at every step took most of slackMs on a
 * busy machine).
 */
export function redisClusterStoreClock(cluster, prefix = 'durafetch:idempotency:') {
  let clients;
  return {
    slackMs: 2_000,
    async advance(ms) {
      clients ??= cluster.topology().then((masters) => Promise.all(masters.map(({ port }) => cluster.client(port))));
      await Promise.all((await clients).map((client) => redisStoreClock(client, prefix).advance(ms)));
    },
    async close() {
      for (const client of clients ? await clients : []) client.destroy();
    },
  };
}
