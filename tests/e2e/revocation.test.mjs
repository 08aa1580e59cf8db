// Revocation end to end in workerd: the built Worker with its Durable Object (OrgState) and KV,
// and the demo OpenID Provider with back-channel logout turned on.
// - alice signs in at acme; she signs out at the OP; the OP posts a logout token to orggate; the
//   next request with her orggate session goes to the login page.
// - an admin signs bob out everywhere through the admin API: bob's bearer token, issued before,
//   gets 401 `revoked`; the Durable Object published the set to KV.
// - a forged logout token is refused with 400 and revokes nothing.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { importJWK, SignJWT } from 'jose';
import { startStack } from './lib/stack.mjs';
import { authorizeViaOp, logoutViaOp } from './lib/oplogin.mjs';
import { cookieHeader } from './lib/http.mjs';
import { workerSession } from './lib/session.mjs';
import { orgAccessToken, privateJwk } from './lib/keys.mjs';

const T = { timeout: 60_000 };
const EVENT = 'http://schemas.openid.net/event/backchannel-logout';

describe('revocation in workerd', () => {
  let s;
  before(async () => {
    s = await startStack({
      editKv: (entries) => {
        const settings = JSON.parse(entries.settings);
        settings.admin = { permission: 'admin' };
        settings.revocation = { refresh_s: 1 };
        entries.settings = JSON.stringify(settings);
      },
    });
  });
  after(async () => { await s?.close(); });

  const page = (cookie, path = '/docs/') => s.send({
    host: 'acme.localhost', path, headers: { cookie, accept: 'text/html', 'sec-fetch-site': 'same-origin' },
  });

  it('an OP sign-out (back-channel logout) ends the orggate session', T, async () => {
    const host = 'acme.localhost';
    const start = await s.send({ host, path: '/_orggate/start?return_to=%2Fdocs%2F' });
    assert.equal(start.status, 302, start.body);
    const a = await authorizeViaOp({
      issuer: s.issuer, redirectUri: s.callbackUrl(host), user: 'alice@acme.test', password: 'alice-pass',
      startUrl: start.headers.location,
    });
    const cb = new URL(a.callbackUrl);
    const done = await s.send({ host, path: cb.pathname + cb.search, headers: { cookie: cookieHeader(start.setCookies) } });
    assert.equal(done.status, 302, done.body);
    const session = cookieHeader(done.setCookies.filter((c) => !/Max-Age=0/.test(c)));
    assert.equal((await page(session)).status, 200);

    // Sign out at the OP itself (not through orggate): only the back channel can tell orggate.
    await logoutViaOp({ issuer: s.issuer, jar: a.jar });
    let r;
    for (let i = 0; i < 50; i += 1) {
      r = await page(session);
      if (r.status !== 200) break;
      await new Promise((ok) => { setTimeout(ok, 100); });
    }
    assert.equal(r.status, 302, 'the session ended');
    assert.match(r.headers.location, /\/_orggate\/login\?return_to=/);
    const published = JSON.parse(await s.worker.kv.get('revoked:*'));
    assert.equal(published.entries.length, 1);
    assert.equal(published.entries[0].kind, 'sid');
  });

  it('an admin signs bob out everywhere: his earlier token gets 401 revoked', T, async () => {
    const host = 'acme.localhost';
    const bob = await orgAccessToken({ issuer: s.issuer, sub: 'user_bob_in_acme', permissions: ['read:reports'] });
    const admin = await orgAccessToken({ issuer: s.issuer, sub: 'user_alice', permissions: ['read:reports', 'admin'] });
    const api = (token) => s.send({ host, path: '/api/reports/1', headers: { authorization: `Bearer ${token}`, accept: 'application/json' } });
    assert.equal((await api(bob)).status, 200);
    const body = JSON.stringify({ subject: 'user_bob_in_acme' });
    const w = await s.send({
      host, method: 'POST', path: '/_orggate/admin/api/revocations', body,
      headers: { authorization: `Bearer ${bob}`, 'content-type': 'application/json', 'content-length': String(body.length) },
    });
    assert.equal(w.status, 403, `a member is not an admin: ${w.body}`);
    const ok = await s.send({
      host, method: 'POST', path: '/_orggate/admin/api/revocations', body,
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json', 'content-length': String(body.length) },
    });
    assert.equal(ok.status, 200, ok.body);
    const r = await api(bob);
    assert.equal(r.status, 401, r.body);
    assert.equal(r.json().reason, 'revoked');
    assert.equal((await api(admin)).status, 200, 'others are untouched');
    const published = JSON.parse(await s.worker.kv.get('revoked:org_acme'));
    assert.deepEqual(published.entries.map((e) => [e.kind, e.value]), [['sub', 'user_bob_in_acme']]);
  });

  it('sign out everywhere: logging out with everywhere=1 on the laptop ends the phone\'s session', T, async () => {
    const laptop = await workerSession(s, 'acme.localhost', 'carol@both.test', 'carol-pass');
    const phone = await workerSession(s, 'acme.localhost', 'carol@both.test', 'carol-pass');
    assert.equal((await page(phone, '/api/reports/1')).status, 200);
    const out = await s.send({
      host: 'acme.localhost', path: '/_orggate/logout?everywhere=1',
      headers: { cookie: laptop, accept: 'text/html', 'sec-fetch-site': 'same-origin' },
    });
    assert.equal(out.status, 302, out.body);
    const r = await page(phone, '/api/reports/1');
    assert.equal(r.status, 302, 'the other device is signed out');
    assert.match(r.headers.location, /\/_orggate\/login/);
    const published = JSON.parse(await s.worker.kv.get('revoked:org_acme'));
    assert.ok(published.entries.some((e) => e.kind === 'sub'), JSON.stringify(published));
  });

  it('a logout token signed by another key is refused with 400 and revokes nothing', T, async () => {
    const before = await s.worker.kv.get('revoked:*');
    const rogue = privateJwk('rogue');
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({
      iss: s.issuer, aud: 'orggate', iat: now, jti: 'forged-1', sub: 'user_alice', events: { [EVENT]: {} },
    }).setProtectedHeader({ alg: 'RS256', typ: 'logout+jwt', kid: privateJwk('rs256').kid })
      .sign(await importJWK(rogue, 'RS256'));
    const body = `logout_token=${token}`;
    const r = await s.send({
      host: '127.0.0.1', method: 'POST', path: '/_orggate/backchannel-logout', body,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(body.length) },
    });
    assert.equal(r.status, 400, r.body);
    assert.equal(r.json().error, 'invalid_request');
    assert.equal(await s.worker.kv.get('revoked:*'), before);
  });
});
