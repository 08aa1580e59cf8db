// The login flow in a real browser: Debian Chromium (playwright-core) against the built Worker in
// workerd and the demo OpenID Provider, all on loopback. Screenshots go to test-artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, testKv } from './lib/worker.mjs';
import { startOp } from '../../dev/op.mjs';
import { startOrigin } from '../../dev/origin.mjs';
import { launch, axe, opSignIn, ARTIFACTS } from './lib/browser.mjs';

// axe-core is injected as an inline script, which the pages' CSP forbids (as it should).
const AXE_NEEDS_INLINE = true;

let worker; let op; let origin; let browser; let port;

/** Worker first (to learn its port), then the OP registered with that port's redirect URIs. */
async function stack({ accessTtl, edit } = {}) {
  const w = await startWorker({});
  const o = await startOp({ port: 0, workerPorts: [w.port], accessTtl, quiet: true });
  for (const [k, v] of Object.entries(testKv({ issuer: o.issuer, origin: origin.url, edit }))) await w.kv.put(k, v);
  return { w, o };
}

before(async () => {
  origin = await startOrigin({ port: 0 });
  ({ w: worker, o: op } = await stack());
  port = worker.port;
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await worker?.close();
  await op?.close();
  await origin?.close();
});

const url = (host, path) => `http://${host}.localhost:${port}${path}`;

async function signIn(page, host, path, user, password) {
  await page.goto(url(host, path));
  await page.getByRole('link', { name: /^Continue to .* sign-in$/ }).click();
  await opSignIn(page, user, password);
}

test('acme member signs in from the branded page and reads the gated site; the session is worthless on globex', async () => {
  const ctx = await browser.newContext({ bypassCSP: AXE_NEEDS_INLINE });
  const page = await ctx.newPage();
  await page.goto(url('acme', '/docs/'));
  assert.match(page.url(), /\/_orggate\/login\?return_to=%2Fdocs%2F$/);
  assert.equal(await page.title(), 'Sign in to Acme Corporation');
  await page.screenshot({ path: `${ARTIFACTS}/acme-login.png`, fullPage: true });
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.equal(bg, 'rgb(255, 247, 237)', 'acme page background colour from KV');
  assert.deepEqual(await axe(page), [], 'no serious accessibility violations on acme login');
  for (const label of ['Acme SSO (Okta)', 'Google', 'Email me a sign-in code', 'Create an account']) {
    assert.ok(await page.getByText(label).count(), `acme offers ${label}`);
  }
  await page.getByRole('link', { name: 'Continue to Acme Corporation sign-in' }).click();
  assert.match(page.url(), new RegExp(`^${op.issuer}/`));
  await opSignIn(page, 'alice@acme.test', 'alice-pass');
  await page.waitForURL(url('acme', '/docs/'));
  assert.match(await page.content(), /Acme internal documentation/);
  await page.screenshot({ path: `${ARTIFACTS}/acme-signed-in.png`, fullPage: true });
  const cookies = await ctx.cookies(url('acme', '/'));
  const sess = cookies.find((c) => c.name.startsWith('orggate_s_acme'));
  assert.ok(sess, 'session cookie set');
  assert.equal(sess.httpOnly, true);
  assert.equal(sess.sameSite, 'Lax');

  // The acme session cookie presented on globex (same browser, forced onto globex's host) does
  // not open there: globex answers with its own login page.
  await ctx.addCookies([{ ...sess, name: 'orggate_s_globex', domain: `globex.localhost` }]);
  const resp = await page.goto(url('globex', '/docs/'));
  assert.match(page.url(), /globex\.localhost.*\/_orggate\/login/);
  assert.equal(resp.status(), 200);
  assert.equal(await page.title(), 'Sign in to Globex');
  await page.screenshot({ path: `${ARTIFACTS}/globex-login.png`, fullPage: true });
  assert.deepEqual(await axe(page), [], 'no serious accessibility violations on globex login');
  await ctx.close();
});

test('a globex-only user cannot get into acme', async () => {
  const ctx = await browser.newContext({ bypassCSP: AXE_NEEDS_INLINE });
  const page = await ctx.newPage();
  await signIn(page, 'acme', '/docs/', 'bob@globex.test', 'bob-pass');
  await page.waitForURL(/acme\.localhost.*\/_orggate\/login\?error=access_denied/);
  assert.match(await page.content(), /not a member of Acme Corporation/);
  const cookies = await ctx.cookies(url('acme', '/'));
  assert.ok(!cookies.some((c) => c.name.startsWith('orggate_s_')), 'no session for a non-member');
  const r = await page.goto(url('acme', '/docs/'));
  assert.match(page.url(), /\/_orggate\/login/);
  assert.equal(r.status(), 200);
  await ctx.close();
});

test('an invitation link forwards invitation and organization to the OP', async () => {
  const ctx = await browser.newContext({ bypassCSP: AXE_NEEDS_INLINE });
  const page = await ctx.newPage();
  await page.goto(url('acme', '/_orggate/login?invitation=inv_Xy12ab&organization=org_acme&organization_name=acme'));
  assert.match(await page.content(), /invited to join Acme Corporation/);
  await page.getByRole('link', { name: 'Continue to Acme Corporation sign-in' }).click();
  await page.getByLabel('Email').waitFor();
  const last = await (await fetch(`${op.issuer}/_test/last-authorize`)).json();
  assert.equal(last.params.invitation, 'inv_Xy12ab');
  assert.equal(last.params.organization, 'org_acme');
  assert.equal(last.params.organization_name, undefined, 'organization_name only picks the page');
  assert.equal(last.params.code_challenge_method, 'S256');
  await ctx.close();
});

test('the organization prompt routes names and work emails, and reveals nothing on a miss', async () => {
  const ctx = await browser.newContext({ bypassCSP: AXE_NEEDS_INLINE });
  const page = await ctx.newPage();
  await page.goto(`http://localhost:${port}/`);
  assert.deepEqual(await axe(page), []);
  await page.getByLabel('Organization name or work email').fill('carol@globex.test');
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL(/globex\.localhost.*\/_orggate\/login\?login_hint=carol%40globex\.test/);
  await page.goto(`http://localhost:${port}/`);
  await page.getByLabel('Organization name or work email').fill('acme');
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL(/acme\.localhost.*\/_orggate\/login/);
  const misses = [];
  for (const q of ['initech', 'someone@initech.test']) {
    await page.goto(`http://localhost:${port}/`);
    await page.getByLabel('Organization name or work email').fill(q);
    await page.getByRole('button', { name: 'Continue' }).click();
    misses.push(await page.locator('[role=status]').textContent());
  }
  assert.equal(misses[0], misses[1], 'same answer for an unknown name and an unknown domain');
  await ctx.close();
});

test('a replayed or tampered state is refused', async () => {
  const ctx = await browser.newContext({ bypassCSP: AXE_NEEDS_INLINE });
  const page = await ctx.newPage();
  let callback;
  page.on('request', (r) => { if (r.url().includes('/_orggate/callback')) callback = r.url(); });
  await signIn(page, 'acme', '/docs/', 'alice@acme.test', 'alice-pass');
  await page.waitForURL(url('acme', '/docs/'));
  assert.ok(callback);
  let r = await page.goto(callback);
  assert.equal(r.status(), 400, 'replayed callback');
  const tampered = callback.replace(/state=([^&]{4})/, 'state=AAAA');
  r = await page.goto(tampered);
  assert.equal(r.status(), 400, 'tampered state');
  await ctx.close();
});

test('logout ends the session at orggate and at the OP', async () => {
  const ctx = await browser.newContext({ bypassCSP: AXE_NEEDS_INLINE });
  const page = await ctx.newPage();
  await signIn(page, 'acme', '/docs/', 'carol@both.test', 'carol-pass');
  await page.waitForURL(url('acme', '/docs/'));
  // carol has no read:docs in acme: 403 page, but she is signed in.
  assert.match(await page.content(), /does not have access/);
  let s = await (await fetch(`${op.issuer}/_test/session?user=carol@both.test`)).json();
  assert.equal(s.active, true);
  await page.goto(url('acme', '/_orggate/logout'));
  await page.waitForURL(/\/_orggate\/logged-out/);
  s = await (await fetch(`${op.issuer}/_test/session?user=carol@both.test`)).json();
  assert.equal(s.active, false, 'OP session ended');
  await page.goto(url('acme', '/docs/'));
  assert.match(page.url(), /\/_orggate\/login/);
  await ctx.close();
});

test('an expiring access token is refreshed without a redirect', async () => {
  const { w, o } = await stack({ accessTtl: 20 });
  try {
    const p2 = w.port;
    const ctx = await browser.newContext({ bypassCSP: AXE_NEEDS_INLINE });
    const page = await ctx.newPage();
    await page.goto(`http://acme.localhost:${p2}/docs/`);
    await page.getByRole('link', { name: 'Continue to Acme Corporation sign-in' }).click();
    await opSignIn(page, 'alice@acme.test', 'alice-pass');
    await page.waitForURL(`http://acme.localhost:${p2}/docs/`);
    const before = (await ctx.cookies(`http://acme.localhost:${p2}/`)).find((c) => c.name.startsWith('orggate_s_acme'));
    // 20 s tokens are inside orggate's 30 s refresh margin: the next request refreshes in place.
    const resp = await page.goto(`http://acme.localhost:${p2}/docs/`);
    assert.equal(resp.status(), 200);
    assert.equal(resp.request().redirectedFrom(), null, 'no redirect');
    assert.match(await page.content(), /Acme internal documentation/);
    const setCookie = (await resp.headerValue('set-cookie')) ?? '';
    assert.match(setCookie, /orggate_s_acme/, 'a refreshed session cookie was set');
    const afterC = (await ctx.cookies(`http://acme.localhost:${p2}/`)).find((c) => c.name.startsWith('orggate_s_acme'));
    assert.notEqual(afterC.value, before.value);
    await ctx.close();
  } finally {
    await w.close();
    await o.close();
  }
});

test('two tabs logging in at once do not break each other', async () => {
  const ctx = await browser.newContext();
  const [tab1, tab2] = [await ctx.newPage(), await ctx.newPage()];
  await tab1.goto(url('acme', '/docs/'));
  await tab2.goto(url('acme', '/_orggate/login?return_to=%2Fpublic%2Fhello'));
  await tab1.getByRole('link', { name: 'Continue to Acme Corporation sign-in' }).click();
  await tab2.getByRole('link', { name: 'Continue to Acme Corporation sign-in' }).click();
  // Two transactions, two cookies.
  const txns = (await ctx.cookies(url('acme', '/'))).filter((c) => c.name.startsWith('orggate_t_'));
  assert.equal(txns.length, 2, 'one transaction cookie per tab');
  // Finish the second tab first, then the first: each returns to its own page, signed in.
  await opSignIn(tab2, 'alice@acme.test', 'alice-pass');
  await tab2.waitForURL(url('acme', '/public/hello'));
  await tab1.reload();
  if (await tab1.getByLabel('Email').count()) await opSignIn(tab1, 'alice@acme.test', 'alice-pass');
  await tab1.waitForURL(url('acme', '/docs/'));
  assert.match(await tab1.content(), /Acme internal documentation/);
  await ctx.close();
});

test('passwordless: "email me a code" sends the email connection and login_hint to the OP', async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(url('acme', '/_orggate/login'));
  await page.getByLabel('Work email').fill('dana@acme.test');
  await page.getByRole('button', { name: 'Email me a sign-in code' }).click();
  await page.getByLabel('Email').waitFor();
  const last = await (await fetch(`${op.issuer}/_test/last-authorize`)).json();
  assert.equal(last.params.connection, 'email');
  assert.equal(last.params.login_hint, 'dana@acme.test');
  assert.equal(last.params.organization, 'org_acme');
  // A connection the org does not offer is never forwarded.
  await page.goto(url('acme', '/_orggate/start?connection=evil-corp-saml'));
  await page.getByLabel('Email').waitFor();
  const again = await (await fetch(`${op.issuer}/_test/last-authorize`)).json();
  assert.equal(again.params.connection, undefined);
  await ctx.close();
});

test('a failed refresh falls back to a fresh login, without a loop', async () => {
  // 3 s tokens and no leeway, so the token is really expired when the refresh fails.
  const noLeeway = (entries) => {
    const s = JSON.parse(entries.settings);
    for (const i of s.issuers) i.leeway_s = 0;
    entries.settings = JSON.stringify(s);
  };
  const { w, o } = await stack({ accessTtl: 3, edit: noLeeway });
  const opPort = Number(new URL(o.issuer).port);
  let o2;
  try {
    const base = `http://acme.localhost:${w.port}`;
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`${base}/docs/`);
    await page.getByRole('link', { name: 'Continue to Acme Corporation sign-in' }).click();
    await opSignIn(page, 'alice@acme.test', 'alice-pass');
    await page.waitForURL(`${base}/docs/`);
    // The OP restarts and forgets every refresh token (same issuer URL, same keys).
    await o.close();
    o2 = await startOp({ port: opPort, workerPorts: [w.port], accessTtl: 3, quiet: true });
    await new Promise((r) => { setTimeout(r, 3500); });
    const resp = await page.goto(`${base}/docs/`);
    // One redirect to the login page, which is a page (200), not another redirect.
    assert.match(page.url(), /\/_orggate\/login\?return_to=%2Fdocs%2F$/);
    assert.equal(resp.status(), 200);
    assert.equal(resp.request().redirectedFrom()?.redirectedFrom() ?? null, null, 'exactly one redirect');
    const left = (await ctx.cookies(base)).filter((c) => c.name.startsWith('orggate_s_'));
    assert.deepEqual(left, [], 'the dead session was cleared');
    await ctx.close();
  } finally {
    await w.close();
    await (o2 ?? o).close().catch(() => {});
  }
});
