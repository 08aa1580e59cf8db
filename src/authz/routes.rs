//! Route matching: a rule table compiled once per config version, looked up per request.
//!
//! A rule is a set of methods ([`MethodSet`]), a [`Pattern`] and a value (for orggate, the
//! policy to apply). [`RouteTableBuilder::insert`] rejects ambiguous rules at load time;
//! [`RouteTable::lookup`] takes a [`NormalizedPath`] (never a raw path) and returns the one
//! most specific rule that applies, with its parameters.
//!
//! # Patterns
//!
//! `/`, `/admin/*`, `/api/reports/:id`, `/docs/:section/*`. A pattern starts with `/` and
//! is a list of segments:
//!
//! - a **literal**, normalized exactly like a request path segment (see
//!   [`super::path`]): `/adm%69n` is the literal `admin`, `%c3%a9` is `%C3%A9`. A literal
//!   may not be a dot segment, contain `;`, `*`, or anything the path normalizer refuses;
//! - a **parameter** `:name` (a whole segment; the name is ASCII letters, digits and `_`,
//!   unique within the pattern), which matches exactly one segment;
//! - a trailing **wildcard** `*` (a whole segment, last only), which matches the prefix
//!   itself and anything below it: `/admin/*` matches `/admin`, `/admin/` and
//!   `/admin/x/y`, so `/admin` can never escape a rule written for `/admin/*`.
//!
//! Empty segments (`//`), a trailing `/` (other than the pattern `/`), dot segments and a
//! `*` that is not the whole last segment are errors ([`PatternError`]). A literal segment
//! cannot start with `:` or be exactly `*`.
//!
//! # Which rule wins
//!
//! 1. **Trailing slash.** A single trailing slash on the request path is ignored: `/docs/`
//!    matches like `/docs`. `/` matches only the pattern `/` or a root wildcard `/*`.
//! 2. **Most specific pattern.** Patterns are compared segment by segment from the left:
//!    at each position a literal beats a parameter, which beats a wildcard. Where the path
//!    ends, a pattern that ends there beats a wildcard that matches the empty rest. So
//!    among patterns that agree so far, the longer one wins. A more specific candidate that
//!    fails deeper down falls back to the next candidate: with `/a/b/c` and `/a/*`, the path
//!    `/a/b/x` matches `/a/*`.
//! 3. **Methods.** Method names are matched case-insensitively (ASCII-uppercased; RFC 9110
//!    §9.1 makes them case-sensitive, but an origin might not, so `patch` gets `PATCH`
//!    rules). A candidate pattern applies to a request when it has a rule for the request
//!    method, else (HEAD only) a rule for GET, else a rule for all methods (`*`). The first
//!    candidate in the order of (2) that applies wins: method specificity only breaks ties
//!    between rules with the *same* pattern shape. Unknown methods (`PROPFIND`) use
//!    all-methods rules only.
//! 4. **Conflicts.** Two rules whose patterns have the same shape (parameter names
//!    ignored: `/a/:x` and `/a/:y` have the same shape, `/a/:x` and `/a/b` do not) and that
//!    share a method, or are both all-methods rules, are a [`RouteConflict`] at build time.
//!
//! # Cost
//!
//! Rules form a segment trie (literal children in a `HashMap`, one parameter child, a
//! wildcard slot and an exact slot per node). Lookup is a depth-first walk in the
//! priority order above; each trie node is visited at most once per lookup, and each
//! step is one hash lookup. The cost depends on the path depth and on how many
//! literal/parameter alternatives overlap along it, not on the number of rules.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::str::FromStr;

use super::path::{normalize, NormalizedPath, PathError};

// ---------------------------------------------------------------------------------------
// Patterns
// ---------------------------------------------------------------------------------------

/// One segment of a [`Pattern`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PatternSegment {
    /// A normalized literal segment.
    Literal(String),
    /// `:name`: exactly one segment.
    Param(String),
    /// A trailing `*`: the prefix itself and anything below it.
    Wildcard,
}

/// A parsed route pattern such as `/api/reports/:id` or `/admin/*`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pattern {
    /// Canonical text: literals normalized.
    text: String,
    segments: Vec<PatternSegment>,
}

impl Pattern {
    /// The canonical text (literals normalized, e.g. `/adm%69n/*` is `/admin/*`).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The segments, left to right; the pattern `/` has none.
    pub fn segments(&self) -> &[PatternSegment] {
        &self.segments
    }

    /// Whether the pattern ends with a wildcard.
    pub fn is_wildcard(&self) -> bool {
        matches!(self.segments.last(), Some(PatternSegment::Wildcard))
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Why a pattern was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError {
    /// Byte offset into the pattern text.
    pub position: usize,
    pub kind: PatternErrorKind,
}

/// The reason part of a [`PatternError`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternErrorKind {
    /// The pattern does not start with `/`.
    MissingLeadingSlash,
    /// `//` in the pattern.
    EmptySegment,
    /// A `/` at the end of a pattern other than `/`.
    TrailingSlash,
    /// A `.` or `..` segment, raw or percent-encoded.
    DotSegment,
    /// A `*` segment that is not the last one.
    WildcardNotLast,
    /// A `*` inside a segment (`/admin*`): wildcards are whole segments.
    WildcardInSegment,
    /// `:` with no name.
    EmptyParamName,
    /// A parameter name with a character other than ASCII letters, digits and `_`.
    InvalidParamName { name: String },
    /// The same parameter name twice.
    DuplicateParamName { name: String },
    /// A literal the path normalizer refuses (`;`, `%2F`, bad encoding, ...).
    InvalidLiteral { error: PathError },
}

impl PatternError {
    /// A stable snake_case code for logs and JSON.
    pub fn reason(&self) -> &'static str {
        match &self.kind {
            PatternErrorKind::MissingLeadingSlash => "missing_leading_slash",
            PatternErrorKind::EmptySegment => "empty_segment",
            PatternErrorKind::TrailingSlash => "trailing_slash",
            PatternErrorKind::DotSegment => "dot_segment",
            PatternErrorKind::WildcardNotLast => "wildcard_not_last",
            PatternErrorKind::WildcardInSegment => "wildcard_in_segment",
            PatternErrorKind::EmptyParamName => "empty_param_name",
            PatternErrorKind::InvalidParamName { .. } => "invalid_param_name",
            PatternErrorKind::DuplicateParamName { .. } => "duplicate_param_name",
            PatternErrorKind::InvalidLiteral { .. } => "invalid_literal",
        }
    }
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let position = self.position;
        match &self.kind {
            PatternErrorKind::InvalidParamName { name } => {
                write!(f, "invalid parameter name {name:?} at byte {position}")
            }
            PatternErrorKind::DuplicateParamName { name } => {
                write!(f, "duplicate parameter name {name:?} at byte {position}")
            }
            PatternErrorKind::InvalidLiteral { error } => {
                write!(f, "invalid literal segment at byte {position}: {error}")
            }
            _ => write!(f, "{} at byte {position}", self.reason()),
        }
    }
}

impl std::error::Error for PatternError {}

fn is_param_name(name: &str) -> bool {
    name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

impl FromStr for Pattern {
    type Err = PatternError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = |position: usize, kind: PatternErrorKind| PatternError { position, kind };
        let body = text
            .strip_prefix('/')
            .ok_or(error(0, PatternErrorKind::MissingLeadingSlash))?;
        let mut segments = Vec::new();
        if body.is_empty() {
            return Ok(Pattern {
                text: "/".to_owned(),
                segments,
            });
        }

        let pieces: Vec<&str> = body.split('/').collect();
        let count = pieces.len();
        let mut start = 1;
        for (index, piece) in pieces.into_iter().enumerate() {
            let is_last = index + 1 == count;
            let segment = if piece.is_empty() {
                let kind = if is_last {
                    PatternErrorKind::TrailingSlash
                } else {
                    PatternErrorKind::EmptySegment
                };
                return Err(error(start, kind));
            } else if piece == "*" {
                if !is_last {
                    return Err(error(start, PatternErrorKind::WildcardNotLast));
                }
                PatternSegment::Wildcard
            } else if let Some(star) = piece.find('*') {
                return Err(error(start + star, PatternErrorKind::WildcardInSegment));
            } else if let Some(name) = piece.strip_prefix(':') {
                if name.is_empty() {
                    return Err(error(start, PatternErrorKind::EmptyParamName));
                }
                let name = name.to_owned();
                if !is_param_name(&name) {
                    return Err(error(start, PatternErrorKind::InvalidParamName { name }));
                }
                let duplicate = segments
                    .iter()
                    .any(|s| matches!(s, PatternSegment::Param(n) if *n == name));
                if duplicate {
                    return Err(error(start, PatternErrorKind::DuplicateParamName { name }));
                }
                PatternSegment::Param(name)
            } else {
                PatternSegment::Literal(normalize_literal(piece, start)?)
            };
            segments.push(segment);
            start += piece.len() + 1;
        }

        let mut text = String::new();
        for segment in &segments {
            text.push('/');
            match segment {
                PatternSegment::Literal(literal) => text.push_str(literal),
                PatternSegment::Param(name) => {
                    text.push(':');
                    text.push_str(name);
                }
                PatternSegment::Wildcard => text.push('*'),
            }
        }
        Ok(Pattern { text, segments })
    }
}

/// Normalizes one literal segment (`raw` starts at byte `start` of the pattern) with the
/// request-path rules, so that it compares equal to a normalized request segment.
fn normalize_literal(raw: &str, start: usize) -> Result<String, PatternError> {
    let dot_segment = PatternError {
        position: start,
        kind: PatternErrorKind::DotSegment,
    };
    match normalize(&format!("/{raw}")) {
        Ok(path) => {
            let mut segments = path.segments();
            match (segments.next(), segments.next()) {
                // Exactly one segment and no trailing slash: a plain literal.
                (Some(literal), None) if !path.has_trailing_slash() => Ok(literal.to_owned()),
                // RFC 3986 §5.2.4: "." (or "%2e") was removed, leaving "/".
                _ => Err(dot_segment),
            }
        }
        // RFC 3986 §5.2.4: ".." with nothing to remove.
        Err(PathError::DotSegmentAboveRoot { .. }) => Err(dot_segment),
        Err(error) => Err(PatternError {
            // The offset is into "/{raw}"; shift it back into the pattern.
            position: start + error.offset().unwrap_or(1).saturating_sub(1),
            kind: PatternErrorKind::InvalidLiteral { error },
        }),
    }
}

// ---------------------------------------------------------------------------------------
// Methods
// ---------------------------------------------------------------------------------------

/// An HTTP request method, ASCII-uppercased.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    Get,
    Head,
    Post,
    Put,
    Patch,
    Delete,
    Options,
    /// Any other method, uppercased (`PROPFIND`, `TRACE`, ...).
    Other(String),
}

impl Method {
    /// The method of a request. Never fails: anything unrecognized is `Other`, which only
    /// all-methods rules match. Known names are matched case-insensitively.
    pub fn from_request(raw: &str) -> Method {
        let upper = raw.to_ascii_uppercase();
        match upper.as_str() {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            "OPTIONS" => Method::Options,
            _ => Method::Other(upper),
        }
    }

    /// The uppercase method name.
    pub fn as_str(&self) -> &str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Options => "OPTIONS",
            Method::Other(name) => name,
        }
    }

    /// `Other("get")` and `Other("GET")` become `Get`, so a hand-built value cannot
    /// slip past the known variants.
    fn canonical(&self) -> Method {
        match self {
            Method::Other(name) => Method::from_request(name),
            known => known.clone(),
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a method name in a rule was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MethodError {
    /// An empty name.
    Empty,
    /// A character outside RFC 9110 §5.6.2 `tchar`.
    InvalidCharacter { position: usize, ch: char },
    /// `*` where a single method was expected (use [`MethodSet::all`]).
    Wildcard,
    /// `*` listed together with other methods.
    WildcardWithOthers,
    /// An empty method list.
    EmptySet,
}

impl MethodError {
    /// A stable snake_case code for logs and JSON.
    pub fn reason(&self) -> &'static str {
        match self {
            MethodError::Empty => "empty_method",
            MethodError::InvalidCharacter { .. } => "invalid_method_character",
            MethodError::Wildcard => "method_wildcard",
            MethodError::WildcardWithOthers => "method_wildcard_with_others",
            MethodError::EmptySet => "empty_method_set",
        }
    }
}

impl fmt::Display for MethodError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MethodError::InvalidCharacter { position, ch } => {
                write!(f, "invalid character {ch:?} in method at byte {position}")
            }
            _ => f.write_str(self.reason()),
        }
    }
}

impl std::error::Error for MethodError {}

/// RFC 9110 §5.6.2: tchar.
fn is_tchar(ch: char) -> bool {
    ch.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(ch)
}

impl FromStr for Method {
    type Err = MethodError;

    /// Parses a method name from configuration (case-insensitive, RFC 9110 §9.1 token).
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        if raw.is_empty() {
            return Err(MethodError::Empty);
        }
        if raw == "*" {
            return Err(MethodError::Wildcard);
        }
        if let Some((position, ch)) = raw.char_indices().find(|(_, ch)| !is_tchar(*ch)) {
            return Err(MethodError::InvalidCharacter { position, ch });
        }
        Ok(Method::from_request(raw))
    }
}

/// The methods a rule applies to: all of them (`*`), or a non-empty set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodSet(MethodSetInner);

#[derive(Debug, Clone, PartialEq, Eq)]
enum MethodSetInner {
    All,
    /// Never empty.
    Only(BTreeSet<Method>),
}

impl MethodSet {
    /// Every method, including unknown ones (`*` in configuration).
    pub fn all() -> Self {
        MethodSet(MethodSetInner::All)
    }

    /// The given methods; an empty list is an error.
    pub fn only<I: IntoIterator<Item = Method>>(methods: I) -> Result<Self, MethodError> {
        let set: BTreeSet<Method> = methods.into_iter().map(|m| m.canonical()).collect();
        if set.is_empty() {
            return Err(MethodError::EmptySet);
        }
        Ok(MethodSet(MethodSetInner::Only(set)))
    }

    /// Parses configuration names: `["*"]` is all methods, otherwise each name is a
    /// [`Method`]. `*` mixed with other names is an error.
    pub fn from_names<S: AsRef<str>>(names: &[S]) -> Result<Self, MethodError> {
        let has_wildcard = names.iter().any(|name| name.as_ref() == "*");
        if has_wildcard {
            return if names.len() == 1 {
                Ok(MethodSet::all())
            } else {
                Err(MethodError::WildcardWithOthers)
            };
        }
        let methods = names
            .iter()
            .map(|name| name.as_ref().parse::<Method>())
            .collect::<Result<Vec<_>, _>>()?;
        MethodSet::only(methods)
    }

    /// Whether this is the all-methods set.
    pub fn is_all(&self) -> bool {
        matches!(self.0, MethodSetInner::All)
    }

    /// Whether a request with `method` is covered (ignoring the HEAD-to-GET fallback).
    pub fn contains(&self, method: &Method) -> bool {
        match &self.0 {
            MethodSetInner::All => true,
            MethodSetInner::Only(set) => set.contains(&method.canonical()),
        }
    }
}

impl FromStr for MethodSet {
    type Err = MethodError;

    /// `*`, or a comma-separated list such as `GET,HEAD` (spaces around names allowed).
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let names: Vec<&str> = raw.split(',').map(str::trim).collect();
        MethodSet::from_names(&names)
    }
}

// ---------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------

/// Two rules with the same pattern shape and an overlapping method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteConflict {
    /// The pattern of the rule being inserted.
    pub pattern: String,
    /// Insertion index of the rule being inserted.
    pub rule_index: usize,
    /// The pattern of the rule already in the table.
    pub existing_pattern: String,
    /// Insertion index of the rule already in the table.
    pub existing_rule_index: usize,
    /// The shared method; `None` when both rules are all-methods rules.
    pub method: Option<Method>,
}

impl fmt::Display for RouteConflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let method = self.method.as_ref().map_or("*", Method::as_str);
        write!(
            f,
            "rule {} ({} {}) has the same shape as rule {} ({} {})",
            self.rule_index,
            method,
            self.pattern,
            self.existing_rule_index,
            method,
            self.existing_pattern
        )
    }
}

impl std::error::Error for RouteConflict {}

/// How the winning rule's methods covered the request method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MethodMatch {
    /// The rule lists the request method.
    Listed,
    /// A HEAD request matched a rule that lists GET (and no HEAD rule has this pattern).
    HeadViaGet,
    /// The rule applies to all methods.
    AllMethods,
}

/// The result of a successful [`RouteTable::lookup`].
#[derive(Debug, PartialEq, Eq)]
pub struct Match<'a, T> {
    pub value: &'a T,
    pub pattern: &'a Pattern,
    /// `(name, normalized segment)` for each `:name`, left to right.
    pub params: Vec<(&'a str, &'a str)>,
    /// Insertion index of the rule, for `explain` output and logs.
    pub rule_index: usize,
    pub method_match: MethodMatch,
}

struct Rule<T> {
    pattern: Pattern,
    value: T,
}

/// Rules ending at one trie position: per-method rule indices and an all-methods one.
#[derive(Default)]
struct Slot {
    by_method: BTreeMap<Method, usize>,
    all: Option<usize>,
}

impl Slot {
    /// Listed method, then (HEAD only) GET, then all methods.
    fn select(&self, method: &Method) -> Option<(usize, MethodMatch)> {
        if let Some(&rule) = self.by_method.get(method) {
            return Some((rule, MethodMatch::Listed));
        }
        let head_via_get = match method {
            Method::Head => self.by_method.get(&Method::Get),
            _ => None,
        };
        if let Some(&rule) = head_via_get {
            return Some((rule, MethodMatch::HeadViaGet));
        }
        self.all.map(|rule| (rule, MethodMatch::AllMethods))
    }

    fn is_empty(&self) -> bool {
        self.by_method.is_empty() && self.all.is_none()
    }

    /// Any rule of this slot, for naming a pattern that exists but does not cover a method.
    fn any_rule(&self) -> Option<usize> {
        self.all.or_else(|| self.by_method.values().next().copied())
    }
}

/// The result of [`RouteTable::lookup_strict`].
#[derive(Debug, PartialEq, Eq)]
pub enum RouteLookup<'a, T> {
    Matched(Match<'a, T>),
    /// The most specific pattern matching the path has rules, but none for this method.
    MethodNotCovered {
        pattern: &'a Pattern,
        value: &'a T,
    },
    NoMatch,
}

#[derive(Default)]
struct Node {
    literals: HashMap<String, usize>,
    param: Option<usize>,
    /// Rules whose pattern ends at this node.
    exact: Slot,
    /// Rules whose pattern is this node's prefix followed by `*`.
    wildcard: Slot,
}

/// Collects rules; [`RouteTableBuilder::build`] freezes them into a [`RouteTable`].
pub struct RouteTableBuilder<T> {
    /// Trie nodes; index 0 is the root.
    nodes: Vec<Node>,
    rules: Vec<Rule<T>>,
}

impl<T> Default for RouteTableBuilder<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> RouteTableBuilder<T> {
    pub fn new() -> Self {
        RouteTableBuilder {
            nodes: vec![Node::default()],
            rules: Vec::new(),
        }
    }

    /// Adds a rule. Fails, leaving the builder unchanged, when a rule with the same
    /// pattern shape already covers one of `methods` (see the module docs).
    pub fn insert(
        &mut self,
        methods: MethodSet,
        pattern: Pattern,
        value: T,
    ) -> Result<(), RouteConflict> {
        let rule_index = self.rules.len();
        let node = self.node_for(&pattern);
        let slot = self.slot(node, pattern.is_wildcard());

        // Check every method before changing anything.
        let conflict = match (&methods.0, slot) {
            (_, None) => None,
            (MethodSetInner::All, Some(slot)) => slot.all.map(|existing| (existing, None)),
            (MethodSetInner::Only(set), Some(slot)) => set.iter().find_map(|method| {
                slot.by_method
                    .get(method)
                    .map(|&existing| (existing, Some(method.clone())))
            }),
        };
        if let Some((existing, method)) = conflict {
            let existing_pattern = self
                .rules
                .get(existing)
                .map(|rule| rule.pattern.as_str().to_owned())
                .unwrap_or_default();
            return Err(RouteConflict {
                pattern: pattern.as_str().to_owned(),
                rule_index,
                existing_pattern,
                existing_rule_index: existing,
                method,
            });
        }

        let node = self.create_node_for(&pattern);
        let is_wildcard = pattern.is_wildcard();
        self.rules.push(Rule { pattern, value });
        if let Some(node) = self.nodes.get_mut(node) {
            let slot = if is_wildcard {
                &mut node.wildcard
            } else {
                &mut node.exact
            };
            match methods.0 {
                MethodSetInner::All => slot.all = Some(rule_index),
                MethodSetInner::Only(set) => {
                    for method in set {
                        slot.by_method.insert(method, rule_index);
                    }
                }
            }
        }
        Ok(())
    }

    /// Number of rules inserted so far; the next rule gets this index.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn build(self) -> RouteTable<T> {
        RouteTable {
            nodes: self.nodes,
            rules: self.rules,
        }
    }

    /// The existing node for the pattern's non-wildcard segments, if any.
    fn node_for(&self, pattern: &Pattern) -> Option<usize> {
        let mut node = 0;
        for segment in pattern.segments() {
            let current = self.nodes.get(node)?;
            node = match segment {
                PatternSegment::Literal(literal) => *current.literals.get(literal)?,
                PatternSegment::Param(_) => current.param?,
                PatternSegment::Wildcard => break,
            };
        }
        Some(node)
    }

    fn slot(&self, node: Option<usize>, wildcard: bool) -> Option<&Slot> {
        let node = self.nodes.get(node?)?;
        Some(if wildcard {
            &node.wildcard
        } else {
            &node.exact
        })
    }

    /// The node for the pattern's non-wildcard segments, created as needed.
    fn create_node_for(&mut self, pattern: &Pattern) -> usize {
        let mut node = 0;
        for segment in pattern.segments() {
            let next_free = self.nodes.len();
            let Some(current) = self.nodes.get_mut(node) else {
                break;
            };
            let (child, created) = match segment {
                PatternSegment::Literal(literal) => match current.literals.get(literal) {
                    Some(&child) => (child, false),
                    None => {
                        current.literals.insert(literal.clone(), next_free);
                        (next_free, true)
                    }
                },
                PatternSegment::Param(_) => match current.param {
                    Some(child) => (child, false),
                    None => {
                        current.param = Some(next_free);
                        (next_free, true)
                    }
                },
                PatternSegment::Wildcard => break,
            };
            if created {
                self.nodes.push(Node::default());
            }
            node = child;
        }
        node
    }
}

/// A compiled rule table; see the module docs for the matching contract.
pub struct RouteTable<T> {
    nodes: Vec<Node>,
    rules: Vec<Rule<T>>,
}

/// A pending step of the depth-first lookup.
enum Step {
    /// Match the path from segment `depth` on, at trie node `node`.
    Visit { node: usize, depth: usize },
    /// Try the wildcard slot of `node` for the (non-empty) rest of the path.
    Wildcard { node: usize },
}

impl<T> RouteTable<T> {
    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The most specific rule for `method` and `path`, or `None` if no rule applies.
    pub fn lookup<'a>(&'a self, method: &str, path: &'a NormalizedPath) -> Option<Match<'a, T>> {
        let method = Method::from_request(method);
        let segments: Vec<&'a str> = path.segments().collect();
        // Only a slot with a rule for this method ends the search.
        self.walk(&segments, |slot| {
            slot.select(&method)
                .and_then(|(rule, method_match)| self.make_match(rule, method_match, &segments))
        })
    }

    /// Like [`RouteTable::lookup`], but the most specific pattern matching the *path* decides:
    /// if its rules do not cover the method, the answer is [`RouteLookup::MethodNotCovered`]
    /// instead of falling back to a broader pattern. Rules that list methods thus say which
    /// methods exist on that path: `GET /api/reports/*` must not let `PATCH /api/reports/1`
    /// through a weaker `/api/*` rule.
    pub fn lookup_strict<'a>(
        &'a self,
        method: &str,
        path: &'a NormalizedPath,
    ) -> RouteLookup<'a, T> {
        let method = Method::from_request(method);
        let segments: Vec<&'a str> = path.segments().collect();
        // Any slot with rules ends the search, whether or not it covers the method.
        let found = self.walk(&segments, |slot| {
            if slot.is_empty() {
                return None;
            }
            Some(match slot.select(&method) {
                Some((rule, method_match)) => {
                    match self.make_match(rule, method_match, &segments) {
                        Some(m) => RouteLookup::Matched(m),
                        None => RouteLookup::NoMatch,
                    }
                }
                None => match slot.any_rule().and_then(|r| self.rules.get(r)) {
                    Some(r) => RouteLookup::MethodNotCovered {
                        pattern: &r.pattern,
                        value: &r.value,
                    },
                    None => RouteLookup::NoMatch,
                },
            })
        });
        found.unwrap_or(RouteLookup::NoMatch)
    }

    /// The trie walk both lookups share: depth-first, highest priority on top of the stack
    /// (literal child, then param child, then this node's wildcard). Each node is reached by one
    /// trie path only, so it is visited at most once. `decide` is asked about each slot in
    /// priority order; the first `Some` is the answer. Where the path ends, a pattern ending
    /// there is asked before a wildcard matching the empty rest (`/admin/*` matches `/admin`).
    fn walk<R>(&self, segments: &[&str], mut decide: impl FnMut(&Slot) -> Option<R>) -> Option<R> {
        let mut stack = vec![Step::Visit { node: 0, depth: 0 }];
        while let Some(step) = stack.pop() {
            match step {
                Step::Visit { node, depth } => {
                    let Some(current) = self.nodes.get(node) else {
                        continue;
                    };
                    let Some(segment) = segments.get(depth) else {
                        if let Some(found) =
                            decide(&current.exact).or_else(|| decide(&current.wildcard))
                        {
                            return Some(found);
                        }
                        continue;
                    };
                    stack.push(Step::Wildcard { node });
                    if let Some(child) = current.param {
                        stack.push(Step::Visit {
                            node: child,
                            depth: depth + 1,
                        });
                    }
                    if let Some(&child) = current.literals.get(*segment) {
                        stack.push(Step::Visit {
                            node: child,
                            depth: depth + 1,
                        });
                    }
                }
                Step::Wildcard { node } => {
                    if let Some(found) = self
                        .nodes
                        .get(node)
                        .and_then(|current| decide(&current.wildcard))
                    {
                        return Some(found);
                    }
                }
            }
        }
        None
    }

    fn make_match<'a>(
        &'a self,
        rule_index: usize,
        method_match: MethodMatch,
        segments: &[&'a str],
    ) -> Option<Match<'a, T>> {
        let rule = self.rules.get(rule_index)?;
        let params = rule
            .pattern
            .segments()
            .iter()
            .zip(segments)
            .filter_map(|(pattern_segment, &value)| match pattern_segment {
                PatternSegment::Param(name) => Some((name.as_str(), value)),
                _ => None,
            })
            .collect();
        Some(Match {
            value: &rule.value,
            pattern: &rule.pattern,
            params,
            rule_index,
            method_match,
        })
    }
}

impl<T> fmt::Debug for RouteTable<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RouteTable({} rules)", self.len())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn pattern(text: &str) -> Pattern {
        text.parse().unwrap()
    }

    fn methods(names: &str) -> MethodSet {
        names.parse().unwrap()
    }

    /// Builds a table from `(methods, pattern)` rules; each value is `"{methods} {pattern}"`.
    fn table(rules: &[(&str, &str)]) -> RouteTable<String> {
        let mut builder = RouteTableBuilder::new();
        for (m, p) in rules {
            builder
                .insert(methods(m), pattern(p), format!("{m} {p}"))
                .unwrap();
        }
        builder.build()
    }

    /// The value of the winning rule for a raw request path, or `None`.
    fn winner(table: &RouteTable<String>, method: &str, raw_path: &str) -> Option<String> {
        let path = normalize(raw_path).unwrap();
        table.lookup(method, &path).map(|m| m.value.clone())
    }

    fn w(value: &str) -> Option<String> {
        Some(value.to_owned())
    }

    // --- patterns -----------------------------------------------------------------------

    #[test]
    fn pattern_parses_and_normalizes_literals() {
        assert_eq!(pattern("/").as_str(), "/");
        assert_eq!(pattern("/admin/*").as_str(), "/admin/*");
        assert_eq!(pattern("/*").as_str(), "/*");
        assert_eq!(pattern("/adm%69n/*").as_str(), "/admin/*");
        assert_eq!(pattern("/caf%c3%a9/:id").as_str(), "/caf%C3%A9/:id");
        assert_eq!(
            pattern("/docs/:section/*").segments(),
            [
                PatternSegment::Literal("docs".into()),
                PatternSegment::Param("section".into()),
                PatternSegment::Wildcard
            ]
        );
    }

    #[test]
    fn pattern_rejections_name_reason_and_position() {
        let cases: &[(&str, &str, usize)] = &[
            ("admin", "missing_leading_slash", 0),
            ("", "missing_leading_slash", 0),
            ("//admin", "empty_segment", 1),
            ("/a//b", "empty_segment", 3),
            ("/docs/", "trailing_slash", 6),
            ("/a/./b", "dot_segment", 3),
            ("/a/../b", "dot_segment", 3),
            ("/a/%2e%2E/b", "dot_segment", 3),
            ("/..", "dot_segment", 1),
            ("/.", "dot_segment", 1),
            ("/a/*/b", "wildcard_not_last", 3),
            ("/admin*", "wildcard_in_segment", 6),
            ("/a/b*c", "wildcard_in_segment", 4),
            ("/a/:", "empty_param_name", 3),
            ("/a/:id-x", "invalid_param_name", 3),
            ("/a/:id/:id", "duplicate_param_name", 7),
            ("/a;x", "invalid_literal", 2),
            ("/a/b%3Bc", "invalid_literal", 4),
            ("/a%2fb", "invalid_literal", 2),
            ("/a b", "invalid_literal", 2),
            ("/a/%zz", "invalid_literal", 3),
        ];
        for (text, reason, position) in cases {
            let error = text.parse::<Pattern>().unwrap_err();
            assert_eq!(
                (error.reason(), error.position),
                (*reason, *position),
                "{text:?}: {error}"
            );
        }
    }

    #[test]
    fn method_parsing() {
        assert_eq!("get".parse::<Method>(), Ok(Method::Get));
        assert_eq!("PATCH".parse::<Method>(), Ok(Method::Patch));
        assert_eq!(
            "propfind".parse::<Method>(),
            Ok(Method::Other("PROPFIND".into()))
        );
        assert_eq!("".parse::<Method>(), Err(MethodError::Empty));
        assert_eq!("*".parse::<Method>(), Err(MethodError::Wildcard));
        assert_eq!(
            "GE T".parse::<Method>(),
            Err(MethodError::InvalidCharacter {
                position: 2,
                ch: ' '
            })
        );
        assert!("*".parse::<MethodSet>().unwrap().is_all());
        assert_eq!(
            "GET,*".parse::<MethodSet>(),
            Err(MethodError::WildcardWithOthers)
        );
        assert_eq!(MethodSet::only(Vec::new()), Err(MethodError::EmptySet));
        let set = "GET, post".parse::<MethodSet>().unwrap();
        assert!(set.contains(&Method::Post));
        assert!(set.contains(&Method::Other("get".into())));
        assert!(!set.contains(&Method::Head));
    }

    // --- precedence ---------------------------------------------------------------------

    #[test]
    fn literal_beats_param_beats_wildcard() {
        let t = table(&[("*", "/a/b"), ("*", "/a/:x"), ("*", "/a/*")]);
        assert_eq!(winner(&t, "GET", "/a/b"), w("* /a/b"));
        assert_eq!(winner(&t, "GET", "/a/c"), w("* /a/:x"));
        assert_eq!(winner(&t, "GET", "/a/c/d"), w("* /a/*"));
        assert_eq!(winner(&t, "GET", "/a"), w("* /a/*"));
    }

    #[test]
    fn leftmost_difference_decides() {
        // Position 1 decides (literal `b` beats `:x`), even though `/a/:x/c` has a
        // literal where `/a/b/*` has a wildcard.
        let t = table(&[("*", "/a/b/*"), ("*", "/a/:x/c")]);
        assert_eq!(winner(&t, "GET", "/a/b/c"), w("* /a/b/*"));
        assert_eq!(winner(&t, "GET", "/a/z/c"), w("* /a/:x/c"));
        assert_eq!(winner(&t, "GET", "/a/z/d"), None);
    }

    #[test]
    fn longer_wildcard_beats_shorter() {
        let t = table(&[("*", "/*"), ("*", "/a/*"), ("*", "/a/b/*")]);
        assert_eq!(winner(&t, "GET", "/a/b/c"), w("* /a/b/*"));
        assert_eq!(winner(&t, "GET", "/a/b"), w("* /a/b/*"));
        assert_eq!(winner(&t, "GET", "/a/c"), w("* /a/*"));
        assert_eq!(winner(&t, "GET", "/z"), w("* /*"));
        assert_eq!(winner(&t, "GET", "/"), w("* /*"));
    }

    #[test]
    fn exact_end_beats_wildcard_on_same_prefix() {
        let t = table(&[("*", "/a"), ("*", "/a/*")]);
        assert_eq!(winner(&t, "GET", "/a"), w("* /a"));
        assert_eq!(winner(&t, "GET", "/a/"), w("* /a"));
        assert_eq!(winner(&t, "GET", "/a/x"), w("* /a/*"));
    }

    #[test]
    fn deeper_literal_that_fails_falls_back_to_wildcard() {
        let t = table(&[("*", "/a/b/c"), ("*", "/a/*")]);
        assert_eq!(winner(&t, "GET", "/a/b/x"), w("* /a/*"));
        assert_eq!(winner(&t, "GET", "/a/b/c"), w("* /a/b/c"));
        assert_eq!(winner(&t, "GET", "/a/b/c/d"), w("* /a/*"));
        assert_eq!(winner(&t, "GET", "/a/b"), w("* /a/*"));
    }

    #[test]
    fn failed_literal_falls_back_to_param_branch() {
        let t = table(&[("*", "/a/b/c"), ("*", "/a/:x/d")]);
        assert_eq!(winner(&t, "GET", "/a/b/d"), w("* /a/:x/d"));
        assert_eq!(winner(&t, "GET", "/a/b/c"), w("* /a/b/c"));
        assert_eq!(winner(&t, "GET", "/a/b/e"), None);
    }

    #[test]
    fn root_matches_only_root_or_root_wildcard() {
        let t = table(&[("*", "/"), ("*", "/:x")]);
        assert_eq!(winner(&t, "GET", "/"), w("* /"));
        assert_eq!(winner(&t, "GET", ""), w("* /"));
        assert_eq!(winner(&t, "GET", "/x"), w("* /:x"));
        assert_eq!(winner(&t, "GET", "/x/y"), None);

        let only_param = table(&[("*", "/:x")]);
        assert_eq!(winner(&only_param, "GET", "/"), None);
    }

    #[test]
    fn wildcard_covers_its_own_prefix() {
        let t = table(&[("*", "/public/*"), ("*", "/admin/*")]);
        for path in ["/admin", "/admin/", "/admin/x", "/admin/x/y/", "//admin"] {
            assert_eq!(winner(&t, "GET", path), w("* /admin/*"), "{path}");
        }
        assert_eq!(winner(&t, "GET", "/administrator"), None);
        assert_eq!(winner(&t, "GET", "/"), None);
    }

    #[test]
    fn trailing_slash_is_ignored() {
        let t = table(&[("*", "/docs"), ("*", "/api/:id")]);
        assert_eq!(winner(&t, "GET", "/docs/"), w("* /docs"));
        assert_eq!(winner(&t, "GET", "/docs"), w("* /docs"));
        assert_eq!(winner(&t, "GET", "/api/7/"), w("* /api/:id"));
    }

    #[test]
    fn params_are_normalized_segments() {
        let t = table(&[("*", "/docs/:section/*"), ("GET", "/api/:org/reports/:id")]);
        let path = normalize("/api/%61cme/reports/caf%c3%a9").unwrap();
        let found = t.lookup("GET", &path).unwrap();
        assert_eq!(found.pattern.as_str(), "/api/:org/reports/:id");
        assert_eq!(found.params, [("org", "acme"), ("id", "caf%C3%A9")]);
        assert_eq!(found.rule_index, 1);

        let path = normalize("/docs/intro/a/b").unwrap();
        let found = t.lookup("GET", &path).unwrap();
        assert_eq!(found.params, [("section", "intro")]);
    }

    #[test]
    fn pattern_literal_matches_normalized_request() {
        let t = table(&[("*", "/adm%69n/*"), ("*", "/caf%c3%a9")]);
        assert_eq!(winner(&t, "GET", "/%61dmin/x"), w("* /adm%69n/*"));
        assert_eq!(winner(&t, "GET", "/caf%C3%A9"), w("* /caf%c3%a9"));
    }

    // --- methods ------------------------------------------------------------------------

    #[test]
    fn method_specific_beats_all_methods_on_same_pattern() {
        let t = table(&[("*", "/reports"), ("GET,POST", "/reports")]);
        assert_eq!(winner(&t, "GET", "/reports"), w("GET,POST /reports"));
        assert_eq!(winner(&t, "post", "/reports"), w("GET,POST /reports"));
        assert_eq!(winner(&t, "DELETE", "/reports"), w("* /reports"));
    }

    #[test]
    fn more_specific_pattern_beats_method_specificity() {
        let t = table(&[("GET", "/admin/*"), ("*", "/admin/users")]);
        assert_eq!(winner(&t, "GET", "/admin/users"), w("* /admin/users"));
        assert_eq!(winner(&t, "GET", "/admin/x"), w("GET /admin/*"));
        assert_eq!(winner(&t, "POST", "/admin/x"), None);
    }

    #[test]
    fn method_mismatch_falls_back_to_less_specific_pattern() {
        let t = table(&[("POST", "/api/items/:id"), ("*", "/api/*")]);
        assert_eq!(winner(&t, "POST", "/api/items/1"), w("POST /api/items/:id"));
        assert_eq!(winner(&t, "GET", "/api/items/1"), w("* /api/*"));
    }

    #[test]
    fn head_falls_back_to_get_rule() {
        let t = table(&[("GET", "/page"), ("*", "/page")]);
        let path = normalize("/page").unwrap();
        let found = t.lookup("HEAD", &path).unwrap();
        assert_eq!(found.value, "GET /page");
        assert_eq!(found.method_match, MethodMatch::HeadViaGet);

        let with_head = table(&[("GET", "/page"), ("HEAD", "/page")]);
        assert_eq!(winner(&with_head, "HEAD", "/page"), w("HEAD /page"));

        // GET rules do not serve HEAD for other methods, nor the other way round.
        let head_only = table(&[("HEAD", "/page")]);
        assert_eq!(winner(&head_only, "GET", "/page"), None);
        let get_only = table(&[("GET", "/page")]);
        assert_eq!(winner(&get_only, "POST", "/page"), None);
    }

    #[test]
    fn head_fallback_does_not_beat_more_specific_pattern() {
        let t = table(&[("GET", "/a/*"), ("*", "/a/b")]);
        assert_eq!(winner(&t, "HEAD", "/a/b"), w("* /a/b"));
        assert_eq!(winner(&t, "HEAD", "/a/c"), w("GET /a/*"));
    }

    #[test]
    fn unknown_and_lowercase_methods() {
        let t = table(&[("GET", "/x"), ("PATCH", "/y"), ("*", "/z")]);
        assert_eq!(winner(&t, "PROPFIND", "/x"), None);
        assert_eq!(winner(&t, "PROPFIND", "/z"), w("* /z"));
        assert_eq!(winner(&t, "", "/z"), w("* /z"));
        assert_eq!(winner(&t, "BAD METHOD", "/z"), w("* /z"));
        assert_eq!(winner(&t, "patch", "/y"), w("PATCH /y"));
        assert_eq!(winner(&t, "get", "/x"), w("GET /x"));

        let custom = table(&[("PROPFIND", "/dav/*")]);
        assert_eq!(winner(&custom, "propfind", "/dav/a"), w("PROPFIND /dav/*"));
        assert_eq!(winner(&custom, "GET", "/dav/a"), None);
    }

    #[test]
    fn method_match_is_reported() {
        let t = table(&[("GET", "/a"), ("*", "/b")]);
        let a = normalize("/a").unwrap();
        let b = normalize("/b").unwrap();
        assert_eq!(
            t.lookup("GET", &a).unwrap().method_match,
            MethodMatch::Listed
        );
        assert_eq!(
            t.lookup("GET", &b).unwrap().method_match,
            MethodMatch::AllMethods
        );
    }

    // --- conflicts ----------------------------------------------------------------------

    fn conflict(first: (&str, &str), second: (&str, &str)) -> Result<(), RouteConflict> {
        let mut builder = RouteTableBuilder::new();
        builder
            .insert(methods(first.0), pattern(first.1), 0)
            .unwrap();
        builder.insert(methods(second.0), pattern(second.1), 1)
    }

    #[test]
    fn same_shape_same_method_conflicts() {
        let error = conflict(("GET", "/a/:x"), ("GET,POST", "/a/:y")).unwrap_err();
        assert_eq!(
            error,
            RouteConflict {
                pattern: "/a/:y".into(),
                rule_index: 1,
                existing_pattern: "/a/:x".into(),
                existing_rule_index: 0,
                method: Some(Method::Get),
            }
        );
        let error = conflict(("*", "/a/*"), ("*", "/a/*")).unwrap_err();
        assert_eq!(error.method, None);
        assert!(conflict(("*", "/"), ("*", "/")).is_err());
        assert!(conflict(("GET", "/a"), ("get", "/%61")).is_err());
    }

    #[test]
    fn different_shapes_or_methods_do_not_conflict() {
        assert!(conflict(("*", "/a/:x"), ("*", "/a/b")).is_ok());
        assert!(conflict(("*", "/a"), ("*", "/a/*")).is_ok());
        assert!(conflict(("*", "/a/:x"), ("*", "/a/*")).is_ok());
        assert!(conflict(("GET", "/a/:x"), ("POST", "/a/:y")).is_ok());
        assert!(conflict(("GET", "/a"), ("*", "/a")).is_ok());
        assert!(conflict(("*", "/a"), ("GET", "/a")).is_ok());
        assert!(conflict(("HEAD", "/a"), ("GET", "/a")).is_ok());
    }

    #[test]
    fn failed_insert_leaves_table_unchanged() {
        let mut builder = RouteTableBuilder::new();
        builder
            .insert(methods("GET"), pattern("/a"), "first")
            .unwrap();
        assert!(builder
            .insert(methods("POST,GET"), pattern("/a"), "second")
            .is_err());
        let t = builder.build();
        assert_eq!(t.len(), 1);
        let path = normalize("/a").unwrap();
        assert_eq!(t.lookup("POST", &path), None);
        assert_eq!(*t.lookup("GET", &path).unwrap().value, "first");
    }

    // --- security: normalization and matching together ---------------------------------

    #[test]
    fn traversal_never_reaches_admin_through_public() {
        let t = table(&[("*", "/public/*"), ("*", "/admin/*")]);
        let attacks = [
            "/public/../admin",
            "/public/%2e%2e/admin",
            "/public/%2E%2e/admin",
            "/public/.%2e/admin",
            "/public/./../admin",
            "/public/..%2fadmin",
            "/public/..%5cadmin",
            "/public\\..\\admin",
            "/public/..;/admin",
            "/public%2f../admin",
            "/public/%c0%ae%c0%ae/admin",
            "/public/%252e%252e/admin",
            "/public/%EF%BC%8E%EF%BC%8E/admin",
            "/public/%2e%2e/adm%69n",
            "/public/x/../../admin/",
        ];
        for raw in attacks {
            match normalize(raw) {
                Err(_) => {}
                Ok(path) => {
                    let found = t.lookup("GET", &path).map(|m| m.value.as_str());
                    assert_eq!(found, Some("* /admin/*"), "{raw:?} -> {path}");
                }
            }
        }
    }

    // --- differential: the trie against a brute-force reading of the contract ---------

    /// xorshift64*: a small deterministic generator, no dependencies.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[(self.next() % items.len() as u64) as usize]
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// Specificity of `pattern` for `segments`, per the module docs: position by position,
    /// literal 2 > param 1 > wildcard 0; where the path ends, an exact end (1) beats a
    /// wildcard (0). `None` if the pattern does not match.
    fn specificity(pattern: &Pattern, segments: &[&str]) -> Option<Vec<u8>> {
        let mut rank = Vec::new();
        for (i, segment) in pattern.segments().iter().enumerate() {
            match segment {
                PatternSegment::Wildcard => {
                    rank.push(0);
                    return Some(rank);
                }
                PatternSegment::Literal(literal) => {
                    if segments.get(i)? != literal {
                        return None;
                    }
                    rank.push(2);
                }
                PatternSegment::Param(_) => {
                    segments.get(i)?;
                    rank.push(1);
                }
            }
        }
        (pattern.segments().len() == segments.len()).then(|| {
            rank.push(1);
            rank
        })
    }

    /// Listed 3 > HEAD via GET 2 > all methods 1; `None` if the rule does not apply.
    fn method_rank(set: &MethodSet, method: &Method) -> Option<u8> {
        if set.is_all() {
            Some(1)
        } else if set.contains(method) {
            Some(3)
        } else if *method == Method::Head && set.contains(&Method::Get) {
            Some(2)
        } else {
            None
        }
    }

    #[test]
    fn trie_lookup_agrees_with_brute_force_specificity() {
        let mut rng = Rng(0x0DDB_1A5E_5BAD_5EED);
        let mut matched = 0;
        let mut unmatched = 0;
        for _ in 0..300 {
            let mut builder = RouteTableBuilder::new();
            let mut accepted: Vec<(MethodSet, Pattern)> = Vec::new();
            for _ in 0..rng.below(12) {
                let mut text = String::new();
                for depth in 0..rng.below(4) {
                    match rng.pick(&["a", "b", ":p"]) {
                        ":p" => text.push_str(&format!("/:p{depth}")),
                        literal => text.push_str(&format!("/{literal}")),
                    }
                }
                if text.is_empty() {
                    text.push_str(rng.pick(&["/*", "/"]));
                } else if rng.below(3) == 0 {
                    text.push_str("/*");
                }
                let set = methods(rng.pick(&["*", "GET", "HEAD", "POST", "GET,POST", "PUT"]));
                let parsed = pattern(&text);
                let index = builder.len();
                if builder.insert(set.clone(), parsed.clone(), index).is_ok() {
                    accepted.push((set, parsed));
                }
            }
            let t = builder.build();
            for _ in 0..40 {
                let mut raw = String::new();
                for _ in 0..rng.below(5) {
                    raw.push('/');
                    raw.push_str(rng.pick(&["a", "b", "c"]));
                }
                if raw.is_empty() || rng.below(4) == 0 {
                    raw.push('/');
                }
                let path = normalize(&raw).unwrap();
                let segments: Vec<&str> = path.segments().collect();
                let method_name = rng.pick(&["GET", "HEAD", "POST", "PUT", "DELETE"]);
                let method = Method::from_request(method_name);

                let expected = accepted
                    .iter()
                    .enumerate()
                    .filter_map(|(index, (set, p))| {
                        let rank = specificity(p, &segments)?;
                        Some(((rank, method_rank(set, &method)?), index))
                    })
                    .max()
                    .map(|(_, index)| index);
                let got = t.lookup(method_name, &path).map(|m| m.rule_index);
                assert_eq!(got, expected, "{method_name} {raw} with {accepted:?}");
                if got.is_some() {
                    matched += 1;
                } else {
                    unmatched += 1;
                }
            }
        }
        assert!(
            matched > 1_000 && unmatched > 1_000,
            "{matched} / {unmatched}"
        );
    }

    // --- scale --------------------------------------------------------------------------

    #[test]
    fn ten_thousand_rules_still_resolve_correctly() {
        let mut builder = RouteTableBuilder::new();
        for i in 0..2_000 {
            let rules: [(&str, String); 5] = [
                ("*", format!("/svc{i}/*")),
                ("GET", format!("/svc{i}/items/:id")),
                ("POST", format!("/svc{i}/items/:id")),
                ("*", format!("/svc{i}/items/special")),
                ("*", format!("/svc{i}/:tenant/admin/*")),
            ];
            for (m, p) in rules {
                let value = format!("{m} {p}");
                builder.insert(methods(m), pattern(&p), value).unwrap();
            }
        }
        builder
            .insert(methods("*"), pattern("/*"), "* /*".to_owned())
            .unwrap();
        let t = builder.build();
        assert_eq!(t.len(), 10_001);

        for i in (0..2_000).step_by(37) {
            let check = |method: &str, raw: &str, want: String| {
                assert_eq!(winner(&t, method, raw), Some(want), "{method} {raw}");
            };
            check(
                "GET",
                &format!("/svc{i}/items/42"),
                format!("GET /svc{i}/items/:id"),
            );
            check(
                "POST",
                &format!("/svc{i}/items/42"),
                format!("POST /svc{i}/items/:id"),
            );
            check(
                "DELETE",
                &format!("/svc{i}/items/42"),
                format!("* /svc{i}/*"),
            );
            check(
                "GET",
                &format!("/svc{i}/items/special"),
                format!("* /svc{i}/items/special"),
            );
            check(
                "GET",
                &format!("/svc{i}/acme/admin"),
                format!("* /svc{i}/:tenant/admin/*"),
            );
            check(
                "GET",
                &format!("/svc{i}/items/admin/x"),
                format!("* /svc{i}/:tenant/admin/*"),
            );
            check("GET", &format!("/svc{i}/other"), format!("* /svc{i}/*"));
            check("GET", &format!("/svc{i}"), format!("* /svc{i}/*"));
        }
        assert_eq!(winner(&t, "GET", "/svc2000/items/1"), w("* /*"));
        assert_eq!(winner(&t, "GET", "/"), w("* /*"));

        let path = normalize("/svc1999/items/42").unwrap();
        let found = t.lookup("PUT", &path).unwrap();
        assert_eq!(found.pattern.as_str(), "/svc1999/*");
        assert!(found.params.is_empty());
    }
}
