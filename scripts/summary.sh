#!/usr/bin/env bash
# One closing line of counts over the suites `make test` ran (cargo native, cargo wasm, node e2e).
set -uo pipefail
sum_cargo() { { grep -hoE "test result: [a-zA-Z]+\. [0-9]+ passed; [0-9]+ failed; [0-9]+ ignored" "$@" 2>/dev/null || true; } \
  | awk '{p+=$4; f+=$6; s+=$8} END {print p+0, f+0, s+0}'; }
sum_node() { { grep -hoE "^# $1 [0-9]+" .test-e2e.log 2>/dev/null || true; } | awk '{s+=$3} END {print s+0}'; }
read -r rp rf rs < <(sum_cargo .test-rust.log)
read -r wp wf ws < <(sum_cargo .test-wasm.log)
ep=$(sum_node pass); ef=$(sum_node fail); es=$(sum_node skipped)
echo "native: $rp passed, $rf failed; wasm: $wp passed, $wf failed; e2e: $ep passed, $ef failed"
echo "$((rp + wp + ep)) passed, $((rf + wf + ef)) failed, $((rs + ws + es)) skipped"
