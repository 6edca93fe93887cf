//! Whether the type at one place of the new schema still works for
//! clients of the old one: member, branch, alternative, argument and
//! return types compared by what they put on the wire, not by name (type
//! names are not part of the wire ABI: a renamed type with the same
//! members is the same type), in the directions the place travels.
//!
//! Sending (input) is compatible when the new type accepts everything
//! the old one did: wider integers (QEMU also takes any `int` for a
//! `uint64` or `size`), `number` for an integer, `str` for an enum,
//! `any` for anything, an alternate holding the old type, optional
//! members added, members made optional. Receiving (output) is compatible
//! when the new type sends nothing old clients can't read: narrower
//! integers, members added, optional members removed, enum values and
//! union branches added (clients keep what they don't know).
//!
//! Types reach themselves (`ImageInfo` holds an `ImageInfo`), so a pair
//! of types is not judged by recursion: the pairs a comparison reaches are
//! judged in turn, each with what is known so far of the pairs it holds
//! (at first, that they are the same), and judged again when one of those
//! turns out worse, until nothing changes. Verdicts only worsen (same,
//! compatible, breaking), so each pair is judged a few times at most, and
//! no schema, however deep its types nest, exhausts the stack.

use std::collections::{HashMap, HashSet, VecDeque};

use crate::frontend::diagnostic::article;
use crate::model::{Branches, Builtin, EntityId, EntityKind, Feature, Member, Schema};

/// How deep unions within union branches are expanded, and into how
/// many cases at most, when a struct is compared with a union.
const MAX_NESTING: usize = 64;
const MAX_CASES: usize = 1024;

/// How many steps of a breaking reason's path are kept at each end.
const PATH_ENDS: usize = 3;

/// How the type at a place of the new schema compares with the type at
/// the same place of the old one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Compat {
    /// The same values, written the same way.
    Same,
    /// Different, but clients of the old type keep working; what differs
    /// first, where known (`value 'sm3' added`).
    Compatible(Option<String>),
    /// Clients of the old type break, for this reason.
    Breaking(String),
}

impl Compat {
    /// Compatible, because of `what`.
    fn note(what: impl Into<String>) -> Compat {
        Compat::Compatible(Some(what.into()))
    }

    /// The worse of two verdicts; of two reasons or notes, the one found
    /// nearest (the shorter path; the first among equals).
    fn and(self, other: Compat) -> Compat {
        let steps = |text: &str| text.matches(": ").count();
        match (self, other) {
            (Compat::Breaking(a), Compat::Breaking(b)) => {
                Compat::Breaking(if steps(&b) < steps(&a) { b } else { a })
            }
            (b @ Compat::Breaking(_), _) | (_, b @ Compat::Breaking(_)) => b,
            (Compat::Same, Compat::Same) => Compat::Same,
            (Compat::Compatible(Some(a)), Compat::Compatible(Some(b))) => {
                Compat::Compatible(Some(if steps(&b) < steps(&a) { b } else { a }))
            }
            (Compat::Compatible(a), Compat::Compatible(b)) => Compat::Compatible(a.or(b)),
            (c @ Compat::Compatible(_), Compat::Same)
            | (Compat::Same, c @ Compat::Compatible(_)) => c,
        }
    }

    /// `Breaking(reason)` when `breaks`, else compatible because of
    /// `what`.
    fn breaking_if(breaks: bool, reason: impl FnOnce() -> String, what: &str) -> Compat {
        if breaks {
            Compat::Breaking(reason())
        } else {
            Compat::note(what)
        }
    }

    /// The verdict of something found at `place` (`member 'x'`): its
    /// reason or note prefixed with the place, long paths shortened.
    fn within(self, place: impl FnOnce() -> String) -> Compat {
        let prefix = |text: String| shorten(&format!("{}: {text}", place()));
        match self {
            Compat::Breaking(reason) => Compat::Breaking(prefix(reason)),
            Compat::Compatible(Some(note)) => Compat::Compatible(Some(prefix(note))),
            other => other,
        }
    }

    /// The same verdict, never breaking: for a definition compared here
    /// only to tell whether it changed (its changes are reported, and
    /// judged, on the definition itself).
    fn unjudged(self) -> Compat {
        match self {
            Compat::Breaking(_) => Compat::Compatible(None),
            other => other,
        }
    }
}

/// How bad a verdict is: same, compatible, breaking.
fn level(compat: &Compat) -> u8 {
    match compat {
        Compat::Same => 0,
        Compat::Compatible(_) => 1,
        Compat::Breaking(_) => 2,
    }
}

/// A path of places `a: b: c: ... reason` with at most [`PATH_ENDS`]
/// steps at each end.
fn shorten(text: &str) -> String {
    let steps: Vec<&str> = text.split(": ").collect();
    if steps.len() <= 2 * PATH_ENDS + 1 {
        return text.to_string();
    }
    let mut kept = steps[..PATH_ENDS].to_vec();
    kept.push("…");
    kept.extend(&steps[steps.len() - PATH_ENDS..]);
    kept.join(": ")
}

/// A pair of types at one place (`None`: an empty object, what commands
/// without arguments take and without a return type answer), in a
/// direction.
type Key = (Option<EntityId>, Option<EntityId>, Use);

/// Compares the types of two schemas, remembering what it found.
pub(super) struct TypeComparison<'s> {
    old: &'s Schema,
    new: &'s Schema,
    /// Verdicts found.
    known: HashMap<Key, Compat>,
    /// While a comparison runs: what is known so far of the pairs it
    /// reached.
    so_far: HashMap<Key, Compat>,
    /// The pairs that hold each pair, judged again when it turns worse.
    holders: HashMap<Key, HashSet<Key>>,
    /// Pairs to judge (again).
    work: VecDeque<Key>,
    queued: HashSet<Key>,
    /// The pair being judged.
    judging: Option<Key>,
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

impl<'s> TypeComparison<'s> {
    pub(super) fn new(old: &'s Schema, new: &'s Schema) -> Self {
        TypeComparison {
            old,
            new,
            known: HashMap::new(),
            so_far: HashMap::new(),
            holders: HashMap::new(),
            work: VecDeque::new(),
            queued: HashSet::new(),
            judging: None,
        }
    }

    /// How `new` at some place compares with `old` at the same place, for
    /// values travelling in `dir`. A named definition compared with the
    /// one of its name is never breaking here: its changes are reported
    /// as its own.
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
        let Some(holder) = self.judging else {
            return self.solve(key);
        };
        // A pair held by the one being judged: what is known of it so
        // far, and it is judged (again) in turn.
        self.holders.entry(key).or_default().insert(holder);
        match self.so_far.get(&key) {
            Some(so_far) => so_far.clone(),
            None => {
                self.so_far.insert(key, Compat::Same);
                self.enqueue(key);
                Compat::Same
            }
        }
    }

    /// Judges `root` and every pair it reaches until no verdict changes.
    fn solve(&mut self, root: Key) -> Compat {
        self.so_far.insert(root, Compat::Same);
        self.enqueue(root);
        while let Some(key) = self.work.pop_front() {
            self.queued.remove(&key);
            self.judging = Some(key);
            let verdict = self.judge(key.0, key.1, key.2);
            self.judging = None;
            let worse = self
                .so_far
                .get(&key)
                .is_none_or(|before| level(&verdict) > level(before));
            self.so_far.insert(key, verdict);
            if worse {
                let holders: Vec<Key> = self
                    .holders
                    .get(&key)
                    .map(|h| h.iter().copied().collect())
                    .unwrap_or_default();
                for holder in holders {
                    self.enqueue(holder);
                }
            }
        }
        self.holders.clear();
        self.known.extend(self.so_far.drain());
        self.known.get(&root).cloned().unwrap_or(Compat::Same)
    }

    fn enqueue(&mut self, key: Key) {
        if self.queued.insert(key) {
            self.work.push_back(key);
        }
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
            return self.shapes(old, new, dir).unjudged();
        }
        self.shapes(old, new, dir)
    }

    fn shapes(&mut self, old: Option<EntityId>, new: Option<EntityId>, dir: Use) -> Compat {
        let (o, n) = (Self::shape(self.old, old), Self::shape(self.new, new));
        match (o, n) {
            (Shape::Builtin(Builtin::Any), Shape::Builtin(Builtin::Any)) => Compat::Same,
            (Shape::Builtin(Builtin::Any), _) => Compat::breaking_if(
                dir.input,
                || "clients send values of any type".into(),
                "no longer any type",
            ),
            (_, Shape::Builtin(Builtin::Any)) => Compat::breaking_if(
                dir.output,
                || "clients may receive values of any type".into(),
                "now any type",
            ),
            (Shape::Builtin(a), Shape::Builtin(b)) => builtins(a, b, dir),
            (Shape::Builtin(Builtin::Str), Shape::Enum(_)) => Compat::breaking_if(
                dir.input,
                || "clients send strings the enum does not have".into(),
                "an enum now",
            ),
            (Shape::Enum(_), Shape::Builtin(Builtin::Str)) => Compat::note("any string now"),
            (Shape::Array(a), Shape::Array(b)) => self
                .compare(Some(a), Some(b), dir)
                .within(|| "its elements".into()),
            (Shape::Enum(a), Shape::Enum(b)) => self.enums(a, b, dir),
            (Shape::Object(a), Shape::Object(b)) => self.objects(a, b, dir),
            (Shape::Alternate(a), Shape::Alternate(b)) => self.alternates(a, b, dir),
            (_, Shape::Alternate(b)) => self.became_alternate(old, b, dir),
            (Shape::Alternate(a), _) => self.left_alternate(a, new, dir),
            _ => Compat::breaking_if(
                dir.any(),
                || default_reason(dir).into(),
                "another kind of type",
            ),
        }
    }

    /// A type that became an alternate: compatible input where the
    /// alternate takes the old type.
    fn became_alternate(&mut self, old: Option<EntityId>, new: EntityId, dir: Use) -> Compat {
        let category = category(self.old, old);
        let all = alternatives(self.new, new);
        match all.iter().find(|&&(c, _)| Some(c) == category) {
            None => Compat::breaking_if(
                dir.any(),
                || {
                    format!(
                        "the alternate takes no {}",
                        category.unwrap_or("value of the old type")
                    )
                },
                "an alternate now",
            ),
            Some(_) if dir.output && all.len() > 1 => {
                Compat::Breaking("clients cannot decode the alternate's other JSON types".into())
            }
            Some(&(_, ty)) => {
                let widened = if all.len() == 1 {
                    Compat::Same
                } else {
                    Compat::note("an alternate that takes it and more")
                };
                self.compare(old, Some(ty), dir).and(widened)
            }
        }
    }

    /// An alternate that became one of its types: compatible output.
    fn left_alternate(&mut self, old: EntityId, new: Option<EntityId>, dir: Use) -> Compat {
        let category = category(self.new, new);
        let all = alternatives(self.old, old);
        match all.iter().find(|&&(c, _)| Some(c) == category) {
            None => Compat::breaking_if(
                dir.any(),
                || default_reason(dir).into(),
                "no longer an alternate",
            ),
            Some(_) if dir.input && all.len() > 1 => Compat::Breaking(
                "clients that send the alternate's other JSON types are rejected".into(),
            ),
            Some(&(_, ty)) => {
                let narrowed = if all.len() == 1 {
                    Compat::Same
                } else {
                    Compat::note("one of the alternate's types now")
                };
                self.compare(Some(ty), new, dir).and(narrowed)
            }
        }
    }

    fn enums(&mut self, old: EntityId, new: EntityId, dir: Use) -> Compat {
        let values = |schema: &'s Schema, id: EntityId| match &schema.entity(id).kind {
            EntityKind::Enum(e) => e.values.as_slice(),
            _ => &[],
        };
        let (old, new) = (values(self.old, old), values(self.new, new));
        let mut verdict = Compat::Same;
        for o in old {
            match new.iter().find(|n| n.name == o.name) {
                None => {
                    verdict = verdict.and(Compat::breaking_if(
                        dir.input && !unstable(&o.name, &o.features),
                        || {
                            format!(
                                "value '{}' is gone: clients that send it are rejected",
                                o.name
                            )
                        },
                        &format!("value '{}' removed", o.name),
                    ));
                }
                Some(n) => {
                    verdict = verdict.and(features(
                        &o.features,
                        &n.features,
                        &format!("value '{}'", o.name),
                    ));
                }
            }
        }
        if let Some(added) = new.iter().find(|n| !old.iter().any(|o| o.name == n.name)) {
            verdict = verdict.and(Compat::note(format!("value '{}' added", added.name)));
        }
        verdict
    }

    /// Objects, member by member (flattened), then union branches by
    /// discriminator value. A struct and a union compare as the struct
    /// against each of the union's cases (its base members and the
    /// branch's, a branch that is a union itself expanded in turn).
    fn objects(&mut self, old: Option<EntityId>, new: Option<EntityId>, dir: Use) -> Compat {
        let union = |schema: &'s Schema, id: Option<EntityId>| {
            id.and_then(|id| schema.entity(id).as_object())
                .is_some_and(|o| o.is_union())
        };
        match (union(self.old, old), union(self.new, new)) {
            (false, true) | (true, false) => {
                // The struct side against each case of the union side.
                let pairs: Vec<(String, Vec<&Member>, Vec<&Member>)> = if union(self.new, new) {
                    let struct_members = members(self.old, old);
                    cases(self.new, new)
                        .into_iter()
                        .map(|(case, union_members)| (case, struct_members.clone(), union_members))
                        .collect()
                } else {
                    let struct_members = members(self.new, new);
                    cases(self.old, old)
                        .into_iter()
                        .map(|(case, union_members)| (case, union_members, struct_members.clone()))
                        .collect()
                };
                let mut verdict = Compat::note(if union(self.new, new) {
                    "a union now"
                } else {
                    "no longer a union"
                });
                for (case, old_members, new_members) in pairs {
                    let case = self
                        .members(&old_members, &new_members, dir)
                        .within(|| format!("branch '{case}'"));
                    verdict = verdict.and(case);
                }
                verdict
            }
            _ => {
                let (old_members, new_members) = (members(self.old, old), members(self.new, new));
                self.members(&old_members, &new_members, dir)
                    .and(self.branches(old, new, dir))
            }
        }
    }

    /// Two lists of members, by name.
    fn members(&mut self, old: &[&Member], new: &[&Member], dir: Use) -> Compat {
        let mut verdict = Compat::Same;
        for o in old {
            let Some(n) = new.iter().find(|n| n.name == o.name) else {
                verdict = verdict.and(if unstable(&o.name, &o.features) {
                    Compat::note(format!("unstable member '{}' removed", o.name))
                } else if dir.input {
                    Compat::Breaking(format!(
                        "clients that pass member '{}' are rejected",
                        o.name
                    ))
                } else {
                    Compat::breaking_if(
                        dir.output && !o.optional,
                        || format!("clients that read member '{}' find it missing", o.name),
                        &format!("member '{}' removed", o.name),
                    )
                });
                continue;
            };
            let ty = self
                .compare(Some(o.ty), Some(n.ty), dir)
                .within(|| format!("member '{}'", o.name));
            verdict = verdict.and(ty);
            if o.optional && !n.optional {
                verdict = verdict.and(Compat::breaking_if(
                    dir.input,
                    || format!("clients that omit member '{}' are rejected", o.name),
                    &format!("member '{}' became required", o.name),
                ));
            } else if !o.optional && n.optional {
                verdict = verdict.and(Compat::breaking_if(
                    dir.output,
                    || format!("clients that read member '{}' may find it missing", o.name),
                    &format!("member '{}' became optional", o.name),
                ));
            }
            verdict = verdict.and(features(
                &o.features,
                &n.features,
                &format!("member '{}'", o.name),
            ));
        }
        for n in new {
            if !old.iter().any(|o| o.name == n.name) {
                verdict = verdict.and(Compat::breaking_if(
                    dir.input && !n.optional,
                    || format!("clients that omit member '{}' are rejected", n.name),
                    &format!("member '{}' added", n.name),
                ));
            }
        }
        verdict
    }

    /// The branches of two unions (or of none).
    fn branches(&mut self, old: Option<EntityId>, new: Option<EntityId>, dir: Use) -> Compat {
        match (branches(self.old, old), branches(self.new, new)) {
            (Some(o), Some(n)) if o.tag == n.tag => {
                let mut verdict = Compat::Same;
                for ov in &o.variants {
                    let ty = |v: &crate::model::Variant| (!v.implicit).then_some(v.ty);
                    let Some(nv) = n.variants.iter().find(|v| v.name == ov.name) else {
                        if !ov.implicit {
                            verdict = verdict.and(Compat::breaking_if(
                                dir.input,
                                || format!("clients that send branch '{}' are rejected", ov.name),
                                &format!("branch '{}' removed", ov.name),
                            ));
                        }
                        continue;
                    };
                    let branch = self
                        .compare(ty(ov), ty(nv), dir)
                        .within(|| format!("branch '{}'", ov.name));
                    verdict = verdict.and(branch);
                }
                if let Some(added) = n
                    .variants
                    .iter()
                    .find(|nv| !nv.implicit && !o.variants.iter().any(|ov| ov.name == nv.name))
                {
                    verdict = verdict.and(Compat::note(format!("branch '{}' added", added.name)));
                }
                verdict
            }
            (Some(_), Some(_)) => Compat::breaking_if(
                dir.any(),
                || "clients use the old discriminator".into(),
                "another discriminator",
            ),
            _ => Compat::Same,
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
                    verdict = verdict.and(Compat::breaking_if(
                        dir.input,
                        || format!("clients that send {} are rejected", article(category)),
                        &format!("no {category} alternative"),
                    ));
                }
            }
        }
        for &(category, _) in &new_alts {
            if !old_alts.iter().any(|&(c, _)| c == category) {
                verdict = verdict.and(Compat::breaking_if(
                    dir.output,
                    || format!("clients cannot decode {}", article(category)),
                    &format!("{} alternative added", article(category)),
                ));
            }
        }
        verdict
    }
}

/// Features of a member or value: differences are notes, never breaking.
fn features(old: &[crate::model::Feature], new: &[crate::model::Feature], of: &str) -> Compat {
    let name = |f: &crate::model::Feature| f.name.clone();
    if let Some(added) = new.iter().find(|n| !old.iter().any(|o| o.name == n.name)) {
        return Compat::note(format!("{of}: feature '{}' added", name(added)));
    }
    if let Some(removed) = old.iter().find(|o| !new.iter().any(|n| n.name == o.name)) {
        return Compat::note(format!("{of}: feature '{}' removed", name(removed)));
    }
    Compat::Same
}

/// An object's members, flattened (none for an empty object).
fn members(schema: &Schema, id: Option<EntityId>) -> Vec<&Member> {
    id.map(|id| schema.members(id)).unwrap_or_default()
}

/// A union's discriminator and branches.
fn branches(schema: &Schema, id: Option<EntityId>) -> Option<&Branches> {
    id.and_then(|id| schema.entity(id).as_object())
        .and_then(|o| o.branches.as_ref())
}

/// What an object can be on the wire: its members, or for a union, each
/// case (`a`, `b.x` for branch `x` of a branch that is a union) with its
/// base members and its branch's, as a struct would hold them.
fn cases(schema: &Schema, id: Option<EntityId>) -> Vec<(String, Vec<&Member>)> {
    fn expand<'s>(
        schema: &'s Schema,
        id: Option<EntityId>,
        prefix: String,
        above: Vec<&'s Member>,
        depth: usize,
        out: &mut Vec<(String, Vec<&'s Member>)>,
    ) {
        let mut all = above;
        all.extend(members(schema, id));
        match branches(schema, id) {
            Some(branches) if depth < MAX_NESTING && out.len() < MAX_CASES => {
                for v in &branches.variants {
                    let case = if prefix.is_empty() {
                        v.name.clone()
                    } else {
                        format!("{prefix}.{}", v.name)
                    };
                    let ty = (!v.implicit).then_some(v.ty);
                    expand(schema, ty, case, all.clone(), depth + 1, out);
                }
            }
            _ => out.push((prefix, all)),
        }
    }
    let mut out = Vec::new();
    expand(schema, id, String::new(), Vec::new(), 0, &mut out);
    out
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
    let (old_c, new_c) = (canonical(old), canonical(new));
    if old_c == new_c {
        return Compat::Same;
    }
    // Does every value of `inner` fit `outer`?
    let within = |inner: Builtin, outer: Builtin| match (range(inner), range(outer)) {
        (Some((lo, hi)), Some((outer_lo, outer_hi))) => outer_lo <= lo && hi <= outer_hi,
        (Some(_), None) => outer == Builtin::Number,
        _ => false,
    };
    // QEMU's input visitor takes any int64 for a uint64 (and a size),
    // negative ones included, for backward compatibility.
    let accepts =
        within(old_c, new_c) || (new_c == Builtin::Uint64 && within(old_c, Builtin::Int64));
    let (old_name, new_name) = (old.name(), new.name());
    if dir.input && !accepts {
        Compat::Breaking(if range(old_c).is_some() && range(new_c).is_some() {
            format!("clients that send {old_name} values outside {new_name} are rejected")
        } else {
            default_reason(Use::INPUT).into()
        })
    } else if dir.output && !within(new_c, old_c) {
        Compat::Breaking(if range(old_c).is_some() && range(new_c).is_some() {
            format!("clients may receive {new_name} values outside {old_name}")
        } else {
            default_reason(Use::OUTPUT).into()
        })
    } else {
        Compat::note(format!("{old_name} → {new_name}"))
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

/// In which directions a type travels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub(super) struct Use {
    /// Clients send it (command arguments).
    pub(super) input: bool,
    /// Clients receive it (command returns, event data).
    pub(super) output: bool,
}

impl Use {
    pub(super) const INPUT: Use = Use {
        input: true,
        output: false,
    };
    pub(super) const OUTPUT: Use = Use {
        input: false,
        output: true,
    };

    pub(super) fn any(self) -> bool {
        self.input || self.output
    }

    pub(super) fn contains(self, other: Use) -> bool {
        (self.input || !other.input) && (self.output || !other.output)
    }

    pub(super) fn union(self, other: Use) -> Use {
        Use {
            input: self.input || other.input,
            output: self.output || other.output,
        }
    }

    pub(super) fn intersection(self, other: Use) -> Use {
        Use {
            input: self.input && other.input,
            output: self.output && other.output,
        }
    }
}

/// Whether clients were told not to rely on something: it has the
/// `unstable` feature, or an `x-` name (`__com.vendor_x-` included).
pub(super) fn unstable(name: &str, features: &[Feature]) -> bool {
    let stem = match name.strip_prefix("__") {
        Some(rest) => rest.split_once('_').map_or(rest, |(_, stem)| stem),
        None => name,
    };
    features.iter().any(Feature::is_unstable)
        || stem.get(..2).is_some_and(|x| x.eq_ignore_ascii_case("x-"))
}

#[cfg(test)]
mod tests {
    use super::shorten;

    #[test]
    fn long_paths_keep_their_ends() {
        assert_eq!(shorten("a: b: c"), "a: b: c");
        let long = (0..10)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(": ");
        assert_eq!(shorten(&long), "0: 1: 2: …: 7: 8: 9");
    }
}
