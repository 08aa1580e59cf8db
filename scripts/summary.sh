#!/usr/bin/env bash
# One closing line of counts over the three suites (cargo native, cargo wasm, node e2e).
set -euo pipefail
cargo_counts() { grep -hoE "test result: [a-z]+\. [0-9]+ passed; [0-9]+ failed; [0-9]+ ignored" "$@" 2>/dev/null \
  | awk '{p+=$4; f+=$6; s+=$8} END {print p+0, f+0, s+0}'; }
read -r rp rf rs < <(cargo_counts .test-rust.log)
read -r wp wf ws < <(cargo_counts .test-wasm.log)
ep=$(grep -hoE "^# pass [0-9]+" .test-e2e.log | awk '{s+=$3} END {print s+0}')
ef=$(grep -hoE "^# fail [0-9]+" .test-e2e.log | awk '{s+=$3} END {print s+0}')
es=$(grep -hoE "^# skipped [0-9]+" .test-e2e.log | awk '{s+=$3} END {print s+0}')
echo "native: $rp passed, $rf failed; wasm: $wp passed, $wf failed; e2e: $ep passed, $ef failed"
echo "$((rp + wp + ep)) passed, $((rf + wf + ef)) failed, $((rs + ws + es)) skipped"
