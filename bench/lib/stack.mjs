// The benchmark's processes, all on 127.0.0.1 with OS-assigned ports:
// - an origin stub (node http): 200 "ok" for everything, the dev JWKS at /jwks.json;
// - contestants, each in its own Miniflare (its own workerd process) with the same KV content:
//   orggate (build/index.js + Wasm, exactly as tests/e2e/lib/worker.mjs runs it) and the peer
//   (bench/peer/worker.mjs bundled with jose by esbuild).
import http from 'node:http';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Miniflare } from 'miniflare';
import { buildSync } from 'esbuild';
import { demoKv } from '../../scripts/kv-bulk.mjs';
import { publishedJwks, ISSUER } from './tokens.mjs';

const ROOT = new URL('../../', import.meta.url).pathname;

export async function startOrigin() {
  const jwks = JSON.stringify(publishedJwks());
  let jwksHits = 0;
  const server = http.createServer((req, res) => {
    if (req.url === '/jwks.json') {
      jwksHits++;
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=3600' });
      res.end(jwks);
      return;
    }
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
    res.end('ok');
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    jwksUri: `${url}/jwks.json`,
    jwksHits: () => jwksHits,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }),
  };
}

/**
 * The demo KV (dev/kv) pointed at the stub: the issuer keeps its name but gets a jwks_uri (no
 * OP needed), the origin is the stub. `assertion: false` drops the signed X-Orggate-Assertion
 * header so orggate does the same work as the peer (which has no such feature).
 */
export function benchKv({ origin, assertion = false, edit } = {}) {
  const kv = demoKv(`${ROOT}dev/kv`);
  const s = JSON.parse(kv.settings);
  for (const i of s.issuers) {
    i.issuer = ISSUER;
    i.jwks_uri = origin.jwksUri;
  }
  if (s.login) s.login.issuer = ISSUER;
  s.origin = origin.url;
  if (!assertion && s.forwarding) delete s.forwarding.assertion;
  kv.settings = JSON.stringify(s);
  if (edit) edit(kv);
  return kv;
}

export const SECRETS = {
  SESSION_KEYS: `t1:${randomBytes(32).toString('base64url')}`,
  ASSERTION_KEY: randomBytes(32).toString('base64url'),
  OIDC_CLIENT_SECRET: 'dev-client-secret',
};

const bundles = new Map();
/** esbuild: `entry` (default bench/peer/worker.mjs) + jose → one ESM file in bench/.cache/. */
export function buildPeer(entry = 'bench/peer/worker.mjs') {
  if (bundles.has(entry)) return bundles.get(entry);
  const out = `${ROOT}bench/.cache/${entry.split('/').pop().replace(/\.mjs$/, '')}.bundle.mjs`;
  bundles.set(entry, out);
  buildSync({
    entryPoints: [`${ROOT}${entry}`],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    mainFields: ['module', 'main'],
    conditions: ['worker', 'browser'],
    minify: true,
    outfile: out,
    logLevel: 'error',
  });
  return out;
}

function drain(stdout, stderr) {
  // Both contestants log one line per request; read it and drop it (same cost for both).
  stdout.resume();
  stderr.resume();
}

const COMMON = {
  compatibilityDate: '2026-04-01',
  kvNamespaces: ['ORGS'],
  host: '127.0.0.1',
  handleRuntimeStdio: drain,
};

/** Miniflare options for a contestant. */
export function contestantOptions(kind, {
  port = 0, script, onLog, assets = false, inspectorPort,
} = {}) {
  const extra = inspectorPort ? { inspectorPort, inspectorHost: '127.0.0.1' } : {};
  Object.assign(extra, onLog ? { handleRuntimeStdio: (o, e) => { o.on('data', onLog); e.on('data', onLog); } } : {});
  if (kind === 'orggate') {
    if (!existsSync(`${ROOT}build/worker/index.wasm`)) throw new Error('build/ missing: run `make build`');
    return {
      ...COMMON,
      port,
      modules: true,
      scriptPath: script ?? `${ROOT}build/index.js`,
      modulesRoot: ROOT,
      modulesRules: [
        { type: 'ESModule', include: ['**/*.js', '**/*.mjs'] },
        { type: 'CompiledWasm', include: ['**/*.wasm'] },
      ],
      // The static-assets router puts one more worker in front of orggate; the peer has none, and
      // the benchmark routes never reach ASSETS, so it is off unless asked for.
      ...(assets ? {
        assets: {
          directory: `${ROOT}www`,
          binding: 'ASSETS',
          routerConfig: { invoke_user_worker_ahead_of_assets: true, has_user_worker: true },
        },
      } : {}),
      bindings: { ...SECRETS },
      ...extra,
    };
  }
  if (kind === 'peer') {
    return {
      ...COMMON, port, modules: true, scriptPath: script ?? buildPeer(), ...extra,
    };
  }
  if (kind === 'passthrough') {
    return {
      ...COMMON, port, modules: true, scriptPath: script ?? buildPeer('bench/peer/passthrough.mjs'), ...extra,
    };
  }
  throw new Error(`unknown contestant ${kind}`);
}

/** Puts entries through miniflare's KV binding, `concurrency` at a time. */
export async function seedKv(ns, entries, { concurrency = 64, deadlineMs = Infinity } = {}) {
  const list = Array.isArray(entries) ? entries : Object.entries(entries);
  let next = 0;
  let done = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < list.length && performance.now() - t0 < deadlineMs) {
      const [k, v] = list[next++];
      await ns.put(k, v);
      done++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { done, total: list.length, ms: performance.now() - t0 };
}

const SHARED_KEYS = ['host', 'port', 'handleRuntimeStdio', 'inspectorPort', 'inspectorHost', 'kvPersist', 'defaultPersistRoot'];

/** The contestant plus a bench-only `seeder` Worker bound to the same KV namespace. */
function withSeeder(options) {
  const shared = {};
  const own = { name: 'contestant' };
  for (const [k, v] of Object.entries(options)) (SHARED_KEYS.includes(k) ? shared : own)[k] = v;
  return {
    ...shared,
    workers: [own, {
      name: 'seeder', modules: true, scriptPath: `${ROOT}bench/authz/kv-seeder.mjs`, compatibilityDate: COMMON.compatibilityDate, kvNamespaces: { ORGS: 'ORGS' },
    }],
  };
}

/**
 * Bulk KV put through the seeder Worker, `batch` entries a request, `parallel` requests in flight
 * (more than 1 did not help: ~1,000 puts/s either way on the shared 2-core machine).
 */
export async function seedViaWorker(mf, entries, { batch = 1000, parallel = 1, deadlineMs = Infinity } = {}) {
  const seeder = await mf.getWorker('seeder');
  const t0 = performance.now();
  let done = 0;
  let next = 0;
  const lane = async () => {
    while (next < entries.length && performance.now() - t0 < deadlineMs) {
      const chunk = entries.slice(next, next + batch);
      next += batch;
      const res = await seeder.fetch('http://seeder/', { method: 'POST', body: JSON.stringify(chunk) });
      if (res.status !== 200) throw new Error(`seeder answered ${res.status}: ${await res.text()}`);
      done += Number(await res.text());
    }
  };
  await Promise.all(Array.from({ length: parallel }, lane));
  return { done, total: entries.length, ms: performance.now() - t0 };
}

/** Starts one contestant and seeds its KV. */
export async function startContestant(kind, {
  kv, port = 0, script, seed, onLog, assets, inspectorPort, seeder = false, kvPersist,
} = {}) {
  const t0 = performance.now();
  const options = contestantOptions(kind, {
    port, script, onLog, assets, inspectorPort,
  });
  if (kvPersist) options.kvPersist = kvPersist;
  const mf = new Miniflare(seeder ? withSeeder(options) : options);
  const url = await mf.ready;
  const readyMs = performance.now() - t0;
  const ns = await mf.getKVNamespace('ORGS', seeder ? 'contestant' : undefined);
  const seeded = await seedKv(ns, kv ?? {}, seed);
  return {
    kind,
    mf,
    url,
    port: Number(url.port),
    readyMs,
    seeded,
    kv: ns,
    close: () => mf.dispose(),
  };
}

/** One request to a contestant on loopback with a Host header; resolves {status, body}. */
export function request(port, { host = 'acme.localhost', path = '/api/reports/q1', method = 'GET', token, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const h = { host: `${host}:${port}`, ...headers };
    if (token) h.authorization = `Bearer ${token}`;
    const req = http.request({
      host: '127.0.0.1', port, path, method, headers: h, agent: false,
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error('request timed out')));
    req.end();
  });
}
