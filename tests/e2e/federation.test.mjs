// Federated login in Chromium, end to end: the built Worker in workerd, the tenant OP, and a
// second OpenID Provider standing in for globex's own workforce IdP (dev/op.mjs --flavor
// customer: no org claims at all, a `groups` claim). globex's org document binds that IdP to
// globex and maps its groups to permissions. A second stack runs the tenant OP Keycloak-shaped
// (`organization: {alias: {id}}`, `realm_access.roles`) behind the `keycloak` preset.
// Screenshots go to test-artifacts/.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, testKv } from './lib/worker.mjs';
import { startOp } from '../../dev/op.mjs';
import { startOrigin } from '../../dev/origin.mjs';
import { launch, axe, opSignIn, ARTIFACTS } from './lib/browser.mjs';
import { authorizeViaOp } from './lib/oplogin.mjs';
import { cookieHeader, request } from './lib/http.mjs';

const T = { timeout: 120_000 };

describe('an org signs in through its own identity provider', { timeout: 300_000 }, () => {
  let worker; let op; let idp; let origin; let browser; let port;

  before(async () => {
    origin = await startOrigin({ port: 0 });
    worker = await startWorker({});
    op = await startOp({ port: 0, workerPorts: [worker.port], quiet: true });
    idp = await startOp({ port: 0, workerPorts: [worker.port], quiet: true, flavor: 'customer' });
    const kv = testKv({ issuer: op.issuer, origin: origin.url, globexIdp: idp.issuer });
    for (const [k, v] of Object.entries(kv)) await worker.kv.put(k, v);
    port = worker.port;
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await worker?.close();
    await op?.close();
    await idp?.close();
    await origin?.close();
  });

  const url = (host, path) => `http://${host}.localhost:${port}${path}`;
  const originSaw = (pathPart) => origin.requests.filter((r) => r.url.includes(pathPart)).at(-1);

  async function globexLogin(ctx, user, password, { screenshot } = {}) {
    const page = await ctx.newPage();
    await page.goto(url('globex', '/docs/'));
    assert.equal(await page.title(), 'Sign in to Globex');
    await page.getByRole('link', { name: 'Continue to Globex sign-in' }).click();
    await page.waitForURL(new RegExp(`^${idp.issuer}/`));
    assert.match(await page.content(), /Globex workforce sign-in/);
    if (screenshot) await page.screenshot({ path: `${ARTIFACTS}/${screenshot}`, fullPage: true });
    await opSignIn(page, user, password);
    return page;
  }

  test('a globex member signs in at globex\'s IdP, lands on the gated site, and the origin receives the mapped permissions', T, async () => {
    const ctx = await browser.newContext();
    const page = await globexLogin(ctx, 'bob@globex.test', 'bob-okta', { screenshot: 'globex-own-idp-login.png' });
    await page.waitForURL(url('globex', '/docs/'));
    assert.match(await page.content(), /Globex/);
    await page.screenshot({ path: `${ARTIFACTS}/globex-own-idp-signed-in.png`, fullPage: true });
    // The customer IdP was asked without Auth0's organization parameter.
    const asked = idp.authorizeRequests.at(-1).params;
    assert.equal(asked.organization, undefined);
    assert.equal(asked.client_id, 'globex-orggate');
    assert.equal(asked.code_challenge_method, 'S256');

    origin.requests.length = 0;
    const status = await page.evaluate(async () => (await fetch('/api/reports/7')).status);
    assert.equal(status, 200);
    const rec = originSaw('/api/reports/7');
    assert.equal(rec.orggateHeaders['x-orggate-org-id'], 'org_globex');
    assert.equal(rec.orggateHeaders['x-orggate-subject'], 'okta|bob');
    assert.equal(rec.orggateHeaders['x-orggate-email'], 'bob@globex.test');
    assert.equal(rec.orggateHeaders['x-orggate-permissions'], 'reports:view read:docs');
    assert.equal(rec.orggateHeaders['x-orggate-membership'], 'member');
    assert.ok(rec.assertion, 'the same signed assertion as a tenant-IdP login');
    // Not an eng-admin: globex's /admin/* stays closed.
    assert.equal(await page.evaluate(async () => (await fetch('/admin/x')).status), 403);

    // bob's globex session is worthless on acme: acme answers with its own login page.
    await page.goto(url('acme', '/docs/'));
    assert.match(page.url(), /acme\.localhost.*\/_orggate\/login/);
    assert.equal(await page.title(), 'Sign in to Acme Corporation');
    await ctx.close();
  });

  test('groups map to roles and permissions: an eng-admin reaches globex\'s /admin', T, async () => {
    const ctx = await browser.newContext();
    const page = await globexLogin(ctx, 'dana@globex.test', 'dana-okta');
    await page.waitForURL(url('globex', '/docs/'));
    origin.requests.length = 0;
    assert.equal(await page.evaluate(async () => (await fetch('/admin/x')).status), 200);
    const rec = originSaw('/admin/x');
    assert.equal(rec.orggateHeaders['x-orggate-roles'], 'editor');
    assert.equal(rec.orggateHeaders['x-orggate-permissions'], 'reports:view read:docs admin');
    await ctx.close();
  });

  test('accounts outside globex\'s verified email domains are refused, with a branded page', T, async () => {
    for (const [user, password, shot] of [
      ['mallory@evil.test', 'mallory-okta', 'globex-own-idp-refused.png'],
      ['frank@globex.test', 'frank-okta', null],
    ]) {
      const ctx = await browser.newContext({ bypassCSP: true });
      const page = await globexLogin(ctx, user, password);
      await page.waitForURL(/\/_orggate\/callback/);
      assert.match(await page.content(), /may not sign in to Globex/, user);
      if (shot) {
        await page.screenshot({ path: `${ARTIFACTS}/${shot}`, fullPage: true });
        assert.deepEqual(await axe(page), [], 'no serious accessibility violations');
      }
      const cookies = await ctx.cookies(url('globex', '/'));
      assert.ok(!cookies.some((c) => c.name.startsWith('orggate_s_')), `${user}: no session`);
      await ctx.close();
    }
  });

  test('IdP mix-up (RFC 9207): a callback naming another issuer is refused before any code exchange', T, async () => {
    const start = await request({ port, host: `globex.localhost:${port}`, path: '/_orggate/start' });
    assert.equal(start.status, 302);
    const a = await authorizeViaOp({
      issuer: idp.issuer, clientId: 'globex-orggate', redirectUri: `http://globex.localhost:${port}/_orggate/callback`,
      user: 'bob@globex.test', password: 'bob-okta', startUrl: start.headers.location,
    });
    const cb = new URL(a.callbackUrl);
    cb.searchParams.set('iss', op.issuer); // the tenant's OP claims to have answered
    const r = await request({
      port, host: `globex.localhost:${port}`, path: cb.pathname + cb.search, headers: { cookie: cookieHeader(start.setCookies) },
    });
    assert.equal(r.status, 400);
    assert.match(r.body, /unexpected provider/);
    assert.ok(!r.setCookies.some((c) => /orggate_s_globex=[^;]/.test(c)), 'no session');
  });
});

describe('a tenant IdP with Keycloak-shaped tokens', { timeout: 300_000 }, () => {
  let worker; let op; let origin; let browser; let port;

  before(async () => {
    origin = await startOrigin({ port: 0 });
    worker = await startWorker({});
    op = await startOp({ port: 0, workerPorts: [worker.port], quiet: true, flavor: 'keycloak' });
    const edit = (entries) => {
      const s = JSON.parse(entries.settings);
      s.issuers[0].preset = 'keycloak';
      entries.settings = JSON.stringify(s);
      // Keycloak carries rights as realm roles: acme's reports need the role here.
      const acme = JSON.parse(entries['org:org_acme']);
      acme.routes[0].require = { roles: ['read:reports'] };
      entries['org:org_acme'] = JSON.stringify(acme);
    };
    for (const [k, v] of Object.entries(testKv({ issuer: op.issuer, origin: origin.url, edit }))) await worker.kv.put(k, v);
    port = worker.port;
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await worker?.close();
    await op?.close();
    await origin?.close();
  });

  test('alice signs in; the org is read from `organization` through the keycloak preset', T, async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`http://acme.localhost:${port}/api/reports/3`);
    await page.getByRole('link', { name: 'Continue to Acme Corporation sign-in' }).click();
    await opSignIn(page, 'alice@acme.test', 'alice-pass');
    await page.waitForURL(`http://acme.localhost:${port}/api/reports/3`);
    const rec = origin.requests.filter((r) => r.url === '/api/reports/3').at(-1);
    assert.equal(rec.orggateHeaders['x-orggate-org-id'], 'org_acme');
    assert.match(rec.orggateHeaders['x-orggate-roles'], /read:reports/);
    await page.screenshot({ path: `${ARTIFACTS}/keycloak-tenant-signed-in.png`, fullPage: true });
    await ctx.close();
  });
});
