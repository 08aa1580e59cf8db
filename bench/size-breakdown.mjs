#!/usr/bin/env node
// Which crates and orggate modules the Wasm code bytes come from. The release build is stripped,
// so this reads a build that keeps its `name` section:
//   CARGO_TARGET_DIR=/work/target-bench WASM_BINDGEN_USE_JS_SYS=1 cargo build --release \
//     --target wasm32-unknown-unknown --lib --config 'profile.release.strip=false'
//   node bench/size-breakdown.mjs /work/target-bench/wasm32-unknown-unknown/release/orggate.wasm
// Attribution is by symbol name before wasm-bindgen and wasm-opt (-Oz shrinks code ~30%, and
// inlining moves bytes between functions): read it as shares, not exact bytes.
import { readFileSync } from 'node:fs';
import { wasmSections } from './lib/wasm-size.mjs';

const file = process.argv[2] ?? '/work/target-bench/wasm32-unknown-unknown/release/orggate.wasm';
const info = wasmSections(readFileSync(file), { allBodies: true });
if (!info.named) throw new Error(`${file} has no name section (stripped build?)`);

const KNOWN = new Set(('serde_path_to_error serde_json serde_core serde ed25519_compact orggate js_sys web_sys '
  + 'wasm_bindgen wasm_bindgen_futures worker worker_sys hashbrown dlmalloc aes aes_gcm ghash polyval sha2 hmac '
  + 'base64 subtle futures_channel futures_util futures_core url idna jwt_compact getrandom ctr cipher digest '
  + 'memchr itoa ryu zeroize matchit form_urlencoded percent_encoding core alloc std').split(' '));

/** First path component that names a crate (or orggate::module), from a legacy or v0 symbol. */
function owner(sym) {
  const parts = [];
  const re = /(\d+)([A-Za-z_$][\w$.]*)/g;
  let m;
  // Length-prefixed identifiers (legacy _ZN...E and v0 _R... both use <len><ident>).
  while ((m = re.exec(sym))) {
    const len = Number(m[1]);
    const ident = m[2].slice(0, len);
    if (ident.length === len) parts.push(ident.replace(/^_+/, ''));
    re.lastIndex = m.index + m[1].length + len;
  }
  const skip = new Set(['LT', 'impl', 'u20', 'as', 'RF', 'GT', 'C', 'u7b', 'u7d', 'closure']);
  const names = parts.flatMap((p) => p.split(/\.\.|\$/)).filter((p) => p && !skip.has(p) && !/^h[0-9a-f]{16}$/.test(p));
  if (!names.length) return sym.startsWith('__wbg') || sym.includes('wbindgen') ? 'wasm_bindgen (glue)' : '(other)';
  // `<T as Trait>::f`: prefer a crate that is not core/alloc/std when one appears.
  const generic = new Set(['core', 'alloc', 'std']);
  const crate = names.find((n) => KNOWN.has(n) && !generic.has(n)) ?? names.find((n) => KNOWN.has(n)) ?? names[0];
  if (generic.has(crate)) return 'core/alloc/std (monomorphized: Vec, String, fmt, HashMap...)';
  if (crate === 'orggate') {
    const i = names.indexOf('orggate');
    return `orggate::${names[i + 1] ?? '?'}`;
  }
  return crate;
}

const by = new Map();
let total = 0;
for (const f of info.bodies) {
  const k = owner(f.name ?? '');
  by.set(k, (by.get(k) ?? 0) + f.size);
  total += f.size;
}
console.log(`${file}: ${info.functions} functions, ${total.toLocaleString('en-US')} code bytes (before wasm-opt)`);
console.log('| owner | code bytes | share |');
console.log('|---|---:|---:|');
for (const [k, v] of [...by].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
  console.log(`| ${k} | ${v.toLocaleString('en-US')} | ${(100 * v / total).toFixed(1)}% |`);
}
