//! The decision log: one structured JSON line per request (never the token itself).

use crate::error::Refusal;
use serde::Serialize;

/// Absent fields are left out of the line (it is written for every request).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct DecisionLog {
    pub request_id: String,
    pub method: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved_via: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caller: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// `allow`, `deny`, `refuse` (4xx) or `error` (5xx).
    pub decision: &'static str,
    pub reasons: Vec<String>,
    /// Internal detail (5xx cause, token error variant): logs only, never the client.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// 0 when forwarded (the origin's status is not ours).
    pub status: u16,
}

impl DecisionLog {
    pub fn new(request_id: &str, method: &str) -> Self {
        Self {
            request_id: request_id.to_string(),
            method: method.to_string(),
            decision: "pending",
            ..Self::default()
        }
    }

    pub fn allow(&mut self, reasons: Vec<String>) {
        self.decision = "allow";
        self.reasons.extend(reasons);
    }

    pub fn deny(&mut self, reasons: Vec<String>) {
        self.decision = "deny";
        self.reasons = reasons;
    }

    pub fn refused(&mut self, r: &Refusal) {
        self.decision = if matches!(r, Refusal::Internal { .. }) {
            "error"
        } else {
            "deny"
        };
        let mut reasons = vec![r.reason().to_string()];
        if let Refusal::Forbidden { missing, .. } = r {
            reasons.extend(missing.iter().cloned());
        }
        if let Refusal::Internal { detail } = r {
            self.detail = Some(detail.clone());
        }
        self.reasons = reasons;
    }

    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{\"log\":\"unserializable\"}".into())
    }
}
