// The peer: the JavaScript Worker a competent team would write instead of orggate, using `jose`.
// Same job on the benchmark routes, same KV documents (`settings`, `name:{name}`, `org:{id}`):
//
//   host `{name}.{base_domain}` → name:{name} → org:{id} → route rule (method + pattern)
//   → Bearer token → jwtVerify(iss, aud, algorithms; keys from the issuer's JWKS)
//   → token org_id == addressed org → rule's permissions/roles/scopes → fetch(origin + path)
//   or a 401/403/404 JSON refusal. One JSON decision line per request, like orggate.
//
// Module scope keeps what an isolate can reuse: one JWKS getter per jwks_uri (jose's
// createRemoteJWKSet caches the keys and the imported CryptoKeys), and parsed KV documents with a
// 60 s freshness, route patterns compiled once per document. Not implemented (orggate does them):
// path-prefix and header org resolution, custom domains, login pages and sessions, the signed
// assertion header, path normalization beyond collapsing dot segments.
import {
  createRemoteJWKSet, decodeJwt, jwtVerify, errors,
} from 'jose';

const CONFIG_TTL_MS = 60_000;
const docCache = new Map(); // KV key -> { at, value }
const jwksCache = new Map(); // jwks_uri -> jose key getter

async function kvJson(env, key, compile) {
  const now = Date.now();
  const hit = docCache.get(key);
  if (hit && now - hit.at < CONFIG_TTL_MS) return hit.value;
  const text = await env.ORGS.get(key);
  let value = null;
  if (text !== null) value = compile ? compile(text) : text;
  docCache.set(key, { at: now, value });
  return value;
}

// ---- route rules ------------------------------------------------------------------------------
// Patterns: `/a/b`, `/a/:id`, `/a/*` (the trailing wildcard also matches `/a`). Most specific
// wins: compare segment by segment, literal > param > wildcard, longer beats a wildcard.
function compilePattern(path) {
  const segs = path === '/' ? [] : path.slice(1).split('/');
  const wildcard = segs.at(-1) === '*';
  if (wildcard) segs.pop();
  const rank = segs.map((s) => (s.startsWith(':') ? 1 : 2));
  return { segs, wildcard, rank };
}

function compileRules(rules = []) {
  return rules.map((r) => ({
    id: r.id,
    methods: r.methods ? new Set(r.methods.map((m) => m.toUpperCase())) : null,
    pattern: compilePattern(r.path),
    require: r.require,
    loosen: r.loosen === true,
    upstream: r.upstream,
  }));
}

function patternMatches(p, parts) {
  if (p.wildcard ? parts.length < p.segs.length : parts.length !== p.segs.length) return false;
  for (let i = 0; i < p.segs.length; i++) {
    if (p.rank[i] === 2 && p.segs[i] !== parts[i]) return false;
  }
  return true;
}

function moreSpecific(a, b) {
  const n = Math.max(a.segs.length, b.segs.length);
  for (let i = 0; i < n; i++) {
    const ra = i < a.segs.length ? a.rank[i] : 0;
    const rb = i < b.segs.length ? b.rank[i] : 0;
    if (ra !== rb) return ra > rb;
  }
  return !a.wildcard && b.wildcard;
}

function matchRule(rules, method, parts) {
  let best = null;
  for (const r of rules) {
    if (r.methods && !r.methods.has(method) && !(method === 'HEAD' && r.methods.has('GET'))) continue;
    if (!patternMatches(r.pattern, parts)) continue;
    if (!best || moreSpecific(r.pattern, best.pattern)) best = r;
  }
  return best;
}

// ---- requirements -----------------------------------------------------------------------------
function list(v) {
  if (Array.isArray(v)) return v.filter((x) => typeof x === 'string');
  if (typeof v === 'string') return v.split(/[ ,]+/).filter(Boolean);
  return [];
}

/** Missing requirements (empty: satisfied). */
function check(req, who) {
  if (req === 'public' || req === 'authenticated') return [];
  const [[kind, arg]] = Object.entries(req);
  const have = { permissions: who.permissions, roles: who.roles, scopes: who.scopes }[kind];
  if (have) {
    if (Array.isArray(arg)) return arg.filter((x) => !have.includes(x)).map((x) => `${kind}:${x}`);
    return arg.any.some((x) => have.includes(x)) ? [] : [`${kind}:any(${arg.any.join(',')})`];
  }
  if (kind === 'caller') return who.caller === arg ? [] : [`caller:${arg}`];
  if (kind === 'all') return arg.flatMap((r) => check(r, who));
  if (kind === 'any') return arg.some((r) => check(r, who).length === 0) ? [] : ['any'];
  return [`unknown:${kind}`];
}

function combine(base, own) {
  if (!base && !own) return null;
  if (!base) return own.require;
  if (!own) return base.require;
  if (own.loosen || base.require === 'public') return own.require;
  if (own.require === 'public') return base.require;
  return { all: [base.require, own.require] };
}

// ---- responses --------------------------------------------------------------------------------
function refuse(status, reason, extra = {}) {
  const headers = { 'content-type': 'application/json', 'cache-control': 'no-store' };
  if (status === 401) headers['www-authenticate'] = `Bearer error="invalid_token"`;
  return new Response(JSON.stringify({ error: reason, ...extra }), { status, headers });
}

function log(line) {
  console.log(JSON.stringify(line));
}

const compileSettings = (text) => {
  const s = JSON.parse(text);
  return {
    ...s,
    baseRules: compileRules(s.routes),
    issuerByName: new Map(s.issuers.map((i) => [i.issuer, i])),
  };
};
const compileOrg = (text) => {
  const o = JSON.parse(text);
  return { ...o, rules: compileRules(o.routes) };
};

function keysFor(issuer) {
  const uri = issuer.jwks_uri ?? `${issuer.issuer.replace(/\/$/, '')}/.well-known/jwks.json`;
  let getter = jwksCache.get(uri);
  if (!getter) {
    getter = createRemoteJWKSet(new URL(uri), { cacheMaxAge: 600_000, cooldownDuration: 30_000 });
    jwksCache.set(uri, getter);
  }
  return getter;
}

function normalizePath(pathname) {
  const out = [];
  for (const seg of pathname.split('/').slice(1)) {
    if (seg === '..') out.pop();
    else if (seg !== '.' && seg !== '') out.push(seg);
  }
  return out;
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const settings = await kvJson(env, 'settings', compileSettings);
    if (!settings) return refuse(500, 'not_configured');

    // Which org: `{name}.{base_domain}`.
    const host = url.hostname.toLowerCase();
    let name = null;
    for (const base of settings.resolution.base_domains) {
      const label = host.endsWith(`.${base}`) ? host.slice(0, -base.length - 1) : null;
      if (label && /^[a-z0-9_-]{1,50}$/.test(label)) name = label;
    }
    const orgId = name && (await kvJson(env, `name:${name}`));
    const org = orgId && (await kvJson(env, `org:${orgId}`, compileOrg));
    if (!org || org.disabled) return refuse(404, 'unknown_org');

    // Which rule.
    const parts = normalizePath(url.pathname);
    const method = request.method.toUpperCase();
    const base = matchRule(settings.baseRules, method, parts);
    const own = matchRule(org.rules, method, parts);
    const require = combine(base, own);
    const rule = [base && `base:${base.id}`, own && `org:${own.id}`].filter(Boolean).join('+') || 'unmatched';
    if (require === null && settings.unmatched !== 'authenticated') {
      log({ org: org.org_id, rule, decision: 'deny', reason: 'no_matching_rule' });
      return refuse(403, 'forbidden', { rule });
    }

    // Who: RFC 6750 bearer token, verified against the configured issuer.
    let who = null;
    if (require !== 'public') {
      const auth = request.headers.get('authorization') ?? '';
      const m = /^Bearer ([A-Za-z0-9_.-]+)$/i.exec(auth);
      if (!m) return refuse(401, 'no_credentials');
      let payload;
      try {
        // Choose the issuer config from the unverified iss (jwtVerify then checks it exactly).
        const { iss } = decodeJwt(m[1]);
        const issuer = settings.issuerByName.get(iss);
        if (!issuer) throw new errors.JWTClaimValidationFailed('unknown issuer', {}, 'iss');
        ({ payload } = await jwtVerify(m[1], keysFor(issuer), {
          issuer: issuer.issuer,
          audience: issuer.audiences,
          algorithms: issuer.algorithms,
          clockTolerance: issuer.leeway_s ?? 60,
        }));
      } catch (e) {
        const reason = e?.code ?? 'malformed_token';
        log({ org: org.org_id, rule, decision: 'deny', reason });
        return refuse(401, 'invalid_token', { reason });
      }
      if (payload.org_id !== org.org_id) {
        log({ org: org.org_id, rule, decision: 'deny', reason: 'org_mismatch' });
        return refuse(401, 'invalid_token', { reason: 'org_mismatch' });
      }
      who = {
        sub: payload.sub,
        permissions: list(payload.permissions),
        roles: list(payload.roles),
        scopes: list(payload.scope),
        caller: payload.gty === 'client-credentials' ? 'client' : 'user',
      };
      const missing = check(require ?? 'authenticated', who);
      if (missing.length) {
        log({ org: org.org_id, sub: who.sub, rule, decision: 'deny', missing });
        return refuse(403, 'forbidden', { rule, missing });
      }
    }

    // Forward with identity headers; never pass the caller's own x-orggate-* headers through.
    const headers = new Headers();
    for (const [k, v] of request.headers) {
      if (!k.startsWith('x-orggate-') && k !== 'host') headers.set(k, v);
    }
    headers.set('x-orggate-org-id', org.org_id);
    headers.set('x-orggate-org-name', org.name);
    if (who) {
      headers.set('x-orggate-subject', who.sub ?? '');
      headers.set('x-orggate-permissions', who.permissions.join(' '));
    }
    log({ org: org.org_id, sub: who?.sub, rule, decision: 'allow' });
    const origin = org.origin ?? settings.origin;
    return fetch(`${origin}/${parts.join('/')}${url.search}`, {
      method: request.method,
      headers,
      body: method === 'GET' || method === 'HEAD' ? undefined : request.body,
      redirect: 'manual',
    });
  },
};
