#!/usr/bin/env bash
# A release build of the Worker that keeps Wasm function names, for CPU profiles with readable
# frames (bench/profile.mjs --build DIR). Same code and opt level as `make build`; only the name
# section survives (no strip, wasm-opt -g). Output: target-prof/worker/{shim.mjs,index.wasm}.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target-prof}
export WASM_BINDGEN_USE_JS_SYS=1
CARGO_PROFILE_RELEASE_STRIP=false cargo build --release --target wasm32-unknown-unknown --lib -q
out=$CARGO_TARGET_DIR/worker
rm -rf "$out" && mkdir -p "$out/pkg"
wasm-bindgen --target bundler --keep-debug --out-dir "$out/pkg" --out-name index \
  "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/orggate.wasm"
./node_modules/.bin/wasm-opt -O3 -g --enable-reference-types --enable-exception-handling \
  --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-multivalue \
  --enable-mutable-globals "$out/pkg/index_bg.wasm" -o "$out/pkg/index.wasm"
{
  sed -e 's/^export //' src/edge/js/verify.mjs
  grep -v '^import { verifySignature } from "./verify.mjs";$' src/edge/js/shim.js
} | sed -e 's/\$SNIPPET_JS_IMPORTS//' -e 's/\$SNIPPET_WASM_IMPORTS//' > "$out/pkg/shim.js"
./node_modules/.bin/esbuild --bundle --format=esm --external:./index.wasm "$out/pkg/shim.js" \
  --outfile="$out/shim.mjs" --log-level=warning
cp "$out/pkg/index.wasm" "$out/index.wasm"
echo "profiling build: $out/shim.mjs"
