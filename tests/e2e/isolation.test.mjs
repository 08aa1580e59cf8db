// Isolation between sibling org hosts, in Chromium: alice signs in on acme; a page served from
// globex's host (a public route, as another org's static site or marketing page would be) then
// tries a credentialed fetch, a WebSocket, an <img> and a form POST against acme's API. To the
// browser acme.localhost and globex.localhost are the same site, so acme's SameSite=Lax cookie
// rides on all four; none may reach acme's origin as alice. A plain link from globex to acme
// must still arrive signed in.
//
// The org hosts are acme.app.test and globex.app.test (mapped to loopback by a Chromium
// host-resolver rule): siblings under one registrable domain are the same site, as
// acme.app.example and globex.app.example are in production. (Chromium treats `*.localhost`
// names as cross-site to each other, where SameSite=Lax alone would already hold the cookie
// back and the test would prove nothing.) Production runs on https, where browsers send Fetch
// Metadata; these http test origins are declared potentially trustworthy so that they do too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, testKv } from './lib/worker.mjs';
import { startOp } from '../../dev/op.mjs';
import { startOrigin } from '../../dev/origin.mjs';
import { launch, opSignIn, ARTIFACTS } from './lib/browser.mjs';

let worker; let op; let origin; let browser; let port;

before(async () => {
  origin = await startOrigin({ port: 0 });
  worker = await startWorker({});
  op = await startOp({ port: 0, workerPorts: [worker.port], quiet: true });
  const edit = (entries) => {
    const settings = JSON.parse(entries.settings);
    settings.resolution.base_domains.push('app.test');
    entries.settings = JSON.stringify(settings);
  };
  for (const [k, v] of Object.entries(testKv({ issuer: op.issuer, origin: origin.url, edit }))) await worker.kv.put(k, v);
  port = worker.port;
  // Browsers send Fetch Metadata only to potentially trustworthy origins (https, localhost);
  // production is https, so the test origins are declared trustworthy for this browser.
  const hosts = ['acme', 'globex'].map((h) => `http://${h}.app.test:${port}`).join(',');
  browser = await launch({
    extraArgs: ['--host-resolver-rules=MAP *.app.test 127.0.0.1', `--unsafely-treat-insecure-origin-as-secure=${hosts}`],
  });
});

after(async () => {
  await browser?.close();
  await worker?.close();
  await op?.close();
  await origin?.close();
});

const url = (host, path) => `http://${host}.app.test:${port}${path}`;

test('a page on globex\'s host cannot use acme\'s session; a top-level link to acme still works', { timeout: 120_000 }, async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(url('acme', '/docs/'));
  await page.getByRole('link', { name: 'Continue to Acme Corporation sign-in' }).click();
  await opSignIn(page, 'alice@acme.test', 'alice-pass');
  await page.waitForURL(url('acme', '/docs/'));

  // The control: from acme's own page, the same requests reach the origin as alice.
  origin.requests.length = 0;
  const own = await page.evaluate(async (t) => {
    const r = await fetch(`${t}/api/reports/1?probe=own`, { credentials: 'include' });
    return r.status;
  }, url('acme', ''));
  assert.equal(own, 200);
  assert.equal(origin.requests.at(-1).orggateHeaders['x-orggate-org-id'], 'org_acme');

  origin.requests.length = 0;
  const probeUrl = `${url('globex', '/public/xsite-probe.html')}?target=${encodeURIComponent(url('acme', ''))}`;
  await page.goto(probeUrl);
  await page.waitForFunction(() => window.probe?.done === true, null, { timeout: 30_000 });
  // the form POST navigates the hidden iframe; give it time to land (or be refused)
  await page.waitForTimeout(1000);
  const probe = await page.evaluate(() => window.probe);
  await page.screenshot({ path: `${ARTIFACTS}/xsite-probe-globex.png`, fullPage: true });

  const reachedAcme = origin.requests.filter((r) => r.url.startsWith('/api/'));
  assert.deepEqual(
    reachedAcme.map((r) => ({ url: r.url, subject: r.orggateHeaders['x-orggate-subject'] })),
    [],
    'no request from globex\'s page reached acme\'s origin',
  );
  assert.notEqual(probe.ws.open && probe.ws.messages.length > 0, true, `the socket must not carry data: ${JSON.stringify(probe.ws)}`);
  assert.equal(probe.img, 'error', 'the image request was refused');
  assert.equal(probe.fetch.type, 'opaque', 'the no-cors fetch got an opaque (refused) answer');

  // A top-level navigation from globex to acme is allowed and arrives as alice.
  await page.getByRole('link', { name: 'Open the other organization\'s report' }).click();
  await page.waitForURL(/acme\.app\.test.*probe=nav/);
  const nav = origin.requests.find((r) => r.url.includes('probe=nav'));
  assert.ok(nav, 'the navigation reached acme\'s origin');
  assert.equal(nav.orggateHeaders['x-orggate-org-id'], 'org_acme');
  assert.equal(nav.headers['sec-fetch-site'], 'same-site');
  await page.screenshot({ path: `${ARTIFACTS}/xsite-link-to-acme.png`, fullPage: true });
  await ctx.close();
});
