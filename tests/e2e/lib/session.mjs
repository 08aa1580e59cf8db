// A real orggate session without a browser: /_orggate/start on the Worker, the OP's login form
// (followed by authorizeViaOp from the Worker's own authorization URL), then the Worker's
// callback. Returns the Cookie header value carrying the session.
import assert from 'node:assert/strict';
import { authorizeViaOp } from './oplogin.mjs';
import { cookieHeader } from './http.mjs';

/**
 * @param {object} s a stack from startStack()
 * @param {string} host e.g. 'acme.localhost'
 */
export async function workerSession(s, host, user, password) {
  const start = await s.send({ host, path: '/_orggate/start?return_to=%2F' });
  assert.equal(start.status, 302, start.body);
  const txnCookie = cookieHeader(start.setCookies);
  const a = await authorizeViaOp({
    issuer: s.issuer, redirectUri: s.callbackUrl(host), user, password, startUrl: start.headers.location,
  });
  const cb = new URL(a.callbackUrl);
  const done = await s.send({ host, path: cb.pathname + cb.search, headers: { cookie: txnCookie } });
  assert.equal(done.status, 302, `callback: ${done.status} ${done.body}`);
  const session = cookieHeader(done.setCookies.filter((c) => !/Max-Age=0/.test(c)));
  assert.match(session, /orggate_s_/, 'a session cookie was set');
  return session;
}
