#!/usr/bin/env bash
# Creates .dev.vars (git-ignored) with fresh random local secrets when it is missing.
set -euo pipefail
[ -f .dev.vars ] && exit 0
rnd() { node -e "console.log(require('crypto').randomBytes(32).toString('base64url'))"; }
cat > .dev.vars <<VARS
SESSION_KEYS="dev1:$(rnd)"
ASSERTION_KEY="$(rnd)"
OIDC_CLIENT_SECRET="dev-client-secret"
VARS
echo "created .dev.vars with fresh local secrets"
