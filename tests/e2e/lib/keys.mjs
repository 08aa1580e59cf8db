// Mint JWTs with jose from the committed dev keys (dev/keys/*.jwk.json), including the rogue key
// the OP never publishes, for negative tests (forged/expired/wrong-aud tokens...).
import { readFileSync } from 'node:fs';
import { importJWK, SignJWT, exportJWK, createLocalJWKSet } from 'jose';

const KEY_DIR = new URL('../../../dev/keys/', import.meta.url);

export const KEY_FILES = {
  rs256: 'demo-rs256-1.jwk.json',
  es256: 'demo-es256-1.jwk.json',
  eddsa: 'demo-eddsa-1.jwk.json',
  rogue: 'rogue-rs256.jwk.json',
};

export const API_AUDIENCE = 'https://api.orggate.test';

/** Private JWK (with kid/alg) by short name: rs256 | es256 | eddsa | rogue. */
export function privateJwk(name) {
  const file = KEY_FILES[name];
  if (!file) throw new Error(`unknown dev key ${name}`);
  return JSON.parse(readFileSync(new URL(file, KEY_DIR), 'utf8'));
}

export function publicJwk(name) {
  const {
    d, p, q, dp, dq, qi, ...pub
  } = privateJwk(name);
  return pub;
}

/** The JWKS the OP publishes (public parts of rs256, es256, eddsa — never the rogue key). */
export function publishedJwks() {
  return { keys: ['rs256', 'es256', 'eddsa'].map(publicJwk) };
}

export function localJwks() {
  return createLocalJWKSet(publishedJwks());
}

const keyCache = new Map();
async function signingKey(name) {
  if (!keyCache.has(name)) {
    const jwk = privateJwk(name);
    keyCache.set(name, await importJWK(jwk, jwk.alg));
  }
  return keyCache.get(name);
}

/**
 * Mint a token.
 * @param {object} o
 * @param {string} [o.key] rs256 (default) | es256 | eddsa | rogue
 * @param {object} [o.claims] payload; iat/exp default to now/now+300 unless given (null removes)
 * @param {object} [o.header] protected header overrides (alg, kid, typ...); alg/kid default from the key
 * @param {string} [o.issuer] sets iss unless claims.iss given
 * @param {string|string[]} [o.audience] sets aud (default API_AUDIENCE) unless claims.aud given
 * @param {number} [o.ttl] seconds, default 300
 */
export async function mintToken({
  key = 'rs256', claims = {}, header = {}, issuer, audience = API_AUDIENCE, ttl = 300, now = Math.floor(Date.now() / 1000),
} = {}) {
  const jwk = privateJwk(key);
  const payload = {
    ...(issuer !== undefined ? { iss: issuer } : {}),
    ...(audience !== undefined ? { aud: audience } : {}),
    iat: now,
    exp: now + ttl,
    ...claims,
  };
  for (const [k, v] of Object.entries(payload)) if (v === null) delete payload[k];
  const protectedHeader = { alg: jwk.alg, kid: jwk.kid, typ: 'at+jwt', ...header };
  for (const [k, v] of Object.entries(protectedHeader)) if (v === null) delete protectedHeader[k];
  return new SignJWT(payload).setProtectedHeader(protectedHeader).sign(await signingKey(key));
}

/** An Auth0-Organizations-style access token for a user, signed by a dev key. */
export function orgAccessToken({
  issuer, sub = 'user_alice', orgId = 'org_acme', orgName = 'acme',
  permissions = ['read:reports', 'write:reports', 'read:docs', 'admin'], scope = 'openid profile email',
  key = 'rs256', extraClaims = {}, header, ttl, now,
}) {
  return mintToken({
    key, issuer, header, ttl, now,
    claims: {
      sub, org_id: orgId, org_name: orgName, permissions, scope, azp: 'orggate', client_id: 'orggate', ...extraClaims,
    },
  });
}

/** Re-export for tests that need to serialize keys. */
export { exportJWK };
