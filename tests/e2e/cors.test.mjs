// CORS in Chromium against the built Worker: a single-page app on its own origin calls acme's
// API with a bearer token. The preflight is answered at the edge (the origin never sees an
// OPTIONS), the call goes through, and a refusal (401, 403) is readable by the app, reason and
// challenge included, instead of an opaque network error. A page on an origin the config does
// not list gets nothing it can read.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startStack } from './lib/stack.mjs';
import { orgAccessToken } from './lib/keys.mjs';
import { launch, ARTIFACTS } from './lib/browser.mjs';

let spa; let spaPort; let s; let browser;

before(async () => {
  // The SPA's own server: one page, whatever host it is reached by.
  spa = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><html lang="en"><title>SPA</title><h1>Reports SPA</h1></html>');
  });
  await new Promise((ok) => spa.listen(0, '127.0.0.1', ok));
  spaPort = spa.address().port;
  s = await startStack({
    editKv: (entries) => {
      const org = JSON.parse(entries['org:org_acme']);
      for (const r of org.routes) {
        if (r.id === 'reports-read' || r.id === 'reports-write') {
          r.cors = { origins: [`http://spa.localhost:${spaPort}`], headers: ['authorization', 'content-type'], max_age_s: 60 };
        }
      }
      entries['org:org_acme'] = JSON.stringify(org);
    },
  });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await s?.close();
  await new Promise((ok) => (spa ? spa.close(ok) : ok()));
});

/** Runs fetch in the page; returns what the app can see (or the error a blocked call gives). */
function call(page, url, headers) {
  return page.evaluate(async ({ url, headers }) => {
    try {
      const r = await fetch(url, { headers });
      let body = null;
      try { body = await r.json(); } catch { /* not JSON */ }
      return { status: r.status, body, challenge: r.headers.get('www-authenticate') };
    } catch (e) {
      return { error: String(e) };
    }
  }, { url, headers });
}

test('an SPA on its own origin reads answers and refusals; an unlisted origin reads nothing', { timeout: 120_000 }, async () => {
  const api = `http://acme.localhost:${s.port}/api/reports/1`;
  const token = await orgAccessToken({ issuer: s.issuer, permissions: ['read:reports'] });
  const weak = await orgAccessToken({ issuer: s.issuer, permissions: [] });
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`http://spa.localhost:${spaPort}/`);
  await s.clearOrigin();

  // Authorization is not a CORS-safelisted header: each call is preflighted.
  const ok = await call(page, api, { authorization: `Bearer ${token}` });
  assert.equal(ok.status, 200, JSON.stringify(ok));
  const seen = s.originRequests();
  assert.deepEqual(seen.map((r) => r.method), ['GET'], 'the preflight never reaches the origin');
  assert.equal(seen[0].orggateHeaders['x-orggate-org-id'], 'org_acme');

  const missing = await call(page, api, { 'content-type': 'application/json' });
  assert.equal(missing.status, 401, JSON.stringify(missing));
  assert.equal(missing.body.reason, 'no_credentials');
  assert.match(missing.challenge, /^Bearer realm="orggate"/);

  const forbidden = await call(page, api, { authorization: `Bearer ${weak}` });
  assert.equal(forbidden.status, 403, JSON.stringify(forbidden));
  assert.equal(forbidden.body.reason, 'missing_requirement');
  assert.deepEqual(forbidden.body.missing, ['permission:read:reports']);
  await page.screenshot({ path: `${ARTIFACTS}/cors-spa.png` });

  // The same page served from a host the config does not list: the browser blocks every read.
  const other = await ctx.newPage();
  await other.goto(`http://other.localhost:${spaPort}/`);
  await s.clearOrigin();
  for (const headers of [{ authorization: `Bearer ${token}` }, {}]) {
    const r = await call(other, api, headers);
    assert.match(r.error ?? '', /TypeError/, JSON.stringify(r));
  }
  // The preflighted call never reached the origin; the simple GET did (with no credential it was
  // refused at the edge), so nothing reached it at all.
  assert.deepEqual(s.originRequests(), []);
  await ctx.close();
});
