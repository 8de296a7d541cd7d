// redisStore(client): records in Redis, shared by every process that uses
// the same server. Each step is one Lua script, so it is atomic and one round
// trip: claim-or-return-existing, compare-owner-and-complete,
// compare-owner-and-release. A record is a hash { until, owner, fp, resp }
// with a PEXPIRE at its `until`, so Redis forgets it by itself.
//
// `client`: a connected node-redis client (the `redis` package, v4 to v6), or
// anything with `sendCommand(args: string[]) => Promise` (for ioredis:
// `{ sendCommand: (args) => ioredis.call(...args) }`). Scripts are loaded
// once and run with EVALSHA; after a Redis restart (NOSCRIPT) they are
// loaded again.

const CLAIM = `
local r = redis.call('HMGET', KEYS[1], 'until', 'fp', 'resp')
if r[1] and tonumber(r[1]) > tonumber(ARGV[1]) then
  return {0, r[2] or '', r[1], r[3] or false}
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'until', ARGV[2], 'owner', ARGV[3], 'fp', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return {1}
`;

const COMPLETE = `
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] or redis.call('HEXISTS', KEYS[1], 'resp') == 1 then
  return 0
end
redis.call('HSET', KEYS[1], 'resp', ARGV[2], 'until', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
`;

const RELEASE = `
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] or redis.call('HEXISTS', KEYS[1], 'resp') == 1 then
  return 0
end
redis.call('DEL', KEYS[1])
return 1
`;

// Replies come back as strings (node-redis decodes them as UTF-8), so the
// answer's bytes are stored as base64.
const toBase64 = (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
const fromBase64 = (text) => {
  const b = Buffer.from(text, 'base64');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
};

const ttl = (until, now) => String(Math.max(1, Math.ceil(until - now)));

export function redisStore(client, { prefix = 'durafetch:idempotency:' } = {}) {
  if (!client || typeof client.sendCommand !== 'function') {
    throw new TypeError('redisStore(client): expected a connected node-redis client (or an object with sendCommand(args))');
  }
  if (typeof prefix !== 'string') throw new TypeError('redisStore(client, { prefix }): prefix must be a string');
  const shas = new Map(); // script -> Promise<sha>

  const load = (script) => {
    if (!shas.has(script)) {
      const sha = client.sendCommand(['SCRIPT', 'LOAD', script]);
      sha.catch(() => shas.delete(script)); // retry the load next time
      shas.set(script, sha);
    }
    return shas.get(script);
  };

  async function run(script, key, args) {
    const sha = await load(script);
    try {
      return await client.sendCommand(['EVALSHA', sha, '1', prefix + key, ...args]);
    } catch (error) {
      if (!String(error?.message).startsWith('NOSCRIPT')) throw error;
      shas.delete(script);
      return client.sendCommand(['EVALSHA', await load(script), '1', prefix + key, ...args]);
    }
  }

  return {
    async claim(id, { fingerprint, owner, now, until }) {
      const reply = await run(CLAIM, id, [String(now), String(until), owner, fingerprint, ttl(until, now)]);
      if (Number(reply[0]) === 1) return { claimed: true };
      return {
        claimed: false,
        fingerprint: String(reply[1]),
        until: Number(reply[2]),
        response: reply[3] === null || reply[3] === undefined ? null : fromBase64(String(reply[3])),
      };
    },

    async complete(id, { owner, response, now, until }) {
      return Number(await run(COMPLETE, id, [owner, toBase64(response), String(until), ttl(until, now)])) === 1;
    },

    async release(id, owner) {
      return Number(await run(RELEASE, id, [owner])) === 1;
    },
  };
}
