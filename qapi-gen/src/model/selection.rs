//! Allowlists: the part of a schema that bindings for a few commands and
//! events need.
//!
//! A [`Selection`] keeps the commands and events whose names match the
//! allowlist's patterns (exact names or globs such as `query-*`) and
//! everything they reach: argument, return and event data types, bases,
//! union branches and discriminators, alternatives, array elements and
//! member types, transitively. Generation then emits only what is kept,
//! exactly as the full bindings would emit it.

use std::collections::HashSet;
use std::fmt;

pub use crate::frontend::error::{Unmatched, UnmatchedPattern};
use crate::model::{EntityId, EntityKind, Schema};

/// Which of a schema's definitions bindings keep: all of them, or those an
/// allowlist reaches.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// `None`: everything.
    kept: Option<HashSet<EntityId>>,
}

impl Selection {
    /// Everything the schema defines.
    pub fn all() -> Self {
        Self::default()
    }

    /// The commands and events matching `patterns` (exact names or glob
    /// patterns: `*`, `?`, `[...]`), and every type they reach.
    ///
    /// Every pattern must match at least one command or event; the
    /// patterns that match nothing are the error, each with the schema's
    /// nearest names.
    pub fn only<S: AsRef<str>>(schema: &Schema, patterns: &[S]) -> Result<Self, Unmatched> {
        let mut unmatched = Vec::new();
        let mut roots = Vec::new();
        let names: Vec<(EntityId, &str)> = schema
            .ids()
            .filter(|&id| {
                matches!(
                    schema.entity(id).kind,
                    EntityKind::Command(_) | EntityKind::Event(_)
                )
            })
            .map(|id| (id, schema.entity(id).name.as_str()))
            .collect();
        for pattern in patterns {
            let pattern = pattern.as_ref();
            let matcher = glob::Pattern::new(pattern).ok();
            let before = roots.len();
            for &(id, name) in &names {
                let hit = match &matcher {
                    Some(matcher) => matcher.matches(name),
                    None => name == pattern,
                };
                if hit {
                    roots.push(id);
                }
            }
            if roots.len() == before {
                unmatched.push(UnmatchedPattern {
                    pattern: pattern.to_string(),
                    nearest: nearest(pattern, names.iter().map(|&(_, name)| name)),
                });
            }
        }
        if !unmatched.is_empty() {
            return Err(Unmatched {
                patterns: unmatched,
            });
        }
        Ok(Self {
            kept: Some(reach(schema, roots)),
        })
    }

    /// Whether everything is kept.
    pub fn is_all(&self) -> bool {
        self.kept.is_none()
    }

    /// Whether the definition `id` is kept.
    pub fn contains(&self, id: EntityId) -> bool {
        self.kept.as_ref().is_none_or(|kept| kept.contains(&id))
    }

    /// How many of the schema's explicit commands, events and types are
    /// kept.
    pub fn counts(&self, schema: &Schema) -> SelectionCounts {
        let mut counts = SelectionCounts::default();
        for id in schema.definitions() {
            let kept = self.contains(id);
            let slot = match schema.entity(id).kind {
                EntityKind::Command(_) => &mut counts.commands,
                EntityKind::Event(_) => &mut counts.events,
                _ => &mut counts.types,
            };
            slot.total += 1;
            slot.kept += usize::from(kept);
        }
        counts
    }
}

/// Every definition reached from `roots`, the roots included.
fn reach(schema: &Schema, roots: Vec<EntityId>) -> HashSet<EntityId> {
    let mut kept = HashSet::new();
    let mut queue = roots;
    while let Some(id) = queue.pop() {
        if !kept.insert(id) {
            continue;
        }
        match &schema.entity(id).kind {
            EntityKind::Command(command) => {
                queue.extend(command.arg_type);
                queue.extend(command.ret_type);
            }
            EntityKind::Event(event) => queue.extend(event.arg_type),
            EntityKind::Object(object) => {
                queue.extend(object.base);
                queue.extend(object.local_members.iter().map(|member| member.ty));
                if let Some(branches) = &object.branches {
                    queue.push(branches.tag_type);
                    queue.extend(branches.variants.iter().map(|variant| variant.ty));
                }
            }
            EntityKind::Alternate(alternate) => {
                queue.extend(alternate.variants.iter().map(|variant| variant.ty));
            }
            EntityKind::Array(array) => queue.push(array.element),
            EntityKind::Enum(_) | EntityKind::Builtin(_) => {}
        }
    }
    kept
}

/// The names among `candidates` nearest to `pattern`, best first, at most
/// five: those within a third of its length in edits (a transposition is
/// one edit), or else those sharing its first word.
fn nearest<'a>(pattern: &str, candidates: impl Iterator<Item = &'a str> + Clone) -> Vec<String> {
    let limit = (pattern.len() / 3).max(2);
    let mut close: Vec<(usize, &str)> = candidates
        .clone()
        .map(|name| (strsim::osa_distance(pattern, name), name))
        .filter(|&(distance, _)| distance <= limit)
        .collect();
    if close.is_empty() {
        let stem = pattern
            .split(['-', '_', '*', '?', '['])
            .next()
            .unwrap_or("");
        if stem.len() >= 3 {
            close = candidates
                .filter(|name| name.starts_with(stem))
                .map(|name| (strsim::osa_distance(pattern, name), name))
                .collect();
        }
    }
    close.sort_unstable();
    close.dedup_by(|a, b| a.1 == b.1);
    close
        .into_iter()
        .take(5)
        .map(|(_, name)| name.to_string())
        .collect()
}

/// How many of a kind of definition a [`Selection`] keeps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Kept {
    /// Kept.
    pub kept: usize,
    /// In the schema.
    pub total: usize,
}

/// What a [`Selection`] keeps of a schema's explicit definitions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SelectionCounts {
    /// Commands.
    pub commands: Kept,
    /// Events.
    pub events: Kept,
    /// Enums, structs, unions and alternates.
    pub types: Kept,
}

/// `kept 12 of 240 commands, 5 of 56 events, 150 of 698 types (left out:
/// 228 commands, 51 events, 548 types)`.
impl fmt::Display for SelectionCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kinds = [
            (self.commands, "commands"),
            (self.events, "events"),
            (self.types, "types"),
        ];
        let list = |f: &mut fmt::Formatter<'_>, count: fn(Kept) -> String| {
            let parts: Vec<String> = kinds
                .iter()
                .map(|&(kept, what)| format!("{} {what}", count(kept)))
                .collect();
            f.write_str(&parts.join(", "))
        };
        f.write_str("kept ")?;
        list(f, |k| format!("{} of {}", k.kept, k.total))?;
        f.write_str(" (left out: ")?;
        list(f, |k| (k.total - k.kept).to_string())?;
        f.write_str(")")
    }
}
