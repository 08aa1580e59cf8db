//! The OIDC authorization code flow with PKCE, as plain requests and responses (the core names
//! the I/O; a driver performs it): the authorize URL, the token request, the token response, and
//! ID token validation per OIDC Core 3.1.3.7.

use crate::engine::Engine;
use crate::exchange::Exchange;
use crate::http::{form_encode, url_encode};
use crate::http::{HttpRequest, HttpResponse};
use crate::io::Pending;
use crate::keys::cache::JwksTiming;
use crate::org::policy::{AudiencePattern, IssuerPolicy, OrgPolicy, TenantPolicy};
use crate::ports::{Host, Secret};
use crate::time::UnixSeconds;
use crate::token::claims::{audiences, Preset};
use crate::token::jws::Alg;
use crate::token::verify::{check_signature, numeric, parse_once};
use crate::token::TokenError;
use serde::Deserialize;
use serde_json::Value;

/// Which IdP client a login uses: the tenant's, or the org's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub issuer: String,
    pub client_id: String,
    /// The Worker secret's value (never printed).
    pub client_secret: Secret,
    pub scopes: String,
    pub audience: Option<String>,
    /// ID-token signature algorithms accepted from this IdP.
    pub algorithms: Vec<Alg>,
    /// The org's own IdP (not the tenant's): no Auth0 `organization` parameter, identity from
    /// its ID token (and userinfo), the org implied by the IdP.
    pub org_bound: bool,
    /// Read userinfo (OIDC Core 5.3) after the code exchange.
    pub userinfo: bool,
}

/// The IdP client for this org: its own, or the tenant's.
pub fn client(host: &dyn Host, tenant: &TenantPolicy, org: &OrgPolicy) -> Result<Client, String> {
    tenant.login.as_ref().ok_or("login is not configured")?;
    let secret = |name: &str| {
        host.secret(name)
            .ok_or_else(|| format!("secret {name} is not set"))
    };
    Ok(match &org.login.idp {
        Some(idp) => Client {
            issuer: idp.issuer.clone(),
            client_id: idp.client_id.clone(),
            client_secret: secret(&idp.client_secret)?,
            scopes: idp.scopes.clone(),
            audience: None,
            algorithms: idp.algorithms.clone(),
            org_bound: true,
            userinfo: idp.userinfo,
        },
        None => tenant_client(host, tenant)?,
    })
}

/// The tenant's own login client (`settings.login`).
pub fn tenant_client(host: &dyn Host, tenant: &TenantPolicy) -> Result<Client, String> {
    let login = tenant.login.as_ref().ok_or("login is not configured")?;
    Ok(Client {
        issuer: login.issuer.clone(),
        client_id: login.client_id.clone(),
        client_secret: host
            .secret(&login.client_secret)
            .ok_or_else(|| format!("secret {} is not set", login.client_secret))?,
        scopes: login.scopes.clone(),
        audience: login.audience.clone(),
        algorithms: vec![Alg::RS256, Alg::PS256, Alg::ES256, Alg::EdDSA],
        org_bound: false,
        userinfo: false,
    })
}

/// Parameters of one authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, OIDC Core 3.1.2.1,
/// and Auth0's `organization`, `connection`, `invitation`, `screen_hint`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct AuthorizeParams {
    pub redirect_uri: String,
    pub state: String,
    pub nonce: String,
    pub code_challenge: String,
    /// Auth0's `organization` (tenant IdPs only).
    pub organization: Option<String>,
    pub connection: Option<String>,
    pub login_hint: Option<String>,
    pub screen_hint: Option<String>,
    pub prompt: Option<String>,
    pub invitation: Option<String>,
    /// RFC 9470 §4 / OIDC Core 3.1.2.1: step-up.
    pub acr_values: Option<String>,
    pub max_age: Option<u64>,
}

pub fn authorize_url(endpoint: &str, client: &Client, p: &AuthorizeParams) -> String {
    let mut q: Vec<(&str, &str)> = vec![
        ("response_type", "code"),
        ("client_id", &client.client_id),
        ("redirect_uri", &p.redirect_uri),
        ("scope", &client.scopes),
        ("state", &p.state),
        ("nonce", &p.nonce),
        ("code_challenge", &p.code_challenge),
        ("code_challenge_method", "S256"),
    ];
    if let Some(o) = &p.organization {
        q.push(("organization", o));
    }
    if let Some(a) = &client.audience {
        q.push(("audience", a));
    }
    let max_age = p.max_age.map(|m| m.to_string());
    for (k, v) in [
        ("connection", &p.connection),
        ("login_hint", &p.login_hint),
        ("screen_hint", &p.screen_hint),
        ("prompt", &p.prompt),
        ("invitation", &p.invitation),
        ("acr_values", &p.acr_values),
        ("max_age", &max_age),
    ] {
        if let Some(v) = v {
            q.push((k, v));
        }
    }
    let sep = if endpoint.contains('?') { '&' } else { '?' };
    format!("{endpoint}{sep}{}", form_encode(q.iter().copied()))
}

fn basic_auth(client: &Client) -> String {
    // RFC 6749 §2.3.1: form-urlencode id and secret before base64.
    let raw = format!(
        "{}:{}",
        url_encode(&client.client_id),
        url_encode(client.client_secret.expose())
    );
    format!("Basic {}", crate::b64::encode_standard(raw.as_bytes()))
}

fn token_request(endpoint: &str, client: &Client, form: &[(&str, &str)]) -> HttpRequest {
    HttpRequest {
        method: "POST".into(),
        url: endpoint.to_string(),
        headers: vec![
            (
                "content-type".into(),
                "application/x-www-form-urlencoded".into(),
            ),
            ("accept".into(), "application/json".into()),
            ("authorization".into(), basic_auth(client)),
        ],
        body: Some(form_encode(form.iter().copied()).into_bytes()),
    }
}

/// RFC 6749 §4.1.3 + RFC 7636 §4.5.
pub fn code_request(
    endpoint: &str,
    client: &Client,
    code: &str,
    redirect_uri: &str,
    verifier: &str,
) -> HttpRequest {
    token_request(
        endpoint,
        client,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier),
        ],
    )
}

/// RFC 6749 §6.
pub fn refresh_request(endpoint: &str, client: &Client, refresh_token: &str) -> HttpRequest {
    token_request(
        endpoint,
        client,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
    )
}

/// RFC 7009 §2.1: revoke a refresh token, with the client's authentication.
pub fn revocation_request(endpoint: &str, client: &Client, refresh_token: &str) -> HttpRequest {
    token_request(
        endpoint,
        client,
        &[
            ("token", refresh_token),
            ("token_type_hint", "refresh_token"),
        ],
    )
}

#[derive(Debug, Clone, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    #[serde(default)]
    pub id_token: Option<String>,
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub token_type: Option<String>,
}

/// RFC 6749 §5.1 / §5.2: a 200 JSON body with a bearer `access_token`, or an error.
pub fn parse_token_response(resp: &HttpResponse) -> Result<TokenResponse, String> {
    if resp.status != 200 {
        let err: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
        let code = err
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("unknown");
        return Err(format!("token endpoint answered {} ({code})", resp.status));
    }
    let t: TokenResponse =
        serde_json::from_slice(&resp.body).map_err(|e| format!("token response: {e}"))?;
    if !t
        .token_type
        .as_deref()
        .unwrap_or("Bearer")
        .eq_ignore_ascii_case("bearer")
    {
        return Err("token_type is not Bearer".into());
    }
    Ok(t)
}

/// The policy an ID token is checked against: the login issuer, `aud` = our client id.
pub fn id_token_policy(client: &Client) -> IssuerPolicy {
    IssuerPolicy {
        issuer: client.issuer.clone(),
        audiences: vec![AudiencePattern::Exact(client.client_id.clone())],
        authorized_parties: Vec::new(),
        algorithms: client.algorithms.clone(),
        jwks_uri: None,
        preset: Preset::Auth0 { roles: None },
        leeway: 60,
        max_age: None,
        hs256_secret: None,
        multi_org: None,
        timing: JwksTiming::default(),
        orgs: None,
    }
}

/// A valid ID token: its subject and every claim (the preset or the org's claim rules read
/// them).
#[derive(Debug, Clone, PartialEq)]
pub struct IdClaims {
    pub subject: String,
    pub claims: std::rc::Rc<serde_json::Map<String, Value>>,
}

/// OIDC Core 3.1.3.7: validates the ID token from the token response.
pub fn validate_id_token(
    engine: &Engine,
    host: &dyn Host,
    ex: &mut Exchange,
    client: &Client,
    raw: &str,
    expected_nonce: &str,
) -> Result<IdClaims, Pending<TokenError>> {
    let now = ex.now;
    let policy = id_token_policy(client);
    let token = parse_once(ex, raw, 16 * 1024).map_err(Pending::Fail)?;
    // (6) the alg is one we accept (default RS256).
    if !policy.algorithms.contains(&token.header.alg) {
        return Err(Pending::Fail(TokenError::AlgorithmNotAllowed {
            alg: token.header.alg.name(),
        }));
    }
    check_signature(engine, host, ex, &policy, &token)?;
    id_token_claims(&token.claims, client, &policy, expected_nonce, now).map_err(Pending::Fail)
}

/// OIDC Core 5.3: the userinfo request, with the access token the code exchange returned.
pub fn userinfo_request(endpoint: &str, access_token: &str) -> HttpRequest {
    HttpRequest {
        method: "GET".into(),
        url: endpoint.to_string(),
        headers: vec![
            ("accept".into(), "application/json".into()),
            ("authorization".into(), format!("Bearer {access_token}")),
        ],
        body: None,
    }
}

/// OIDC Core 5.3.2: a JSON userinfo answer whose `sub` is the ID token's (else it is refused:
/// a response about someone else could be substituted).
pub fn parse_userinfo(
    resp: &HttpResponse,
    subject: &str,
) -> Result<serde_json::Map<String, Value>, String> {
    if resp.status != 200 {
        return Err(format!("userinfo answered {}", resp.status));
    }
    let m = crate::json::parse_object_strict(&resp.body)
        .map_err(|e| format!("userinfo is not a JSON object: {e:?}"))?;
    if m.get("sub").and_then(Value::as_str) != Some(subject) {
        return Err("userinfo sub differs from the ID token's".into());
    }
    Ok(m)
}

/// The claim checks of OIDC Core 3.1.3.7 after the signature.
fn id_token_claims(
    c: &serde_json::Map<String, Value>,
    client: &Client,
    policy: &IssuerPolicy,
    expected_nonce: &str,
    now: UnixSeconds,
) -> Result<IdClaims, TokenError> {
    // (2) iss must exactly match.
    if c.get("iss").and_then(Value::as_str) != Some(client.issuer.as_str()) {
        return Err(TokenError::UnknownIssuer);
    }
    // (3) aud contains our client_id; (4)/(5) azp, when present or when aud has several values.
    let auds = audiences(c).map_err(|_| TokenError::BadClaim { name: "aud" })?;
    if !auds.contains(&client.client_id.as_str()) {
        return Err(TokenError::WrongAudience);
    }
    let azp = c.get("azp").and_then(Value::as_str);
    if (auds.len() > 1 && azp.is_none()) || azp.is_some_and(|a| a != client.client_id) {
        return Err(TokenError::BadClaim { name: "azp" });
    }
    // (9) exp; (10) iat not in the future beyond leeway. Saturating: exp may be anything.
    let exp = numeric(c, "exp")?.ok_or(TokenError::MissingClaim { name: "exp" })?;
    if now >= exp.plus(policy.leeway) {
        return Err(TokenError::Expired { exp, now });
    }
    if let Some(iat) = numeric(c, "iat")? {
        if iat > now.plus(policy.leeway) {
            return Err(TokenError::IssuedInFuture { iat, now });
        }
    }
    // (11) nonce must equal the one we sent.
    let nonce = c.get("nonce").and_then(Value::as_str).unwrap_or("");
    if !super::pkce::constant_time_eq(nonce.as_bytes(), expected_nonce.as_bytes()) {
        return Err(TokenError::BadClaim { name: "nonce" });
    }
    Ok(IdClaims {
        subject: c
            .get("sub")
            .and_then(Value::as_str)
            .ok_or(TokenError::MissingClaim { name: "sub" })?
            .to_string(),
        claims: std::rc::Rc::new(c.clone()),
    })
}

/// `state` doubles as the transaction id: its first characters name the transaction cookie, so
/// several tabs logging in at once each keep their own.
pub fn txn_id(state: &str) -> Option<&str> {
    state.get(..12).filter(|s| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client (and anything that prints one) shows everything but its secret.
    #[test]
    fn debug_never_prints_the_client_secret() {
        let c = Client {
            issuer: "https://idp.example".into(),
            client_id: "orggate".into(),
            client_secret: Secret::new("s3cr3t-value"),
            scopes: "openid".into(),
            audience: None,
            algorithms: vec![Alg::RS256],
            org_bound: true,
            userinfo: false,
        };
        let printed = format!("{c:?} {c:#?}");
        assert!(!printed.contains("s3cr3t-value"), "{printed}");
        assert!(printed.contains("Secret([redacted])") && printed.contains("orggate"));
        assert_eq!(c.client_secret.expose(), "s3cr3t-value");
    }
}
