// Turns the sections' JSON into one Markdown table: a row per figure, a
// column per library. A peer's cell shows its figure and "×N" = durafetch's
// figure ÷ that peer's, measured in the same run.
const PEERS = ['raw fetch', 'ky', 'cockatiel', 'fetch-retry', 'axios+axios-retry', 'workbox-background-sync'];
// Each section's name for a peer column.
const CPU_NAMES = { 'raw fetch': 'raw', ky: 'ky', cockatiel: 'cockatiel', 'fetch-retry': 'fetch-retry', 'axios+axios-retry': 'axios+axios-retry' };
const APP_NAMES = { ky: 'ky', cockatiel: 'cockatiel retry+breaker', 'fetch-retry': 'fetch-retry', 'axios+axios-retry': 'axios+axios-retry', 'workbox-background-sync': 'workbox-background-sync' };

const fmt = (n) => (n === undefined || n === null || Number.isNaN(n) ? '—'
  : Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2));
const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;
const pick = (section, names, field) => Object.fromEntries(Object.entries(names)
  .filter(([, name]) => section?.[name] !== undefined).map(([col, name]) => [col, field(section[name])]));

function row(figure, durafetch, { text, peers = {}, peerText = fmt, target = '', met = null } = {}) {
  return { figure, durafetch, text: text ?? fmt(durafetch), peers, peerText, target, met };
}

// Issue 12's targets are ratios to raw fetch, measured side by side.
function cpuRows(cpu) {
  if (!cpu) return [];
  const raw = cpu.raw.p50;
  const rawPost = cpu['raw POST'].p50;
  const get = cpu.durafetch.p50 / raw;
  const post = cpu['durafetch keyed POST'].p50 / rawPost;
  return [
    row('CPU per call, GET, p50 µs (stub fetch)', cpu.durafetch.p50, {
      text: `${fmt(cpu.durafetch.p50)} (${get.toFixed(2)}× raw, +${fmt(cpu.durafetch.p50 - raw)} µs)`,
      peers: pick(cpu, CPU_NAMES, (r) => r.p50), target: '≤ 1.3× raw', met: get <= 1.3,
    }),
    row('CPU per call, keyed POST (memory store), p50 µs (stub fetch)', cpu['durafetch keyed POST'].p50, {
      text: `${fmt(cpu['durafetch keyed POST'].p50)} (${post.toFixed(2)}× raw POST, +${fmt(cpu['durafetch keyed POST'].p50 - rawPost)} µs)`,
      peers: { 'raw fetch': rawPost }, target: '≤ 1.8× raw POST', met: post <= 1.8,
    }),
  ];
}

function loopbackRows(lb) {
  if (!lb) return [];
  const names = { ...CPU_NAMES, 'raw fetch': 'raw' };
  const mk = (label, own, field, unitField, unit) => row(label, lb[own][field], {
    text: `${fmt(lb[own][field])} (${fmt(lb[own][unitField])} ${unit})`,
    peers: own.includes('POST') ? { 'raw fetch': lb['raw POST'][field] } : pick(lb, names, (r) => r[field]),
    peerText: (v, col) => `${fmt(v)} (${fmt((own.includes('POST') ? lb['raw POST'] : lb[names[col]])[unitField])} ${unit})`,
    ...(own.includes('POST') ? { target: '≤ 1.10', met: lb[own][field] <= 1.10 } : { target: '≤ 1.05', met: lb[own][field] <= 1.05 }),
  });
  const pin = lb.pinned ? 'pinned' : 'not pinned';
  return [
    mk(`Loopback HTTP, sequential GET: p50 ÷ raw fetch's (${pin})`, 'durafetch', 'seqRatio', 'seqP50Us', 'µs'),
    mk('Loopback HTTP, sequential keyed POST: p50 ÷ raw POST\'s', 'durafetch keyed POST', 'seqRatio', 'seqP50Us', 'µs'),
    mk(`Loopback HTTP, ${lb.concurrency} in flight GET: batch time ÷ raw's`, 'durafetch', 'concRatio', 'concReqPerS', 'req/s'),
    mk(`Loopback HTTP, ${lb.concurrency} in flight keyed POST: batch time ÷ raw POST's`, 'durafetch keyed POST', 'concRatio', 'concReqPerS', 'req/s'),
  ];
}

const int = (n) => n.toLocaleString('en-US');

function durableRows(d) {
  if (!d) return [];
  if (d.na) return [row('Chromium durable POST (IndexedDB), p50 ms', null, { text: `n/a (${d.na})` })];
  const durable = d['durafetch durable POST, IndexedDB'];
  const memory = d['durafetch keyed POST, memory store'];
  const both = (s) => `${fmt(s.p50Ms)} / ${fmt(s.p99Ms)}`;
  const vsRaw = { peers: { 'raw fetch': d.raw.p50Ms }, peerText: () => both(d.raw) };
  const added = (p) => row(`Chromium durable POST, added latency over memory store, ${p} ms (${int(d.calls)} calls each, interleaved)`,
    d.added[`${p}Ms`], {
      text: `+${fmt(d.added[`${p}Ms`])} (${fmt(durable[`${p}Ms`])} − ${fmt(memory[`${p}Ms`])})`,
      ...(p === 'p50' ? { target: '≤ +1 ms', met: d.added.p50Ms <= 1 } : { target: '≤ +3 ms', met: d.added.p99Ms <= 3 }),
    });
  return [
    row('Chromium keyed POST, memory store: p50 / p99 ms', memory.p50Ms, { text: both(memory), ...vsRaw }),
    row('Chromium durable POST (IndexedDB put + delete): p50 / p99 ms', durable.p50Ms, { text: both(durable), ...vsRaw }),
    added('p50'),
    added('p99'),
    ...sustainedRows(d.sustained),
  ];
}

/** 10,000 durable POSTs at 16 in flight; met only if every one was answered,
 * persisted and deleted, and nothing is left in the outbox. */
function sustainedRows(s) {
  if (!s) return [];
  const problems = [
    s.ok !== s.ops && `${int(s.ops - s.ok)} not answered 200`,
    (s.puts < s.ops || s.deletes < s.ops) && `only ${int(s.puts)} puts / ${int(s.deletes)} deletes`,
    (s.outboxAfter !== 0 || s.pendingAfter !== 0) && `outbox not empty: ${s.outboxAfter} records, ${s.pendingAfter} pending`,
    s.serverKeys !== s.ops && `server saw ${int(s.serverKeys)} distinct keys`,
  ].filter(Boolean);
  const checks = problems.length ? `**${problems.join('; ')}**`
    : `all ${int(s.ops)} answered 200; ${int(s.puts)} puts / ${int(s.deletes)} deletes on the outbox; empty after: 0 records, 0 pending`;
  const raw = s.reference.raw;
  const byHand = s.reference['by hand'];
  const byHandText = byHand.failed ? `**${byHand.failed} failed**` : fmt(byHand.opsPerS);
  return [
    row(`Chromium sustained durable POSTs, ${int(s.ops)} at ${s.inFlight} in flight, ops/s`, s.opsPerS, {
      text: `${fmt(s.opsPerS)} (${fmt(s.seconds)} s; outbox by hand, IndexedDB put → fetch → delete, ` +
        `same pool, ${int(byHand.ops)} POSTs: ${byHandText}; ${checks})`,
      peers: { 'raw fetch': raw.opsPerS }, peerText: (v) => `${fmt(v)} (${int(raw.ops)} POSTs)`,
      target: '≥ 90% of raw fetch\'s, and above the outbox by hand',
      met: s.opsPerS >= 0.9 * raw.opsPerS && !byHand.failed && s.opsPerS > byHand.opsPerS && problems.length === 0,
    }),
  ];
}

function coldRows(cold) {
  if (!cold) return [];
  const rows = [];
  const node = cold.node;
  rows.push(row('Cold start, Node: `await createClient()` ms (fresh process)', node.durafetch.createMs, {
    text: `${fmt(node.durafetch.createMs)} (import ${fmt(node.durafetch.importMs)})`,
    target: '≤ 8 ms', met: node.durafetch.createMs <= 8,
  }));
  rows.push(row('Cold start, Node: import + create client, ms', node.durafetch.totalMs, { peers: pick(node, APP_NAMES, (r) => r.totalMs) }));
  const ch = cold.chromium;
  if (ch.skipped) return [...rows, row('Cold start, Chromium', null, { text: `n/a (${ch.skipped})` })];
  const pkg = ch['durafetch (pkg files)'];
  const mem = ch['durafetch (pkg files), store: memory'];
  rows.push(row('Cold start, Chromium: `await createClient()` ms (new page, cache off)', pkg.createMs, {
    text: `${fmt(pkg.createMs)} (store: memory ${fmt(mem.createMs)}; import ${fmt(pkg.importMs)})`,
    target: '≤ 15 ms', met: pkg.createMs <= 15,
  }));
  rows.push(row('Cold start, Chromium: import + create, bundled consumer app, ms', ch['durafetch (bundled)'].totalMs, {
    peers: pick(ch, APP_NAMES, (r) => r.totalMs),
  }));
  return rows;
}

// Issue 16's goals: gzip -9 of what each page downloads (bundle + .wasm).
const PAGE_GOALS = { 'createClient + fetch': 30 * 1024, 'with workflows': 45 * 1024 };
const PAGE_NAMES = {
  'createClient + fetch': 'a page that does createClient + fetch',
  'with workflows': 'a page with a workflow registered',
  'service worker': 'a service worker that calls handleBackgroundSync',
};

function sizeRows(size) {
  if (!size) return [];
  const z = (s) => `${kb(s.raw)} / ${kb(s.gzip)} / ${kb(s.brotli)}`;
  const rows = [];
  for (const [name, s] of Object.entries(size.files)) rows.push(row(`Size, pkg/${name}: raw / gzip -9 / brotli`, s.gzip, { text: z(s) }));
  const appGzip = pick(size.bundles, APP_NAMES, (s) => s.gzip);
  for (const [name, page] of Object.entries(size.pages)) {
    const goal = PAGE_GOALS[name];
    rows.push(row(`Size, ${PAGE_NAMES[name] ?? name} (esbuild --minify bundle + ${page.wasm.join(' + ')}): raw / gzip -9 / brotli`, page.total.gzip, {
      text: `${z(page.total)} (bundle ${kb(page.js.gzip)} gzip)`,
      ...(name === 'createClient + fetch' ? { peers: appGzip, peerText: (v, col) => z(size.bundles[APP_NAMES[col]]) } : {}),
      ...(goal ? { target: `≤ ${kb(goal)} gzip`, met: page.total.gzip <= goal } : {}),
    }));
    rows.push(row(`Size budget, ${name} (bench/size-budget.json), gzip -9 B`, page.total.gzip, {
      text: `${page.total.gzip} of ${page.budget}`, target: '≤ budget', met: page.total.gzip <= page.budget,
    }));
  }
  return rows;
}

/** One row per strategy: µs per call over the floor without any signal. */
function abortRows(a) {
  if (!a) return [];
  const floor = a['no signal'].p50;
  return Object.entries(a).map(([name, r]) => row(`Cancelling an attempt: ${name}, p50 µs per call (stub fetch)`, r.p50, {
    text: `${fmt(r.p50)} (+${fmt(r.p50 - floor)} µs over no signal)`,
  }));
}

/** The per-operation curve; met when N=2000 costs within 1.5× of N=250 per operation. */
function scaleRows(scale) {
  if (!scale) return [];
  const rows = [];
  const first = String(scale.sizes[0]);
  const curve = (runs, field) => scale.sizes.map((n) => `${int(n)}: ${fmt(runs[n][field])}`).join(', ');
  const ratio = (runs, field) => runs['2000'][field] / runs[first][field];
  const lane = (where, runs) => {
    for (const [field, what] of [['queueMsPerOp', 'queue'], ['drainMsPerOp', 'drain']]) {
      const r = ratio(runs, field);
      rows.push(row(`Outbox at scale, ${where}: ${what} ms per operation at N = ${scale.sizes.map(int).join(' / ')}`, r, {
        text: `${curve(runs, field)} (N=2,000 ÷ N=${int(Number(first))}: ${r.toFixed(2)}×${field === 'drainMsPerOp' ? `; ${fmt(runs['2000'].drainOpsPerS)} ops/s at 2,000` : ''})`,
        target: '≤ 1.5× of N=250', met: r <= 1.5,
      }));
    }
  };
  lane('Node, durable adapter (a Map)', scale.node);
  if (scale.chromium.skipped) rows.push(row('Outbox at scale, Chromium', null, { text: `n/a (${scale.chromium.skipped})` }));
  else lane('Chromium, IndexedDB', scale.chromium.runs);
  return rows;
}

function memoryRows(m) {
  if (!m) return [];
  const series = (field, unit) => `${m.start[field]} → ${m.after10k[field]} → ${m.after20k[field]} ${unit}`;
  const grew = (field, slack) => m.after20k[field] - m.after10k[field] <= slack;
  return [
    row('Memory, wasm linear memory: start → 10k → 20k ops (after gc)', m.after10k.wasmKiB - m.start.wasmKiB, {
      text: series('wasmKiB', 'KiB'), target: 'flat after warm-up (±1 page)', met: grew('wasmKiB', 64),
    }),
    row('Memory, JS heap used: start → 10k → 20k ops (after gc)', m.after10k.heapKiB - m.start.heapKiB, {
      text: series('heapKiB', 'KiB'), target: 'near start (< +256 KiB per 10k)', met: grew('heapKiB', 256),
    }),
  ];
}

export function buildRows(r) {
  return [...cpuRows(r.cpu), ...abortRows(r.abort), ...loopbackRows(r.loopback), ...durableRows(r.durable), ...coldRows(r.cold),
    ...scaleRows(r.scale), ...sizeRows(r.size), ...memoryRows(r.memory)];
}

export function renderTable(rows) {
  const head = ['Figure', 'durafetch', ...PEERS, 'Target', 'Met'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => ' --- ').join('|')}|`];
  for (const r of rows) {
    const peers = PEERS.map((col) => {
      const v = r.peers[col];
      if (v === undefined) return '';
      const ratio = r.durafetch !== null && v ? ` · ×${(r.durafetch / v).toFixed(2)}` : '';
      return `${r.peerText(v, col)}${ratio}`;
    });
    const met = r.met === null ? '' : r.met ? 'yes' : '**no**';
    lines.push(`| ${[r.figure, r.text, ...peers, r.target, met].join(' | ')} |`);
  }
  return lines.join('\n');
}
