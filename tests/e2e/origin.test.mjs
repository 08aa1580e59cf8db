// The demo origin (dev/origin.mjs): records and echoes exactly what it received.
import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';

import { startOrigin } from '../../dev/origin.mjs';
import { request } from './lib/http.mjs';
import { startProcess, killAll } from './lib/procs.mjs';

const T = { timeout: 10_000 };
let origin;

describe('demo origin', { timeout: 60_000 }, () => {
  before(async () => { origin = await startOrigin({ port: 0 }); });
  after(async () => {
    await origin?.close();
    await killAll();
  });
  beforeEach(async () => {
    const r = await request({ port: origin.port, method: 'DELETE', path: '/_test/requests' });
    assert.equal(r.status, 200);
  });

  it('echoes the raw path and query unchanged (no dot-segment or percent normalization)', T, async () => {
    for (const path of ['/a/%2e%2e/b', '/a/../b', '/x/%2F/y?q=%2e%2E&z=a%20b', '//double//slash', '/A/%41?x']) {
      const r = await request({ port: origin.port, path, host: 'acme.localhost:8787' });
      assert.equal(r.status, 200);
      assert.match(r.headers['content-type'], /application\/json/);
      assert.equal(r.json().url, path);
    }
    const rec = await request({ port: origin.port, path: '/_test/requests' });
    assert.deepEqual(rec.json().map((x) => x.url), ['/a/%2e%2e/b', '/a/../b', '/x/%2F/y?q=%2e%2E&z=a%20b', '//double//slash', '/A/%41?x']);
  });

  it('echoes all headers and singles out x-orggate-* and the assertion', T, async () => {
    const r = await request({
      port: origin.port,
      path: '/reports?id=7',
      method: 'POST',
      host: 'acme.localhost:8787',
      headers: {
        'x-orggate-org-id': 'org_acme', 'x-orggate-sub': 'user_alice', 'x-orggate-assertion': 'eyJ.test.sig', 'x-other': '1', 'content-type': 'text/plain',
      },
      body: 'hello',
    });
    const body = r.json();
    assert.equal(body.method, 'POST');
    assert.equal(body.url, '/reports?id=7');
    assert.equal(body.headers.host, 'acme.localhost:8787');
    assert.equal(body.headers['x-other'], '1');
    assert.deepEqual(body.orggateHeaders, { 'x-orggate-org-id': 'org_acme', 'x-orggate-sub': 'user_alice', 'x-orggate-assertion': 'eyJ.test.sig' });
    assert.equal(body.assertion, 'eyJ.test.sig');
    assert.equal(body.bodyLength, 5);
    const [rec] = (await request({ port: origin.port, path: '/_test/requests' })).json();
    assert.equal(rec.body, 'hello');
    assert.equal(rec.assertion, 'eyJ.test.sig');
    assert.equal(origin.requests.length, 1);
  });

  it('answers HTML for browsers, with orggate headers highlighted and content escaped', T, async () => {
    const r = await request({
      port: origin.port,
      path: '/p?<script>',
      headers: { accept: 'text/html,application/xhtml+xml', 'x-orggate-org-name': '<acme>' },
    });
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type'], /text\/html/);
    assert.match(r.body, /<tr class="orggate"><th scope="row">x-orggate-org-name<\/th>/);
    assert.match(r.body, /data-testid="raw-url">\/p\?&lt;script&gt;</);
    assert.ok(!r.body.includes('<acme>'));
    assert.match(r.body, /<html lang="en">/);
  });

  it('clears recorded requests with DELETE', T, async () => {
    await request({ port: origin.port, path: '/one' });
    assert.equal((await request({ port: origin.port, path: '/_test/requests' })).json().length, 1);
    await request({ port: origin.port, method: 'DELETE', path: '/_test/requests' });
    assert.deepEqual((await request({ port: origin.port, path: '/_test/requests' })).json(), []);
  });

  it('runs as a CLI: prints the ready line and exits on SIGTERM', T, async () => {
    const script = fileURLToPath(new URL('../../dev/origin.mjs', import.meta.url));
    const p = await startProcess(process.execPath, [script, '--port', '0'], {
      ready: /origin ready http:\/\/127\.0\.0\.1:(\d+)/, timeoutMs: 10_000,
    });
    const port = Number(p.match[1]);
    const r = await request({ port, path: '/a/%2e%2e/b' });
    assert.equal(r.json().url, '/a/%2e%2e/b');
    await p.stop('SIGTERM');
    const { code, signal } = await p.exited;
    assert.equal(code, 0, `exit ${code} ${signal}`);
  });
});
