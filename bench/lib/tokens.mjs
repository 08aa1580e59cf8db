// Pre-minted benchmark tokens: realistic Auth0-Organizations access tokens signed with the dev keys
// (dev/keys/*.jwk.json) through node:crypto (synchronous, ~10x faster than minting through jose).
// Pools are cached in bench/.cache/ and re-minted once less than MIN_LIFE_S of validity remains.
import {
  createPrivateKey, sign as cryptoSign, randomBytes,
} from 'node:crypto';
import {
  existsSync, mkdirSync, readFileSync, writeFileSync,
} from 'node:fs';

export const ISSUER = 'http://127.0.0.1:9000';
export const AUDIENCE = 'https://api.orggate.test';
const KEY_FILES = { RS256: 'demo-rs256-1.jwk.json', ES256: 'demo-es256-1.jwk.json', EdDSA: 'demo-eddsa-1.jwk.json' };
const TOKEN_TTL_S = 12 * 3600;
const MIN_LIFE_S = 2 * 3600;
const CACHE_DIR = new URL('../.cache/', import.meta.url);

const b64u = (x) => Buffer.from(typeof x === 'string' ? x : JSON.stringify(x)).toString('base64url');

export function devJwk(alg) {
  return JSON.parse(readFileSync(new URL(`../../dev/keys/${KEY_FILES[alg]}`, import.meta.url), 'utf8'));
}

/** Public JWKS of the three dev keys (what the OP publishes). */
export function publishedJwks() {
  return {
    keys: Object.keys(KEY_FILES).map((alg) => {
      const {
        d, p, q, dp, dq, qi, ...pub
      } = devJwk(alg);
      return pub;
    }),
  };
}

const signers = new Map();
function signer(alg) {
  if (!signers.has(alg)) {
    const jwk = devJwk(alg);
    const key = createPrivateKey({ key: jwk, format: 'jwk' });
    const fn = {
      RS256: (data) => cryptoSign('sha256', data, key),
      ES256: (data) => cryptoSign('sha256', data, { key, dsaEncoding: 'ieee-p1363' }),
      EdDSA: (data) => cryptoSign(null, data, key),
    }[alg];
    signers.set(alg, { fn, kid: jwk.kid });
  }
  return signers.get(alg);
}

/**
 * One token. Claims like an Auth0 access token for an Organizations member: iss, sub, aud[2],
 * iat, exp, scope, azp, org_id, org_name, 10 permissions; `jti` makes each token unique.
 */
export function mint({
  alg = 'RS256', orgId = 'org_acme', orgName = 'acme', sub = 'auth0|5f7c8ec7c33c6c004bbafe82',
  permissions, now = Math.floor(Date.now() / 1000), ttl = TOKEN_TTL_S, jti = randomBytes(9).toString('base64url'),
} = {}) {
  const s = signer(alg);
  const header = { alg, typ: 'at+jwt', kid: s.kid };
  const payload = {
    iss: ISSUER,
    sub,
    aud: [AUDIENCE, 'https://orggate.eu.auth0.com/userinfo'],
    iat: now,
    exp: now + ttl,
    scope: 'openid profile email offline_access',
    azp: 'Zx8p2vYh3fQe7KbT1mN4aL6cR9sD0wGj',
    jti,
    org_id: orgId,
    org_name: orgName,
    permissions: permissions ?? [
      'read:reports', 'write:reports', 'read:docs', 'read:invoices', 'write:invoices',
      'read:users', 'read:projects', 'write:projects', 'read:audit', 'export:reports',
    ],
  };
  const input = `${b64u(header)}.${b64u(payload)}`;
  return `${input}.${s.fn(Buffer.from(input)).toString('base64url')}`;
}

/** A token whose signature no longer matches (last signature byte flipped): a 401 every time. */
export function tamper(token) {
  const [h, p, sig] = token.split('.');
  const bytes = Buffer.from(sig, 'base64url');
  bytes[bytes.length - 1] ^= 0x01;
  return `${h}.${p}.${bytes.toString('base64url')}`;
}

/**
 * A file of `n` unique valid tokens, one a line, for wrk's Lua script. Returns its path and how
 * long minting took (0 when the cached pool was still fresh).
 */
export function tokenPool(alg, n) {
  if (!existsSync(CACHE_DIR)) mkdirSync(CACHE_DIR, { recursive: true });
  const file = new URL(`tokens-${alg}-${n}.txt`, CACHE_DIR);
  const meta = new URL(`tokens-${alg}-${n}.json`, CACHE_DIR);
  const now = Math.floor(Date.now() / 1000);
  if (existsSync(file) && existsSync(meta)) {
    const { exp } = JSON.parse(readFileSync(meta, 'utf8'));
    if (exp - now > MIN_LIFE_S) return { path: file.pathname, mintMs: 0, n };
  }
  const t0 = performance.now();
  const lines = [];
  for (let i = 0; i < n; i++) lines.push(mint({ alg, now }));
  writeFileSync(file, `${lines.join('\n')}\n`);
  writeFileSync(meta, JSON.stringify({ exp: now + TOKEN_TTL_S, n }));
  return { path: file.pathname, mintMs: performance.now() - t0, n };
}

export function readPool(path) {
  return readFileSync(path, 'utf8').trim().split('\n');
}
