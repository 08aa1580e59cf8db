// The org writer's outbox in workerd: KV refuses the Durable Object's first two writes
// (ORGGATE_TEST_KV_FAULTS=2), the admin's change is still committed and audited, and the
// object's alarm publishes it; at the end the object's state and KV agree, and the next write
// publishes at once.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './lib/stack.mjs';
import { orgAccessToken } from './lib/keys.mjs';

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

  const api = (token, method, path, { body, ifMatch } = {}) => s.send({
    host: 'acme.localhost', method, path,
    headers: {
      authorization: `Bearer ${token}`, 'content-type': 'application/json',
      ...(ifMatch ? { 'if-match': ifMatch } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
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
});
