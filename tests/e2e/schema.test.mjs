// The JSON Schema and the Rust validation agree: every example config validates against the
// schema, and every invalid example is refused by it (tests/config_examples.rs checks the same
// files against the Rust types).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';

const schema = JSON.parse(readFileSync('schema/orggate-config.schema.json', 'utf8'));
const ajv = new Ajv2020({ allErrors: true, strict: false });
const validate = ajv.compile(schema);
const files = (dir) => readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => `${dir}/${f}`);

test('every valid example and the demo config validate against the schema', () => {
  const all = [...files('examples'), ...files('dev/kv')];
  assert.ok(all.length >= 7);
  for (const f of all) {
    const ok = validate(JSON.parse(readFileSync(f, 'utf8')));
    assert.ok(ok, `${f}: ${JSON.stringify(validate.errors?.slice(0, 3))}`);
  }
});

test('every invalid example is refused by the schema, at the path of its defect', () => {
  const bad = files('examples/invalid');
  assert.ok(bad.length >= 10);
  for (const f of bad) assert.equal(validate(JSON.parse(readFileSync(f, 'utf8'))), false, `${f} should not validate`);

  // Against the one document it means to be (the root's oneOf reports every branch), an error
  // must point at the defect: at its path, inside it, or at the object that holds it.
  const expected = readFileSync('examples/invalid/paths.tsv', 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split('\t'));
  assert.equal(expected.length, bad.length);
  const pointer = (p) => p.replace(/^\$/, '').replace(/\[(\d+)\]/g, '.$1').split('.').join('/');
  for (const [file, path] of expected) {
    const doc = JSON.parse(readFileSync(`examples/invalid/${file}`, 'utf8'));
    const kind = doc.org_id !== undefined ? 'org' : 'settings';
    const check = ajv.getSchema(`${schema.$id}#/$defs/${kind}`);
    assert.equal(check(doc), false, `${file} is a valid ${kind}`);
    const want = pointer(path);
    const at = check.errors.map((e) => {
      const prop = e.params?.additionalProperty ?? e.params?.missingProperty;
      return prop ? `${e.instancePath}/${prop}` : e.instancePath;
    });
    assert.ok(
      at.some((p) => p !== '' && (want === p || want.startsWith(`${p}/`) || p.startsWith(`${want}/`))),
      `${file}: expected an error at ${want}, got ${JSON.stringify(at)}`,
    );
  }
});
