// The one thing redisStore needs from a Redis client: send a command that
// touches `key` to the node that holds `key`. Each client library spells it
// differently; this file tells them apart, as they are (no wrapper to write),
// and refuses at once anything that is none of them, naming what it accepts.
//   node-redis v4-v6, one server (createClient):  client.sendCommand(args)
//   node-redis v4-v6, a cluster (createCluster):  cluster.sendCommand(key, false, args)
//   ioredis Redis or Cluster:                      client.call(name, ...args)
//   anything else:                                  { sendCommand(args, key) }
// A client that cannot work (never connected, or closed by the app) is
// refused at its first command with an IdempotencyError saying what to do:
// not a 503 per request, which would look like an outage.
import { IdempotencyError } from '../errors.js';
import { slotOf } from './redis-slot.js';

function describe(client) {
  if (client === null || client === undefined) return String(client);
  if (typeof client !== 'object') return `a ${typeof client}`;
  return client.constructor?.name ? `a ${client.constructor.name}` : 'an object';
}

const notConnected = (what) => new IdempotencyError('invalid-store',
  `redisStore(client): the ${what} is not connected. Call \`await client.connect()\` before serving requests ` +
  '(a client that is reconnecting after an outage is fine: its requests get 503 until Redis is back).');

function nodeRedis(client, isCluster) {
  const what = isCluster ? 'node-redis cluster client' : 'node-redis client';
  return {
    kind: isCluster ? 'node-redis-cluster' : 'node-redis',
    isCluster,
    send: isCluster
      ? (key, args) => (client.isOpen === false ? Promise.reject(notConnected(what)) : client.sendCommand(key, false, args))
      : (key, args) => (client.isOpen === false ? Promise.reject(notConnected(what)) : client.sendCommand(args)),
  };
}

function ioredis(client) {
  const closed = () => new IdempotencyError('invalid-store',
    'redisStore(client): the ioredis client was closed (status "end"): pass a client that is open, and quit it only after the server stops');
  const call = (target, args) => target.call(args[0], ...args.slice(1));
  // ioredis routes a command by the keys it finds in it; WAIT has none, so it
  // is sent to the master of the key's slot, on the connection that carried
  // the write it waits for.
  const masterOf = async (key) => {
    const nodeKey = client.slots?.[slotOf(key)]?.[0];
    const node = nodeKey && client.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === nodeKey);
    if (!node) throw new Error(`ioredis cluster: no master known for ${JSON.stringify(key)} yet`);
    return node;
  };
  return {
    kind: client.isCluster ? 'ioredis-cluster' : 'ioredis',
    isCluster: client.isCluster,
    send(key, args) {
      if (client.status === 'end') return Promise.reject(closed());
      const sent = client.isCluster && args[0] === 'WAIT' ? masterOf(key).then((node) => call(node, args)) : call(client, args);
      // A client quit() just before may still be closing: its refusal is the same setup error.
      return sent.catch((error) => { throw client.status === 'end' ? closed() : error; });
    },
  };
}

/** `{ kind, isCluster, send(key, args) => Promise }` for any client redisStore accepts. */
export function commanderOf(client) {
  if (client && typeof client === 'object' && typeof client.isCluster === 'boolean' && typeof client.call === 'function') {
    return ioredis(client);
  }
  if (client && typeof client === 'object' && typeof client.sendCommand === 'function') {
    const isCluster = 'masters' in client || typeof client.getMasters === 'function';
    if (isCluster || 'isOpen' in client) return nodeRedis(client, isCluster);
    return { kind: 'custom', isCluster: false, send: (key, args) => client.sendCommand(args, key) };
  }
  throw new IdempotencyError('invalid-store',
    'redisStore(client): expected a node-redis client or cluster (createClient() / createCluster() from "redis", v4 to v6), ' +
    `an ioredis Redis or Cluster, or an object with sendCommand(args, key); got ${describe(client)}`);
}
