// redisStore(client, options): records in Redis (one server, or a Redis /
// Valkey Cluster), shared by every process that uses it. A record is one
// string under the key alone (one slot in a cluster), and each step is one
// atomic command, one round trip:
//   claim:    SET key <in flight> NX GET PX <lease>: writes the claim if the
//             key is free, else answers the record that holds it;
//   complete: a two-line Lua script: if the record is still this owner's
//             claim, SET key <answer> PX <ttl>;
//   release:  the same comparison, then DEL.
// The record, as the bytes of one string (read back as they were written):
//   in flight:  F<owner>\n<fingerprint>
//   completed:  D<fingerprint>\n<the answer's bytes>
//
// Time is Redis's: the lease and the ttl are PX, which Redis counts on its
// own clock and enforces itself (a record past its PX is gone, for every
// reader), so app servers whose clocks disagree still agree on who holds a
// key, with no TIME call and no stored deadline to compare.
//
// Redis before 7.0 refuses NX together with GET: the claim then runs as a
// Lua script (GET, else SET NX PX) on that store from the first refusal on.
// A record written by the previous format of this store (a hash: a process
// of an older version still running) is read as it is: a claim of its key
// is answered with its fingerprint and answer, never run again.
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

// ARGV: the in-flight record's first line with its newline ('F' owner '\n'),
// the answer's bytes, ttl ms. The answer's record takes the fingerprint from
// the claim's own. A record that is not that claim any more (released, taken
// over after its lease, completed, another format) is left as it is.
const COMPLETE = `local v = redis.pcall('GET', KEYS[1])
if type(v) ~= 'string' or string.sub(v, 1, #ARGV[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], 'D' .. string.sub(v, #ARGV[1] + 1) .. '\\n' .. ARGV[2], 'PX', ARGV[3])
return 1
`;

// ARGV: the in-flight record's first line with its newline.
const RELEASE = `local v = redis.pcall('GET', KEYS[1])
if type(v) ~= 'string' or string.sub(v, 1, #ARGV[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
`;

// The claim for Redis < 7.0. ARGV: the in-flight record, lease ms.
const CLAIM = `local v = redis.call('GET', KEYS[1])
if v then return v end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false
`;

// Bytes <-> a string of the same length, one character per byte (latin1).
// Clients send strings as UTF-8 and decode replies from UTF-8, so every
// byte comes back as it was: no base64, and a JSON answer reads as itself.
const toText = (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
const fromText = (text) => {
  const b = Buffer.from(text, 'latin1');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
};
const fromBase64 = (text) => {
  const b = Buffer.from(text, 'base64');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
};

/** The record another claim left under the key, as a claim reply. */
function existing(value) {
  const text = String(value);
  const nl = text.indexOf('\n');
  if (nl > 0 && text.charCodeAt(0) === 68 /* D */) {
    return { claimed: false, fingerprint: text.slice(1, nl), response: fromText(text.slice(nl + 1)) };
  }
  if (nl > 0 && text.charCodeAt(0) === 70 /* F */) {
    return { claimed: false, fingerprint: text.slice(nl + 1), response: null };
  }
  throw new Error('redisStore: the record under this key is not one this store wrote');
}

async function sha1(text) {
  const digest = await crypto.subtle.digest('SHA-1', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

const messageOf = (error) => String(error?.message ?? error);
const isNoScript = (error) => /NOSCRIPT/.test(messageOf(error));
const isWrongType = (error) => /WRONGTYPE/.test(messageOf(error));
const isSyntaxError = (error) => /syntax error/i.test(messageOf(error));

function option(name, value, check, expected) {
  if (value !== undefined && !check(value)) {
    throw IdempotencyError.invalidOption(`redisStore(client, { ${name} })`, expected, value);
  }
}

const CLAIMED = Object.freeze({ claimed: true });

export function redisStore(client, { prefix = 'durafetch:idempotency:', replicas = 0, replicaTimeoutMs = 500 } = {}) {
  const redis = commanderOf(client);
  option('prefix', prefix, (p) => typeof p === 'string', 'a string');
  option('replicas', replicas, (n) => Number.isSafeInteger(n) && n >= 0 && n <= 16, 'an integer from 0 to 16');
  option('replicaTimeoutMs', replicaTimeoutMs, (n) => Number.isSafeInteger(n) && n >= 1 && n <= 60_000, 'an integer number of milliseconds from 1 to 60000');
  // Each script with its SHA-1, known once computed (crypto.subtle is asynchronous).
  const script = (source) => {
    const entry = { source, sha: undefined };
    entry.pending = sha1(source).then((sha) => { entry.sha = sha; });
    return entry;
  };
  const complete = script(COMPLETE);
  const release = script(RELEASE);
  const claimScript = script(CLAIM);
  const wait = ['WAIT', String(replicas), String(replicaTimeoutMs)];
  let setNxGet = true; // false once Redis (< 7.0) refused NX with GET

  // A WAIT that fails counts as no replica: during a failover it can reach
  // the old master, now a replica, while the write was redirected. The
  // claim is then given back (503), never trusted.
  const waitReplicas = (key) => redis.send(key, wait).then(Number, () => 0);

  // Without replicas: the reply. With replicas > 0, a WAIT is written right
  // behind the command on the same connection, so it waits for that write:
  // [reply, replicas that acknowledged].
  const send = replicas === 0
    ? (key, args) => redis.send(key, args)
    : (key, args) => Promise.all([redis.send(key, args), waitReplicas(key)]);

  // EVALSHA; a node that does not know the script yet (a cluster node never
  // asked, a restarted Redis) gets EVAL, which also caches it there. The
  // answer goes to `then` in the reply's own reaction (one hop, not two).
  function run(entry, key, args, then) {
    if (entry.sha === undefined) return entry.pending.then(() => run(entry, key, args, then));
    return send(key, ['EVALSHA', entry.sha, '1', key, ...args]).then(then, (error) => {
      if (!isNoScript(error)) throw error;
      return send(key, ['EVAL', entry.source, '1', key, ...args]).then(then);
    });
  }

  // A hash under the key: a record of this store's previous format.
  function legacy(error, key) {
    if (!isWrongType(error)) throw error;
    return redis.send(key, ['HMGET', key, 'fp', 'resp']).then(([fingerprint, response]) => {
      if (fingerprint === null || fingerprint === undefined) throw new Error('redisStore: the record under this key is not one this store wrote');
      return { claimed: false, fingerprint: String(fingerprint), response: response ? fromBase64(String(response)) : null };
    });
  }

  async function giveBack(key, owner, acked) {
    // Not on enough replicas to survive a failover: give it back, fail closed (503).
    await run(release, key, [`F${owner}\n`], undefined).catch(() => {});
    throw new Error(`redisStore: the claim reached ${acked} of ${replicas} replicas within ${replicaTimeoutMs} ms (WAIT); answered 503`);
  }

  function claimed(key, owner, answer) {
    const [reply, acked] = replicas === 0 ? [answer, 0] : answer;
    if (reply !== null && reply !== undefined) return existing(reply);
    return acked < replicas ? giveBack(key, owner, acked) : CLAIMED;
  }

  return {
    /** Which client it talks through: 'node-redis', 'node-redis-cluster', 'ioredis', 'ioredis-cluster' or 'custom'. */
    client: redis.kind,
    replicas,

    claim(id, { fingerprint, owner, leaseMs }) {
      const key = prefix + id;
      const record = `F${owner}\n${fingerprint}`;
      const lease = String(leaseMs);
      const answered = (answer) => claimed(key, owner, answer);
      const byScript = () => run(claimScript, key, [record, lease], answered).then(undefined, (error) => legacy(error, key));
      if (!setNxGet) return byScript();
      return send(key, ['SET', key, record, 'NX', 'GET', 'PX', lease]).then(answered, (error) => {
        if (!isSyntaxError(error)) return legacy(error, key);
        setNxGet = false; // Redis < 7.0: from now on, the script
        return byScript();
      });
    },

    // With replicas > 0 the answer is WAITed for too, before it is sent. An
    // answer fewer replicas acknowledged is reported as a failure, so the
    // engine stores it again (on the new master, after a failover) while the
    // lease holds, instead of leaving an in-flight record that would run the
    // handler again once the lease ends.
    complete(id, { owner, response, ttlMs }) {
      return run(complete, prefix + id, [`F${owner}\n`, toText(response), String(ttlMs)], (answer) => {
        const [reply, acked] = replicas === 0 ? [answer, 0] : answer;
        if (Number(reply) === 1 && acked < replicas) {
          throw new Error(`redisStore: the answer reached ${acked} of ${replicas} replicas within ${replicaTimeoutMs} ms (WAIT)`);
        }
        return Number(reply) === 1;
      });
    },

    release(id, owner) {
      return run(release, prefix + id, [`F${owner}\n`], (answer) => Number(replicas === 0 ? answer : answer[0]) === 1);
    },
  };
}
