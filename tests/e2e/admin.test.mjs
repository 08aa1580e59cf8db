// Delegated administration end to end: the built Worker, its OrgState Durable Object and KV in
// workerd, the demo OP, Chromium, and a DNS-over-HTTPS stub on loopback.
// - alice (acme admin) changes acme's colour and logo on the admin page; the login page shows
//   them; bob (not in acme) is refused; carol (globex admin, acme member) edits globex and is
//   refused on acme's admin page.
// - two writers with the same If-Match: exactly one gets 412; 50 concurrent writers that retry
//   on 412 end at revision start + 50 with every write in the audit log.
// - a domain is published for home-realm discovery only once its TXT record is there.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startStack } from './lib/stack.mjs';
import { orgAccessToken } from './lib/keys.mjs';
import { jsonApi } from './lib/api.mjs';
import { launch, axe, opSignIn, ARTIFACTS } from './lib/browser.mjs';

const T = { timeout: 120_000 };

describe('delegated administration in workerd', () => {
  let s; let browser; let dns; let dnsPort; const txt = new Map();
  before(async () => {
    // DNS-over-HTTPS (JSON) stub: answers TXT records set by the test.
    dns = http.createServer((req, res) => {
      const u = new URL(req.url, 'http://127.0.0.1');
      const value = txt.get(u.searchParams.get('name'));
      res.writeHead(200, { 'content-type': 'application/dns-json' });
      res.end(JSON.stringify({ Status: 0, Answer: value ? [{ name: u.searchParams.get('name'), type: 16, data: `"${value}"` }] : [] }));
    });
    await new Promise((ok) => dns.listen(0, '127.0.0.1', ok));
    dnsPort = dns.address().port;
    s = await startStack({
      editKv: (entries) => {
        const settings = JSON.parse(entries.settings);
        settings.admin = { permission: 'admin', dns_resolver: `http://127.0.0.1:${dnsPort}/dns-query` };
        settings.cache = { config_ttl_s: 1 };
        entries.settings = JSON.stringify(settings);
      },
    });
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await s?.close();
    await new Promise((ok) => (dns ? dns.close(ok) : ok()));
  });

  const url = (host, path) => `http://${host}:${s.port}${path}`;
  const api = (...args) => jsonApi(s, 'acme.localhost')(...args);

  it('alice rebrands acme on the admin page; bob and carol are refused on acme', T, async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(url('acme.localhost', '/_orggate/admin'));
    await page.getByRole('link', { name: 'Continue to Acme Corporation sign-in' }).click();
    await opSignIn(page, 'alice@acme.test', 'alice-pass');
    await page.waitForURL(url('acme.localhost', '/_orggate/admin'));
    assert.equal(await page.locator('h1').textContent(), 'Administer Acme Corporation');
    await page.fill('#primary', '#0f766e');
    await page.fill('#page_background', '#ecfdf5');
    await page.fill('#logo_url', '/_orggate/assets/demo-saas-logo.svg');
    await page.getByRole('button', { name: 'Save branding' }).click();
    await page.waitForURL(/saved=branding/);
    assert.ok(await page.getByText('Saved.').count());
    await page.screenshot({ path: `${ARTIFACTS}/admin-acme.png`, fullPage: true });
    // The login page carries the new colours (this isolate took the change at once).
    const login = await ctx.newPage();
    await login.goto(url('acme.localhost', '/_orggate/login'));
    const bg = await login.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.equal(bg, 'rgb(236, 253, 245)');
    assert.equal(await login.locator('img[alt="Acme Corporation logo"]').getAttribute('src'), '/_orggate/assets/demo-saas-logo.svg');
    await login.screenshot({ path: `${ARTIFACTS}/admin-acme-login-after.png`, fullPage: true });
    // axe on the admin page (CSP bypassed only to inject axe).
    const audit = await browser.newContext({ bypassCSP: true });
    await audit.addCookies(await ctx.cookies());
    const a = await audit.newPage();
    await a.goto(url('acme.localhost', '/_orggate/admin'));
    assert.deepEqual(await axe(a), [], 'admin page: axe');
    await a.goto(url('acme.localhost', '/_orggate/admin/audit'));
    assert.ok(await a.getByText('$.branding.colors.primary').count(), 'the audit log shows the change');
    assert.deepEqual(await axe(a), [], 'audit page: axe');
    await a.screenshot({ path: `${ARTIFACTS}/admin-acme-audit.png`, fullPage: true });
    await audit.close();
    await ctx.close();

    // carol administers globex, and is only a member of acme.
    const cctx = await browser.newContext();
    const c = await cctx.newPage();
    await c.goto(url('globex.localhost', '/_orggate/admin'));
    await c.getByRole('link', { name: /^Continue to .* sign-in$/ }).click();
    await opSignIn(c, 'carol@both.test', 'carol-pass');
    await c.waitForURL(url('globex.localhost', '/_orggate/admin'));
    await c.fill('#display_name', 'Globex by Carol');
    await c.getByRole('button', { name: 'Save branding' }).click();
    await c.waitForURL(/saved=branding/);
    assert.equal(JSON.parse(await s.worker.kv.get('org:org_globex')).display_name, 'Globex by Carol');
    await c.goto(url('acme.localhost', '/_orggate/admin'));
    await c.getByRole('link', { name: 'Continue to Acme Corporation sign-in' }).click();
    await c.waitForURL(url('acme.localhost', '/_orggate/admin'));
    assert.equal(await c.locator('h1').textContent(), 'Access denied');
    await cctx.close();

    // bob is not in acme: his globex session or an acme login gets him nowhere.
    const bob = await orgAccessToken({ issuer: s.issuer, sub: 'user_bob', orgId: 'org_globex', orgName: 'globex', permissions: ['admin'] });
    const r = await api(bob, 'GET', '/_orggate/admin/api/org');
    assert.equal(r.status, 401, r.body);
    assert.equal(r.json().reason, 'org_mismatch');
  });

  it('If-Match: one of two writers on the same revision gets 412; 50 retrying writers lose nothing', T, async () => {
    const admin = await orgAccessToken({ issuer: s.issuer, sub: 'user_alice', permissions: ['admin'] });
    const current = await api(admin, 'GET', '/_orggate/admin/api/org');
    assert.equal(current.status, 200, current.body);
    const start = current.json().revision;
    const etag = current.headers.etag;
    assert.equal(etag, `"v${start}"`);
    const both = await Promise.all(['One', 'Two'].map((t) => api(admin, 'PATCH', '/_orggate/admin/api/org', { body: { branding: { tagline: t } }, ifMatch: etag })));
    assert.deepEqual(both.map((r) => r.status).sort(), [200, 412], both.map((r) => r.body).join(' | '));
    const afterTwo = start + 1;

    const writer = async (i) => {
      for (let attempt = 0; attempt < 200; attempt += 1) {
        const g = await api(admin, 'GET', '/_orggate/admin/api/org');
        const p = await api(admin, 'PATCH', '/_orggate/admin/api/org', { body: { branding: { tagline: `writer ${i}` } }, ifMatch: g.headers.etag });
        if (p.status === 200) return attempt;
        assert.equal(p.status, 412, p.body);
        await new Promise((ok) => { setTimeout(ok, Math.random() * 20); });
      }
      throw new Error(`writer ${i} never got through`);
    };
    await Promise.all(Array.from({ length: 50 }, (_, i) => writer(i)));
    const end = await api(admin, 'GET', '/_orggate/admin/api/org');
    assert.equal(end.json().revision, afterTwo + 50);
    // Every write is in the audit log (newest first, 20 a page).
    const seen = new Set();
    for (let page = 0; page < 3; page += 1) {
      const a = await api(admin, 'GET', `/_orggate/admin/api/audit?page=${page}`);
      for (const e of a.json().entries) {
        for (const c of e.changes) if (c.path === '$.branding.tagline' && /^writer /.test(c.after)) seen.add(c.after);
      }
    }
    assert.equal(seen.size, 50, `audited writers: ${[...seen].length}`);
    // What KV holds is the writer's last state.
    const kv = JSON.parse(await s.worker.kv.get('org:org_acme'));
    assert.equal(kv.branding.tagline, end.json().document.branding.tagline);
  });

  it('a domain reaches home-realm discovery only once its TXT record is published', T, async () => {
    const admin = await orgAccessToken({ issuer: s.issuer, sub: 'user_alice', permissions: ['admin'] });
    const added = await api(admin, 'POST', '/_orggate/admin/api/domains', { body: { domain: 'rockets.example' } });
    assert.equal(added.status, 200, added.body);
    const { txt_name: name, txt_value: value } = added.json();
    let v = await api(admin, 'POST', '/_orggate/admin/api/domains/verify', { body: { domain: 'rockets.example' } });
    assert.equal(v.status, 409);
    assert.equal(await s.worker.kv.get('domain:rockets.example'), null);
    txt.set(name, value);
    v = await api(admin, 'POST', '/_orggate/admin/api/domains/verify', { body: { domain: 'rockets.example' } });
    assert.equal(v.status, 200, v.body);
    assert.equal(await s.worker.kv.get('domain:rockets.example'), 'org_acme');
    const find = await s.send({ host: 'localhost', path: '/_orggate/find?q=wile%40rockets.example', headers: { accept: 'text/html' } });
    assert.equal(find.status, 302);
    assert.match(find.headers.location, /acme\.localhost.*login_hint=wile%40rockets.example/);
  });
});
