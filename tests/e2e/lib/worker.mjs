// Runs the built Worker (build/worker/shim.mjs + Wasm) in workerd through miniflare, on
// 127.0.0.1 with a random port, with the demo KV documents rewritten to point at the test's own
// OpenID Provider and origin. `make build` must have run.
import { Miniflare } from 'miniflare';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { demoKv } from '../../../scripts/kv-bulk.mjs';

export const SECRETS = {
  SESSION_KEYS: `t1:${randomBytes(32).toString('base64url')}`,
  ASSERTION_KEY: randomBytes(32).toString('base64url'),
  OIDC_CLIENT_SECRET: 'dev-client-secret',
  ORG_GLOBEX_CLIENT_SECRET: 'globex-secret',
};

/**
 * The demo KV with the OP issuer and origin replaced; `edit(entries)` may change more. globex's
 * own IdP becomes `globexIdp` (a `startOp({flavor: 'customer'})` issuer), or, without one, globex
 * signs in through the tenant OP like acme.
 */
export function testKv({ issuer, origin, edit, globexIdp } = {}) {
  const entries = demoKv();
  const globex = JSON.parse(entries['org:org_globex']);
  if (globexIdp) globex.login.idp.issuer = globexIdp;
  else delete globex.login.idp;
  entries['org:org_globex'] = JSON.stringify(globex);
  const s = JSON.parse(entries.settings);
  if (issuer) {
    for (const i of s.issuers) i.issuer = issuer;
    if (s.login) s.login.issuer = issuer;
  }
  if (origin) s.origin = origin;
  entries.settings = JSON.stringify(s);
  if (edit) edit(entries);
  return entries;
}

export async function startWorker({ kv = {}, bindings = {}, port = 0 } = {}) {
  if (!existsSync('build/worker/shim.mjs')) throw new Error('build/worker/shim.mjs missing: run `make build` first');
  const mf = new Miniflare({
    modules: true,
    scriptPath: 'build/index.js',
    modulesRules: [
      { type: 'ESModule', include: ['**/*.js', '**/*.mjs'] },
      { type: 'CompiledWasm', include: ['**/*.wasm'] },
    ],
    compatibilityDate: '2026-04-01',
    kvNamespaces: ['ORGS'],
    durableObjects: { ORG_STATE: { className: 'OrgState', useSQLite: true } },
    assets: { directory: 'www', binding: 'ASSETS', routerConfig: { invoke_user_worker_ahead_of_assets: true, has_user_worker: true } },
    bindings: { ...SECRETS, ...bindings },
    host: '127.0.0.1',
    port,
    log: undefined,
  });
  const url = await mf.ready;
  const ns = await mf.getKVNamespace('ORGS');
  for (const [k, v] of Object.entries(kv)) await ns.put(k, v);
  return {
    mf,
    url,
    port: Number(url.port),
    kv: ns,
    async close() { await mf.dispose(); },
  };
}
