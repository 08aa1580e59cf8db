// Demo data for the dev-only OpenID Provider (dev/op.mjs): organizations, users, clients.
// Everything here is public test data. Never reuse these secrets anywhere real.

export const API_AUDIENCE = 'https://api.orggate.test';

/** Scopes the demo API (resource server) understands. */
export const API_SCOPES = [
  'read:reports', 'write:reports', 'read:docs', 'reports:view', 'admin',
];

export const ORGS = {
  org_acme: { id: 'org_acme', name: 'acme', displayName: 'Acme Corp' },
  org_globex: { id: 'org_globex', name: 'globex', displayName: 'Globex Inc' },
};

/** Users: login -> { password, name, memberships: { orgId: [permissions] } } */
export const USERS = {
  'alice@acme.test': {
    sub: 'user_alice',
    password: 'alice-pass',
    name: 'Alice Example',
    memberships: {
      org_acme: ['read:reports', 'write:reports', 'read:docs', 'admin'],
    },
  },
  'bob@globex.test': {
    sub: 'user_bob',
    password: 'bob-pass',
    name: 'Bob Example',
    memberships: {
      org_globex: ['reports:view', 'read:docs'],
    },
  },
  'carol@both.test': {
    sub: 'user_carol',
    password: 'carol-pass',
    name: 'Carol Example',
    memberships: {
      org_acme: ['read:reports'],
      org_globex: ['reports:view', 'read:docs', 'admin'],
    },
  },
};

/** Machine-to-machine clients: clientId -> { orgId: [permissions] } */
export const M2M_MEMBERSHIPS = {
  'orggate-m2m': {
    org_acme: ['read:reports'],
  },
};

export const WEB_CLIENT_ID = 'orggate';
export const WEB_CLIENT_SECRET = 'dev-client-secret';
export const M2M_CLIENT_ID = 'orggate-m2m';
export const M2M_CLIENT_SECRET = 'm2m-secret';

export const DEFAULT_WORKER_PORTS = [8787];
// `*.app.test`: sibling org hosts under one registrable domain (the browser isolation test maps
// them to loopback); Chromium treats `*.localhost` hosts as cross-site to each other.
export const WORKER_HOSTS = ['acme.localhost', 'globex.localhost', 'localhost', '127.0.0.1', 'acme.app.test', 'globex.app.test'];

/** Resolve an `organization` value (org id or org name) to an org record, or undefined. */
export function resolveOrg(value) {
  if (typeof value !== 'string' || value === '') return undefined;
  if (Object.hasOwn(ORGS, value)) return ORGS[value];
  return Object.values(ORGS).find((o) => o.name === value);
}

export function findUserBySub(sub) {
  for (const [login, u] of Object.entries(USERS)) {
    if (u.sub === sub) return { login, ...u };
  }
  return undefined;
}

export function findUserByLogin(login) {
  const key = String(login ?? '').trim().toLowerCase();
  return Object.hasOwn(USERS, key) ? { login: key, ...USERS[key] } : undefined;
}

export function buildClients(workerPorts = DEFAULT_WORKER_PORTS) {
  const redirectUris = [];
  const postLogoutRedirectUris = [];
  for (const port of workerPorts) {
    for (const host of WORKER_HOSTS) {
      redirectUris.push(`http://${host}:${port}/_orggate/callback`);
      postLogoutRedirectUris.push(`http://${host}:${port}/_orggate/logged-out`);
    }
  }
  return [
    {
      client_id: WEB_CLIENT_ID,
      client_secret: WEB_CLIENT_SECRET,
      client_name: 'orggate (dev)',
      // 'web' + http redirect URIs is accepted by oidc-provider as long as the implicit grant is
      // not enabled; 'native' would only allow literal loopback hosts (not acme.localhost).
      application_type: 'web',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: redirectUris,
      post_logout_redirect_uris: postLogoutRedirectUris,
      // OIDC Back-Channel Logout: the OP tells orggate (on the tenant host, so every org's
      // sessions from that OP session end) when a session at the OP ends.
      ...(workerPorts.length ? {
        backchannel_logout_uri: `http://127.0.0.1:${workerPorts[0]}/_orggate/backchannel-logout`,
        backchannel_logout_session_required: true,
      } : {}),
      scope: ['openid', 'profile', 'email', 'offline_access', ...API_SCOPES].join(' '),
    },
    {
      client_id: M2M_CLIENT_ID,
      client_secret: M2M_CLIENT_SECRET,
      client_name: 'orggate machine client (dev)',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: API_SCOPES.join(' '),
    },
  ];
}

// --- globex's own IdP (dev/op.mjs --flavor customer): a customer's workforce IdP (an Okta or Entra
// ID stand-in). It knows nothing of organizations: its tokens carry sub, email, email_verified,
// name and groups. globex's org document maps the groups to orggate permissions.

export const CUSTOMER_CLIENT_ID = 'globex-orggate';
export const CUSTOMER_CLIENT_SECRET = 'globex-secret';

export const CUSTOMER_USERS = {
  'bob@globex.test': {
    sub: 'okta|bob', password: 'bob-okta', name: 'Bob Example', email_verified: true, groups: ['globex-staff'],
  },
  'dana@globex.test': {
    sub: 'okta|dana', password: 'dana-okta', name: 'Dana Admin', email_verified: true, groups: ['globex-staff', 'eng-admins'],
  },
  'frank@globex.test': {
    sub: 'okta|frank', password: 'frank-okta', name: 'Frank Unverified', email_verified: false, groups: ['globex-staff'],
  },
  'mallory@evil.test': {
    sub: 'okta|mallory', password: 'mallory-okta', name: 'Mallory Contractor', email_verified: true, groups: ['globex-staff'],
  },
};

/** The user directory an OP flavor serves: the tenant's (with org memberships) or globex's. */
export function directory(flavor) {
  const users = flavor === 'customer' ? CUSTOMER_USERS : USERS;
  return {
    users,
    bySub(sub) {
      for (const [login, u] of Object.entries(users)) if (u.sub === sub) return { login, ...u };
      return undefined;
    },
    byLogin(login) {
      const key = String(login ?? '').trim().toLowerCase();
      return Object.hasOwn(users, key) ? { login: key, ...users[key] } : undefined;
    },
  };
}

export function buildCustomerClients(workerPorts = DEFAULT_WORKER_PORTS) {
  const redirectUris = [];
  const postLogoutRedirectUris = [];
  for (const port of workerPorts) {
    for (const host of WORKER_HOSTS) {
      redirectUris.push(`http://${host}:${port}/_orggate/callback`);
      postLogoutRedirectUris.push(`http://${host}:${port}/_orggate/logged-out`);
    }
  }
  return [{
    client_id: CUSTOMER_CLIENT_ID,
    client_secret: CUSTOMER_CLIENT_SECRET,
    client_name: 'orggate for Globex',
    application_type: 'web',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: redirectUris,
    post_logout_redirect_uris: postLogoutRedirectUris,
    scope: 'openid profile email groups offline_access',
  }];
}
