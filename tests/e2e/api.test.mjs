// The API gate end to end: real tokens from the dev OP, the built Worker in workerd, and the echo
// origin telling us exactly what reached it (status codes alone can't show a leaked header).
import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createRemoteJWKSet, jwtVerify, decodeProtectedHeader } from 'jose';

import { startStack } from './lib/stack.mjs';
import { loginViaOp } from './lib/oplogin.mjs';
import { orgAccessToken } from './lib/keys.mjs';

const T = { timeout: 30_000 };
const bearer = (t) => ({ authorization: `Bearer ${t}` });
const b64json = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** Same JSON minus the per-request id. */
function withoutRequestId(body) {
  const { request_id: _id, ...rest } = body;
  return rest;
}

describe('API gate with real OP tokens', { timeout: 180_000 }, () => {
  let s;
  /** access tokens from the OP: alice@acme, bob@globex, carol@acme, carol@globex */
  const tok = {};

  before(async () => {
    s = await startStack();
    const login = async (host, user, password, organization) => {
      const r = await loginViaOp({
        issuer: s.issuer, redirectUri: s.callbackUrl(host), user, password, organization,
      });
      assert.ok(r.access_token, `no access token for ${user}`);
      assert.equal(r.access_token.split('.').length, 3, 'OP access tokens are JWTs');
      return r.access_token;
    };
    tok.alice = await login('acme.localhost', 'alice@acme.test', 'alice-pass', 'org_acme');
    tok.bob = await login('globex.localhost', 'bob@globex.test', 'bob-pass', 'org_globex');
    tok.carolAcme = await login('acme.localhost', 'carol@both.test', 'carol-pass', 'org_acme');
  });
  after(async () => { await s?.close(); });
  beforeEach(() => s.clearOrigin());

  it('forwards alice (acme member) with identity headers and a verifiable assertion', T, async () => {
    const r = await s.send({ host: 'acme.localhost', path: '/api/reports/42', headers: bearer(tok.alice) });
    assert.equal(r.status, 200, r.body);
    const reqs = s.originRequests();
    assert.equal(reqs.length, 1);
    const [rec] = reqs;
    assert.equal(rec.method, 'GET');
    assert.equal(rec.url, '/api/reports/42');
    const h = rec.headers;
    assert.equal(h['x-orggate-org-id'], 'org_acme');
    assert.equal(h['x-orggate-org-name'], 'acme');
    assert.equal(h['x-orggate-subject'], 'user_alice');
    assert.equal(h['x-orggate-caller'], 'user');
    assert.ok(h['x-orggate-permissions'].split(' ').includes('read:reports'), h['x-orggate-permissions']);
    assert.ok(h['x-orggate-assertion'], 'assertion header present');

    // The origin checks the assertion against the Worker's own JWKS (RFC 7517), EdDSA only.
    const jwksUrl = new URL(`http://127.0.0.1:${s.port}/.well-known/orggate/jwks.json`);
    const jwksRes = await s.send({ host: 'acme.localhost', path: '/.well-known/orggate/jwks.json' });
    assert.equal(jwksRes.status, 200);
    const jwks = jwksRes.json();
    assert.equal(jwks.keys.length, 1);
    assert.equal(jwks.keys[0].alg, 'EdDSA');
    assert.equal(jwks.keys[0].kid, decodeProtectedHeader(h['x-orggate-assertion']).kid);
    const { payload, protectedHeader } = await jwtVerify(h['x-orggate-assertion'], createRemoteJWKSet(jwksUrl), {
      algorithms: ['EdDSA'], issuer: 'orggate', audience: s.origin.url,
    });
    assert.equal(protectedHeader.alg, 'EdDSA');
    assert.equal(payload.org_id, 'org_acme');
    assert.equal(payload.org_name, 'acme');
    assert.equal(payload.sub, 'user_alice');
    assert.equal(payload.caller, 'user');
    assert.ok(payload.permissions.includes('read:reports'));
    assert.ok(payload.exp > payload.iat && payload.exp - payload.iat <= 60, 'short-lived');
  });

  it('refuses an acme token on globex: 401 org_mismatch with an invalid_token challenge', T, async () => {
    const r = await s.send({ host: 'globex.localhost', path: '/api/reports/42', headers: bearer(tok.alice) });
    assert.equal(r.status, 401, r.body);
    assert.equal(r.json().reason, 'org_mismatch');
    assert.match(r.headers['www-authenticate'], /^Bearer realm="orggate"/);
    assert.match(r.headers['www-authenticate'], /error="invalid_token"/);
    assert.equal(s.originRequests().length, 0);
  });

  it('lets bob read globex reports (globex requires reports:view)', T, async () => {
    const r = await s.send({ host: 'globex.localhost', path: '/api/reports/1', headers: bearer(tok.bob) });
    assert.equal(r.status, 200, r.body);
    const [rec] = s.originRequests();
    assert.equal(rec.headers['x-orggate-org-id'], 'org_globex');
    assert.equal(rec.headers['x-orggate-subject'], 'user_bob');
  });

  it('403s carol (read:reports only) writing acme reports, naming the rule and the missing permission', T, async () => {
    const r = await s.send({
      host: 'acme.localhost', path: '/api/reports/1', method: 'POST', headers: { ...bearer(tok.carolAcme), 'content-type': 'application/json' }, body: '{}',
    });
    assert.equal(r.status, 403, r.body);
    const body = r.json();
    assert.equal(body.error, 'forbidden');
    assert.ok(body.missing.includes('permission:write:reports'), JSON.stringify(body));
    assert.match(body.rule, /reports-write/);
    assert.equal(body.org, 'org_acme');
    assert.ok(body.request_id);
    assert.equal(s.originRequests().length, 0);
  });

  it('401s a token signed by the unpublished rogue key (unknown_kid)', T, async () => {
    // RogueKidToken: kid "rogue-..." not in the OP's JWKS; claims otherwise those of alice@acme.
    const t = await orgAccessToken({ issuer: s.issuer, key: 'rogue' });
    const r = await s.send({ host: 'acme.localhost', path: '/api/reports/1', headers: bearer(t) });
    assert.equal(r.status, 401, r.body);
    assert.equal(r.json().reason, 'unknown_kid');
    assert.match(r.headers['www-authenticate'], /error="invalid_token"/);
    assert.equal(s.originRequests().length, 0);
  });

  it('401s an alg:none token with valid-looking claims (RFC 7515 §4.1.1)', T, async () => {
    // AlgNoneToken: {"alg":"none","kid":"demo-rs256-1","typ":"at+jwt"} . alice@acme claims . (empty signature)
    const good = await orgAccessToken({ issuer: s.issuer });
    const payload = good.split('.')[1];
    const variants = [
      `${b64json({ alg: 'none', typ: 'at+jwt' })}.${payload}.`,
      `${b64json({ alg: 'none', kid: 'demo-rs256-1', typ: 'at+jwt' })}.${payload}.`,
      `${b64json({ alg: 'none', kid: 'demo-rs256-1', typ: 'at+jwt' })}.${payload}.${good.split('.')[2]}`,
      `${b64json({ alg: 'None', kid: 'demo-rs256-1' })}.${payload}.`,
    ];
    for (const t of variants) {
      const r = await s.send({ host: 'acme.localhost', path: '/api/reports/1', headers: bearer(t) });
      assert.equal(r.status, 401, `${t.split('.')[0]}: ${r.body}`);
      assert.match(r.headers['www-authenticate'], /error="invalid_token"/);
    }
    assert.equal(s.originRequests().length, 0);
  });

  it('401s an expired token beyond the 60 s leeway (expired)', T, async () => {
    // ExpiredToken: alice@acme, iat = now-600, exp = now-300.
    const t = await orgAccessToken({ issuer: s.issuer, now: Math.floor(Date.now() / 1000) - 600, ttl: 300 });
    const r = await s.send({ host: 'acme.localhost', path: '/api/reports/1', headers: bearer(t) });
    assert.equal(r.status, 401, r.body);
    assert.equal(r.json().reason, 'expired');
    assert.match(r.headers['www-authenticate'], /error="invalid_token"/);
    assert.equal(s.originRequests().length, 0);
  });

  it('strips client-sent identity headers on protected routes: the origin sees only orggate values', T, async () => {
    const r = await s.send({
      host: 'acme.localhost',
      path: '/api/reports/7',
      headers: {
        ...bearer(tok.alice),
        'x-orggate-org-id': 'org_globex',
        'X-Orggate-Permissions': 'admin',
        'x-orggate-assertion': 'x',
        'X-ORGGATE-SUBJECT': 'user_mallory',
        'x-orggate-caller': 'client',
      },
    });
    assert.equal(r.status, 200, r.body);
    const [rec] = s.originRequests();
    const h = rec.headers;
    assert.equal(h['x-orggate-org-id'], 'org_acme');
    assert.equal(h['x-orggate-subject'], 'user_alice');
    assert.equal(h['x-orggate-caller'], 'user');
    assert.notEqual(h['x-orggate-permissions'], 'admin');
    assert.ok(h['x-orggate-permissions'].split(' ').includes('read:reports'));
    assert.notEqual(h['x-orggate-assertion'], 'x');
    assert.equal(h['x-orggate-assertion'].split('.').length, 3);
    // Each identity header exactly once (no client copy appended beside orggate's).
    const names = rec.rawHeaders.map((p) => (Array.isArray(p) ? p[0] : p.name ?? p)).map((n) => String(n).toLowerCase());
    for (const n of ['x-orggate-org-id', 'x-orggate-permissions', 'x-orggate-assertion', 'x-orggate-subject', 'x-orggate-caller']) {
      assert.equal(names.filter((x) => x === n).length, 1, `${n} appears once in ${JSON.stringify(rec.rawHeaders)}`);
    }
  });

  it('strips client-sent identity headers on public routes: the origin sees none', T, async () => {
    const r = await s.send({
      host: 'acme.localhost',
      path: '/public/x',
      headers: {
        'x-orggate-org-id': 'org_globex', 'X-Orggate-Permissions': 'admin', 'x-orggate-assertion': 'x', 'x-kept': 'yes',
      },
    });
    assert.equal(r.status, 200, r.body);
    const [rec] = s.originRequests();
    assert.deepEqual(rec.orggateHeaders, {});
    assert.equal(rec.headers['x-kept'], 'yes', 'unrelated client headers still pass');
  });

  it('404s unknown orgs without telling them apart', T, async () => {
    const a = await s.send({ host: 'nope.localhost', path: '/api/reports/1', headers: bearer(tok.alice) });
    const b = await s.send({ host: 'initech.localhost', path: '/api/reports/1', headers: bearer(tok.alice) });
    for (const r of [a, b]) {
      assert.equal(r.status, 404, r.body);
      assert.equal(r.json().reason, 'unknown_org');
      assert.ok(r.json().request_id);
      assert.equal(r.json().org, undefined);
    }
    assert.notEqual(a.json().request_id, b.json().request_id);
    assert.deepEqual(withoutRequestId(a.json()), withoutRequestId(b.json()));
    assert.equal(a.body.replace(a.json().request_id, ''), b.body.replace(b.json().request_id, ''));
    assert.equal(s.originRequests().length, 0);
  });

  it('401s an API route without credentials with bare Bearer and DPoP challenges (RFC 6750 §3.1, RFC 9449 §7.1)', T, async () => {
    const r = await s.send({ host: 'acme.localhost', path: '/api/reports/1', headers: { accept: 'application/json' } });
    assert.equal(r.status, 401, r.body);
    // Two challenges; the Workers runtime joins repeated header values with ", ".
    assert.equal(r.headers['www-authenticate'], 'Bearer realm="orggate", DPoP algs="ES256 ES384 EdDSA PS256 RS256"');
    assert.equal(r.json().reason, 'no_credentials');
    assert.equal(s.originRequests().length, 0);
  });

  it('redirects a browser without a session to the login page, remembering where it was going', T, async () => {
    const r = await s.send({
      host: 'acme.localhost', path: '/docs/', headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' },
    });
    assert.equal(r.status, 302, r.body);
    const loc = new URL(r.headers.location, `http://acme.localhost:${s.port}/`);
    assert.equal(loc.pathname, '/_orggate/login');
    const rt = loc.searchParams.get('return_to');
    assert.ok(rt, r.headers.location);
    assert.equal(new URL(rt, `http://acme.localhost:${s.port}/`).pathname, '/docs/');
    assert.equal(s.originRequests().length, 0);
  });

  it('serves acme docs from assets to alice, privately cached', T, async () => {
    const r = await s.send({ host: 'acme.localhost', path: '/docs/', headers: bearer(tok.alice) });
    assert.equal(r.status, 200, r.body);
    assert.match(r.headers['content-type'], /text\/html/);
    assert.match(r.body, /Acme internal documentation/);
    assert.match(r.headers['cache-control'], /private/);
    assert.equal(s.originRequests().length, 0, 'assets never hit the origin');
  });

  it("serves globex docs to bob and never acme's", T, async () => {
    const r = await s.send({ host: 'globex.localhost', path: '/docs/', headers: bearer(tok.bob) });
    assert.equal(r.status, 200, r.body);
    assert.match(r.body, /Globex partner portal/);
    assert.doesNotMatch(r.body, /Acme/);
    assert.match(r.headers['cache-control'], /private/);
  });

  it('401s alice on globex docs', T, async () => {
    const r = await s.send({ host: 'globex.localhost', path: '/docs/', headers: bearer(tok.alice) });
    assert.equal(r.status, 401, r.body);
    assert.doesNotMatch(r.body, /Globex partner portal|Acme internal/);
  });
});

// The brief's `"colors":{"primary":"red"}`, both where it is an unknown field and where it is a
// known field with a bad value: either way the whole acme document is rejected at load.
const MALFORMED_ACME = {
  'unknown top-level field colors': (org) => { org.colors = { primary: 'red' }; },
  'branding.colors.primary not a hex colour': (org) => { org.branding.colors.primary = 'red'; },
};

for (const [defect, mutate] of Object.entries(MALFORMED_ACME)) {
  describe(`a malformed org document (${defect})`, { timeout: 120_000 }, () => {
    let s;
    before(async () => {
      s = await startStack({
        editKv(entries) {
          const org = JSON.parse(entries['org:org_acme']);
          mutate(org);
          entries['org:org_acme'] = JSON.stringify(org);
        },
      });
    });
    after(async () => { await s?.close(); });

    it('fails closed for that org only: acme 503 with a request id, globex still 200', T, async () => {
      const alice = await orgAccessToken({ issuer: s.issuer });
      for (const [path, headers] of [['/api/reports/1', bearer(alice)], ['/public/x', {}]]) {
        const r = await s.send({ host: 'acme.localhost', path, headers });
        assert.equal(r.status, 503, `${path}: ${r.body}`);
        assert.ok(r.json().request_id, r.body);
        assert.doesNotMatch(r.body, /colors|primary|red/, 'no config detail leaks to the client');
      }
      assert.equal(s.originRequests().length, 0);
      const bob = await orgAccessToken({
        issuer: s.issuer, sub: 'user_bob', orgId: 'org_globex', orgName: 'globex', permissions: ['reports:view'],
      });
      const g = await s.send({ host: 'globex.localhost', path: '/api/reports/1', headers: bearer(bob) });
      assert.equal(g.status, 200, g.body);
      assert.equal(s.originRequests().length, 1);
    });
  });
}
