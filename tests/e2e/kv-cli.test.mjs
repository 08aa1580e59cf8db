// `orggate kv push|pull|diff` against real local KV (wrangler kv, --local with its own persist
// directory): what is pushed is what the Worker's validation accepts, aliases are derived from
// the documents, an invalid directory pushes nothing, and pull + diff round-trip.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let dir;
let state;
const bin = 'target/debug/orggate';

before(() => {
  if (!existsSync(bin)) execFileSync('cargo', ['build', '-q', '--bin', 'orggate'], { stdio: 'inherit' });
  dir = mkdtempSync(join(tmpdir(), 'orggate-kv-'));
  state = join(dir, 'state');
});
after(() => rmSync(dir, { recursive: true, force: true }));

function kv(...args) {
  const r = spawnSync(bin, ['kv', ...args, '--local', '--persist-to', state], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

test('push, diff, change, push again, pull back', { timeout: 300_000 }, () => {
  const conf = join(dir, 'conf');
  cpSync('dev/kv', conf, { recursive: true });
  let r = kv('diff', conf);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /^\+ name:acme$/m, 'name aliases come from the documents');
  assert.match(r.out, /^\+ org:org_acme$/m);
  r = kv('push', conf);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /pushed 7 entries/);
  r = kv('diff', conf);
  assert.equal(r.code, 0, r.out);

  const acme = JSON.parse(readFileSync(join(conf, 'org_acme.json'), 'utf8'));
  acme.display_name = 'Acme Rockets';
  writeFileSync(join(conf, 'org_acme.json'), JSON.stringify(acme, null, 2));
  r = kv('diff', conf);
  assert.equal(r.code, 1);
  assert.deepEqual(r.out.trim().split('\n'), ['~ org:org_acme']);
  assert.equal(kv('push', conf).code, 0);

  const pulled = join(dir, 'pulled');
  r = kv('pull', pulled);
  assert.equal(r.code, 0, r.out);
  assert.equal(JSON.parse(readFileSync(join(pulled, 'org_acme.json'), 'utf8')).display_name, 'Acme Rockets');
  r = kv('diff', pulled);
  assert.equal(r.code, 0, `a pulled directory is what KV has: ${r.out}`);
});

test('an invalid directory pushes nothing and says why', { timeout: 300_000 }, () => {
  const bad = join(dir, 'bad');
  cpSync('dev/kv', bad, { recursive: true });
  const globex = JSON.parse(readFileSync(join(bad, 'org_globex.json'), 'utf8'));
  globex.branding.colors.primary = 'green';
  writeFileSync(join(bad, 'org_globex.json'), JSON.stringify(globex));
  writeFileSync(join(bad, 'aliases.json'), JSON.stringify({ 'name:acme': 'org_globex', 'host:portal.acme.example': 'org_nobody' }));
  const before = kv('diff', join(dir, 'conf'));
  const r = kv('push', bad);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /org_globex\.json: \$\.branding\.colors\.primary/);
  assert.match(r.out, /name:acme says org_globex, but the org documents say org_acme/);
  assert.match(r.out, /host:portal\.acme\.example names org_nobody, which is not an org here/);
  assert.match(r.out, /nothing pushed/);
  assert.deepEqual(kv('diff', join(dir, 'conf')), before, 'KV unchanged');
});
