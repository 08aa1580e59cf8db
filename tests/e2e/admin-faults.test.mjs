// The org writer's outbox in workerd: KV refuses each Durable Object's first two writes
// (ORGGATE_TEST_KV_FAULTS=2). An admin's change to acme is still committed and audited, and the
// object's alarm publishes it; at the end the object's state and KV agree, and the next write
// publishes at once. A revocation in globex (another object) is enforced at once by the isolate
// that wrote it and reaches KV through the same alarm.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './lib/stack.mjs';
import { orgAccessToken } from './lib/keys.mjs';
import { jsonApi } from './lib/api.mjs';

const T = { timeout: 120_000 };

describe('KV publish faults in workerd', () => {
  let s;
  before(async () => {
    s = await startStack({
      bindings: { ORGGATE_TEST_KV_FAULTS: '2' },
      editKv: (entries) => {
        const settings = JSON.parse(entries.settings);
        settings.admin = { permission: 'admin' };
        entries.settings = JSON.stringify(settings);
      },
    });
  });
  after(async () => { await s?.close(); });

  const api = (...args) => jsonApi(s, 'acme.localhost')(...args);
  const kvDoc = async () => JSON.parse(await s.worker.kv.get('org:org_acme'));

  it('a change KV refused twice is kept, audited, and published by the alarm', T, async () => {
    const admin = await orgAccessToken({ issuer: s.issuer, sub: 'user_alice', permissions: ['admin'] });
    const before = await kvDoc();
    const current = await api(admin, 'GET', '/_orggate/admin/api/org');
    assert.equal(current.status, 200, current.body);

    const t0 = Date.now();
    const p = await api(admin, 'PATCH', '/_orggate/admin/api/org', {
      body: { display_name: 'Acme (published late)' }, ifMatch: current.headers.etag,
    });
    assert.equal(p.status, 200, p.body);
    const revision = p.json().revision;
    assert.equal(revision, current.json().revision + 1);
    // KV refused the write: it still holds the old document.
    assert.equal((await kvDoc()).display_name, before.display_name);
    // The writer has it, with its audit entry.
    const got = await api(admin, 'GET', '/_orggate/admin/api/org');
    assert.equal(got.json().document.display_name, 'Acme (published late)');
    const audit = await api(admin, 'GET', '/_orggate/admin/api/audit?page=0');
    const entry = audit.json().entries.find((e) => e.changes.some((c) => c.path === '$.display_name' && c.after === 'Acme (published late)'));
    assert.ok(entry, audit.body);

    // The alarm retries (2 s, then 4 s): the second fault, then the write lands.
    let doc = await kvDoc();
    for (let i = 0; i < 120 && doc.display_name !== 'Acme (published late)'; i += 1) {
      await new Promise((ok) => { setTimeout(ok, 250); });
      doc = await kvDoc();
    }
    const waited = Date.now() - t0;
    assert.equal(doc.display_name, 'Acme (published late)', `KV never caught up (${waited} ms)`);
    assert.ok(waited >= 5000, `published after ${waited} ms: before the second retry, so a fault was not injected`);
    // The object's state and KV agree, field for field.
    const end = await api(admin, 'GET', '/_orggate/admin/api/org');
    assert.equal(end.json().revision, revision);
    assert.deepEqual(doc, end.json().document);

    // Faults spent: the next write reaches KV at once.
    const q = await api(admin, 'PATCH', '/_orggate/admin/api/org', {
      body: { display_name: 'Acme Corporation' }, ifMatch: end.headers.etag,
    });
    assert.equal(q.status, 200, q.body);
    assert.equal((await kvDoc()).display_name, 'Acme Corporation');
  });

  it('a revocation KV refused twice is enforced at once and published by the alarm', T, async () => {
    const carol = await orgAccessToken({ issuer: s.issuer, sub: 'user_carol', orgId: 'org_globex', orgName: 'globex' });
    const dave = await orgAccessToken({
      issuer: s.issuer, sub: 'user_dave', orgId: 'org_globex', orgName: 'globex', permissions: ['reports:view'],
    });
    const globex = jsonApi(s, 'globex.localhost');
    const send = (token, method, path, body) => globex(token, method, path, { body });
    assert.equal((await send(dave, 'GET', '/api/reports/1')).status, 200);
    const t0 = Date.now();
    const w = await send(carol, 'POST', '/_orggate/admin/api/revocations', { subject: 'user_dave' });
    assert.equal(w.status, 200, w.body);
    assert.equal(await s.worker.kv.get('revoked:org_globex'), null, 'KV refused the first write');
    const r = await send(dave, 'GET', '/api/reports/1');
    assert.equal(r.status, 401, r.body);
    assert.equal(r.json().reason, 'revoked');
    let text = null;
    for (let i = 0; i < 120 && text === null; i += 1) {
      await new Promise((ok) => { setTimeout(ok, 250); });
      text = await s.worker.kv.get('revoked:org_globex');
    }
    assert.ok(text, `KV never caught up (${Date.now() - t0} ms)`);
    assert.ok(Date.now() - t0 >= 5000, 'published before the second retry: no fault was injected');
    assert.deepEqual(JSON.parse(text).entries.map((e) => [e.kind, e.value]), [['sub', 'user_dave']]);
  });
});
