#!/usr/bin/env bash
# Creates .dev.vars (git-ignored) with fresh random local secrets when it is missing, and adds
# secrets a newer demo needs to an existing one.
set -euo pipefail
if [ -f .dev.vars ]; then
  grep -q '^ORG_GLOBEX_CLIENT_SECRET=' .dev.vars || echo 'ORG_GLOBEX_CLIENT_SECRET="globex-secret"' >> .dev.vars
  exit 0
fi
rnd() { node -e "console.log(require('crypto').randomBytes(32).toString('base64url'))"; }
cat > .dev.vars <<VARS
SESSION_KEYS="dev1:$(rnd)"
ASSERTION_KEY="$(rnd)"
OIDC_CLIENT_SECRET="dev-client-secret"
ORG_GLOBEX_CLIENT_SECRET="globex-secret"
VARS
echo "created .dev.vars with fresh local secrets"
