// The WebCrypto path: src/edge/js/verify.mjs, which checks the signatures the core hands to its
// host, against the RFC vectors the native tests use (tests/fixtures/jws_vectors.json: RFC 7515
// A.2 RS256, A.3 ES256, RFC 8037 A.4 Ed25519, a PS256 signature), under node's WebCrypto. Each
// vector must verify, and every one-bit change of signature or input must not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { verifySignature, b64u, algorithms } from '../../src/edge/js/verify.mjs';

const { vectors } = JSON.parse(readFileSync(new URL('../fixtures/jws_vectors.json', import.meta.url)));
const asymmetric = vectors.filter((v) => v.alg !== 'HS256');
const keyId = (v) => createHash('sha256').update(JSON.stringify(v.key)).digest('hex');
const flip = (s, i) => {
  const c = s[i] === 'A' ? 'B' : 'A';
  return s.slice(0, i) + c + s.slice(i + 1);
};

test('every RFC vector verifies; a flipped bit in signature or input does not', async () => {
  assert.ok(asymmetric.length >= 4, 'RS256, ES256, Ed25519 and PS256 vectors');
  for (const v of asymmetric) {
    const jwk = JSON.stringify(v.key);
    assert.equal(await verifySignature(v.alg, keyId(v), jwk, v.signature, v.input), '1', v.name);
    assert.equal(await verifySignature(v.alg, keyId(v), jwk, flip(v.signature, 5), v.input), '0', `${v.name}: signature`);
    assert.equal(await verifySignature(v.alg, keyId(v), jwk, v.signature, flip(v.input, 10)), '0', `${v.name}: input`);
  }
});

test('a signature that is not base64url, or truncated, is invalid, never an error', async () => {
  const v = asymmetric.find((x) => x.alg === 'RS256');
  const jwk = JSON.stringify(v.key);
  assert.equal(await verifySignature(v.alg, keyId(v), jwk, `${v.signature.slice(0, 20)}*`, v.input), '0');
  assert.equal(await verifySignature(v.alg, keyId(v), jwk, v.signature.slice(0, 40), v.input), '0');
  assert.equal(await verifySignature(v.alg, keyId(v), jwk, '', v.input), '0');
});

test('a key that does not import is an error (a fault, not a bad signature)', async () => {
  const r = await verifySignature('RS256', 'bad-key', '{"kty":"RSA","n":"AQAB"}', 'AAAA', 'x.y');
  assert.notEqual(r, '1');
  assert.notEqual(r, '0');
});

test('algorithm parameters follow RFC 7518 (PSS salt = hash length)', () => {
  assert.deepEqual(algorithms('PS384')[1], { name: 'RSA-PSS', saltLength: 48 });
  assert.deepEqual(algorithms('ES384')[0], { name: 'ECDSA', namedCurve: 'P-384' });
  assert.equal(algorithms('HS256'), null);
  assert.deepEqual([...b64u('AQAB')], [1, 0, 1]);
  assert.equal(b64u('A+B/'), null, 'base64url, not base64');
});
