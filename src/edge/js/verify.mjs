// Signature checks the core hands to its host (wire `V`): WebCrypto, with imported CryptoKeys
// cached per key thumbprint (a rotated key has a new thumbprint; keys are immutable). RSA and
// ECDSA in WebCrypto are 20-40x faster than in Wasm. The core has already checked everything that
// needs no key math: the algorithm allowlist, the key type against the algorithm, the RSA key
// size, and the ECDSA signature length and all-zero halves.
//
// Answers: "1" valid, "0" invalid, "U" this runtime cannot check the algorithm (Ed25519 on older
// runtimes: the core then checks it in Rust), anything else an error message.

const HASH = { 256: 'SHA-256', 384: 'SHA-384', 512: 'SHA-512' };

/** [importKey algorithm, verify algorithm] per JWS alg (RFC 7518 §3.3-3.5, RFC 8037 §3.1). */
export function algorithms(alg) {
  const bits = alg.slice(2);
  switch (alg.slice(0, 2)) {
    case 'RS': return [{ name: 'RSASSA-PKCS1-v1_5', hash: HASH[bits] }, { name: 'RSASSA-PKCS1-v1_5' }];
    // §3.5: the salt is as long as the hash output.
    case 'PS': return [{ name: 'RSA-PSS', hash: HASH[bits] }, { name: 'RSA-PSS', saltLength: Number(bits) / 8 }];
    case 'ES': return [{ name: 'ECDSA', namedCurve: bits === '256' ? 'P-256' : 'P-384' }, { name: 'ECDSA', hash: HASH[bits] }];
    case 'Ed': return [{ name: 'Ed25519' }, { name: 'Ed25519' }];
    default: return null;
  }
}

const ALGS = new Map();
const KEYS = new Map();
const MAX_KEYS = 256;
const B64 = new Uint8Array(128).fill(255);
for (const [i, c] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'].entries()) B64[c.charCodeAt(0)] = i;
const encoder = new TextEncoder();

/** base64url (no padding) to bytes; null if not base64url. */
export function b64u(s) {
  const out = new Uint8Array((s.length * 3) >> 2);
  let bits = 0; let acc = 0; let o = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const v = c < 128 ? B64[c] : 255;
    if (v === 255) return null;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) { bits -= 8; out[o++] = (acc >> bits) & 0xff; }
  }
  return out.subarray(0, o);
}

// The runtime's own base64 decoder where it has one (TC39 Uint8Array.fromBase64), else b64u.
const decodeSignature = typeof Uint8Array.fromBase64 === 'function'
  ? (s) => {
    try {
      return Uint8Array.fromBase64(s, { alphabet: 'base64url', lastChunkHandling: 'loose' });
    } catch {
      return null;
    }
  }
  : b64u;

/**
 * @param {string} alg JWS alg name
 * @param {string} keyId the key's thumbprint (hex): the cache key of the imported key
 * @param {string} jwk the public key as a JWK (JSON text)
 * @param {string} signature base64url
 * @param {string} input the JWS Signing Input
 */
export async function verifySignature(alg, keyId, jwk, signature, input) {
  let pair = ALGS.get(alg);
  if (pair === undefined) { pair = algorithms(alg); ALGS.set(alg, pair); }
  if (pair === null) return `unsupported alg ${alg}`;
  const cacheKey = `${alg}:${keyId}`;
  let key = KEYS.get(cacheKey);
  if (key === undefined) {
    try {
      key = await crypto.subtle.importKey('jwk', JSON.parse(jwk), pair[0], false, ['verify']);
    } catch (e) {
      return alg === 'EdDSA' ? 'U' : `importKey: ${e?.message ?? e}`;
    }
    if (KEYS.size >= MAX_KEYS) KEYS.clear();
    KEYS.set(cacheKey, key);
  }
  const sig = decodeSignature(signature);
  if (sig === null) return '0';
  try {
    return (await crypto.subtle.verify(pair[1], key, sig, encoder.encode(input))) ? '1' : '0';
  } catch {
    // A malformed signature makes some engines reject instead of answering false.
    return '0';
  }
}
