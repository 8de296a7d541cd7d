// The memory store's two calls into the core, alone in a loop: claimInText
// (admission, fingerprint, claim) and finishIn (settle, store), fresh keys,
// as expressIdempotency makes them for one request. Compared with what the
// same calls cost inside a server (server-inprocess.js), the difference is
// what the rest of the request does to them (caches), not their own work.
//   node bench/server-core-calls.js [requests per round] [rounds]
// DF_SERVER=<path to a build's server/node.js> measures that build.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';

const entry = process.env.DF_SERVER ?? createRequire(import.meta.url).resolve('durafetch/server');
const { Engine, MemoryRecords } = await import(pathToFileURL(path.join(path.dirname(entry), 'server.js')).href);
// The module must be initialised by its entry point first.
await import(pathToFileURL(entry).href);

const perRound = Number(process.argv[2] ?? 10_000);
const rounds = Number(process.argv[3] ?? 12);
const engine = new Engine({});
const records = new MemoryRecords(crypto.getRandomValues(new Uint8Array(16)));
const body = '{"item":"coffee","qty":1}';
const headers = 'x-powered-by:Express\ncontent-type:application/json; charset=utf-8\ncontent-length:26\netag:W/"1a-0123456789abcdef0123456789"\n';
const answer = new Uint8Array(Buffer.from('{"id":123,"item":"coffee"}'));
let n = 0;
console.log(`${rounds} rounds × ${perRound} fresh keys; µs per call (records kept, as a server keeps them)\n`);
console.log('| round | claimInText | finishIn |\n| ---: | ---: | ---: |');
for (let round = 0; round < rounds; round++) {
  let claiming = 0n;
  let finishing = 0n;
  for (let i = 0; i < perRound; i++) {
    n += 1;
    const key = `core-${process.pid}-${n}`;
    const owner = `0123456789abcdef${n.toString(36)}`;
    const t0 = process.hrtime.bigint();
    const claimed = engine.claimInText(records, 'POST', key, '/orders', body, undefined, owner, Date.now());
    const t1 = process.hrtime.bigint();
    engine.finishIn(records, key, owner, 201, headers, answer, Date.now());
    finishing += process.hrtime.bigint() - t1;
    claiming += t1 - t0;
    if (claimed !== true) throw new Error(`not claimed: ${JSON.stringify(claimed)}`);
  }
  console.log(`| ${round} | ${(Number(claiming) / perRound / 1000).toFixed(2)} | ${(Number(finishing) / perRound / 1000).toFixed(2)} |`);
}
