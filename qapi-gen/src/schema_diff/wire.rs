//! Whether the type at one place of the new schema still works for
//! clients of the old one: member, branch, alternative, argument and
//! return types compared by what they put on the wire, not by name (type
//! names are not part of the wire ABI: a renamed type with the same
//! members is the same type), in the directions the place travels.
//!
//! Sending (input) is compatible when the new type accepts everything
//! the old one did: wider integers, `number` for an integer, `str` for
//! an enum, an alternate holding the old type, optional members added,
//! members made optional. Receiving (output) is compatible when the new
//! type sends nothing old clients can't read: narrower integers, members
//! added, optional members removed, enum values and union branches added
//! (clients keep what they don't know).

use std::collections::{HashMap, HashSet};

use super::Use;
use crate::model::{Builtin, EntityId, EntityKind, Member, Schema};

/// How the type at a place of the new schema compares with the type at
/// the same place of the old one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Compat {
    /// The same values, written the same way.
    Same,
    /// Different, but clients of the old type keep working.
    Compatible,
    /// Clients of the old type break, for this reason.
    Breaking(String),
}

impl Compat {
    /// The worse of two verdicts (the first reason among breaking ones).
    fn and(self, other: Compat) -> Compat {
        match (self, other) {
            (b @ Compat::Breaking(_), _) | (_, b @ Compat::Breaking(_)) => b,
            (Compat::Same, Compat::Same) => Compat::Same,
            _ => Compat::Compatible,
        }
    }

    /// `Breaking(reason)` when `breaks`, else `Compatible`.
    fn breaking_if(breaks: bool, reason: impl FnOnce() -> String) -> Compat {
        if breaks {
            Compat::Breaking(reason())
        } else {
            Compat::Compatible
        }
    }

    /// A breaking reason prefixed with where it was found.
    fn within(self, place: impl FnOnce() -> String) -> Compat {
        match self {
            Compat::Breaking(reason) => Compat::Breaking(format!("{}: {reason}", place())),
            other => other,
        }
    }
}

/// A pair of types at one place (`None`: an empty object, what commands
/// without arguments take and without a return type answer), in a
/// direction.
type Key = (Option<EntityId>, Option<EntityId>, Use);

/// Compares the types of two schemas, remembering what it found.
pub(super) struct Wire<'s> {
    old: &'s Schema,
    new: &'s Schema,
    /// Verdicts that hold.
    known: HashMap<Key, Compat>,
    /// Verdicts of the comparison under way, made assuming that the pairs
    /// in progress are the same (types can reach themselves).
    provisional: HashMap<Key, Compat>,
    in_progress: HashSet<Key>,
}

/// The shape of a type, as far as the wire is concerned.
#[derive(Clone, Copy)]
enum Shape {
    Builtin(Builtin),
    Array(EntityId),
    Enum(EntityId),
    Object(Option<EntityId>),
    Alternate(EntityId),
}

impl<'s> Wire<'s> {
    pub(super) fn new(old: &'s Schema, new: &'s Schema) -> Self {
        Wire {
            old,
            new,
            known: HashMap::new(),
            provisional: HashMap::new(),
            in_progress: HashSet::new(),
        }
    }

    /// How `new` at some place compares with `old` at the same place, for
    /// values travelling in `dir`. Named definitions of one name are the
    /// same here: they are compared as definitions of their own.
    pub(super) fn compare(
        &mut self,
        old: Option<EntityId>,
        new: Option<EntityId>,
        dir: Use,
    ) -> Compat {
        let key = (old, new, dir);
        if let Some(known) = self.known.get(&key) {
            return known.clone();
        }
        if self.in_progress.contains(&key) {
            return Compat::Same;
        }
        if let Some(provisional) = self.provisional.get(&key) {
            return provisional.clone();
        }
        let root = self.in_progress.is_empty();
        self.in_progress.insert(key);
        let verdict = self.judge(old, new, dir);
        self.in_progress.remove(&key);
        if root {
            // What was found assuming the root the same holds if it is;
            // what breaks, breaks whatever was assumed.
            let holds = verdict == Compat::Same;
            for (key, provisional) in self.provisional.drain() {
                if holds || matches!(provisional, Compat::Breaking(_)) {
                    self.known.insert(key, provisional);
                }
            }
            self.known.insert(key, verdict.clone());
        } else {
            self.provisional.insert(key, verdict.clone());
        }
        verdict
    }

    fn shape(schema: &Schema, id: Option<EntityId>) -> Shape {
        let Some(id) = id else {
            return Shape::Object(None);
        };
        match &schema.entity(id).kind {
            EntityKind::Builtin(b) => Shape::Builtin(*b),
            EntityKind::Array(a) => Shape::Array(a.element),
            EntityKind::Enum(_) => Shape::Enum(id),
            EntityKind::Alternate(_) => Shape::Alternate(id),
            EntityKind::Object(_) | EntityKind::Command(_) | EntityKind::Event(_) => {
                Shape::Object(Some(id))
            }
        }
    }

    /// Whether both are the one named definition.
    fn same_definition(&self, old: Option<EntityId>, new: Option<EntityId>) -> bool {
        let (Some(old), Some(new)) = (old, new) else {
            return false;
        };
        let (o, n) = (self.old.entity(old), self.new.entity(new));
        let named =
            |e: &crate::model::Entity| !e.is_implicit() || matches!(e.kind, EntityKind::Enum(_));
        named(o) && named(n) && o.name == n.name
    }

    /// How definition `new` compares with definition `old` of the same
    /// name but another kind (a struct that became a union, …).
    pub(super) fn definitions(&mut self, old: EntityId, new: EntityId, dir: Use) -> Compat {
        self.shapes(Some(old), Some(new), dir)
    }

    fn judge(&mut self, old: Option<EntityId>, new: Option<EntityId>, dir: Use) -> Compat {
        if self.same_definition(old, new) {
            return Compat::Same;
        }
        self.shapes(old, new, dir)
    }

    fn shapes(&mut self, old: Option<EntityId>, new: Option<EntityId>, dir: Use) -> Compat {
        let (o, n) = (Self::shape(self.old, old), Self::shape(self.new, new));
        match (o, n) {
            (Shape::Builtin(a), Shape::Builtin(b)) => builtins(a, b, dir),
            (Shape::Builtin(Builtin::Any), _) => {
                Compat::breaking_if(dir.input, || "clients send values of any type".into())
            }
            (_, Shape::Builtin(Builtin::Any)) => Compat::breaking_if(dir.output, || {
                "clients may receive values of any type".into()
            }),
            (Shape::Builtin(Builtin::Str), Shape::Enum(_)) => {
                Compat::breaking_if(dir.input, || {
                    "clients send strings the enum does not have".into()
                })
            }
            (Shape::Enum(_), Shape::Builtin(Builtin::Str)) => Compat::Compatible,
            (Shape::Array(a), Shape::Array(b)) => self
                .compare(Some(a), Some(b), dir)
                .within(|| "its elements".into()),
            (Shape::Enum(a), Shape::Enum(b)) => self.enums(a, b, dir),
            (Shape::Object(a), Shape::Object(b)) => self.objects(a, b, dir),
            (Shape::Alternate(a), Shape::Alternate(b)) => self.alternates(a, b, dir),
            (_, Shape::Alternate(b)) => {
                let category = category(self.old, old);
                let all = alternatives(self.new, b);
                let alternative = all.iter().find(|&&(c, _)| Some(c) == category);
                match alternative {
                    // The alternate accepts the old type and more.
                    Some(&(_, ty)) if !dir.output || all.len() == 1 => {
                        let widened = if all.len() == 1 {
                            Compat::Same
                        } else {
                            Compat::Compatible
                        };
                        self.compare(old, Some(ty), dir).and(widened)
                    }
                    _ => Compat::breaking_if(dir.any(), || {
                        if dir.output {
                            "clients cannot decode the alternate's other JSON types".into()
                        } else {
                            "clients send values of the old type".into()
                        }
                    }),
                }
            }
            (Shape::Alternate(a), _) => {
                let category = category(self.new, new);
                let all = alternatives(self.old, a);
                let alternative = all.iter().find(|&&(c, _)| Some(c) == category);
                match alternative {
                    // The new type is one of the alternate's.
                    Some(&(_, ty)) if !dir.input || all.len() == 1 => {
                        let narrowed = if all.len() == 1 {
                            Compat::Same
                        } else {
                            Compat::Compatible
                        };
                        self.compare(Some(ty), new, dir).and(narrowed)
                    }
                    _ => Compat::breaking_if(dir.any(), || {
                        if dir.input {
                            "clients that send the alternate's other JSON types are rejected".into()
                        } else {
                            "clients expect values of the old type".into()
                        }
                    }),
                }
            }
            _ => Compat::breaking_if(dir.any(), || default_reason(dir).into()),
        }
    }

    fn enums(&mut self, old: EntityId, new: EntityId, dir: Use) -> Compat {
        let values = |schema: &Schema, id: EntityId| -> Vec<String> {
            match &schema.entity(id).kind {
                EntityKind::Enum(e) => e.values.iter().map(|v| v.name.clone()).collect(),
                _ => Vec::new(),
            }
        };
        let (old, new) = (values(self.old, old), values(self.new, new));
        let gone: Vec<&String> = old.iter().filter(|v| !new.contains(v)).collect();
        let added = new.iter().any(|v| !old.contains(v));
        match gone.first() {
            Some(gone) if dir.input => Compat::Breaking(format!(
                "value '{gone}' is gone: clients that send it are rejected"
            )),
            Some(_) => Compat::Compatible,
            None if added => Compat::Compatible,
            None => Compat::Same,
        }
    }

    /// Objects, member by member (flattened), then union branches by
    /// discriminator value. A struct and a union compare as the struct
    /// against each of the union's branches (its base members and the
    /// branch's).
    fn objects(&mut self, old: Option<EntityId>, new: Option<EntityId>, dir: Use) -> Compat {
        let members = |schema: &'s Schema, id: Option<EntityId>| {
            id.map(|id| schema.members(id)).unwrap_or_default()
        };
        let (old_members, new_members) = (members(self.old, old), members(self.new, new));
        let branches = |schema: &'s Schema, id: Option<EntityId>| {
            id.and_then(|id| schema.entity(id).as_object())
                .and_then(|o| o.branches.as_ref())
        };
        // Each branch's members, the base's included.
        let flattened =
            |schema: &'s Schema, base: &[&'s Member], branches: &'s crate::model::Branches| {
                branches
                    .variants
                    .iter()
                    .map(|v| {
                        let mut all = base.to_vec();
                        if !v.implicit {
                            all.extend(schema.members(v.ty));
                        }
                        (v.name.as_str(), all)
                    })
                    .collect::<Vec<_>>()
            };
        match (branches(self.old, old), branches(self.new, new)) {
            (None, Some(new_branches)) => {
                let mut verdict = Compat::Compatible;
                for (name, new_members) in flattened(self.new, &new_members, new_branches) {
                    let branch = self
                        .members(&old_members, &new_members, dir)
                        .within(|| format!("branch '{name}'"));
                    verdict = verdict.and(branch);
                }
                verdict
            }
            (Some(old_branches), None) => {
                let mut verdict = Compat::Compatible;
                for (name, old_members) in flattened(self.old, &old_members, old_branches) {
                    let branch = self
                        .members(&old_members, &new_members, dir)
                        .within(|| format!("branch '{name}'"));
                    verdict = verdict.and(branch);
                }
                verdict
            }
            _ => self
                .members(&old_members, &new_members, dir)
                .and(self.branches(old, new, dir)),
        }
    }

    /// Two lists of members, by name.
    fn members(&mut self, old: &[&Member], new: &[&Member], dir: Use) -> Compat {
        let mut verdict = Compat::Same;
        for o in old {
            let Some(n) = new.iter().find(|n| n.name == o.name) else {
                verdict = verdict.and(if dir.input {
                    Compat::Breaking(format!(
                        "clients that pass member '{}' are rejected",
                        o.name
                    ))
                } else {
                    Compat::breaking_if(dir.output && !o.optional, || {
                        format!("clients that read member '{}' find it missing", o.name)
                    })
                });
                continue;
            };
            let ty = self
                .compare(Some(o.ty), Some(n.ty), dir)
                .within(|| format!("member '{}'", o.name));
            verdict = verdict.and(ty);
            if o.optional && !n.optional {
                verdict = verdict.and(Compat::breaking_if(dir.input, || {
                    format!("clients that omit member '{}' are rejected", o.name)
                }));
            } else if !o.optional && n.optional {
                verdict = verdict.and(Compat::breaking_if(dir.output, || {
                    format!("clients that read member '{}' may find it missing", o.name)
                }));
            }
        }
        for n in new {
            if !old.iter().any(|o| o.name == n.name) {
                verdict = verdict.and(Compat::breaking_if(dir.input && !n.optional, || {
                    format!("clients that omit member '{}' are rejected", n.name)
                }));
            }
        }
        verdict
    }

    fn branches(&mut self, old: Option<EntityId>, new: Option<EntityId>, dir: Use) -> Compat {
        let branches = |schema: &'s Schema, id: Option<EntityId>| {
            id.and_then(|id| schema.entity(id).as_object())
                .and_then(|o| o.branches.as_ref())
        };
        match (branches(self.old, old), branches(self.new, new)) {
            (None, None) => Compat::Same,
            (Some(o), Some(n)) if o.tag == n.tag => {
                let mut verdict = Compat::Same;
                for ov in &o.variants {
                    let ty = |v: &crate::model::Variant| (!v.implicit).then_some(v.ty);
                    let Some(nv) = n.variants.iter().find(|v| v.name == ov.name) else {
                        if !ov.implicit {
                            verdict = verdict.and(Compat::breaking_if(dir.input, || {
                                format!("clients that send branch '{}' are rejected", ov.name)
                            }));
                        }
                        continue;
                    };
                    let branch = self
                        .compare(ty(ov), ty(nv), dir)
                        .within(|| format!("branch '{}'", ov.name));
                    verdict = verdict.and(branch);
                }
                if n.variants
                    .iter()
                    .any(|nv| !nv.implicit && !o.variants.iter().any(|ov| ov.name == nv.name))
                {
                    verdict = verdict.and(Compat::Compatible);
                }
                verdict
            }
            (Some(_), Some(_)) => {
                Compat::breaking_if(dir.any(), || "clients use the old discriminator".into())
            }
            _ => Compat::breaking_if(dir.any(), || default_reason(dir).into()),
        }
    }

    /// Alternates, their alternatives paired by JSON type.
    fn alternates(&mut self, old: EntityId, new: EntityId, dir: Use) -> Compat {
        let (old_alts, new_alts) = (alternatives(self.old, old), alternatives(self.new, new));
        let mut verdict = Compat::Same;
        for &(category, o) in &old_alts {
            match new_alts.iter().find(|&&(c, _)| c == category) {
                Some(&(_, n)) => {
                    let alternative = self
                        .compare(Some(o), Some(n), dir)
                        .within(|| format!("its {category} alternative"));
                    verdict = verdict.and(alternative);
                }
                None => {
                    verdict = verdict.and(Compat::breaking_if(dir.input, || {
                        format!("clients that send a {category} are rejected")
                    }));
                }
            }
        }
        for &(category, _) in &new_alts {
            if !old_alts.iter().any(|&(c, _)| c == category) {
                verdict = verdict.and(Compat::breaking_if(dir.output, || {
                    format!("clients cannot decode a {category}")
                }));
            }
        }
        verdict
    }
}

/// What breaks when a type is replaced by one of another kind.
pub(super) fn default_reason(dir: Use) -> &'static str {
    if dir.input {
        "clients send values of the old type"
    } else {
        "clients expect values of the old type"
    }
}

/// Builtins: integer widths by range, `int` and `int64` (and `size` and
/// `uint64`) the same, integers within `number`.
fn builtins(old: Builtin, new: Builtin, dir: Use) -> Compat {
    let canonical = |b: Builtin| match b {
        Builtin::Int => Builtin::Int64,
        Builtin::Size => Builtin::Uint64,
        b => b,
    };
    let (old, new) = (canonical(old), canonical(new));
    if old == new {
        return Compat::Same;
    }
    // Does every value of `inner` fit `outer`?
    let within = |inner: Builtin, outer: Builtin| match (range(inner), range(outer)) {
        (Some((lo, hi)), Some((outer_lo, outer_hi))) => outer_lo <= lo && hi <= outer_hi,
        (Some(_), None) => outer == Builtin::Number,
        _ => false,
    };
    if dir.input && !within(old, new) {
        Compat::Breaking(default_reason(Use::INPUT).into())
    } else if dir.output && !within(new, old) {
        Compat::Breaking(default_reason(Use::OUTPUT).into())
    } else {
        Compat::Compatible
    }
}

/// The values of an integer type.
fn range(builtin: Builtin) -> Option<(i128, i128)> {
    Some(match builtin {
        Builtin::Int8 => (i8::MIN.into(), i8::MAX.into()),
        Builtin::Int16 => (i16::MIN.into(), i16::MAX.into()),
        Builtin::Int32 => (i32::MIN.into(), i32::MAX.into()),
        Builtin::Int | Builtin::Int64 => (i64::MIN.into(), i64::MAX.into()),
        Builtin::Uint8 => (0, u8::MAX.into()),
        Builtin::Uint16 => (0, u16::MAX.into()),
        Builtin::Uint32 => (0, u32::MAX.into()),
        Builtin::Uint64 | Builtin::Size => (0, u64::MAX.into()),
        _ => return None,
    })
}

/// The JSON type an alternative is told apart by: `string`, `number`,
/// `boolean`, `null`, `object` or `array`.
pub(super) fn category(schema: &Schema, id: Option<EntityId>) -> Option<&'static str> {
    let Some(id) = id else {
        return Some("object");
    };
    Some(match &schema.entity(id).kind {
        EntityKind::Builtin(b) => match b {
            Builtin::Str => "string",
            Builtin::Bool => "boolean",
            Builtin::Null => "null",
            Builtin::Any => return None,
            _ => "number",
        },
        EntityKind::Enum(_) => "string",
        EntityKind::Object(_) => "object",
        EntityKind::Array(_) => "array",
        EntityKind::Alternate(_) | EntityKind::Command(_) | EntityKind::Event(_) => return None,
    })
}

/// An alternate's alternatives with their JSON types.
pub(super) fn alternatives(schema: &Schema, id: EntityId) -> Vec<(&'static str, EntityId)> {
    match &schema.entity(id).kind {
        EntityKind::Alternate(a) => a
            .variants
            .iter()
            .filter_map(|v| Some((category(schema, Some(v.ty))?, v.ty)))
            .collect(),
        _ => Vec::new(),
    }
}
