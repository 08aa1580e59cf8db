// Authorization code + PKCE (S256) against the dev OP, purely with node fetch: manual redirects,
// a tiny cookie jar, and posting the plain-HTML login form. For API-level tests without a browser.
import { createHash, randomBytes } from 'node:crypto';

const b64url = (buf) => Buffer.from(buf).toString('base64url');

export function pkcePair() {
  const verifier = b64url(randomBytes(32));
  const challenge = b64url(createHash('sha256').update(verifier).digest());
  return { verifier, challenge, method: 'S256' };
}

/** Minimal cookie jar keyed by cookie name (the OP is a single origin). */
export class CookieJar {
  constructor() { this.cookies = new Map(); }

  store(res) {
    const list = typeof res.headers.getSetCookie === 'function' ? res.headers.getSetCookie() : [];
    for (const line of list) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq < 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => {
        const [k, v] = a.split('=').map((x) => x?.trim().toLowerCase());
        if (k === 'max-age') return Number(v) <= 0;
        if (k === 'expires') return Date.parse(v) <= Date.now();
        return false;
      });
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  header() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

const DEFAULT_TIMEOUT_MS = 10_000;

async function go(url, { jar, method = 'GET', body, headers = {}, timeoutMs = DEFAULT_TIMEOUT_MS } = {}) {
  const h = { ...headers };
  const cookie = jar?.header();
  if (cookie) h.cookie = cookie;
  if (body !== undefined && !h['content-type']) h['content-type'] = 'application/x-www-form-urlencoded';
  const res = await fetch(url, {
    method, body, headers: h, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs),
  });
  jar?.store(res);
  const text = await res.text();
  return { status: res.status, headers: res.headers, location: res.headers.get('location'), text, url };
}

/** Parse `<form ... action="X">` and its named inputs from simple HTML (our own OP pages). */
export function parseForms(html, baseUrl) {
  const forms = [];
  const formRe = /<form\b([^>]*)>([\s\S]*?)<\/form>/gi;
  let m;
  while ((m = formRe.exec(html))) {
    const attrs = m[1];
    const action = /action="([^"]*)"/i.exec(attrs)?.[1] ?? '';
    const method = (/method="([^"]*)"/i.exec(attrs)?.[1] ?? 'get').toLowerCase();
    const id = /id="([^"]*)"/i.exec(attrs)?.[1];
    const inputs = {};
    const inRe = /<input\b([^>]*)>/gi;
    let im;
    while ((im = inRe.exec(m[2]))) {
      const name = /name="([^"]*)"/i.exec(im[1])?.[1];
      if (!name) continue;
      inputs[name] = decodeEntities(/value="([^"]*)"/i.exec(im[1])?.[1] ?? '');
    }
    forms.push({
      id, method, inputs, action: new URL(decodeEntities(action), baseUrl).href,
    });
  }
  return forms;
}

function decodeEntities(s) {
  return s.replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&#x27;/g, "'");
}

function basicAuth(id, secret) {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

export async function discover(issuer) {
  const res = await fetch(new URL('/.well-known/openid-configuration', issuer), { signal: AbortSignal.timeout(DEFAULT_TIMEOUT_MS) });
  if (!res.ok) throw new Error(`discovery failed: ${res.status}`);
  return res.json();
}

/**
 * Start an authorization request and follow the OP until it redirects back to redirectUri.
 * Returns {callbackUrl, params (URLSearchParams of the callback), jar, verifier, state, nonce}.
 * Throws if the OP answers anything unexpected. `jar` may be passed in to reuse an OP session.
 */
export async function authorizeViaOp({
  issuer, clientId = 'orggate', redirectUri, user, password, organization, scope = 'openid profile email offline_access',
  extraParams = {}, jar = new CookieJar(), maxSteps = 12, startUrl,
}) {
  const meta = await discover(issuer);
  const pkce = pkcePair();
  const state = b64url(randomBytes(12));
  const nonce = b64url(randomBytes(12));
  const auth = new URL(meta.authorization_endpoint);
  const q = {
    client_id: clientId, response_type: 'code', redirect_uri: redirectUri, scope, state, nonce,
    code_challenge: pkce.challenge, code_challenge_method: 'S256',
    ...(organization !== undefined ? { organization } : {}),
    ...extraParams,
  };
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== null) auth.searchParams.set(k, String(v));

  // startUrl: an authorization URL someone else built (orggate's /_orggate/start redirect).
  let res = await go(startUrl ?? auth.href, { jar });
  let submitted = false;
  for (let step = 0; step < maxSteps; step += 1) {
    if (res.status >= 300 && res.status < 400 && res.location) {
      const next = new URL(res.location, res.url);
      if (next.href.startsWith(redirectUri)) {
        return {
          callbackUrl: next.href, params: next.searchParams, jar, verifier: pkce.verifier, state, nonce, meta,
        };
      }
      res = await go(next.href, { jar });
      continue;
    }
    if (res.status === 200 || res.status === 401) {
      const forms = parseForms(res.text, res.url);
      const login = forms.find((f) => 'login' in f.inputs && 'password' in f.inputs);
      if (login) {
        if (submitted && res.status === 401) throw new Error(`login rejected by the OP for ${user}`);
        if (user === undefined) throw new Error('OP asked for a login but no user was given');
        submitted = true;
        const body = new URLSearchParams({ ...login.inputs, login: user, password: password ?? '' });
        res = await go(login.action, { jar, method: 'POST', body: body.toString() });
        continue;
      }
      // oidc-provider's form_post / other auto-submitting pages are not expected here.
    }
    throw new Error(`unexpected OP response ${res.status} at ${res.url}: ${res.text.slice(0, 500)}`);
  }
  throw new Error('too many redirects at the OP');
}

export async function exchangeCode({ issuer, clientId = 'orggate', clientSecret = 'dev-client-secret', redirectUri, code, verifier }) {
  const meta = await discover(issuer);
  const body = new URLSearchParams({
    grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier,
  });
  return tokenRequest(meta.token_endpoint, clientId, clientSecret, body);
}

async function tokenRequest(endpoint, clientId, clientSecret, body) {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: { authorization: basicAuth(clientId, clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
    body: body.toString(),
    signal: AbortSignal.timeout(DEFAULT_TIMEOUT_MS),
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) {
    const err = new Error(`token endpoint ${res.status}: ${json.error} ${json.error_description ?? ''}`);
    Object.assign(err, { status: res.status, body: json });
    throw err;
  }
  return json;
}

/**
 * Full login: authorize (+ login form) + code exchange. Returns the token response plus
 * {jar, callbackParams}. Throws an Error with .error/.error_description when the OP redirects
 * back with an error (e.g. access_denied for a non-member).
 */
export async function loginViaOp({
  issuer, clientId = 'orggate', clientSecret = 'dev-client-secret', redirectUri, user, password, organization,
  extraParams, scope, jar,
}) {
  const a = await authorizeViaOp({
    issuer, clientId, redirectUri, user, password, organization, extraParams, scope, jar,
  });
  const error = a.params.get('error');
  if (error) {
    const err = new Error(`authorization failed: ${error}: ${a.params.get('error_description') ?? ''}`);
    Object.assign(err, { error, error_description: a.params.get('error_description'), callbackUrl: a.callbackUrl });
    throw err;
  }
  if (a.params.get('state') !== a.state) throw new Error('state mismatch');
  const code = a.params.get('code');
  if (!code) throw new Error(`no code in callback ${a.callbackUrl}`);
  const tokens = await exchangeCode({
    issuer, clientId, clientSecret, redirectUri, code, verifier: a.verifier,
  });
  return { ...tokens, jar: a.jar, callbackParams: a.params, nonce: a.nonce };
}

export async function refreshViaOp({ issuer, clientId = 'orggate', clientSecret = 'dev-client-secret', refreshToken }) {
  const meta = await discover(issuer);
  return tokenRequest(meta.token_endpoint, clientId, clientSecret, new URLSearchParams({
    grant_type: 'refresh_token', refresh_token: refreshToken,
  }));
}

export async function clientCredentials({
  issuer, clientId = 'orggate-m2m', clientSecret = 'm2m-secret', organization, scope, extra = {},
}) {
  const meta = await discover(issuer);
  const body = new URLSearchParams({ grant_type: 'client_credentials', ...extra });
  if (organization !== undefined) body.set('organization', organization);
  if (scope !== undefined) body.set('scope', scope);
  return tokenRequest(meta.token_endpoint, clientId, clientSecret, body);
}

/**
 * RP-initiated logout at the OP using the session cookies in `jar`. Follows the confirmation
 * form (the OP auto-submits it in browsers). Returns the final redirect Location (the
 * post_logout_redirect_uri when given) or the final page status.
 */
export async function logoutViaOp({ issuer, jar, idTokenHint, postLogoutRedirectUri, clientId = 'orggate', state }) {
  const meta = await discover(issuer);
  const u = new URL(meta.end_session_endpoint);
  if (idTokenHint) u.searchParams.set('id_token_hint', idTokenHint);
  else if (clientId) u.searchParams.set('client_id', clientId);
  if (postLogoutRedirectUri) u.searchParams.set('post_logout_redirect_uri', postLogoutRedirectUri);
  if (state) u.searchParams.set('state', state);
  let res = await go(u.href, { jar });
  const form = parseForms(res.text, res.url).find((f) => f.id === 'op.logoutForm' || /\/session\/end\/confirm$/.test(f.action));
  if (!form) throw new Error(`no logout form at ${res.url} (${res.status}): ${res.text.slice(0, 300)}`);
  const body = new URLSearchParams({ ...form.inputs, logout: 'yes' });
  res = await go(form.action, { jar, method: 'POST', body: body.toString() });
  for (let i = 0; i < 5 && res.status >= 300 && res.status < 400 && res.location; i += 1) {
    const next = new URL(res.location, res.url);
    if (postLogoutRedirectUri && next.href.startsWith(postLogoutRedirectUri)) return { location: next.href, status: res.status };
    res = await go(next.href, { jar });
  }
  return { location: null, status: res.status, text: res.text };
}
