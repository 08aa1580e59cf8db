//! Compiled configs kept in isolate memory with a TTL (default 60 s: KV's propagation time), with
//! short negative caching for unknown keys. When the TTL ends and KV returns the same text, the
//! compiled value is reused (parse once per config version).

use super::policy::{ConfigError, OrgPolicy, TenantPolicy};
use crate::time::UnixSeconds;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::rc::Rc;

#[derive(Debug, Clone)]
pub enum Cached {
    Tenant(Rc<TenantPolicy>),
    Org(Rc<OrgPolicy>),
    Alias(Rc<String>),
    Revocations(Rc<crate::revoke::RevocationSet>),
}

#[derive(Debug, Clone)]
pub enum Entry {
    Value(Cached),
    Invalid(ConfigError),
    Absent,
}

#[derive(Debug)]
struct Slot {
    entry: Entry,
    digest: Option<[u8; 32]>,
    until: UnixSeconds,
}

/// Bound on cached keys (100,000 orgs would not fit in one isolate's budget anyway: the cache
/// holds what this isolate has seen recently).
const MAX_ENTRIES: usize = 20_000;

#[derive(Debug, Default)]
pub struct ConfigCache {
    slots: HashMap<String, Slot>,
}

fn digest(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

impl ConfigCache {
    pub fn get(&self, key: &str, now: UnixSeconds) -> Option<Entry> {
        self.slots
            .get(key)
            .filter(|s| now < s.until)
            .map(|s| s.entry.clone())
    }

    /// Forget a key: the next read goes to the store.
    pub fn forget(&mut self, key: &str) {
        self.slots.remove(key);
    }

    pub fn get_stale(&self, key: &str) -> Option<Entry> {
        self.slots.get(key).map(|s| s.entry.clone())
    }

    /// [`Self::get_stale`], if the entry expired at most `max_age` seconds before `now`.
    pub fn get_stale_within(&self, key: &str, now: UnixSeconds, max_age: u64) -> Option<Entry> {
        self.slots
            .get(key)
            .filter(|s| now <= s.until.plus(max_age))
            .map(|s| s.entry.clone())
    }

    /// Same text as before: extend and return the compiled value without parsing again.
    pub fn revalidate(&mut self, key: &str, text: &str, until: UnixSeconds) -> Option<Cached> {
        let d = digest(text);
        let slot = self.slots.get_mut(key)?;
        if slot.digest == Some(d) {
            slot.until = until;
            if let Entry::Value(v) = &slot.entry {
                return Some(v.clone());
            }
        }
        None
    }

    /// Bounded memory without letting a flood of unknown names flush what matters: negative and
    /// expired entries go first; only if that is not enough does everything but `settings` go.
    fn make_room(&mut self, now: UnixSeconds) {
        if self.slots.len() < MAX_ENTRIES {
            return;
        }
        self.slots
            .retain(|_, s| !matches!(s.entry, Entry::Absent) && s.until > now);
        if self.slots.len() >= MAX_ENTRIES * 3 / 4 {
            self.slots.retain(|k, _| k == super::SETTINGS_KEY);
        }
    }

    pub fn put(
        &mut self,
        key: &str,
        text: &str,
        value: Cached,
        now: UnixSeconds,
        until: UnixSeconds,
    ) {
        self.make_room(now);
        self.slots.insert(
            key.to_string(),
            Slot {
                entry: Entry::Value(value),
                digest: Some(digest(text)),
                until,
            },
        );
    }

    pub fn put_invalid(
        &mut self,
        key: &str,
        text: &str,
        error: ConfigError,
        now: UnixSeconds,
        until: UnixSeconds,
    ) {
        self.make_room(now);
        self.slots.insert(
            key.to_string(),
            Slot {
                entry: Entry::Invalid(error),
                digest: Some(digest(text)),
                until,
            },
        );
    }

    pub fn put_absent(&mut self, key: &str, now: UnixSeconds, until: UnixSeconds) {
        self.make_room(now);
        self.slots.insert(
            key.to_string(),
            Slot {
                entry: Entry::Absent,
                digest: None,
                until,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A flood of unknown keys cannot flush the tenant settings or live org configs.
    #[test]
    fn negative_flood_keeps_settings_and_live_entries() {
        let mut c = ConfigCache::default();
        let at = UnixSeconds::new;
        c.put_invalid(
            "settings",
            "{}",
            ConfigError::new("$", "x"),
            at(0),
            at(1000),
        );
        c.put_invalid(
            "org:live",
            "{}",
            ConfigError::new("$", "x"),
            at(0),
            at(1000),
        );
        for i in 0..(MAX_ENTRIES + 10) {
            c.put_absent(&format!("name:n{i}"), at(10), at(20));
        }
        assert!(c.get("settings", at(10)).is_some(), "settings survived");
        assert!(
            c.get("org:live", at(10)).is_some(),
            "a live entry survived the negative flood"
        );
        assert!(c.slots.len() <= MAX_ENTRIES);
    }
}
