// redisStore(client, options): records in Redis (one server, or a Redis /
// Valkey Cluster), shared by every process that uses it. Each step is one
// Lua script, so it is atomic and one round trip: claim-or-return-existing,
// compare-owner-and-complete, compare-owner-and-release. A record is a hash
// { until, owner, fp, resp } under the key alone (one slot in a cluster),
// with a PEXPIRE at its `until`, so Redis forgets it by itself.
//
// Time is Redis's: the scripts read `TIME` and compute every `until` from
// it, so app servers whose clocks disagree still agree on who holds a key.
//
// `client`: node-redis (v4-v6) createClient() or createCluster(), an ioredis
// Redis or Cluster, as they are (./redis-commander.js).
//
// `replicas` (default 0): Redis replicates asynchronously, so a claim a
// master acknowledged and then lost in a failover is gone, and a resend runs
// the handler again. With `replicas: n`, each claim and each stored answer is
// followed by `WAIT n replicaTimeoutMs` on the same connection (pipelined:
// no extra round trip in the common case); a claim fewer than n replicas
// acknowledged is given back and answered 503, so the handler never runs on
// a claim a failover could forget.
import { IdempotencyError } from '../errors.js';
import { commanderOf } from './redis-commander.js';

// Redis time in ms: TIME is [seconds, microseconds].
const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

// ARGV: lease ms, owner, fingerprint.
const CLAIM = `${NOW}
local r = redis.call('HMGET', KEYS[1], 'until', 'fp', 'resp')
if r[1] then
  if tonumber(r[1]) > now then return {0, r[2] or '', r[1], r[3] or false} end
  redis.call('DEL', KEYS[1]) -- an expired record Redis has not dropped yet
end
redis.call('HSET', KEYS[1], 'until', string.format('%.0f', now + tonumber(ARGV[1])), 'owner', ARGV[2], 'fp', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return {1}
`;

// ARGV: owner, response (base64), ttl ms.
const COMPLETE = `if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] or redis.call('HEXISTS', KEYS[1], 'resp') == 1 then
  return 0
end
${NOW}
local ttl = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 'resp', ARGV[2], 'until', string.format('%.0f', now + ttl))
redis.call('PEXPIRE', KEYS[1], ttl)
return 1
`;

// ARGV: owner.
const RELEASE = `if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] or redis.call('HEXISTS', KEYS[1], 'resp') == 1 then
  return 0
end
redis.call('DEL', KEYS[1])
return 1
`;

// Replies come back as strings (node-redis and ioredis decode them as
// UTF-8), so the answer's bytes are stored as base64.
const toBase64 = (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
const fromBase64 = (text) => {
  const b = Buffer.from(text, 'base64');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
};

async function sha1(text) {
  const digest = await crypto.subtle.digest('SHA-1', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

const isNoScript = (error) => /NOSCRIPT/.test(String(error?.message));

function option(name, value, check, expected) {
  if (value !== undefined && !check(value)) {
    throw IdempotencyError.invalidOption(`redisStore(client, { ${name} })`, expected, value);
  }
}

export function redisStore(client, { prefix = 'durafetch:idempotency:', replicas = 0, replicaTimeoutMs = 500 } = {}) {
  const redis = commanderOf(client);
  option('prefix', prefix, (p) => typeof p === 'string', 'a string');
  option('replicas', replicas, (n) => Number.isSafeInteger(n) && n >= 0 && n <= 16, 'an integer from 0 to 16');
  option('replicaTimeoutMs', replicaTimeoutMs, (n) => Number.isSafeInteger(n) && n >= 1 && n <= 60_000, 'an integer number of milliseconds from 1 to 60000');
  const shas = new Map([CLAIM, COMPLETE, RELEASE].map((script) => [script, sha1(script)]));
  const wait = ['WAIT', String(replicas), String(replicaTimeoutMs)];

  // EVALSHA; a node that does not know the script yet (a cluster node never
  // asked, a restarted Redis) gets EVAL, which also caches it there. With
  // replicas > 0 a WAIT is written right behind it, on the same connection,
  // so it waits for that write: resolves [reply, replicas that acknowledged].
  async function run(script, key, args) {
    const sha = await shas.get(script);
    const evalsha = redis.send(key, ['EVALSHA', sha, '1', key, ...args]);
    const acked = replicas > 0 ? waitReplicas(key) : 0;
    try {
      return [await evalsha, await acked];
    } catch (error) {
      if (!isNoScript(error)) throw error;
      const reply = await redis.send(key, ['EVAL', script, '1', key, ...args]);
      return [reply, replicas > 0 ? await waitReplicas(key) : 0];
    }
  }

  // A WAIT that fails counts as no replica: during a failover it can reach
  // the old master, now a replica, while the script was redirected. The
  // claim is then given back (503), never trusted.
  const waitReplicas = (key) => redis.send(key, wait).then(Number, () => 0);

  return {
    /** Which client it talks through: 'node-redis', 'node-redis-cluster', 'ioredis', 'ioredis-cluster' or 'custom'. */
    client: redis.kind,
    replicas,

    async claim(id, { fingerprint, owner, leaseMs }) {
      const key = prefix + id;
      const [reply, acked] = await run(CLAIM, key, [String(leaseMs), owner, fingerprint]);
      if (Number(reply[0]) !== 1) {
        return {
          claimed: false,
          fingerprint: String(reply[1]),
          until: Number(reply[2]),
          response: reply[3] === null || reply[3] === undefined || reply[3] === false ? null : fromBase64(String(reply[3])),
        };
      }
      if (acked < replicas) {
        // Not on enough replicas to survive a failover: give it back, fail closed (503).
        await run(RELEASE, key, [owner]).catch(() => {});
        throw new Error(`redisStore: the claim reached ${acked} of ${replicas} replicas within ${replicaTimeoutMs} ms (WAIT); answered 503`);
      }
      return { claimed: true };
    },

    // With replicas > 0 the answer is WAITed for too, before it is sent. An
    // answer fewer replicas acknowledged is reported as a failure, so the
    // engine stores it again (on the new master, after a failover) while the
    // lease holds, instead of leaving an in-flight record that would run the
    // handler again once the lease ends.
    async complete(id, { owner, response, ttlMs }) {
      const [reply, acked] = await run(COMPLETE, prefix + id, [owner, toBase64(response), String(ttlMs)]);
      if (Number(reply) === 1 && acked < replicas) {
        throw new Error(`redisStore: the answer reached ${acked} of ${replicas} replicas within ${replicaTimeoutMs} ms (WAIT)`);
      }
      return Number(reply) === 1;
    },

    async release(id, owner) {
      const [reply] = await run(RELEASE, prefix + id, [owner]);
      return Number(reply) === 1;
    },
  };
}
