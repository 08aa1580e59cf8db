#!/usr/bin/env node
// Where the microseconds go: CPU-profiles a contestant inside workerd (V8 sampling profiler over
// the inspector protocol) while the bench loop (bench/authz/loop.mjs) runs N requests in one
// request, then prints self time grouped by function and by kind (Wasm / JS / native / GC).
//   node bench/profile.mjs [orggate|peer] [unique|same|404] [N]
import http from 'node:http';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import WebSocket from 'ws';
import { startOrigin, startContestant, benchKv, buildPeer } from './lib/stack.mjs';
import { tokenPool, readPool } from './lib/tokens.mjs';

process.stdout.on('error', () => {}); // a closed pipe (| head) must not orphan workerd
const [kind = 'orggate', mode = 'unique', nArg = '3000'] = process.argv.slice(2);
const N = Number(nArg);
const INSPECTOR_PORT = 9229 + Math.floor(Math.random() * 500);

function call(port, method, path, body) {
  return new Promise((resolve, reject) => {
    const r = http.request({
      host: '127.0.0.1', port, method, path, headers: { host: `acme.localhost:${port}` },
    }, (res) => { let b = ''; res.on('data', (d) => { b += d; }); res.on('end', () => resolve(b)); });
    r.on('error', reject);
    r.end(body);
  });
}

const origin = await startOrigin();
// BUILD=target-prof/worker/shim.mjs profiles another build of orggate (bench/profile-build.sh
// makes one that keeps Wasm function names).
let script = kind === 'orggate' ? new URL('./authz/orggate-loop.mjs', import.meta.url).pathname
  : buildPeer('bench/authz/peer-loop.mjs');
if (kind === 'orggate' && process.env.BUILD) {
  const root = new URL('../', import.meta.url).pathname;
  mkdirSync(`${root}bench/.cache`, { recursive: true });
  script = `${root}bench/.cache/profile-loop.mjs`;
  writeFileSync(script, readFileSync(`${root}bench/authz/orggate-loop.mjs`, 'utf8')
    .replace("'../../build/index.js'", JSON.stringify(`../../${process.env.BUILD}`))
    .replace("'./loop.mjs'", "'../authz/loop.mjs'"));
}
const c = await startContestant(kind, { kv: benchKv({ origin }), script, inspectorPort: INSPECTOR_PORT });
try {
  const pool = tokenPool('RS256', 20000);
  await call(c.port, 'POST', '/__bench/load', readPool(pool.path).join('\n'));
  const host = mode === '404' ? 'nope.localhost' : 'acme.localhost';
  const q = (from, n) => `/__bench/run?from=${from}&n=${n}&quiet=${process.env.QUIET ? 1 : 0}&same=${mode === 'unique' ? 0 : 1}&host=${host}&path=/api/reports/q1&origin=${encodeURIComponent(origin.url)}`;
  // COLD=1: profile the isolate's first request through orggate (nothing warmed).
  if (!process.env.COLD) await call(c.port, 'GET', q(19000, 50)); // warm: keys, configs, JIT

  const targets = await (await fetch(`http://127.0.0.1:${INSPECTOR_PORT}/json`)).json();
  const target = targets.find((t) => !String(t.title ?? '').includes('loopback')) ?? targets[0];
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((r) => ws.once('open', r));
  let id = 0;
  const pending = new Map();
  ws.on('message', (m) => {
    const msg = JSON.parse(m);
    if (msg.id && pending.has(msg.id)) { pending.get(msg.id)(msg); pending.delete(msg.id); }
  });
  const send = (method, params = {}) => new Promise((r) => { const i = ++id; pending.set(i, r); ws.send(JSON.stringify({ id: i, method, params })); });
  await send('Profiler.enable');
  await send('Profiler.setSamplingInterval', { interval: 50 });
  await send('Profiler.start');
  const t0 = performance.now();
  const out = await call(c.port, 'GET', q(0, N));
  const wall = performance.now() - t0;
  const { result } = await send('Profiler.stop');
  ws.close();

  const { profile } = result;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const dt = profile.timeDeltas;
  profile.samples.forEach((s, i) => { self.set(s, (self.get(s) ?? 0) + (dt[i + 1] ?? 0)); });
  const fnTotals = new Map();
  const kindTotals = new Map();
  let total = 0;
  for (const [nid, us] of self) {
    const { callFrame: f } = byId.get(nid);
    const isWasm = /wasm/.test(f.url) || /^\$?func\d+|wasm-function/.test(f.functionName);
    const name = `${f.functionName || '(anonymous)'} ${isWasm ? '[wasm]' : (f.url ? `[${f.url.split('/').pop()}:${f.lineNumber}]` : '')}`;
    fnTotals.set(name, (fnTotals.get(name) ?? 0) + us);
    const k = ['(idle)', '(program)', '(garbage collector)', '(root)'].includes(f.functionName) ? f.functionName
      : isWasm ? 'wasm' : f.url ? 'js' : 'native/builtin';
    kindTotals.set(k, (kindTotals.get(k) ?? 0) + us);
    total += us;
  }
  // Callers of the heaviest nameless native frames (console.log? crypto?), by parent function.
  const parent = new Map();
  for (const n of profile.nodes) for (const ch of n.children ?? []) parent.set(ch, n.id);
  const anonCallers = new Map();
  for (const [nid, us] of self) {
    const { callFrame: f } = byId.get(nid);
    if (f.functionName || f.url) continue;
    const pf = byId.get(parent.get(nid))?.callFrame;
    const pname = pf ? `${pf.functionName || '(anonymous)'} ${pf.url ? `[${pf.url.split('/').pop()}:${pf.lineNumber}:${pf.columnNumber}]` : ''}` : '?';
    anonCallers.set(pname, (anonCallers.get(pname) ?? 0) + us);
  }
  console.log(`${kind} ${mode}: ${N} requests in one request, ${wall.toFixed(0)} ms wall (${(wall * 1000 / N).toFixed(0)} us/request); ${out}`);
  console.log('self time by kind (us/request):');
  for (const [k, us] of [...kindTotals].sort((a, b) => b[1] - a[1])) console.log(`  ${k.padEnd(22)} ${(us / N).toFixed(1).padStart(8)}  ${(100 * us / total).toFixed(1)}%`);
  console.log('top functions by self time (us/request):');
  for (const [k, us] of [...fnTotals].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`  ${(us / N).toFixed(1).padStart(8)}  ${(100 * us / total).toFixed(1).padStart(5)}%  ${k}`);
  // Inclusive time of Wasm functions (each function counted once per stack): where the core's
  // microseconds go, callees included. INCLUSIVE=N prints the top N.
  const inclusive = new Map();
  for (const [nid, us] of self) {
    const seen = new Set();
    for (let at = nid; at !== undefined; at = parent.get(at)) {
      const { callFrame: f } = byId.get(at);
      if (!(/wasm/.test(f.url) || /^\$?func\d+|wasm-function/.test(f.functionName))) continue;
      const name = f.functionName.replace(/::h[0-9a-f]{16}$/, '');
      if (seen.has(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + us);
    }
  }
  const topIncl = Number(process.env.INCLUSIVE ?? 0);
  if (topIncl) {
    console.log('Wasm functions by inclusive time (us/request):');
    for (const [k, us] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, topIncl)) console.log(`  ${(us / N).toFixed(1).padStart(8)}  ${k.slice(0, 150)}`);
  }
  console.log('nameless native frames, by caller (us/request):');
  for (const [k, us] of [...anonCallers].sort((a, b) => b[1] - a[1]).slice(0, 8)) console.log(`  ${(us / N).toFixed(1).padStart(8)}  ${k}`);
} finally {
  await c.close();
  await origin.close();
}
