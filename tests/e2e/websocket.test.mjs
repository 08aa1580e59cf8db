// WebSockets through orggate, end to end: the built Worker in workerd, the dev OP, and the echo
// origin's WebSocket server. A member's socket echoes with the identity headers on the
// handshake; a handshake without a credential, and one carrying acme's session cookie from
// globex's origin (cross-site WebSocket hijacking across tenants), never reach the origin.
import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';

import { startStack } from './lib/stack.mjs';
import { workerSession } from './lib/session.mjs';
import { loginViaOp } from './lib/oplogin.mjs';

const T = { timeout: 30_000 };

/**
 * Opens a socket through the Worker with a Host header (`*.localhost` does not resolve in node).
 * Resolves {status} when the handshake is refused, or {status: 101, hello, echo} once the
 * origin's hello and the echo of one message arrived.
 */
function openSocket(port, host, { headers = {}, origin } = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/reports/live`, {
      headers: { host: `${host}:${port}`, ...headers },
      origin,
      handshakeTimeout: 10_000,
    });
    const timer = setTimeout(() => { ws.terminate(); reject(new Error('socket timed out')); }, 15_000);
    const got = [];
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => { clearTimeout(timer); resolve({ status: res.statusCode, body }); });
    });
    ws.on('open', () => ws.send('ping-42'));
    ws.on('message', (data) => {
      got.push(String(data));
      if (got.length === 2) {
        clearTimeout(timer);
        ws.close();
        resolve({ status: 101, hello: JSON.parse(got[0]), echo: got[1] });
      }
    });
    ws.on('error', (err) => { if (!got.length) { clearTimeout(timer); reject(err); } });
  });
}

describe('WebSocket pass-through and hijacking', { timeout: 180_000 }, () => {
  let s;
  let acmeSession;
  let aliceToken;

  before(async () => {
    s = await startStack();
    acmeSession = await workerSession(s, 'acme.localhost', 'alice@acme.test', 'alice-pass');
    const r = await loginViaOp({
      issuer: s.issuer, redirectUri: s.callbackUrl('acme.localhost'), user: 'alice@acme.test', password: 'alice-pass', organization: 'org_acme',
    });
    aliceToken = r.access_token;
  });
  after(async () => { await s?.close(); });
  beforeEach(() => s.clearOrigin());

  const wsRecords = () => s.originRequests().filter((r) => r.websocket);

  it('a member\'s socket on a session echoes, and the handshake carries the identity and the assertion', T, async () => {
    const own = `http://acme.localhost:${s.port}`;
    const r = await openSocket(s.port, 'acme.localhost', { headers: { cookie: acmeSession }, origin: own });
    assert.equal(r.status, 101, r.body);
    assert.equal(r.echo, 'ping-42');
    assert.equal(r.hello.org, 'org_acme');
    assert.ok(r.hello.hello, 'the origin saw a subject');
    const [rec] = wsRecords();
    assert.equal(rec.orggateHeaders['x-orggate-org-name'], 'acme');
    assert.ok(rec.assertion, 'signed assertion on the handshake');
    assert.ok(!/orggate_s_/.test(rec.headers.cookie ?? ''), 'the session cookie is not forwarded');
  });

  it('a member\'s socket with a bearer token echoes (no ambient credential, no origin check)', T, async () => {
    const r = await openSocket(s.port, 'acme.localhost', {
      headers: { authorization: `Bearer ${aliceToken}` }, origin: `http://globex.localhost:${s.port}`,
    });
    assert.equal(r.status, 101, r.body);
    assert.equal(r.echo, 'ping-42');
  });

  it('a handshake without a credential is refused with 401 and never reaches the origin', T, async () => {
    const r = await openSocket(s.port, 'acme.localhost', { origin: `http://acme.localhost:${s.port}` });
    assert.equal(r.status, 401);
    assert.equal(JSON.parse(r.body).reason, 'no_credentials');
    assert.deepEqual(wsRecords(), []);
  });

  it('a handshake carrying acme\'s session cookie from globex\'s origin is refused (403 cross_site_request)', T, async () => {
    const r = await openSocket(s.port, 'acme.localhost', {
      headers: { cookie: acmeSession }, origin: `http://globex.localhost:${s.port}`,
    });
    assert.equal(r.status, 403);
    assert.equal(JSON.parse(r.body).reason, 'cross_site_request');
    assert.deepEqual(wsRecords(), []);
  });
});
