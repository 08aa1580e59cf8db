// Path confusion: the public prefix `/public/*` must never become a way into `/admin/*` (needs
// `admin`). Judged by what the origin actually received, not by status codes: for every raw path,
// either orggate refuses (>= 400) and the origin saw nothing, or the origin saw exactly one request
// whose path is under /public/ however a lenient origin might read it (percent-decoding, even
// twice; `\` as `/`; `;params`; overlong UTF-8 and full-width solidus; RFC 3986 §5.2.4 dot
// segments). The table of outcomes is printed as test diagnostics.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { startStack } from './lib/stack.mjs';
import { loginViaOp } from './lib/oplogin.mjs';

/** The orggate CLI (built by the native tests; built here if they did not run first). */
function orggateBin() {
  const bin = 'target/debug/orggate';
  if (!existsSync(bin)) execFileSync('cargo', ['build', '-q', '--bin', 'orggate'], { stdio: 'inherit' });
  return bin;
}

/**
 * `orggate explain` for the request the Worker saw: the URL as the runtime parsed it (WHATWG URL,
 * as workerd's `request.url`), the caller's claims re-issued by the demo config's issuer.
 * Returns {status} for a refusal or {forwarded: path} for a forward.
 */
function explain(url, claims) {
  const args = ['explain', '--config', 'dev/kv', '--method', 'GET', '--url', url];
  if (claims) args.push('--claims-json', JSON.stringify({ ...claims, iss: 'http://127.0.0.1:9000' }));
  // explain's exit status is its verdict (1 for a refusal): read what it printed either way.
  const run = spawnSync(orggateBin(), args, { encoding: 'utf8' });
  const out = `${run.stdout}${run.stderr}`;
  const up = out.match(/^upstream: (\S+)/m);
  if (/^decision: allow/m.test(out) && up) {
    const u = new URL(up[1]);
    return { forwarded: u.pathname + u.search };
  }
  const st = out.match(/^decision: \w+ (\d{3})/m);
  if (!st) throw new Error(`explain said nothing usable for ${url}:\n${out}`);
  return { status: Number(st[1]) };
}

const T = { timeout: 20_000 };

/** [host label, raw request target]; `acme` = acme.localhost, `prefix` = localhost with /o/acme. */
const CASES = [
  ['acme', '/admin/x'],
  ['acme', '/public/../admin/x'],
  ['acme', '/public/./../admin/x'],
  ['acme', '/public/../../admin/x'],
  ['acme', '/public/%2e%2e/admin/x'],
  ['acme', '/public/%2E%2E/admin/x'],
  ['acme', '/public/.%2e/admin/x'],
  ['acme', '/public/%2e./admin/x'],
  ['acme', '/public/%2e%2e%2fadmin/x'],
  ['acme', '/public/..%2fadmin/x'],
  ['acme', '/public/..%2Fadmin/x'],
  ['acme', '/public/..%5cadmin/x'],
  ['acme', '/public/..\\admin/x'],
  ['acme', '/public/..;/admin/x'],
  ['acme', '/public/..%3b/admin/x'],
  ['acme', '/public/..%00/admin/x'],
  ['acme', '/admin;/x'],
  ['acme', '/admin;x=1/x'],
  ['acme', '//admin/x'],
  ['acme', '/%2fadmin/x'],
  ['acme', '/public//../admin/x'],
  ['acme', '/./admin/x'],
  ['acme', '/admin/./x'],
  ['acme', '/%61dmin/x'],
  ['acme', '/%2561dmin/x'],
  ['acme', '/ADMIN/x'],
  ['acme', '/Admin/x'],
  ['acme', '/admin%00/x'],
  ['acme', '/admin%20/x'],
  ['acme', '/admin%2fx'],
  ['acme', '/public/%252e%252e/admin/x'],
  ['acme', '/public/%25252e%25252e/admin/x'],
  ['acme', '/public/%c0%ae%c0%ae/admin/x'],
  ['acme', '/public/%c0%ae%c0%ae%c0%afadmin/x'],
  ['acme', '/public/%ef%bc%8f..%ef%bc%8fadmin'],
  ['acme', '/public/..%ef%bc%8fadmin/x'],
  ['acme', '/admin/x#frag'],
  ['acme', '/public/x#/../../admin/x'],
  ['acme', '/admin/x?/public/'],
  ['acme', '/public/x/../../admin/x?a=/public/'],
  ['acme', 'http://acme.localhost/admin/x'],
  ['prefix', '/o/acme/public/../admin/x'],
  ['prefix', '/o/acme/public/%2e%2e/admin/x'],
  ['prefix', '/o/acme/public/..%2fadmin/x'],
  ['prefix', '/o/acme/admin/x'],
  ['prefix', '/o/acme/%2e%2e/acme/admin/x'],
];

const OVERLONG = [[/%c0%ae/gi, '.'], [/%e0%80%ae/gi, '.'], [/%c0%af/gi, '/'], [/%e0%80%af/gi, '/']];

/** Every reading a lenient origin (or a proxy in front of it) might give a raw path. */
export function lenientReadings(raw) {
  const out = new Set();
  let cur = raw.split('?')[0].split('#')[0];
  for (let round = 0; round < 4; round += 1) {
    let p = cur;
    for (const [re, to] of OVERLONG) p = p.replace(re, to);
    p = p.replace(/\\/g, '/').normalize('NFKC');
    out.add(resolveDots(p));
    out.add(resolveDots(p.split('/').map((seg) => seg.split(';')[0]).join('/')));
    out.add(resolveDots(p.replace(/\/{2,}/g, '/'))); // merge_slashes, then dot segments
    let next;
    try {
      next = decodeURIComponent(cur);
    } catch {
      next = cur.replace(/%([0-9a-f]{2})/gi, (_, h) => String.fromCharCode(parseInt(h, 16)));
    }
    if (next === cur) break;
    cur = next;
  }
  return [...out];
}

/** RFC 3986 §5.2.4 remove_dot_segments, on a path that is already percent-decoded. */
function resolveDots(path) {
  const segs = path.split('/');
  const stack = [];
  for (let i = 0; i < segs.length; i += 1) {
    const s = segs[i].replace(/\0/g, '');
    const last = i === segs.length - 1;
    if (s === '.' || s === '..') {
      if (s === '..' && stack.length > 1) stack.pop();
      if (last) stack.push('');
    } else {
      stack.push(s);
    }
  }
  const r = stack.join('/');
  return r.startsWith('/') ? r : `/${r}`;
}

describe('path confusion between /public/* and /admin/*', { timeout: 300_000 }, () => {
  let s;
  const tok = {};
  const table = [];

  before(async () => {
    s = await startStack();
    const login = async (user, password) => (await loginViaOp({
      issuer: s.issuer, redirectUri: s.callbackUrl('acme.localhost'), user, password, organization: 'org_acme',
    })).access_token;
    tok.carol = await login('carol@both.test', 'carol-pass');
    tok.alice = await login('alice@acme.test', 'alice-pass');
  });
  after(async () => {
    const w = Math.max(...table.map((r) => r.path.length), 4);
    const lines = [
      `${'host'.padEnd(6)} ${'path'.padEnd(w)} ${'token'.padEnd(5)} status  origin received`,
      ...table.map((r) => `${r.host.padEnd(6)} ${r.path.padEnd(w)} ${r.who.padEnd(5)} ${String(r.status).padEnd(7)} ${r.received}`),
    ];
    console.log(`path confusion outcomes:\n${lines.join('\n')}`);
    await s?.close();
  });

  async function probe(hostLabel, path, token) {
    s.clearOrigin();
    const host = hostLabel === 'prefix' ? 'localhost' : 'acme.localhost';
    const r = await s.send({ host, path, headers: token ? { authorization: `Bearer ${token}` } : {} });
    const seen = s.originRequests();
    return { r, seen };
  }

  for (const [hostLabel, path] of CASES) {
    it(`${hostLabel} ${path}`, T, async () => {
      const failures = [];
      for (const [who, token] of [['carol', tok.carol], ['none', null]]) {
        const { r, seen } = await probe(hostLabel, path, token);
        table.push({
          host: hostLabel, path, who, status: r.status, received: seen.length ? seen.map((x) => x.url).join(' | ') : '-',
        });
        if (seen.length === 0) {
          if (r.status < 400) failures.push(`${who}: status ${r.status} without reaching the origin (expected a refusal)`);
          continue;
        }
        if (seen.length !== 1) {
          failures.push(`${who}: origin saw ${seen.length} requests: ${seen.map((x) => x.url).join(', ')}`);
          continue;
        }
        const got = seen[0].url;
        const bad = lenientReadings(got).filter((p) => !p.startsWith('/public/'));
        if (!got.startsWith('/public/') || bad.length) {
          failures.push(`${who}: status ${r.status}, origin received ${JSON.stringify(got)} (readable as ${JSON.stringify(bad)})`);
        }
        if (got.startsWith('/public/') && seen[0].orggateHeaders['x-orggate-permissions']) {
          failures.push(`${who}: a public forward carried identity headers`);
        }
      }
      assert.deepEqual(failures, []);
    });
  }

  // `orggate explain` runs the same pipeline: over every case it must decide as the Worker did.
  for (const [hostLabel, path] of CASES) {
    it(`explain agrees with the Worker: ${hostLabel} ${path}`, T, async () => {
      const host = hostLabel === 'prefix' ? 'localhost' : 'acme.localhost';
      // An absolute-form target never reaches the Worker: the runtime refuses it itself, and
      // there is no decision to compare.
      if (/^[a-z][a-z0-9+.-]*:/i.test(path)) {
        const { r, seen } = await probe(hostLabel, path, tok.carol);
        assert.ok(r.status >= 400 && seen.length === 0, `${r.status} ${seen.length}`);
        return;
      }
      // The runtime builds request.url from the Host and the raw target, keeping a `#` in the
      // target as part of the path (%23), then parses it as a WHATWG URL.
      const url = new URL(`http://${host}:8787${path.replace(/#/g, '%23')}`).href;
      for (const [who, token] of [['carol', tok.carol], ['none', null]]) {
        const { r, seen } = await probe(hostLabel, path, token);
        const claims = token ? JSON.parse(Buffer.from(token.split('.')[1], 'base64url')) : null;
        const e = explain(url, claims);
        const worker = seen.length === 1 ? { forwarded: seen[0].url } : { status: r.status };
        assert.deepEqual(e, worker, `${who} ${url}`);
      }
    });
  }

  it('baseline: /admin/x with alice (has admin) reaches the origin as /admin/x', T, async () => {
    const { r, seen } = await probe('acme', '/admin/x', tok.alice);
    table.push({ host: 'acme', path: '/admin/x', who: 'alice', status: r.status, received: seen.map((x) => x.url).join(' | ') || '-' });
    assert.equal(r.status, 200, r.body);
    assert.equal(seen.length, 1);
    assert.equal(seen[0].url, '/admin/x');
    assert.equal(seen[0].headers['x-orggate-org-id'], 'org_acme');
  });

  it('forwards the path it authorized: disguised admin paths reach the origin normalized (alice)', T, async () => {
    // What orggate decided on and what the origin serves must be the same path (RFC 3986 §6.2.2).
    for (const [path, want] of [
      ['/public/%2e%2e/admin/x', '/admin/x'], ['/admin/./x', '/admin/x'], ['/%61dmin/x', '/admin/x'], ['//admin/x', '/admin/x'],
    ]) {
      const { r, seen } = await probe('acme', path, tok.alice);
      table.push({ host: 'acme', path, who: 'alice', status: r.status, received: seen.map((x) => x.url).join(' | ') || '-' });
      assert.equal(r.status, 200, `${path}: ${r.body}`);
      assert.deepEqual(seen.map((x) => x.url), [want], path);
    }
    const { r, seen } = await probe('prefix', '/o/acme/admin/x', tok.alice);
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(seen.map((x) => x.url), ['/admin/x'], 'the /o/acme prefix is stripped');
    assert.equal(seen[0].headers['x-orggate-org-id'], 'org_acme');
  });

  it('baseline: /public/x without a token reaches the origin as /public/x', T, async () => {
    const { r, seen } = await probe('acme', '/public/x', null);
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(seen.map((x) => x.url), ['/public/x']);
  });

  it('the lenient reader itself sees through the usual disguises', () => {
    for (const p of ['/public/%2e%2e/admin/x', '/public/..%5cadmin/x', '/public/..;/admin/x', '/public/%252e%252e/admin/x',
      '/public/%c0%ae%c0%ae/admin/x', '/public/..%ef%bc%8fadmin/x', '/public//../admin/x']) {
      assert.ok(lenientReadings(p).some((x) => x.startsWith('/admin')), `${p}: ${lenientReadings(p)}`);
    }
    assert.deepEqual(lenientReadings('/public/x').filter((x) => !x.startsWith('/public/')), []);
  });
});
