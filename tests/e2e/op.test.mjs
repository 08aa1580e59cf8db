// The dev OpenID Provider (dev/op.mjs): discovery, org-scoped login, refusal of non-members,
// parameter recording, refresh, client credentials, logout. Runs the OP in-process on port 0.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { createRemoteJWKSet, jwtVerify, decodeProtectedHeader, decodeJwt } from 'jose';

import { startOp } from '../../dev/op.mjs';
import {
  loginViaOp, authorizeViaOp, refreshViaOp, clientCredentials, logoutViaOp, discover, CookieJar, pkcePair,
} from './lib/oplogin.mjs';
import { startProcess, killAll } from './lib/procs.mjs';

const T = { timeout: 20_000 };
const API = 'https://api.orggate.test';
const CB = 'http://acme.localhost:8787/_orggate/callback';
const GLOBEX_CB = 'http://globex.localhost:8787/_orggate/callback';
const ALICE = { user: 'alice@acme.test', password: 'alice-pass' };
const BOB = { user: 'bob@globex.test', password: 'bob-pass' };
const CAROL = { user: 'carol@both.test', password: 'carol-pass' };

let op;
let jwks;

async function verifyAccess(token) {
  const { payload, protectedHeader } = await jwtVerify(token, jwks, { issuer: op.issuer, audience: API, algorithms: ['RS256'] });
  return { payload, protectedHeader };
}

async function testJson(path) {
  const res = await fetch(new URL(path, op.issuer), { signal: AbortSignal.timeout(5_000) });
  return { status: res.status, body: await res.json() };
}

describe('dev OP', { timeout: 120_000 }, () => {
  before(async () => {
    op = await startOp({ port: 0, workerPorts: [8787, 8788], quiet: true });
    jwks = createRemoteJWKSet(new URL('/jwks', op.issuer));
  });
  after(async () => {
    await op?.close();
    await killAll();
  });

  it('serves discovery with jwks_uri, end_session_endpoint and S256 PKCE', T, async () => {
    const meta = await discover(op.issuer);
    assert.equal(meta.issuer, op.issuer);
    assert.match(op.issuer, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(meta.jwks_uri, `${op.issuer}/jwks`);
    assert.ok(meta.end_session_endpoint, 'end_session_endpoint present');
    assert.ok(meta.token_endpoint && meta.authorization_endpoint);
    assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
    assert.ok(meta.grant_types_supported.includes('client_credentials'));
    assert.ok(meta.token_endpoint_auth_methods_supported.includes('client_secret_basic'));
  });

  it('publishes the RS256, ES256 and EdDSA dev keys, never the rogue key, and no private parts', T, async () => {
    const res = await fetch(`${op.issuer}/jwks`, { signal: AbortSignal.timeout(5_000) });
    const { keys } = await res.json();
    const kids = keys.map((k) => k.kid).sort();
    assert.deepEqual(kids, ['demo-eddsa-1', 'demo-es256-1', 'demo-rs256-1']);
    for (const k of keys) assert.equal(k.d, undefined, `${k.kid} must not leak d`);
    const eddsa = keys.find((k) => k.kid === 'demo-eddsa-1');
    assert.equal(eddsa.crv, 'Ed25519');
    assert.equal(keys.find((k) => k.kid === 'demo-es256-1').crv, 'P-256');
  });

  it('alice logs in for organization=org_acme and gets org-scoped RS256 JWTs', T, async () => {
    const t = await loginViaOp({ issuer: op.issuer, redirectUri: CB, ...ALICE, organization: 'org_acme' });
    assert.equal(t.token_type, 'Bearer');
    assert.ok(t.refresh_token, 'refresh token issued');
    assert.ok(t.expires_in > 0 && t.expires_in <= 300);
    const { payload, protectedHeader } = await verifyAccess(t.access_token);
    assert.equal(protectedHeader.kid, 'demo-rs256-1');
    assert.equal(protectedHeader.alg, 'RS256');
    assert.equal(payload.org_id, 'org_acme');
    assert.equal(payload.org_name, 'acme');
    assert.deepEqual(payload.permissions, ['read:reports', 'write:reports', 'read:docs', 'admin']);
    assert.equal(payload.aud, API);
    assert.equal(payload.sub, 'user_alice');
    assert.equal(payload.client_id, 'orggate');
    assert.equal(typeof payload.scope, 'string');
    assert.ok(payload.scope.split(' ').includes('openid'));

    const id = await jwtVerify(t.id_token, jwks, { issuer: op.issuer, audience: 'orggate', algorithms: ['RS256'] });
    assert.equal(id.protectedHeader.kid, 'demo-rs256-1');
    assert.equal(id.payload.org_id, 'org_acme');
    assert.equal(id.payload.org_name, 'acme');
    assert.equal(id.payload.nonce, t.nonce);
    assert.equal(id.payload.email, 'alice@acme.test');
  });

  it('accepts the organization by name and on every registered worker port', T, async () => {
    const t = await loginViaOp({
      issuer: op.issuer, redirectUri: 'http://127.0.0.1:8788/_orggate/callback', ...ALICE, organization: 'acme',
    });
    const { payload } = await verifyAccess(t.access_token);
    assert.equal(payload.org_id, 'org_acme');
    assert.equal(payload.org_name, 'acme');
  });

  it('issues no org claims without the organization parameter', T, async () => {
    const t = await loginViaOp({ issuer: op.issuer, redirectUri: 'http://localhost:8787/_orggate/callback', ...ALICE });
    const { payload } = await verifyAccess(t.access_token);
    assert.equal(payload.org_id, undefined);
    assert.equal(payload.org_name, undefined);
    assert.equal(payload.permissions, undefined);
    assert.equal(decodeJwt(t.id_token).org_id, undefined);
  });

  it('refuses bob for acme with access_denied back at the redirect_uri, and keeps no OP session for him', T, async () => {
    const a = await authorizeViaOp({ issuer: op.issuer, redirectUri: CB, ...BOB, organization: 'org_acme' });
    assert.ok(a.callbackUrl.startsWith(CB));
    assert.equal(a.params.get('error'), 'access_denied');
    assert.match(a.params.get('error_description'), /not a member/);
    assert.equal(a.params.get('state'), a.state);
    assert.equal(a.params.get('code'), null);
    const s = await testJson('/_test/session?user=bob@globex.test');
    assert.equal(s.body.active, false);
    await assert.rejects(
      loginViaOp({ issuer: op.issuer, redirectUri: CB, ...BOB, organization: 'acme' }),
      (err) => err.error === 'access_denied',
    );
  });

  it('refuses a non-member even through an existing OP session (SSO, no login prompt)', T, async () => {
    const jar = new CookieJar();
    await loginViaOp({ issuer: op.issuer, redirectUri: CB, ...ALICE, organization: 'org_acme', jar });
    // no user given: the OP must not ask for a login again
    const a = await authorizeViaOp({ issuer: op.issuer, redirectUri: GLOBEX_CB, organization: 'org_globex', jar });
    assert.equal(a.params.get('error'), 'access_denied');
    assert.match(a.params.get('error_description'), /not a member of organization globex/);
  });

  it('carol gets different permissions per organization from one OP session', T, async () => {
    const jar = new CookieJar();
    const acme = await loginViaOp({ issuer: op.issuer, redirectUri: CB, ...CAROL, organization: 'org_acme', jar });
    const globex = await loginViaOp({ issuer: op.issuer, redirectUri: GLOBEX_CB, organization: 'globex', jar });
    const pa = (await verifyAccess(acme.access_token)).payload;
    const pg = (await verifyAccess(globex.access_token)).payload;
    assert.equal(pa.org_id, 'org_acme');
    assert.deepEqual(pa.permissions, ['read:reports']);
    assert.equal(pg.org_id, 'org_globex');
    assert.equal(pg.org_name, 'globex');
    assert.deepEqual(pg.permissions, ['reports:view', 'read:docs', 'admin']);
    // the earlier org-scoped refresh token still refreshes into its own org
    const r = await refreshViaOp({ issuer: op.issuer, refreshToken: acme.refresh_token });
    assert.equal((await verifyAccess(r.access_token)).payload.org_id, 'org_acme');
  });

  it('checks the password', T, async () => {
    await assert.rejects(
      authorizeViaOp({ issuer: op.issuer, redirectUri: CB, user: 'alice@acme.test', password: 'wrong', organization: 'org_acme' }),
      /login rejected/,
    );
  });

  it('records invitation, connection, screen_hint and login_hint at /_test/last-authorize', T, async () => {
    await authorizeViaOp({
      issuer: op.issuer,
      redirectUri: CB,
      ...ALICE,
      organization: 'org_acme',
      extraParams: {
        invitation: 'inv_123', connection: 'Username-Password', screen_hint: 'signup', login_hint: 'alice@acme.test',
      },
    });
    const { status, body } = await testJson('/_test/last-authorize');
    assert.equal(status, 200);
    assert.equal(body.params.invitation, 'inv_123');
    assert.equal(body.params.connection, 'Username-Password');
    assert.equal(body.params.screen_hint, 'signup');
    assert.equal(body.params.login_hint, 'alice@acme.test');
    assert.equal(body.params.organization, 'org_acme');
    assert.equal(body.params.client_id, 'orggate');
    assert.equal(body.params.code_challenge_method, 'S256');
  });

  it('requires PKCE and rejects unregistered redirect URIs', T, async () => {
    const meta = await discover(op.issuer);
    const u = new URL(meta.authorization_endpoint);
    u.search = new URLSearchParams({
      client_id: 'orggate', response_type: 'code', redirect_uri: CB, scope: 'openid', state: 's1',
    }).toString();
    const res = await fetch(u, { redirect: 'manual', signal: AbortSignal.timeout(5_000) });
    assert.equal(res.status, 303);
    const loc = new URL(res.headers.get('location'));
    assert.equal(loc.origin + loc.pathname, CB);
    assert.equal(loc.searchParams.get('error'), 'invalid_request');
    assert.match(loc.searchParams.get('error_description'), /PKCE/);

    const { challenge } = pkcePair();
    u.search = new URLSearchParams({
      client_id: 'orggate', response_type: 'code', redirect_uri: 'http://evil.localhost:8787/_orggate/callback', scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256',
    }).toString();
    const bad = await fetch(u, { redirect: 'manual', signal: AbortSignal.timeout(5_000) });
    assert.equal(bad.status, 400);
    assert.equal(bad.headers.get('location'), null);
  });

  it('refresh keeps the org claims', T, async () => {
    const t = await loginViaOp({ issuer: op.issuer, redirectUri: CB, ...ALICE, organization: 'org_acme' });
    const r = await refreshViaOp({ issuer: op.issuer, refreshToken: t.refresh_token });
    const { payload } = await verifyAccess(r.access_token);
    assert.equal(payload.org_id, 'org_acme');
    assert.equal(payload.org_name, 'acme');
    assert.deepEqual(payload.permissions, ['read:reports', 'write:reports', 'read:docs', 'admin']);
    assert.notEqual(payload.jti, decodeJwt(t.access_token).jti);
    const id = await jwtVerify(r.id_token, jwks, { issuer: op.issuer, audience: 'orggate' });
    assert.equal(id.payload.org_id, 'org_acme');
  });

  it('client credentials for org_acme gives an org-scoped machine token', T, async () => {
    const t = await clientCredentials({ issuer: op.issuer, organization: 'org_acme' });
    const { payload, protectedHeader } = await verifyAccess(t.access_token);
    assert.equal(protectedHeader.kid, 'demo-rs256-1');
    assert.equal(payload.org_id, 'org_acme');
    assert.equal(payload.org_name, 'acme');
    assert.deepEqual(payload.permissions, ['read:reports']);
    assert.equal(payload.gty, 'client-credentials');
    assert.equal(payload.azp, 'orggate-m2m');
    assert.equal(payload.client_id, 'orggate-m2m');
    assert.equal(payload.sub, 'orggate-m2m@clients');
    assert.equal(payload.aud, API);
  });

  it('client credentials for an org the client may not act for is refused', T, async () => {
    await assert.rejects(
      clientCredentials({ issuer: op.issuer, organization: 'org_globex' }),
      (err) => err.status === 400 && err.body.error === 'access_denied',
    );
    await assert.rejects(
      clientCredentials({ issuer: op.issuer, clientSecret: 'wrong', organization: 'org_acme' }),
      (err) => err.status === 401 && err.body.error === 'invalid_client',
    );
    const plain = await clientCredentials({ issuer: op.issuer });
    const { payload } = await verifyAccess(plain.access_token);
    assert.equal(payload.org_id, undefined);
    assert.equal(payload.gty, 'client-credentials');
  });

  it('RP-initiated logout ends the OP session and returns to the post_logout_redirect_uri', T, async () => {
    const jar = new CookieJar();
    const t = await loginViaOp({ issuer: op.issuer, redirectUri: CB, ...CAROL, organization: 'org_acme', jar });
    const carol = async () => (await testJson('/_test/session?user=carol@both.test')).body.count;
    const before = await carol();
    assert.ok(before >= 1);
    const total = (await testJson('/_test/sessions')).body.count;
    const out = await logoutViaOp({
      issuer: op.issuer, jar, idTokenHint: t.id_token, postLogoutRedirectUri: 'http://acme.localhost:8787/_orggate/logged-out', state: 'bye',
    });
    assert.ok(out.location, `expected a redirect, got ${out.status}`);
    const loc = new URL(out.location);
    assert.equal(loc.origin + loc.pathname, 'http://acme.localhost:8787/_orggate/logged-out');
    assert.equal(loc.searchParams.get('state'), 'bye');
    assert.equal(await carol(), before - 1);
    assert.equal((await testJson('/_test/sessions')).body.count, total - 1);
    // the OP asks for a login again
    await assert.rejects(
      authorizeViaOp({ issuer: op.issuer, redirectUri: CB, organization: 'org_acme', jar }),
      /no user was given/,
    );
  });

  it('access token TTL is configurable (short-lived tokens for expiry tests)', T, async () => {
    const short = await startOp({ port: 0, accessTtl: 2, quiet: true });
    try {
      const t = await loginViaOp({ issuer: short.issuer, redirectUri: CB, ...ALICE, organization: 'org_acme' });
      const p = decodeJwt(t.access_token);
      assert.equal(p.exp - p.iat, 2);
      assert.ok(t.expires_in <= 2);
      const c = decodeJwt((await clientCredentials({ issuer: short.issuer, organization: 'org_acme' })).access_token);
      assert.equal(c.exp - c.iat, 2);
    } finally {
      await short.close();
    }
  });

  it('runs as a CLI: prints the ready line, honours env ports and exits on SIGTERM', T, async () => {
    const script = fileURLToPath(new URL('../../dev/op.mjs', import.meta.url));
    const p = await startProcess(process.execPath, [script, '--port', '0', '--access-ttl', '60'], {
      ready: /OP ready (http:\/\/127\.0\.0\.1:\d+)/, timeoutMs: 15_000, env: { WORKER_PORTS: '8799,8800' },
    });
    const issuer = p.match[1];
    const meta = await discover(issuer);
    assert.equal(meta.issuer, issuer);
    const cfg = await (await fetch(`${issuer}/_test/config`)).json();
    assert.deepEqual(cfg.workerPorts, [8799, 8800]);
    assert.equal(cfg.accessTtl, 60);
    const t = await loginViaOp({ issuer, redirectUri: 'http://acme.localhost:8800/_orggate/callback', ...ALICE, organization: 'org_acme' });
    assert.equal(decodeProtectedHeader(t.access_token).kid, 'demo-rs256-1');
    await p.stop('SIGTERM');
    const { code, signal } = await p.exited;
    assert.equal(code, 0, `exit ${code} ${signal}`);
  });
});
