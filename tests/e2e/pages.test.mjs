// Every page orggate shows looks like the product: the org prompt (in the tenant's branding),
// refusals and messages (in the org's branding when the org is known), the sign-out question,
// sign-in errors. Each in Chromium against the built Worker: the stylesheet applies under the
// page's own CSP (no bypass), axe finds nothing serious (with CSP bypassed, only so axe can be
// injected), and a screenshot lands in test-artifacts/.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './lib/stack.mjs';
import { launch, axe, opSignIn, ARTIFACTS } from './lib/browser.mjs';

const T = { timeout: 60_000 };

describe('pages', () => {
  let s; let browser; let styled; let audited;
  before(async () => {
    s = await startStack();
    browser = await launch();
    styled = await browser.newContext();
    audited = await browser.newContext({ bypassCSP: true });
  });
  after(async () => {
    await browser?.close();
    await s?.close();
  });

  const url = (host, path) => `http://${host}:${s.port}${path}`;

  /** Loads `target` (or serves `html` from it) in both contexts; checks style, axe, screenshot. */
  async function check(name, target, { status, title, heading, text, brand, html }) {
    for (const ctx of [styled, audited]) {
      const page = await ctx.newPage();
      if (html) {
        // A page only a cross-site navigation produces: serve the Worker's answer at its URL.
        await page.route(target, (route) => route.fulfill(html));
      }
      const res = await page.goto(target);
      assert.equal(res.status(), status, `${name}: status`);
      assert.equal(await page.title(), title, `${name}: title`);
      assert.equal((await page.locator('h1').textContent()).trim(), heading, `${name}: heading`);
      if (text) assert.ok(await page.getByText(text).count(), `${name}: says ${text}`);
      if (ctx === styled) {
        // The stylesheet applied (the CSP admits it by hash): the card, the brand colours, no serif.
        const look = await page.evaluate(() => ({
          radius: getComputedStyle(document.querySelector('main')).borderRadius,
          bg: getComputedStyle(document.body).backgroundColor,
          font: getComputedStyle(document.body).fontFamily,
        }));
        assert.equal(look.radius, '12px', `${name}: styled`);
        assert.equal(look.bg, brand.bg, `${name}: brand background`);
        assert.match(look.font, /system-ui/, `${name}: not the default serif`);
        if (brand.logo) assert.equal(await page.locator(`img[alt="${brand.logo}"]`).count(), 1, `${name}: logo`);
        await page.screenshot({ path: `${ARTIFACTS}/page-${name}.png`, fullPage: true });
      } else {
        assert.deepEqual(await axe(page), [], `${name}: axe`);
      }
      await page.close();
    }
  }

  const TENANT = { bg: 'rgb(238, 242, 255)', logo: 'Demo SaaS logo' };
  const ACME = { bg: 'rgb(255, 247, 237)', logo: 'Acme Corporation logo' };

  it('the org prompt and its "not found" answer carry the tenant\'s branding', T, async () => {
    await check('org-prompt', url('localhost', '/'), {
      status: 200, title: 'Sign in to your organization', heading: 'Sign in to your organization', brand: TENANT,
    });
    await check('org-prompt-miss', url('localhost', '/_orggate/find?q=nosuch'), {
      status: 200, title: 'Sign in to your organization', heading: 'Sign in to your organization',
      text: 'We could not find a sign-in page', brand: TENANT,
    });
  });

  it('refusals: an unknown org in the tenant\'s branding, access denied in the org\'s', T, async () => {
    await check('refusal-unknown-org', url('nope.localhost', '/docs/'), {
      status: 404, title: 'Not found', heading: 'Not found', text: 'unknown_org', brand: TENANT,
    });
    // carol is an acme member without read:docs: acme's branded "Access denied".
    const page = await styled.newPage();
    await page.goto(url('acme.localhost', '/docs/'));
    await page.getByRole('link', { name: 'Continue to Acme Corporation sign-in' }).click();
    await opSignIn(page, 'carol@both.test', 'carol-pass');
    await page.waitForURL(url('acme.localhost', '/docs/'));
    const cookies = await styled.cookies();
    await audited.addCookies(cookies);
    await page.close();
    await check('refusal-access-denied', url('acme.localhost', '/docs/'), {
      status: 403, title: 'Access denied', heading: 'Access denied', text: 'missing_requirement', brand: ACME,
    });
  });

  it('messages: signed out, the sign-out question, a failed sign-in', T, async () => {
    await check('signed-out', url('acme.localhost', '/_orggate/logged-out'), {
      status: 200, title: 'You are signed out', heading: 'You are signed out', brand: ACME,
    });
    await check('sign-in-failed', url('acme.localhost', '/_orggate/callback?state=not-a-state'), {
      status: 400, title: 'Sign-in failed', heading: 'Sign-in failed', brand: ACME,
    });
    // Reached from another site, logout asks first.
    const r = await s.send({
      host: 'acme.localhost', path: '/_orggate/logout?everywhere=1',
      headers: { accept: 'text/html', 'sec-fetch-site': 'cross-site' },
    });
    assert.equal(r.status, 200);
    const headers = Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, String(v)]));
    await check('sign-out-question', url('acme.localhost', '/_orggate/logout?everywhere=1'), {
      status: 200, title: 'Sign out?', heading: 'Sign out?', text: 'on all your devices', brand: ACME,
      html: { status: 200, headers, body: r.body },
    });
  });
});
