#!/usr/bin/env node
// Dev-only OpenID Provider for orggate, built on npm `oidc-provider`. Loopback only; keys in
// dev/keys are public test keys. Flavors:
//   auth0     (default) Auth0 Organizations style: the `organization` authorize parameter scopes
//             the login to one org; tokens carry org_id, org_name and (access token) permissions.
//   keycloak  the same tenant, Keycloak 26 shaped: `organization: {alias: {id}}` instead of
//             org_id/org_name, and `realm_access.roles` instead of permissions.
//   customer  globex's own workforce IdP: no organizations at all; tokens carry sub, email,
//             email_verified, name and groups (users in dev/op-config.mjs CUSTOMER_USERS).
//
//   node dev/op.mjs --port 9000 [--worker-port 8787 ...] [--access-ttl 300] [--flavor customer]
//   env: OP_PORT, WORKER_PORTS=8787,8788, OP_ACCESS_TTL
//
// Test endpoints (always on, this is a demo OP):
//   GET /_test/last-authorize      params of the last authorization request (404 before any)
//   GET /_test/authorize-requests  all recorded authorization requests
//   GET /_test/sessions            {count, sessions:[{accountId, login}]} of logged-in OP sessions
//   GET /_test/session?user=LOGIN  {user, active, count}
//   POST /_test/reset              forget recorded authorization requests

import http from 'node:http';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

import {
  API_AUDIENCE, API_SCOPES, DEFAULT_WORKER_PORTS, M2M_MEMBERSHIPS, ORGS,
  buildClients, buildCustomerClients, directory, resolveOrg,
} from './op-config.mjs';

const KEY_FILES = ['demo-rs256-1.jwk.json', 'demo-es256-1.jwk.json', 'demo-eddsa-1.jwk.json'];
const RS256_KID = 'demo-rs256-1';

export function loadSigningKeys() {
  return KEY_FILES.map((f) => JSON.parse(readFileSync(new URL(`./keys/${f}`, import.meta.url), 'utf8')));
}

function htmlEscape(s) {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  })[c]);
}

function readBody(req, limit = 64 * 1024) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > limit) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res, status, value) {
  const body = JSON.stringify(value, null, 2);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

function sendHtml(res, status, body) {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

function page(title, inner) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${htmlEscape(title)}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#111}
label{display:block;margin-top:1rem;font-weight:600}
input{display:block;width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem;margin-top:.25rem}
button{margin-top:1.25rem;padding:.6rem 1.2rem;font-size:1rem}
.err{color:#a00000;font-weight:600}
.muted{color:#555}
</style>
</head>
<body>
<main>
${inner}
</main>
</body>
</html>`;
}

/** A per-OP in-memory adapter, so several in-process OPs (tests) do not share state. */
function makeAdapterClass() {
  const stores = new Map(); // name -> Map(id -> {payload, expiresAt})
  const storeFor = (name) => {
    if (!stores.has(name)) stores.set(name, new Map());
    return stores.get(name);
  };
  const alive = (entry) => entry && (!entry.expiresAt || entry.expiresAt > Date.now());

  class DevMemoryAdapter {
    constructor(name) {
      this.name = name;
      this.store = storeFor(name);
    }

    async upsert(id, payload, expiresIn) {
      this.store.set(id, {
        payload: structuredClone(payload),
        expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : undefined,
      });
    }

    async find(id) {
      const e = this.store.get(id);
      if (!alive(e)) {
        this.store.delete(id);
        return undefined;
      }
      return structuredClone(e.payload);
    }

    async findByUserCode(userCode) {
      for (const e of this.store.values()) {
        if (alive(e) && e.payload.userCode === userCode) return structuredClone(e.payload);
      }
      return undefined;
    }

    async findByUid(uid) {
      for (const e of this.store.values()) {
        if (alive(e) && e.payload.uid === uid) return structuredClone(e.payload);
      }
      return undefined;
    }

    async consume(id) {
      const e = this.store.get(id);
      if (e) e.payload.consumed = Math.floor(Date.now() / 1000);
    }

    async destroy(id) {
      this.store.delete(id);
    }

    async revokeByGrantId(grantId) {
      for (const [id, e] of this.store) {
        if (e.payload.grantId === grantId) this.store.delete(id);
      }
    }
  }

  DevMemoryAdapter.activeSessions = () => {
    const out = [];
    for (const e of storeFor('Session').values()) {
      if (alive(e) && e.payload.accountId) out.push(structuredClone(e.payload));
    }
    return out;
  };
  return DevMemoryAdapter;
}

function parsePorts(v) {
  if (v === undefined || v === null || v === '') return undefined;
  const list = (Array.isArray(v) ? v : String(v).split(','))
    .flatMap((x) => String(x).split(','))
    .map((x) => x.trim()).filter(Boolean).map(Number);
  for (const p of list) {
    if (!Number.isInteger(p) || p <= 0 || p > 65535) throw new Error(`bad worker port: ${p}`);
  }
  return list.length ? list : undefined;
}

/**
 * Start the OP. Returns {issuer, port, close(), provider, authorizeRequests}.
 * @param {{port?: number, host?: string, workerPorts?: number[], accessTtl?: number, quiet?: boolean}} opts
 */
export async function startOp(opts = {}) {
  const { default: Provider, errors } = await import('oidc-provider');
  const flavor = opts.flavor ?? 'auth0';
  if (!['auth0', 'keycloak', 'customer'].includes(flavor)) throw new Error(`unknown OP flavor ${flavor}`);
  const dir = directory(flavor);
  const findUserBySub = (sub) => dir.bySub(sub);
  const findUserByLogin = (login) => dir.byLogin(login);
  const customer = flavor === 'customer';
  const host = opts.host ?? '127.0.0.1';
  const workerPorts = parsePorts(opts.workerPorts) ?? DEFAULT_WORKER_PORTS;
  const accessTtl = Number(opts.accessTtl ?? 300);
  if (!Number.isFinite(accessTtl) || accessTtl <= 0) throw new Error(`bad access ttl: ${opts.accessTtl}`);

  const authorizeRequests = [];
  /** grantId -> orgId|null: the organization an authorization (and its tokens) is scoped to. */
  const grantOrg = new Map();
  const Adapter = makeAdapterClass();

  let handler = (_req, res) => { res.writeHead(503); res.end(); };
  const server = http.createServer((req, res) => handler(req, res));
  const sockets = new Set();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address();
  const issuer = `http://${host}:${port}`;

  const orgClaimsFor = (orgId) => {
    const org = ORGS[orgId];
    if (!org) return {};
    // Keycloak 26 with organization ids mapped: a map of alias -> attributes.
    if (flavor === 'keycloak') return { organization: { [org.name]: { id: org.id } } };
    return { org_id: org.id, org_name: org.name };
  };
  const rightsClaims = (perms) => (flavor === 'keycloak'
    ? { realm_access: { roles: [...perms] } }
    : { permissions: [...perms] });

  const configuration = {
    adapter: Adapter,
    clients: customer ? buildCustomerClients(workerPorts) : buildClients(workerPorts),
    jwks: { keys: loadSigningKeys() },
    cookies: {
      keys: ['orggate-dev-op-cookie-key-not-secret-1'],
    },
    claims: customer ? {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'nickname'],
      groups: ['groups'],
    } : {
      openid: ['sub', ...(flavor === 'keycloak' ? ['organization'] : ['org_id', 'org_name'])],
      email: ['email', 'email_verified'],
      profile: ['name', 'nickname'],
    },
    // Put the scope-requested claims (and org claims) in the ID token even for response_type=code.
    conformIdTokenClaims: false,
    // oidc-provider refuses to call special-use addresses (SSRF protection); this dev OP's only
    // outgoing calls are back-channel logouts to the local Worker on 127.0.0.1, so allow exactly
    // that address and keep the protection for anything else.
    fetch: (url, options) => {
      const u = new URL(url);
      if (u.protocol === 'http:' && u.hostname === '127.0.0.1') {
        const { dispatcher, ...rest } = options;
        return fetch(url, rest);
      }
      return fetch(url, options);
    },
    extraParams: ['organization', 'connection', 'invitation', 'screen_hint'],
    pkce: { required: () => true },
    responseTypes: ['code'],
    scopes: customer ? ['openid', 'offline_access', 'profile', 'email', 'groups']
      : ['openid', 'offline_access', 'profile', 'email', ...API_SCOPES],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        // No "are you sure" step worth having in a demo: auto-submit the confirmation form
        // (browsers), keep a real button for scripted clients (tests post the form).
        async logoutSource(ctx, form) {
          ctx.type = 'html';
          ctx.body = page('Sign out', `<h1>Signing you out…</h1>
${form}
<button id="op-logout-yes" type="submit" form="op.logoutForm" name="logout" value="yes">Sign out</button>
<script>document.getElementById('op-logout-yes').click();</script>`);
        },
        async postLogoutSuccessSource(ctx) {
          ctx.type = 'html';
          ctx.body = page('Signed out', '<h1>Signed out</h1><p>You have been signed out of the demo OP.</p>');
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => API_AUDIENCE,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, resourceIndicator) => {
          if (resourceIndicator !== API_AUDIENCE) throw new errors.InvalidTarget();
          return {
            scope: API_SCOPES.join(' '),
            audience: API_AUDIENCE,
            accessTokenTTL: accessTtl,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256', kid: RS256_KID } },
          };
        },
      },
    },
    ttl: {
      AccessToken: accessTtl,
      ClientCredentials: accessTtl,
      AuthorizationCode: 120,
      IdToken: 3600,
      Interaction: 3600,
      Session: 24 * 3600,
      Grant: 14 * 24 * 3600,
      RefreshToken: 14 * 24 * 3600,
    },
    async issueRefreshToken(_ctx, client) {
      return client.grantTypeAllowed('refresh_token');
    },
    // Codes and tokens are not bound to the OP session: every authorization request gets its own
    // grant (see loadExistingGrant), and oidc-provider's session binding only accepts the grant the
    // session saw last, which would kill carol's acme refresh token as soon as she signs in to
    // globex (or an earlier code in another tab). Auth0 refresh tokens also survive an OP logout.
    async expiresWithSession() {
      return false;
    },
    async findAccount(ctx, sub, token) {
      const user = findUserBySub(sub);
      if (!user) return undefined;
      return {
        accountId: sub,
        async claims() {
          const grantId = token?.grantId ?? ctx?.oidc?.entities?.Grant?.jti;
          const orgId = grantId ? grantOrg.get(grantId) : undefined;
          if (customer) {
            return {
              sub,
              email: user.login,
              email_verified: user.email_verified,
              name: user.name,
              nickname: user.login.split('@')[0],
              groups: [...user.groups],
            };
          }
          return {
            sub,
            email: user.login,
            email_verified: true,
            name: user.name,
            nickname: user.login.split('@')[0],
            ...(orgId ? orgClaimsFor(orgId) : {}),
          };
        },
      };
    },
    // Consent is implicit for this first-party client: every authorization request gets a fresh
    // grant holding exactly what was asked, tagged with the requested organization. This is also
    // where org membership is enforced for an existing OP session (SSO without a login prompt).
    async loadExistingGrant(ctx) {
      const { oidc } = ctx;
      const accountId = oidc.account?.accountId ?? oidc.session?.accountId;
      let orgId = null;
      // A customer's own IdP has no organizations: the parameter means nothing to it.
      if (!customer && oidc.params.organization !== undefined) {
        const org = resolveOrg(oidc.params.organization);
        if (!org) {
          throw new errors.InvalidRequest(`unknown organization: ${oidc.params.organization}`);
        }
        const user = findUserBySub(accountId);
        if (!user?.memberships?.[org.id]) {
          throw new errors.AccessDenied(`user ${user?.login ?? accountId} is not a member of organization ${org.name} (${org.id})`);
        }
        orgId = org.id;
      }
      const grant = new oidc.provider.Grant({ accountId, clientId: oidc.client.clientId });
      const oidcScopes = [...oidc.requestParamOIDCScopes];
      if (oidcScopes.length) grant.addOIDCScope(oidcScopes.join(' '));
      const claims = [...oidc.requestParamClaims];
      if (claims.length) grant.addOIDCClaims(claims);
      for (const [indicator, rs] of Object.entries(oidc.resourceServers ?? {})) {
        const requested = [...oidc.requestParamScopes].filter((s) => rs.scopes.has(s));
        grant.addResourceScope(indicator, requested.join(' '));
      }
      await grant.save();
      grantOrg.set(grant.jti, orgId);
      return grant;
    },
    async extraTokenClaims(ctx, token) {
      if (token.kind === 'ClientCredentials') {
        const requested = ctx?.oidc?.body?.organization;
        const claims = { gty: 'client-credentials', azp: token.clientId };
        if (requested === undefined || requested === '') return claims;
        const org = resolveOrg(String(requested));
        if (!org) throw new errors.InvalidRequest(`unknown organization: ${requested}`);
        const perms = M2M_MEMBERSHIPS[token.clientId]?.[org.id];
        if (!perms) {
          throw new errors.AccessDenied(`client ${token.clientId} is not authorized for organization ${org.name} (${org.id})`);
        }
        return { ...claims, ...orgClaimsFor(org.id), ...rightsClaims(perms) };
      }
      if (token.kind === 'AccessToken') {
        const claims = { azp: token.clientId };
        const orgId = token.grantId ? grantOrg.get(token.grantId) : undefined;
        if (!orgId) return claims;
        const user = findUserBySub(token.accountId);
        return {
          ...claims,
          ...orgClaimsFor(orgId),
          ...rightsClaims(user?.memberships?.[orgId] ?? []),
        };
      }
      return undefined;
    },
    formats: {
      customizers: {
        async jwt(ctx, token, jwt) {
          if (token.kind === 'ClientCredentials') {
            // Auth0 style machine subject.
            jwt.payload.sub = `${token.clientId}@clients`;
          }
          const words = new Set((jwt.payload.scope ?? '').split(' ').filter(Boolean));
          if (token.kind === 'AccessToken') {
            // Auth0 style: the API access token also lists the OIDC scopes that were granted
            // (oidc-provider only keeps the resource server's scopes on a resource-bound token).
            const src = ctx?.oidc?.entities?.AuthorizationCode ?? ctx?.oidc?.entities?.RefreshToken;
            const oidcScopes = new Set(['openid', 'profile', 'email', 'offline_access']);
            for (const s of (src?.scope ?? '').split(' ')) if (oidcScopes.has(s)) words.add(s);
          }
          // Always present (possibly empty) so consumers can rely on the claim's existence.
          jwt.payload.scope = [...words].join(' ');
        },
      },
    },
    interactions: {
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = page('Error', `<h1>Something went wrong</h1>
${Object.entries(out).map(([k, v]) => `<p><strong>${htmlEscape(k)}</strong>: <span data-key="${htmlEscape(k)}">${htmlEscape(v)}</span></p>`).join('\n')}`);
    },
  };

  const provider = new Provider(issuer, configuration);
  provider.proxy = false;
  const quiet = opts.quiet ?? false;
  provider.on('backchannel.error', (ctx, err, client) => {
    console.error('[op] back-channel logout to', client?.backchannelLogoutUri, 'failed:', err?.message ?? err, err?.cause?.message ?? '');
  });
  provider.on('server_error', (ctx, err) => {
    if (!quiet) console.error('[op] server_error', ctx?.path, err);
  });

  const oidcCallback = provider.callback();

  function loginPage({ uid, params, error, login }) {
    const org = params.organization && !customer ? resolveOrg(params.organization) : undefined;
    const heading = customer ? 'Globex workforce sign-in' : params.screen_hint === 'signup' ? 'Sign up' : 'Sign in';
    const orgLine = customer
      ? '<p class="muted">Globex\'s own identity provider (a stand-in for its Okta or Entra ID).</p>'
      : params.organization
      ? `<p class="muted">Organization: <strong data-testid="org">${htmlEscape(org ? `${org.displayName} (${org.name})` : params.organization)}</strong></p>`
      : '';
    const invitationLine = params.invitation
      ? `<p class="muted">Invitation: <code data-testid="invitation">${htmlEscape(params.invitation)}</code></p>`
      : '';
    return page(`${heading} – ${customer ? 'Globex IdP' : 'orggate demo OP'}`, `<h1>${heading}</h1>
${orgLine}
${invitationLine}
${error ? `<p class="err" role="alert">${htmlEscape(error)}</p>` : ''}
<form method="post" action="/interaction/${htmlEscape(uid)}/login" autocomplete="off">
  <label for="login">Email</label>
  <input id="login" name="login" type="email" required autofocus value="${htmlEscape(login ?? params.login_hint ?? '')}">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" required>
  <button type="submit">Sign in</button>
</form>
<form method="post" action="/interaction/${htmlEscape(uid)}/abort">
  <button type="submit">Cancel</button>
</form>`);
  }

  async function handleInteraction(req, res, url) {
    const m = url.pathname.match(/^\/interaction\/([^/]+)(?:\/(login|abort))?$/);
    if (!m) return sendHtml(res, 404, page('Not found', '<h1>Not found</h1>'));
    const [, uid, action] = m;
    let details;
    try {
      details = await provider.interactionDetails(req, res);
    } catch (err) {
      return sendHtml(res, 400, page('Interaction error', `<h1>Interaction error</h1><p class="err">${htmlEscape(err.error_description ?? err.message)}</p>`));
    }
    if (details.uid !== uid) {
      return sendHtml(res, 400, page('Interaction error', '<h1>Interaction error</h1><p class="err">interaction mismatch</p>'));
    }
    const { prompt, params } = details;

    if (req.method === 'GET' && !action) {
      if (prompt.name === 'login') return sendHtml(res, 200, loginPage({ uid, params }));
      // consent (should not happen given loadExistingGrant) or anything else: auto-grant.
      return provider.interactionFinished(req, res, { consent: {} }, { mergeWithLastSubmission: true });
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'GET, POST' });
      return res.end();
    }
    const form = new URLSearchParams(await readBody(req));
    if (action === 'abort') {
      return provider.interactionFinished(req, res, {
        error: 'access_denied', error_description: 'end-user aborted the login',
      }, { mergeWithLastSubmission: false });
    }
    if (action !== 'login') return sendHtml(res, 404, page('Not found', '<h1>Not found</h1>'));

    const user = findUserByLogin(form.get('login'));
    const password = form.get('password') ?? '';
    if (!user || user.password !== password) {
      return sendHtml(res, 401, loginPage({ uid, params, error: 'Invalid email or password.', login: form.get('login') }));
    }
    if (params.organization && !customer) {
      const org = resolveOrg(params.organization);
      if (!org || !user.memberships[org.id]) {
        return provider.interactionFinished(req, res, {
          error: 'access_denied',
          error_description: org
            ? `user ${user.login} is not a member of organization ${org.name} (${org.id})`
            : `unknown organization: ${params.organization}`,
        }, { mergeWithLastSubmission: false });
      }
    }
    return provider.interactionFinished(req, res, {
      login: { accountId: user.sub, amr: ['pwd'] },
    }, { mergeWithLastSubmission: false });
  }

  async function handleTest(req, res, url) {
    const p = url.pathname;
    if (p === '/_test/last-authorize' && req.method === 'GET') {
      const last = authorizeRequests.at(-1);
      if (!last) return sendJson(res, 404, { error: 'no authorization request recorded yet' });
      return sendJson(res, 200, last);
    }
    if (p === '/_test/authorize-requests' && req.method === 'GET') {
      return sendJson(res, 200, authorizeRequests);
    }
    if (p === '/_test/reset' && req.method === 'POST') {
      authorizeRequests.length = 0;
      return sendJson(res, 200, { ok: true });
    }
    if (p === '/_test/sessions' && req.method === 'GET') {
      const sessions = Adapter.activeSessions().map((s) => ({
        accountId: s.accountId,
        login: findUserBySub(s.accountId)?.login,
        loginTs: s.loginTs,
      }));
      return sendJson(res, 200, { count: sessions.length, sessions });
    }
    if (p === '/_test/session' && req.method === 'GET') {
      const login = url.searchParams.get('user') ?? '';
      const user = findUserByLogin(login);
      const count = user ? Adapter.activeSessions().filter((s) => s.accountId === user.sub).length : 0;
      return sendJson(res, 200, { user: login, active: count > 0, count });
    }
    if (p === '/_test/config' && req.method === 'GET') {
      return sendJson(res, 200, {
        issuer, workerPorts, accessTtl, audience: API_AUDIENCE,
        flavor, users: Object.keys(dir.users), orgs: customer ? {} : ORGS,
      });
    }
    return sendJson(res, 404, { error: 'not found' });
  }

  handler = async (req, res) => {
    let url;
    try {
      url = new URL(req.url, issuer);
    } catch {
      res.writeHead(400);
      return res.end();
    }
    try {
      if (url.pathname.startsWith('/_test/')) return await handleTest(req, res, url);
      if (url.pathname.startsWith('/interaction/')) return await handleInteraction(req, res, url);
      if (url.pathname === '/auth' && req.method === 'GET') {
        authorizeRequests.push({
          at: new Date().toISOString(),
          method: 'GET',
          params: Object.fromEntries(url.searchParams),
          rawQuery: url.search,
        });
        if (authorizeRequests.length > 200) authorizeRequests.shift();
      }
      return oidcCallback(req, res);
    } catch (err) {
      if (!quiet) console.error('[op] handler error', err);
      if (!res.headersSent) sendJson(res, 500, { error: 'server_error' });
      else res.destroy();
      return undefined;
    }
  };

  let closed = false;
  return {
    issuer,
    port,
    provider,
    authorizeRequests,
    async close() {
      if (closed) return;
      closed = true;
      await new Promise((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections?.();
        setTimeout(() => { for (const s of sockets) s.destroy(); }, 200).unref();
      });
    },
  };
}

async function main() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      'worker-port': { type: 'string', multiple: true },
      'access-ttl': { type: 'string' },
      host: { type: 'string' },
      'test-endpoints': { type: 'boolean' }, // accepted for compatibility; always on
      flavor: { type: 'string' },
      quiet: { type: 'boolean' },
    },
  });
  const port = Number(values.port ?? process.env.OP_PORT ?? 9000);
  const workerPorts = parsePorts(values['worker-port']) ?? parsePorts(process.env.WORKER_PORTS);
  const accessTtl = values['access-ttl'] ?? process.env.OP_ACCESS_TTL ?? 300;
  const op = await startOp({
    port, workerPorts, accessTtl, host: values.host ?? '127.0.0.1', quiet: values.quiet,
    flavor: values.flavor ?? process.env.OP_FLAVOR,
  });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    try {
      await op.close();
    } finally {
      process.exit(0);
    }
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdout.write(`OP ready ${op.issuer}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
