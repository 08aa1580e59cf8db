#!/usr/bin/env node
// orggate vs the jose peer (bench/peer/), in workerd through Miniflare, on 127.0.0.1.
//
//   node bench/run.mjs            full run (`make bench`, ~10 min on 2 cores)
//   node bench/run.mjs --smoke    ~45 s: 1 round, 1 s a run, fewer cases, writes nothing (`make bench-smoke`)
//   options: --rounds R --seconds D --only case1,case2 --orgs N (the big KV) --no-write
//            --baseline DIR (inproc: an earlier build/ copied to DIR, measured as "before")
//
// Throughput cases drive each contestant with `wrk -t2 -c16 -d{D}s`, contestants alternating
// within a round, R rounds; we report medians, min-max and per-round ratios (orggate/peer, or
// big/small for the scale cases). Nothing here asserts a timing: only that every contestant
// answers the expected status before it is measured (else the numbers would measure an error).
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import {
  cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync,
} from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { gzipSync } from 'node:zlib';
import http from 'node:http';
import { parseArgs } from 'node:util';
import { Miniflare } from 'miniflare';
import {
  benchKv, buildPeer, contestantOptions, request, seedKv, seedViaWorker, startContestant, startOrigin,
} from './lib/stack.mjs';
import {
  mint, readPool, tamper, tokenPool,
} from './lib/tokens.mjs';
import { runWrk } from './lib/wrk.mjs';
import { max, median, min } from './lib/stats.mjs';
import { wasmSections } from './lib/wasm-size.mjs';

const ROOT = new URL('../', import.meta.url).pathname;
process.chdir(ROOT);

const { values: opt } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    only: { type: 'string' },
    orgs: { type: 'string' },
    'no-write': { type: 'boolean', default: false }, // smoke runs never write
    // inproc only: a copy of an earlier build/ (index.js, index_bg.wasm, ...) run as a third
    // contestant, "before", in the same rounds (before/after of one change, side by side)
    baseline: { type: 'string' },
  },
});
const SMOKE = opt.smoke;
const ROUNDS = Number(opt.rounds ?? (SMOKE ? 1 : 5));
const SECONDS = Number(opt.seconds ?? (SMOKE ? 1 : 3));
const BIG_ORGS = Number(opt.orgs ?? (SMOKE ? 1000 : 100_000));
// Seeding 100,000 orgs runs at ~1,000-1,400 puts/s here: bounded so `make bench` stays < 15 min.
const SEED_DEADLINE_MS = SMOKE ? 20_000 : 150_000;
// Unique-token pools: more tokens than a contestant can use in one run (no token is seen twice by
// an isolate: orggate caches verified tokens, up to 10,000). 30,000 covers 10,000 req/s for 3 s;
// a wrap is reported as a warning.
const POOL = SMOKE ? 3000 : Math.max(30_000, SECONDS * 10_000);
const COLD_STARTS = SMOKE ? 1 : 5;
const LOOP_N = SMOKE ? 50 : 500;
const LOOP_ROUNDS = SMOKE ? 1 : 7;
const WANT = opt.only ? new Set(opt.only.split(',')) : null;
const want = (id) => !WANT || WANT.has(id);

const started = new Date();
const log = (...a) => console.error(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s]`, ...a);
const warnings = [];

// ---------------------------------------------------------------------------------------------
// Machine and versions
function sh(cmd, args) {
  try { return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { return null; }
}
const pkgVersion = (name) => JSON.parse(readFileSync(`node_modules/${name}/package.json`, 'utf8')).version;
const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 16);
function machine() {
  const cpuModel = (/model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8')) ?? [])[1] ?? cpus()[0]?.model;
  return {
    nproc: Number(sh('nproc', [])) || cpus().length,
    cpu: cpuModel,
    loadavg_start: loadavg().map((x) => x.toFixed(2)),
    shared: true,
  };
}
function versions() {
  return {
    node: process.version,
    workerd: sh('node_modules/.bin/workerd', ['--version']),
    miniflare: pkgVersion('miniflare'),
    wrangler: pkgVersion('wrangler'),
    jose: pkgVersion('jose'),
    esbuild: pkgVersion('esbuild'),
    wrk: (sh('/usr/bin/wrk', ['-v']) ?? sh('sh', ['-c', '/usr/bin/wrk -v 2>&1 | head -1']) ?? '').split('\n')[0] || sh('sh', ['-c', 'wrk -v 2>&1 | head -1']),
    rustc: sh('rustc', ['--version']),
    git: sh('git', ['rev-parse', '--short', 'HEAD']),
    git_dirty: (sh('git', ['status', '--porcelain', '--', 'src', 'Cargo.toml', 'Cargo.lock']) ?? '').length > 0,
    build_wasm_sha256: sha256('build/worker/index.wasm'),
    build_mtime: statSync('build/worker/index.wasm').mtime.toISOString(),
  };
}

// ---------------------------------------------------------------------------------------------
// KV variants
function orgDoc(id, name, rules = null) {
  return JSON.stringify({
    version: 1,
    org_id: id,
    name,
    display_name: name,
    routes: rules ?? [
      { id: 'reports-read', methods: ['GET', 'HEAD'], path: '/api/reports/*', require: { permissions: ['read:reports'] } },
      { id: 'reports-write', methods: ['POST', 'PUT', 'DELETE'], path: '/api/reports/*', require: { permissions: ['write:reports'] } },
    ],
  });
}

/** acme's routes with `n` rules in all: the benchmark rule plus n-1 others of mixed shapes. */
export function manyRules(n) {
  const rules = [{ id: 'reports-read', methods: ['GET', 'HEAD'], path: '/api/reports/*', require: { permissions: ['read:reports'] } }];
  for (let i = 0; rules.length < n; i++) {
    const shapes = [
      { path: `/api/svc${i}/*`, methods: ['GET'] },
      { path: `/api/reports/r${i}/:id`, methods: ['GET'] },
      { path: `/app/${i}/items/:item/*`, methods: ['GET', 'POST'] },
      { path: `/api/v${i}/reports`, methods: ['PUT'] },
    ];
    const s = shapes[i % shapes.length];
    rules.push({ id: `rule-${i}`, ...s, require: { permissions: [`perm:${i}`] } });
  }
  return rules;
}

function orgEntries(count) {
  const out = [];
  for (let i = 0; i < count; i++) {
    out.push([`name:org${i}`, `org_${i}`]);
    out.push([`org:org_${i}`, orgDoc(`org_${i}`, `org${i}`)]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Results
const results = {
  started: started.toISOString(), smoke: SMOKE, rounds: ROUNDS, seconds: SECONDS, wrk: '-t2 -c16', cases: [], notes: [],
};

async function expectStatus(inst, req, status, what) {
  const r = await request(inst.port, req);
  if (r.status !== status) {
    throw new Error(`${inst.label}: ${what} answered ${r.status}, expected ${status}: ${r.body.slice(0, 300)}`);
  }
}

/**
 * One throughput case: `runs` are measured in order within each round (so contestants alternate).
 * `freshEachRound(run)`: restart that run's instance before each round (unique-token cases).
 */
async function throughputCase({
  id, title, runs, ratio, freshEachRound,
}) {
  if (!want(id)) return;
  log(`case ${id}: ${title}`);
  const per = runs.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, run] of runs.entries()) {
      if (freshEachRound) await freshEachRound(run);
      const r = await runWrk({
        port: run.inst.port, host: run.host ?? 'acme.localhost', path: run.path, token: run.token, pool: run.pool, seconds: SECONDS,
      });
      const expectOk = run.expect === 200;
      const bad = expectOk ? r.non2xx + r.socketErrors : r.socketErrors + (r.requests - r.non2xx);
      if (bad > 0) warnings.push(`${id}/${run.label} round ${round + 1}: ${bad} of ${r.requests} responses were not ${run.expect}`);
      if (run.pool && run.unique && r.poolWraps > 0) warnings.push(`${id}/${run.label} round ${round + 1}: token pool wrapped (${r.poolWraps}x): tokens repeated`);
      per[i].push({
        rps: r.rps, p50ms: r.p50ms, p99ms: r.p99ms, requests: r.requests, unexpected: bad, poolWraps: r.poolWraps,
      });
    }
  }
  const summary = runs.map((run, i) => {
    const rps = per[i].map((x) => x.rps);
    return {
      label: run.label,
      rounds: per[i],
      rps_median: median(rps),
      rps_min: min(rps),
      rps_max: max(rps),
      p50ms_median: median(per[i].map((x) => x.p50ms)),
      p99ms_median: median(per[i].map((x) => x.p99ms)),
    };
  });
  const ratios = (ratio ?? []).map(([a, b]) => {
    const ia = runs.findIndex((r) => r.label === a);
    const ib = runs.findIndex((r) => r.label === b);
    const perRound = per[ia].map((x, k) => x.rps / per[ib][k].rps);
    return {
      of: `${a}/${b}`, per_round: perRound, median: median(perRound), min: min(perRound), max: max(perRound),
    };
  });
  results.cases.push({
    id, title, kind: 'throughput', runs: summary, ratios,
  });
}

// ---------------------------------------------------------------------------------------------
async function main() {
  if (!existsSync('build/worker/index.wasm') || !existsSync('build/index.js')) {
    throw new Error('build/ is missing: run `make build` first');
  }
  results.machine = machine();
  results.versions = versions();
  log(`${SMOKE ? 'smoke' : 'full'} run: ${ROUNDS} round(s) x ${SECONDS}s; build ${results.versions.build_wasm_sha256} (${results.versions.build_mtime})`);

  const closers = [];
  const origin = await startOrigin();
  closers.push(origin.close);
  try {
    await runAll(origin, closers);
  } finally {
    for (const c of closers.reverse()) await c().catch(() => {});
  }
}

async function runAll(origin, closers) {
  buildPeer();
  const kv = benchKv({ origin });

  // Tokens
  const tok = {
    RS256: mint({ alg: 'RS256' }),
    ES256: mint({ alg: 'ES256' }),
    EdDSA: mint({ alg: 'EdDSA' }),
  };
  const noPerm = mint({ alg: 'RS256', permissions: ['read:docs'] });
  const badSig = tamper(mint({ alg: 'RS256' }));
  const pools = {};
  for (const alg of ['RS256', 'ES256', 'EdDSA']) {
    if (alg !== 'RS256' && SMOKE) continue;
    pools[alg] = tokenPool(alg, POOL);
    if (pools[alg].mintMs) log(`minted ${POOL} ${alg} tokens in ${(pools[alg].mintMs / 1000).toFixed(1)} s`);
  }

  // Contestants on the demo KV. Warm each with sequential requests first: orggate answers 503
  // to requests that arrive while its first JWKS fetch is under way (see BENCHMARKS.md).
  const insts = {};
  const start = async (label, kind, kvContent, extra = {}) => {
    const inst = await startContestant(kind, { kv: kvContent, ...extra });
    inst.label = label;
    insts[label] = inst;
    closers.push(() => inst.close());
    return inst;
  };
  const warm = async (inst, host = 'acme.localhost', token = tok.RS256) => {
    await expectStatus(inst, { host, token }, 200, 'warm-up');
    for (const alg of ['ES256', 'EdDSA']) await expectStatus(inst, { host, token: tok[alg] }, 200, `${alg} warm-up`);
  };
  const restart = async (run) => {
    const { inst } = run;
    await inst.close();
    const fresh = await startContestant(inst.kind, { kv });
    Object.assign(inst, fresh, { label: inst.label });
    await warm(inst);
    // JIT warm-up on the repeated token (does not touch the unique pool).
    await runWrk({ port: inst.port, token: tok.RS256, seconds: 1 });
  };
  const og = await start('orggate', 'orggate', kv);
  const peer = await start('peer', 'peer', kv);
  // The ceiling: forwarding with no authorization (repeated-token cases only).
  const pass = await start('passthrough', 'passthrough', kv);
  await expectStatus(pass, { token: tok.RS256 }, 200, 'pass-through warm-up');
  for (const inst of [og, peer]) {
    await warm(inst);
    await expectStatus(inst, { token: noPerm }, 403, 'missing permission');
    await expectStatus(inst, { token: badSig }, 401, 'bad signature');
    await expectStatus(inst, { host: 'acme.localhost', token: mint({ orgId: 'org_globex', orgName: 'globex' }) }, 401, 'other org token');
    await runWrk({ port: inst.port, token: tok.RS256, seconds: SMOKE ? 1 : 2 }); // JIT warm-up
  }

  // (1)-(3) valid tokens, repeated and unique, per algorithm
  for (const alg of ['RS256', 'ES256', 'EdDSA']) {
    await throughputCase({
      id: `${alg.toLowerCase()}-repeated`,
      title: `${alg}: the same valid token on every request (a browser session)`,
      runs: [
        { label: 'orggate', inst: og, token: tok[alg], expect: 200 },
        { label: 'peer', inst: peer, token: tok[alg], expect: 200 },
        ...(alg === 'RS256' ? [{ label: 'passthrough', inst: pass, token: tok[alg], expect: 200 }] : []),
      ],
      ratio: [['orggate', 'peer'], ...(alg === 'RS256' ? [['orggate', 'passthrough']] : [])],
    });
    if (alg === 'RS256') {
      // The same as rs256-repeated but on fresh isolates each round, as the unique cases run:
      // separates "the repeated path is slow" from "a long-lived isolate is slow".
      await throughputCase({
        id: 'rs256-repeated-fresh',
        title: 'RS256: the same valid token on every request, fresh isolates each round',
        runs: [
          { label: 'orggate', inst: og, token: tok[alg], expect: 200 },
          { label: 'peer', inst: peer, token: tok[alg], expect: 200 },
        ],
        ratio: [['orggate', 'peer']],
        freshEachRound: restart,
      });
    }
    if (!pools[alg]) continue;
    await throughputCase({
      id: `${alg.toLowerCase()}-unique`,
      title: `${alg}: a different valid token on every request (${POOL} pre-minted; fresh isolates each round)`,
      runs: [
        { label: 'orggate', inst: og, pool: pools[alg].path, unique: true, expect: 200 },
        { label: 'peer', inst: peer, pool: pools[alg].path, unique: true, expect: 200 },
      ],
      ratio: [['orggate', 'peer']],
      freshEachRound: restart,
    });
  }

  // (4) refusals
  await throughputCase({
    id: 'refused-403',
    title: 'refused: valid token without read:reports (403)',
    runs: [
      { label: 'orggate', inst: og, token: noPerm, expect: 403 },
      { label: 'peer', inst: peer, token: noPerm, expect: 403 },
    ],
    ratio: [['orggate', 'peer']],
  });
  await throughputCase({
    id: 'refused-401',
    title: 'refused: RS256 token with a bad signature (401)',
    runs: [
      { label: 'orggate', inst: og, token: badSig, expect: 401 },
      { label: 'peer', inst: peer, token: badSig, expect: 401 },
    ],
    ratio: [['orggate', 'peer']],
  });

  // (5a) scale: route rules in acme's doc
  if (want('rules')) {
    const withRules = (n) => benchKv({
      origin,
      edit: (e) => {
        const doc = JSON.parse(e['org:org_acme']);
        doc.routes = manyRules(n);
        e['org:org_acme'] = JSON.stringify(doc);
      },
    });
    const r10 = withRules(10);
    const r1000 = withRules(1000);
    const a = await start('orggate-10-rules', 'orggate', r10);
    const b = await start('orggate-1000-rules', 'orggate', r1000);
    const c = await start('peer-10-rules', 'peer', r10);
    const d = await start('peer-1000-rules', 'peer', r1000);
    for (const inst of [a, b, c, d]) {
      await warm(inst);
      await runWrk({ port: inst.port, token: tok.RS256, seconds: 1 });
    }
    await throughputCase({
      id: 'rules',
      title: 'scale: 10 vs 1,000 route rules in the org document (repeated RS256 token, GET /api/reports/q1)',
      runs: [a, b, c, d].map((inst) => ({ label: inst.label, inst, token: tok.RS256, expect: 200 })),
      ratio: [['orggate-1000-rules', 'orggate-10-rules'], ['peer-1000-rules', 'peer-10-rules'],
        ['orggate-10-rules', 'peer-10-rules'], ['orggate-1000-rules', 'peer-1000-rules']],
    });
    for (const inst of [a, b, c, d]) await inst.close();
  }

  // (5a') scale: revocation entries in acme's set (none of them names the benchmark token; the
  // set is read from KV once per `revocation.refresh_s` per isolate and checked on every request).
  if (want('revocations')) {
    const withRevocations = (n) => benchKv({
      origin,
      edit: (e) => {
        const now = Math.floor(Date.now() / 1000);
        const kinds = ['sub', 'sid', 'jti', 'client'];
        const entries = Array.from({ length: n }, (_, i) => ({
          kind: kinds[i % 4], value: `bench-${kinds[i % 4]}-${i}`, at: now, expires: now + 86400,
        }));
        e['revoked:org_acme'] = JSON.stringify({ version: 1, entries });
      },
    });
    const a = await start('orggate-10-revocations', 'orggate', withRevocations(10));
    const b = await start('orggate-100000-revocations', 'orggate', withRevocations(100000));
    for (const inst of [a, b]) {
      await warm(inst);
      await runWrk({ port: inst.port, token: tok.RS256, seconds: 1 });
    }
    await throughputCase({
      id: 'revocations',
      title: 'scale: 10 vs 100,000 revocation entries in the org (repeated RS256 token, not revoked)',
      runs: [a, b].map((inst) => ({ label: inst.label, inst, token: tok.RS256, expect: 200 })),
      ratio: [['orggate-100000-revocations', 'orggate-10-revocations']],
    });
    for (const inst of [a, b]) await inst.close();
  }

  // (5b) scale: orgs in KV. The same requests in both: 10 orgs (org0..org9), one token each.
  if (want('orgs')) {
    const small = { ...benchKv({ origin }), ...Object.fromEntries(orgEntries(10)) };
    const bigKv = benchKv({ origin });
    // Both get the bench-only seeder Worker next to them (idle while measured).
    // KV persisted on tmpfs for both (Miniflare writes one blob file per value: on disk 465
    // puts/s, on tmpfs ~1,400), removed afterwards.
    const shm = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
    const dirs = [`${shm}/orggate-bench-${process.pid}-small`, `${shm}/orggate-bench-${process.pid}-big`];
    closers.push(async () => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });
    const a = await start('orggate-10-orgs', 'orggate', small, { seeder: true, kvPersist: dirs[0] });
    const b = await start('orggate-big-orgs', 'orggate', bigKv, { seeder: true, kvPersist: dirs[1] });
    log(`seeding ${BIG_ORGS} orgs (${2 * BIG_ORGS} KV entries) through a seeder Worker on the same KV namespace...`);
    const seeded = await seedViaWorker(b.mf, orgEntries(BIG_ORGS), { batch: 1000, deadlineMs: SEED_DEADLINE_MS });
    const seedNote = `seeded ${seeded.done} of ${seeded.total} KV entries (${seeded.done >> 1} orgs) in ${(seeded.ms / 1000).toFixed(1)} s (${Math.round(seeded.done / (seeded.ms / 1000))} puts/s, batches of 1,000 put from inside workerd)`;
    log(seedNote);
    results.notes.push(`orgs case: ${seedNote}`);
    b.label = `orggate-${seeded.done >> 1}-orgs`;
    if (seeded.done < seeded.total) warnings.push(`orgs case: seeding stopped at the ${SEED_DEADLINE_MS / 1000} s bound`);
    const lines = [];
    for (let i = 0; i < 10; i++) lines.push(`org${i}.localhost\t${mint({ orgId: `org_${i}`, orgName: `org${i}` })}`);
    const file = `${ROOT}bench/.cache/orgs-10.txt`;
    writeFileSync(file, `${lines.join('\n')}\n`);
    for (const inst of [a, b]) {
      for (const line of lines) {
        const [host, token] = line.split('\t');
        await expectStatus(inst, { host, token }, 200, `${host}`);
      }
      await runWrk({ port: inst.port, pool: file, seconds: 1 });
    }
    await throughputCase({
      id: 'orgs',
      title: `scale: 10 vs ${seeded.done >> 1} orgs in KV (requests cycle over org0..org9, one repeated token each)`,
      runs: [a, b].map((inst) => ({ label: inst.label, inst, pool: file, expect: 200 })),
      ratio: [[b.label, a.label]],
    });
    results.cases.at(-1).seeding = seeded;
    for (const inst of [a, b]) await inst.close();
  }

  // Authorizer cost without the HTTP loop
  if (want('inproc')) await inProcess(origin, kv, pools.RS256, tok);

  // (6) cold start
  if (want('cold')) await coldStart(kv, tok.RS256);

  // (7) size
  if (want('size')) size();
}

// ---------------------------------------------------------------------------------------------
function rawCall(port, method, path, body) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const r = http.request({
      host: '127.0.0.1', port, method, path, headers: { host: `acme.localhost:${port}` }, agent: false,
    }, (res) => {
      let b = '';
      res.on('data', (d) => { b += d; });
      res.on('end', () => resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, status: res.statusCode, body: b }));
    });
    r.on('error', reject);
    r.end(body);
  });
}

/**
 * The authorizer's own cost: bench/authz/loop.mjs wraps each contestant's fetch handler and runs
 * it N times inside one request (forwards answered in-isolate). Timed from node, minus an empty
 * run, divided by N. Sequential: one request at a time, no wrk, no HTTP per authorization.
 */
async function inProcess(origin, kv, pool, tok) {
  log('case inproc: authorizer cost inside one request');
  const og = await startContestant('orggate', { kv, script: `${ROOT}bench/authz/orggate-loop.mjs` });
  const peer = await startContestant('peer', { kv, script: buildPeer('bench/authz/peer-loop.mjs') });
  og.label = 'orggate';
  peer.label = 'peer';
  const contestants = [og, peer];
  if (opt.baseline) {
    // The earlier build is copied under bench/.cache (inside the modules root) with a loop
    // wrapper that imports it, then run exactly like the current one.
    const dir = `${ROOT}bench/.cache/baseline`;
    rmSync(dir, { recursive: true, force: true });
    cpSync(opt.baseline, `${dir}/build`, { recursive: true });
    writeFileSync(`${dir}/loop.mjs`, readFileSync(`${ROOT}bench/authz/orggate-loop.mjs`, 'utf8')
      .replace(/from '\.\.\/\.\.\/build\/index\.js'/, "from './build/index.js'")
      .replace(/from '\.\/loop\.mjs'/, "from '../../authz/loop.mjs'"));
    const base = await startContestant('orggate', { kv, script: `${dir}/loop.mjs` });
    base.label = 'before';
    contestants.splice(1, 0, base);
  }
  try {
    const all = readPool(pool.path);
    // Tokens from the end of the pool; each round uses a new slice (never seen by the isolate).
    const need = 2 * LOOP_N * LOOP_ROUNDS + 10;
    const slice = all.slice(all.length - need);
    const text = [tok.RS256, mint({ alg: 'RS256', permissions: ['read:docs'] }), ...slice].join('\n');
    for (const c of contestants) {
      const r = await rawCall(c.port, 'POST', '/__bench/load', text);
      if (r.status !== 200) throw new Error(`${c.label} loop load: ${r.status} ${r.body}`);
    }
    const q = ({
      from, n, same, host = 'acme.localhost', quiet = false,
    }) => `/__bench/run?from=${from}&n=${n}&same=${same ? 1 : 0}&quiet=${quiet ? 1 : 0}&host=${host}&path=/api/reports/q1&origin=${encodeURIComponent(origin.url)}`;
    const modes = [
      { id: 'unique', title: 'RS256, a new token each time', from: (r) => 2 + 10 + r * LOOP_N, same: false, expect: '200' },
      { id: 'repeated', title: 'RS256, the same token', from: () => 0, same: true, expect: '200' },
      { id: 'refused-403', title: 'RS256, same token, missing permission', from: () => 1, same: true, expect: '403' },
      {
        id: 'unknown-org', title: 'unknown org (404, no token check)', from: () => 0, same: true, host: 'nope.localhost', expect: '404',
      },
      // The same with console.log a no-op: what the one decision line per request costs here.
      {
        id: 'unique-quiet', title: 'RS256, a new token each time, console.log off', from: (r) => 2 + 10 + (LOOP_ROUNDS + r) * LOOP_N, same: false, quiet: true, expect: '200',
      },
      {
        id: 'repeated-quiet', title: 'RS256, the same token, console.log off', from: () => 0, same: true, quiet: true, expect: '200',
      },
      {
        id: 'unknown-org-quiet', title: 'unknown org (404), console.log off', from: () => 0, same: true, host: 'nope.localhost', quiet: true, expect: '404',
      },
    ];
    for (const c of contestants) {
      for (const m of modes) await rawCall(c.port, 'GET', q({ from: 2, n: 5, same: m.same, host: m.host }));
    }
    const per = {};
    for (let round = 0; round < LOOP_ROUNDS; round++) {
      for (const m of modes) {
        for (const c of contestants) {
          const empty = await rawCall(c.port, 'GET', q({ from: 0, n: 0, same: true, host: m.host }));
          const run = await rawCall(c.port, 'GET', q({
            from: m.from(round), n: LOOP_N, same: m.same, host: m.host, quiet: m.quiet,
          }));
          const statuses = JSON.parse(run.body).statuses ?? {};
          if ((statuses[m.expect] ?? 0) !== LOOP_N) warnings.push(`inproc ${m.id}/${c.label}: statuses ${JSON.stringify(statuses)}`);
          ((per[m.id] ??= {})[c.label] ??= []).push(((run.ms - empty.ms) * 1000) / LOOP_N);
        }
      }
    }
    results.cases.push({
      id: 'inproc',
      kind: 'inproc',
      title: `authorizer cost without the HTTP loop: ${LOOP_N} requests inside one request, us per request (${LOOP_ROUNDS} rounds)`,
      modes: modes.map((m) => {
        const a = per[m.id].orggate;
        const b = per[m.id].peer;
        const ratios = a.map((x, k) => b[k] / x); // > 1: orggate faster
        const out = {
          id: m.id,
          title: m.title,
          orggate_us: { median: median(a), min: min(a), max: max(a), rounds: a },
          peer_us: { median: median(b), min: min(b), max: max(b), rounds: b },
          speedup: { median: median(ratios), min: min(ratios), max: max(ratios), per_round: ratios },
        };
        const before = per[m.id].before;
        if (before) {
          const r = a.map((x, k) => before[k] / x); // > 1: the current build is faster
          out.before_us = { median: median(before), min: min(before), max: max(before), rounds: before };
          out.before_speedup = { median: median(r), min: min(r), max: max(r), per_round: r };
        }
        return out;
      }),
    });
  } finally {
    for (const c of contestants) await c.close();
  }
}

/**
 * Cold start: a fresh Miniflare (a new workerd process and isolate) per sample. `ready` covers
 * process start and script compile; the first request then instantiates the module (Wasm for
 * orggate), loads settings and the org, fetches the JWKS, imports the key and verifies.
 */
async function coldStart(kv, token) {
  log('case cold: fresh workerd to first authorized 200');
  const samples = { orggate: [], peer: [] };
  for (let i = 0; i < COLD_STARTS; i++) {
    for (const kind of ['orggate', 'peer']) {
      const t0 = performance.now();
      const mf = new Miniflare(contestantOptions(kind));
      const url = await mf.ready;
      const tReady = performance.now();
      const ns = await mf.getKVNamespace('ORGS');
      await seedKv(ns, kv);
      const tSeeded = performance.now();
      const first = await request(Number(url.port), { token });
      const tFirst = performance.now();
      const second = await request(Number(url.port), { token: mint() });
      const tSecond = performance.now();
      await mf.dispose();
      if (first.status !== 200 || second.status !== 200) warnings.push(`cold ${kind}: statuses ${first.status}/${second.status}`);
      samples[kind].push({
        ready_ms: tReady - t0,
        seed_ms: tSeeded - tReady,
        first_request_ms: tFirst - tSeeded,
        new_to_first_200_ms: (tReady - t0) + (tFirst - tSeeded),
        second_request_ms: tSecond - tFirst,
      });
    }
  }
  const summarize = (xs) => Object.fromEntries(Object.keys(xs[0]).map((k) => {
    const v = xs.map((x) => x[k]);
    return [k, { median: median(v), min: min(v), max: max(v) }];
  }));

  // Wasm alone. node 20's V8 cannot compile this module (exception-handling opcodes), so this runs
  // in Debian's Chromium (a V8 as recent as workerd's) through playwright-core: compile, then
  // instantiate against stub imports. An approximation of workerd, not workerd.
  const wasm = await wasmInChromium().catch((e) => {
    warnings.push(`wasm timing in Chromium skipped: ${e.message.split('\n')[0]}`);
    return null;
  });
  results.cases.push({
    id: 'cold',
    kind: 'cold',
    title: 'cold start',
    orggate: summarize(samples.orggate),
    peer: summarize(samples.peer),
    samples,
    wasm,
  });
}

async function wasmInChromium() {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage();
    const samples = await page.evaluate(async (b64) => {
      const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
      const out = [];
      for (let i = 0; i < 7; i++) {
        const t0 = performance.now();
        const mod = await WebAssembly.compile(bytes);
        const t1 = performance.now();
        const imports = {};
        for (const imp of WebAssembly.Module.imports(mod)) {
          imports[imp.module] ??= {};
          if (imp.kind === 'function') imports[imp.module][imp.name] = () => undefined;
          else if (imp.kind === 'tag') imports[imp.module][imp.name] = WebAssembly.JSTag;
        }
        const t2 = performance.now();
        new WebAssembly.Instance(mod, imports); // eslint-disable-line no-new
        out.push({ compile: t1 - t0, instantiate: performance.now() - t2 });
      }
      return out;
    }, readFileSync('build/worker/index.wasm').toString('base64'));
    const c = samples.map((x) => x.compile);
    const n = samples.map((x) => x.instantiate);
    return {
      engine: `Chromium ${browser.version()}`,
      compile_ms: { median: median(c), min: min(c), max: max(c) },
      instantiate_ms: { median: median(n), min: min(n), max: max(n) },
      note: 'WebAssembly.compile (V8 compiles lazily: Liftoff on first call) + new WebAssembly.Instance with stub imports, in Chromium; performance.now is coarsened to 0.1 ms there',
    };
  } finally {
    await browser.close();
  }
}

function size() {
  const files = ['build/worker/index.wasm', 'build/worker/shim.mjs'];
  const each = files.map((f) => {
    const b = readFileSync(f);
    return { file: f, raw: b.length, gzip: gzipSync(b, { level: 9 }).length };
  });
  const both = Buffer.concat(files.map((f) => readFileSync(f)));
  const peerBytes = readFileSync(buildPeer());
  results.cases.push({
    id: 'size',
    kind: 'size',
    title: 'size of the uploaded Worker',
    files: each,
    total: { raw: both.length, gzip: gzipSync(both, { level: 9 }).length },
    peer: { file: 'bench/.cache/worker.bundle.mjs (esbuild --minify)', raw: peerBytes.length, gzip: gzipSync(peerBytes, { level: 9 }).length },
    wasm: wasmSections(readFileSync('build/worker/index.wasm')),
  });
}

// ---------------------------------------------------------------------------------------------
// Markdown
const f0 = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
const kb = (x) => `${(x / 1024).toFixed(1)} KiB`;

export function markdown(res) {
  const out = [];
  out.push(`### Run ${res.started}${res.smoke ? ' (smoke: not a measurement)' : ''}`);
  out.push('');
  out.push(`${res.rounds} round(s) x ${res.seconds} s per contestant and case, wrk ${res.wrk}, contestants alternating within each round. `
    + `Machine: ${res.machine.nproc} cores, ${res.machine.cpu}, **shared** with other builds (load average at start ${res.machine.loadavg_start.join(' ')}, at end ${(res.machine.loadavg_end ?? []).join(' ')}). Took ${res.duration_s ?? '?'} s. `
    + `Build: \`build/worker/index.wasm\` sha256 ${res.versions.build_wasm_sha256}… (${res.versions.build_mtime}), git ${res.versions.git}${res.versions.git_dirty ? ' + uncommitted changes' : ''}.`);
  out.push('');
  for (const c of res.cases) {
    if (c.kind === 'throughput') {
      out.push(`#### ${c.id}: ${c.title}`);
      out.push('');
      out.push('| contestant | req/s median | req/s min-max | p50 ms | p99 ms |');
      out.push('|---|---:|---:|---:|---:|');
      for (const r of c.runs) out.push(`| ${r.label} | ${f0(r.rps_median)} | ${f0(r.rps_min)}-${f0(r.rps_max)} | ${f1(r.p50ms_median)} | ${f1(r.p99ms_median)} |`);
      for (const r of c.ratios) out.push(`| **ratio ${r.of}** | **${f2(r.median)}x** | ${f2(r.min)}-${f2(r.max)}x | per round: ${r.per_round.map(f2).join(', ')} | |`);
      out.push('');
    } else if (c.kind === 'inproc') {
      out.push(`#### inproc: ${c.title}`);
      out.push('');
      const hasBefore = c.modes.some((m) => m.before_us);
      out.push(`| path | orggate us/req median (min-max) | peer us/req median (min-max) | peer/orggate (>1: orggate faster) |${hasBefore ? ' before us/req median | before/orggate (>1: faster now) |' : ''}`);
      out.push(`|---|---:|---:|---:|${hasBefore ? '---:|---:|' : ''}`);
      for (const m of c.modes) {
        const tail = m.before_us ? ` ${f0(m.before_us.median)} (${f0(m.before_us.min)}-${f0(m.before_us.max)}) | ${f2(m.before_speedup.median)}x (${f2(m.before_speedup.min)}-${f2(m.before_speedup.max)}) |` : '';
        out.push(`| ${m.title} | ${f0(m.orggate_us.median)} (${f0(m.orggate_us.min)}-${f0(m.orggate_us.max)}) | ${f0(m.peer_us.median)} (${f0(m.peer_us.min)}-${f0(m.peer_us.max)}) | ${f2(m.speedup.median)}x (${f2(m.speedup.min)}-${f2(m.speedup.max)}) |${tail}`);
      }
      out.push('');
    } else if (c.kind === 'cold') {
      out.push('#### cold: fresh Miniflare (workerd process + isolate) to the first authorized 200, ms, median (min-max)');
      out.push('');
      out.push('| step | orggate | peer |');
      out.push('|---|---:|---:|');
      for (const k of Object.keys(c.orggate)) {
        const a = c.orggate[k];
        const b = c.peer[k];
        out.push(`| ${k} | ${f1(a.median)} (${f1(a.min)}-${f1(a.max)}) | ${f1(b.median)} (${f1(b.min)}-${f1(b.max)}) |`);
      }
      if (c.wasm) {
        out.push(`| Wasm compile alone, ${c.wasm.engine} (approximation) | ${f1(c.wasm.compile_ms.median)} (${f1(c.wasm.compile_ms.min)}-${f1(c.wasm.compile_ms.max)}) | n/a |`);
        out.push(`| Wasm instantiate alone, ${c.wasm.engine} (approximation) | ${f1(c.wasm.instantiate_ms.median)} (${f1(c.wasm.instantiate_ms.min)}-${f1(c.wasm.instantiate_ms.max)}) | n/a |`);
      }
      out.push('');
    } else if (c.kind === 'size') {
      out.push('#### size');
      out.push('');
      out.push('| file | raw | gzip -9 |');
      out.push('|---|---:|---:|');
      for (const x of c.files) out.push(`| ${x.file} | ${kb(x.raw)} | ${kb(x.gzip)} |`);
      out.push(`| **orggate total** | **${kb(c.total.raw)}** | **${kb(c.total.gzip)}** |`);
      out.push(`| peer (${c.peer.file}) | ${kb(c.peer.raw)} | ${kb(c.peer.gzip)} |`);
      out.push('');
      out.push('Wasm sections (raw):');
      out.push('');
      out.push('| section | bytes | share |');
      out.push('|---|---:|---:|');
      for (const s of c.wasm.sections) out.push(`| ${s.name} | ${f0(s.size)} | ${(100 * s.size / c.wasm.total).toFixed(1)}% |`);
      out.push('');
      out.push(`Code: ${c.wasm.functions} functions; the 10 largest bodies: ${c.wasm.largest.slice(0, 10).map((x) => `${x.name ?? `#${x.index}`} ${f0(x.size)} B`).join(', ')}.`);
      out.push('');
    }
  }
  for (const n of res.notes) out.push(`- ${n}`);
  if (res.warnings?.length) {
    out.push('');
    out.push('Warnings:');
    for (const w of res.warnings) out.push(`- ${w}`);
  }
  return out.join('\n');
}

main().then(() => {
  results.finished = new Date().toISOString();
  results.machine.loadavg_end = loadavg().map((x) => x.toFixed(2));
  const shaEnd = sha256('build/worker/index.wasm');
  if (shaEnd !== results.versions.build_wasm_sha256) {
    warnings.push(`build/worker/index.wasm changed during the run (${results.versions.build_wasm_sha256} -> ${shaEnd}): someone rebuilt; later cases measured the new build`);
  }
  results.duration_s = Math.round((Date.now() - started) / 1000);
  results.warnings = warnings;
  const md = markdown(results);
  if (!opt['no-write'] && !SMOKE) {
    const dir = `${ROOT}bench/results`;
    if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
    const stamp = results.started.replace(/[:.]/g, '-');
    const name = `${stamp}${SMOKE ? '-smoke' : ''}`;
    writeFileSync(`${dir}/${name}.json`, `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync(`${dir}/${name}.md`, `${md}\n`);
    log(`wrote bench/results/${name}.json and .md`);
  }
  console.log(md);
  log(`done in ${results.duration_s} s`);
}).catch((e) => {
  console.error(`bench failed: ${e.stack ?? e}`);
  process.exit(1);
});
