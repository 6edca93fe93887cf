//! The rules that span definitions, a pass over the built model:
//! resolution, bases, union and alternate branches, clashes on generated
//! names, arguments and returns, the number of features, and the match
//! between doc comments and what they document.

use std::collections::HashMap;

use indexmap::IndexMap;

use crate::frontend::diagnostic::{Context, Diagnostic};
use crate::frontend::doc::{DocReporter, SectionKind};
use crate::frontend::expr::{BranchDef, MemberDef, Name, TypeRef};
use crate::frontend::names::c_name;
use crate::frontend::source::{SourceMap, Span};
use crate::model::build::{describe, Built, Pending};
use crate::model::{
    AlternateType, ArrayType, Branches, Entity, EntityId, EntityKind, EnumValue, Feature, JsonType,
    Member, ObjectType, Pragma, Schema, Variant,
};

/// How deeply checks may nest through bases and union branches. Real
/// schemas nest a few levels; the limit keeps hostile ones from
/// exhausting the stack.
const MAX_DEPTH: usize = 200;

/// Object members seen so far, for clash detection: a list, indexed by C
/// name once it grows past a few dozen (real objects stay below that).
#[derive(Clone, Default)]
struct SeenSet {
    items: Vec<Seen>,
    by_c_name: Option<HashMap<String, Seen>>,
}

/// Above this many members, clash lookups use a hash index.
const LINEAR_LIMIT: usize = 32;

/// Whether two names have the same C name (`-` and `.` read as `_`).
/// Names are ASCII: the name rules have been checked.
fn same_c_name(a: &str, b: &str) -> bool {
    let norm = |c: u8| if c.is_ascii_alphanumeric() { c } else { b'_' };
    a.len() == b.len() && a.bytes().zip(b.bytes()).all(|(x, y)| norm(x) == norm(y))
}

/// Pairs `(later, earlier)` of names in one list with the same C name.
fn clashes<'n>(names: impl Iterator<Item = &'n str> + Clone) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (i, a) in names.clone().enumerate() {
        if let Some(j) = names.clone().take(i).position(|b| same_c_name(a, b)) {
            out.push((i, j));
        }
    }
    out
}

/// At most this many distinct feature names (QEMU's limit: a 64-bit mask).
const MAX_FEATURES: usize = 64;

/// Where an entity's check stands.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Unchecked,
    InProgress,
    Done,
    /// Not checked: it nests too deeply.
    Failed,
}

/// An object member as clash detection sees it: the object declaring it
/// and its index among that object's local members.
#[derive(Clone, Copy)]
struct Seen {
    owner: EntityId,
    index: usize,
}

/// The pass over the built model: resolves each entity's references and
/// checks the rules that span definitions, in QEMU's order.
struct Checker<'r> {
    entities: IndexMap<String, Entity>,
    metas: Vec<&'static str>,
    contexts: Vec<Option<Context>>,
    pending: Vec<Option<Pending>>,
    states: Vec<State>,
    pragma: Pragma,
    errors: Vec<Diagnostic>,
    reporter: &'r mut DocReporter,
    empty: EntityId,
    /// How many checks are under way, nested through bases and branches.
    depth: usize,
}

/// Resolves the references of the built model and checks the rules that
/// span definitions: the checked schema, or every error found.
pub(crate) fn resolve_and_check(
    built: Built,
    sources: SourceMap,
    reporter: &mut DocReporter,
) -> Result<Schema, (SourceMap, Vec<Diagnostic>)> {
    let Built {
        entities,
        metas,
        contexts,
        pending,
        features,
        items,
        pragma,
        empty,
    } = built;
    // Predefined entities need no check.
    let states = entities
        .values()
        .map(|e| {
            if e.span.is_some() {
                State::Unchecked
            } else {
                State::Done
            }
        })
        .collect();
    let mut c = Checker {
        entities,
        metas,
        contexts,
        pending,
        states,
        pragma,
        errors: Vec::new(),
        reporter,
        empty,
        depth: 0,
    };
    for index in 0..c.entities.len() {
        let id = EntityId(index as u32);
        c.check(id);
        c.check_doc(id);
    }
    if features.len() > MAX_FEATURES {
        if let Some(span) = features[MAX_FEATURES].1 {
            c.errors.push(Diagnostic::error(
                span,
                format!("Maximum of {MAX_FEATURES} schema features is permitted"),
            ));
        }
    }
    if !c.errors.is_empty() {
        return Err((sources, c.errors));
    }
    Ok(Schema {
        entities: c.entities,
        items,
        pragma: c.pragma,
        sources,
    })
}

impl Checker<'_> {
    fn context(&self, id: EntityId) -> Option<Context> {
        self.contexts[id.index()].clone()
    }

    fn error(&mut self, id: EntityId, diag: Diagnostic) {
        let context = self.context(id);
        self.errors.push(diag.in_definition(context.as_ref()));
    }

    fn doc_problem(&mut self, id: EntityId, diag: Diagnostic) {
        let context = self.context(id);
        if let Err(diag) = self.reporter.report(diag.in_definition(context.as_ref())) {
            self.errors.push(diag);
        }
    }

    fn span(&self, id: EntityId) -> Span {
        self.entities[id.index()]
            .span
            .expect("only predefined entities lack a span, and they are never checked")
    }

    fn name(&self, id: EntityId) -> &str {
        &self.entities[id.index()].name
    }

    /// QEMU's `describe()` of a type, command or event.
    fn describe(&self, id: EntityId) -> String {
        describe(self.name(id), self.metas[id.index()])
    }

    fn member(&self, seen: Seen) -> &Member {
        let object = self.entities[seen.owner.index()]
            .as_object()
            .expect("members belong to objects");
        &object.local_members[seen.index]
    }

    /// QEMU's `QAPISchemaMember.describe()` of an object member, relative
    /// to the definition being checked.
    fn describe_member(&self, seen: Seen, current: EntityId) -> String {
        let name = &self.member(seen).name;
        let mut role = "member".to_string();
        let mut meta = "type";
        let mut defined_in = self.name(seen.owner);
        if let Some(implicit) = defined_in.strip_prefix("q_obj_") {
            if let Some(owner) = implicit.strip_suffix("-arg") {
                role = "parameter".to_string();
                meta = "command";
                defined_in = owner;
            } else if let Some(owner) = implicit.strip_suffix("-base") {
                role = "base member".to_string();
                defined_in = owner;
            }
        }
        let current_name = self.contexts[current.index()]
            .as_ref()
            .map_or("", |c| c.name.as_str());
        if defined_in != current_name {
            format!("{role} '{name}' of {meta} '{defined_in}'")
        } else {
            format!("{role} '{name}'")
        }
    }

    /// The member in `seen` with the same C name as `name`, if any.
    fn find_seen(&self, seen: &mut SeenSet, name: &str) -> Option<Seen> {
        if seen.items.len() < LINEAR_LIMIT {
            return seen
                .items
                .iter()
                .copied()
                .find(|&p| same_c_name(&self.member(p).name, name));
        }
        let index = seen.by_c_name.get_or_insert_with(|| {
            seen.items
                .iter()
                .map(|&p| (c_name(&self.member(p).name).into_owned(), p))
                .collect()
        });
        index.get(c_name(name).as_ref()).copied()
    }

    /// Adds a member to `seen`, reporting a clash of C names at `at`.
    fn clash(&mut self, current: EntityId, at: Span, seen: &mut SeenSet, member: Seen) {
        let name = &self.member(member).name;
        let previous = self.find_seen(seen, name);
        if let Some(previous) = previous {
            let message = format!(
                "{} collides with {}",
                self.describe_member(member, current),
                self.describe_member(previous, current)
            );
            self.error(current, Diagnostic::error(at, message));
            return;
        }
        if let Some(index) = &mut seen.by_c_name {
            index.insert(c_name(&self.member(member).name).into_owned(), member);
        }
        seen.items.push(member);
    }

    fn clash_features(&mut self, id: EntityId, features: &[Feature]) {
        let items: Vec<(&str, Span)> = features.iter().map(|f| (f.name.as_str(), f.span)).collect();
        let problems: Vec<(usize, usize)> = clashes(items.iter().map(|(n, _)| *n));
        for (later, earlier) in problems {
            let message = format!(
                "feature '{}' collides with feature '{}'",
                features[later].name, features[earlier].name
            );
            self.error(id, Diagnostic::error(features[later].span, message));
        }
    }

    /// Resolves a type name; `what` describes its user, for the message.
    fn resolve(
        &mut self,
        current: EntityId,
        name: &Name,
        what: impl FnOnce(&Self) -> String,
    ) -> Option<EntityId> {
        let found = self
            .entities
            .get_index_of(&name.name)
            .map(|index| EntityId(index as u32))
            .filter(|id| !matches!(self.metas[id.index()], "command" | "event"));
        if found.is_none() {
            let message = format!("{} uses unknown type '{}'", what(self), name.name);
            self.error(current, Diagnostic::error(name.span, message));
        }
        found
    }

    /// Checks one entity (once), resolving its references.
    fn check(&mut self, id: EntityId) {
        match self.states[id.index()] {
            State::Done | State::Failed => return,
            State::InProgress => {
                let message = format!("object {} contains itself", self.name(id));
                let span = self.span(id);
                self.error(id, Diagnostic::error(span, message));
                return;
            }
            State::Unchecked => {}
        }
        if self.depth >= MAX_DEPTH {
            let message = format!(
                "{} nests deeper than {MAX_DEPTH} levels through bases and branches",
                self.describe(id)
            );
            let span = self.span(id);
            self.error(id, Diagnostic::error(span, message));
            // Reported once: the schema is rejected anyway.
            self.states[id.index()] = State::Failed;
            return;
        }
        self.depth += 1;
        self.check_entity(id);
        self.depth -= 1;
    }

    fn check_entity(&mut self, id: EntityId) {
        self.states[id.index()] = State::InProgress;
        let features = std::mem::take(&mut self.entities[id.index()].features);
        self.clash_features(id, &features);
        if !matches!(self.metas[id.index()], "command" | "event") {
            for feature in features.iter().filter(|f| f.is_special()) {
                let message = format!("feature '{}' is not supported for types", feature.name);
                self.error(id, Diagnostic::error(feature.span, message));
            }
        }
        self.entities[id.index()].features = features;
        match self.pending[id.index()].take() {
            None => self.check_enum(id),
            Some(Pending::Array { element }) => self.check_array(id, &element),
            Some(Pending::Object {
                base,
                members,
                union,
            }) => self.check_object(id, base, members, union),
            Some(Pending::Alternate { branches }) => self.check_alternate(id, branches),
            Some(Pending::Command {
                arg,
                returns,
                mut command,
            }) => {
                command.arg_type =
                    arg.and_then(|arg| self.check_arguments(id, &arg, command.boxed));
                command.ret_type = returns.and_then(|ret| self.check_returns(id, &ret));
                self.entities[id.index()].kind = EntityKind::Command(command);
            }
            Some(Pending::Event { arg, boxed }) => {
                let arg_type = arg.and_then(|arg| self.check_arguments(id, &arg, boxed));
                if let EntityKind::Event(event) = &mut self.entities[id.index()].kind {
                    event.arg_type = arg_type;
                }
            }
        }
        self.states[id.index()] = State::Done;
    }

    /// Checks `id` if need be; whether its check is complete (not cut
    /// short by a cycle or the nesting limit).
    fn check_completes(&mut self, id: EntityId) -> bool {
        self.check(id);
        self.states[id.index()] == State::Done
    }

    fn check_enum(&mut self, id: EntityId) {
        let Some(values) = self.entities[id.index()].as_enum() else {
            return;
        };
        let span = self.entities[id.index()].span;
        let problems: Vec<Diagnostic> = clashes(values.values.iter().map(|v| v.name.as_str()))
            .into_iter()
            .map(|(later, earlier)| {
                let (a, b) = (&values.values[later], &values.values[earlier]);
                let at = a.span.or(span).expect("checked enums have spans");
                Diagnostic::error(
                    at,
                    format!("value '{}' collides with value '{}'", a.name, b.name),
                )
            })
            .collect();
        for problem in problems {
            self.error(id, problem);
        }
    }

    fn check_array(&mut self, id: EntityId, element: &Name) {
        let what = self.contexts[id.index()]
            .as_ref()
            .map_or("array", |c| c.meta);
        let Some(element_id) = self.resolve(id, element, |_| what.to_string()) else {
            return;
        };
        if self.metas[element_id.index()] == "array" {
            let message = format!("{what} uses an array of arrays, which QAPI cannot express");
            self.error(id, Diagnostic::error(element.span, message));
            return;
        }
        self.entities[id.index()].kind = EntityKind::Array(ArrayType {
            element: element_id,
        });
    }

    /// Every member of an object, base members first.
    fn flat_members(&self, id: EntityId, out: &mut Vec<Seen>) {
        if let Some(object) = self.entities[id.index()].as_object() {
            if let Some(base) = object.base {
                self.flat_members(base, out);
            }
            out.extend((0..object.local_members.len()).map(|index| Seen { owner: id, index }));
        }
    }

    fn check_object(
        &mut self,
        id: EntityId,
        base: Option<Name>,
        local: Vec<MemberDef>,
        union: Option<(Name, Vec<BranchDef>)>,
    ) {
        let mut seen = SeenSet::default();
        let mut base_id = None;
        if let Some(base) = &base {
            if let Some(b) = self.resolve(id, base, |_| "'base'".to_string()) {
                if self.metas[b.index()] != "struct" {
                    let message =
                        format!("'base' requires a struct type, {} isn't", self.describe(b));
                    self.error(id, Diagnostic::error(base.span, message));
                } else if self.check_completes(b) {
                    let mut inherited = Vec::new();
                    self.flat_members(b, &mut inherited);
                    for member in inherited {
                        self.clash(id, base.span, &mut seen, member);
                    }
                    base_id = Some(b);
                }
            }
        }
        let mut local_members = Vec::with_capacity(local.len());
        for def in local {
            let TypeRef::Named(ty_name) = &def.ty else {
                unreachable!("array member types are named when defined")
            };
            let ty = self
                .resolve(id, ty_name, |this| {
                    let implicit = this.name(id).strip_prefix("q_obj_").unwrap_or_default();
                    let role = if implicit.ends_with("-arg") {
                        "parameter"
                    } else if implicit.ends_with("-base") {
                        "base member"
                    } else {
                        "member"
                    };
                    format!("{role} '{}'", def.name)
                })
                .unwrap_or(self.empty);
            self.clash_features(id, &def.features);
            local_members.push(Member {
                name: def.name,
                span: def.span,
                ty,
                optional: def.optional,
                cond: def.cond,
                features: def.features,
                defined_in: id,
            });
        }
        let count = local_members.len();
        let implicit_for = self.entities[id.index()]
            .as_object()
            .and_then(|o| o.implicit_for);
        self.entities[id.index()].kind = EntityKind::Object(ObjectType {
            base: base_id,
            local_members,
            branches: None,
            implicit_for,
        });
        for index in 0..count {
            let at = self.member(Seen { owner: id, index }).span;
            self.clash(id, at, &mut seen, Seen { owner: id, index });
        }
        if let Some((tag, branches)) = union {
            let branches = self.check_branches(id, &tag, branches, &seen);
            if let EntityKind::Object(object) = &mut self.entities[id.index()].kind {
                object.branches = branches;
            }
        }
    }

    fn check_branches(
        &mut self,
        id: EntityId,
        tag: &Name,
        branches: Vec<BranchDef>,
        seen: &SeenSet,
    ) -> Option<Branches> {
        let union_span = self.span(id);
        let tag_member = seen
            .items
            .iter()
            .copied()
            .find(|&s| same_c_name(&self.member(s).name, &tag.name))
            .map(|s| self.member(s))
            .filter(|m| m.name == tag.name)
            .cloned();
        let Some(tag_member) = tag_member else {
            let message = format!("discriminator '{}' is not a member of 'base'", tag.name);
            self.error(id, Diagnostic::error(tag.span, message));
            return None;
        };
        // QEMU names the type that declares the discriminator.
        let declared_in = tag_member.defined_in;
        let base_desc = if self.entities[declared_in.index()].is_implicit() {
            "'base'".to_string()
        } else {
            format!("base type '{}'", self.name(declared_in))
        };
        let problem = match &self.entities[tag_member.ty.index()].kind {
            EntityKind::Enum(_) if tag_member.optional => Some("must not be optional"),
            EntityKind::Enum(_) if tag_member.cond.is_some() => Some("must not be conditional"),
            EntityKind::Enum(_) => None,
            _ => Some("must be of enum type"),
        };
        if let Some(problem) = problem {
            let message = format!(
                "discriminator member '{}' of {base_desc} {problem}",
                tag.name
            );
            self.error(id, Diagnostic::error(tag.span, message));
            return None;
        }
        let tag_values: Vec<EnumValue> = self.entities[tag_member.ty.index()]
            .as_enum()
            .map(|e| e.values.clone())
            .unwrap_or_default();
        let mut variants: Vec<(Variant, Option<Name>)> = branches
            .into_iter()
            .map(|b| {
                let TypeRef::Named(ty) = b.ty else {
                    unreachable!("branch types are named when defined")
                };
                let variant = Variant {
                    name: b.name,
                    span: b.span,
                    ty: self.empty,
                    cond: b.cond,
                    implicit: false,
                };
                (variant, Some(ty))
            })
            .collect();
        for value in &tag_values {
            if !variants.iter().any(|(v, _)| v.name == value.name) {
                let variant = Variant {
                    name: value.name.clone(),
                    span: union_span,
                    ty: self.empty,
                    cond: value.cond.clone(),
                    implicit: true,
                };
                variants.push((variant, None));
            }
        }
        if variants.is_empty() {
            self.error(id, Diagnostic::error(union_span, "union has no branches"));
            return None;
        }
        let mut ok = true;
        for (variant, ty_name) in &mut variants {
            let Some(ty_name) = ty_name else { continue };
            let name = variant.name.clone();
            let Some(ty) = self.resolve(id, ty_name, |_| format!("branch '{name}'")) else {
                ok = false;
                continue;
            };
            variant.ty = ty;
            if !tag_values.iter().any(|v| v.name == variant.name) {
                let message = format!(
                    "branch '{}' is not a value of {}",
                    variant.name,
                    self.describe(tag_member.ty)
                );
                self.error(id, Diagnostic::error(variant.span, message));
                ok = false;
                continue;
            }
            if !matches!(self.metas[ty.index()], "struct" | "union") {
                let message = format!("branch '{}' cannot use {}", variant.name, self.describe(ty));
                self.error(id, Diagnostic::error(variant.span, message));
                ok = false;
                continue;
            }
            if !self.check_completes(ty) {
                ok = false;
            }
        }
        if ok {
            for (variant, _) in &variants {
                let mut branch_seen = seen.clone();
                self.clash_object(id, variant.ty, variant.span, &mut branch_seen);
            }
        }
        Some(Branches {
            tag: tag.name.clone(),
            tag_type: tag_member.ty,
            variants: variants.into_iter().map(|(v, _)| v).collect(),
        })
    }

    /// Adds an object's members, and each of its branches' members, to
    /// `seen`, reporting clashes at `at`.
    fn clash_object(&mut self, current: EntityId, object: EntityId, at: Span, seen: &mut SeenSet) {
        let mut members = Vec::new();
        self.flat_members(object, &mut members);
        for member in members {
            self.clash(current, at, seen, member);
        }
        let variants: Vec<EntityId> = self.entities[object.index()]
            .as_object()
            .and_then(|o| o.branches.as_ref())
            .map(|b| b.variants.iter().map(|v| v.ty).collect())
            .unwrap_or_default();
        for ty in variants {
            let mut branch_seen = seen.clone();
            self.clash_object(current, ty, at, &mut branch_seen);
        }
    }

    fn check_alternate(&mut self, id: EntityId, branches: Vec<BranchDef>) {
        let items: Vec<(&str, Span)> = branches.iter().map(|b| (b.name.as_str(), b.span)).collect();
        let problems = clashes(items.iter().map(|(n, _)| *n));
        for (later, earlier) in problems {
            let message = format!(
                "branch '{}' collides with branch '{}'",
                branches[later].name, branches[earlier].name
            );
            self.error(id, Diagnostic::error(branches[later].span, message));
        }
        let mut variants = Vec::with_capacity(branches.len());
        let mut types_seen: HashMap<JsonType, String> = HashMap::new();
        for branch in branches {
            let TypeRef::Named(ty_name) = &branch.ty else {
                unreachable!("branch types are named when defined")
            };
            let name = branch.name.clone();
            let Some(ty) = self.resolve(id, ty_name, |_| format!("branch '{name}'")) else {
                continue;
            };
            self.check(ty);
            let Some(json) = self.alternate_json_type(ty) else {
                let message = format!("branch '{}' cannot use {}", branch.name, self.describe(ty));
                self.error(id, Diagnostic::error(branch.span, message));
                continue;
            };
            let mut conflicting = vec![json];
            if json == JsonType::String {
                match &self.entities[ty.index()].kind {
                    EntityKind::Enum(e) => {
                        if e.values.iter().any(|v| v.name == "on" || v.name == "off") {
                            conflicting.push(JsonType::Boolean);
                        }
                        let numeric = |v: &EnumValue| {
                            v.name
                                .starts_with(|c: char| c.is_ascii_digit() || "-+.".contains(c))
                        };
                        if e.values.iter().any(numeric) {
                            conflicting.push(JsonType::Number);
                        }
                    }
                    _ => {
                        conflicting.push(JsonType::Number);
                        conflicting.push(JsonType::Boolean);
                    }
                }
            }
            for qt in conflicting {
                if let Some(other) = types_seen.get(&qt) {
                    let message = format!(
                        "branch '{}' can't be distinguished from '{other}'",
                        branch.name
                    );
                    self.error(id, Diagnostic::error(branch.span, message));
                    break;
                }
                types_seen.insert(qt, branch.name.clone());
            }
            variants.push(Variant {
                name: branch.name,
                span: branch.span,
                ty,
                cond: branch.cond,
                implicit: false,
            });
        }
        self.entities[id.index()].kind = EntityKind::Alternate(AlternateType { variants });
    }

    /// The JSON type an alternate dispatches a branch on (`int` and
    /// `number` are one); `None` for types an alternate cannot hold.
    fn alternate_json_type(&self, ty: EntityId) -> Option<JsonType> {
        match &self.entities[ty.index()].kind {
            EntityKind::Builtin(b) => match b.json_type() {
                JsonType::Value => None,
                JsonType::Int => Some(JsonType::Number),
                other => Some(other),
            },
            EntityKind::Enum(_) => Some(JsonType::String),
            EntityKind::Array(_) => Some(JsonType::Array),
            EntityKind::Object(_) => Some(JsonType::Object),
            _ => None,
        }
    }

    /// A command's or event's arguments.
    fn check_arguments(&mut self, id: EntityId, arg: &Name, boxed: bool) -> Option<EntityId> {
        let meta = self.metas[id.index()];
        let what = format!("{meta}'s 'data'");
        let ty = self.resolve(id, arg, |_| what.clone())?;
        let ty_meta = self.metas[ty.index()];
        if !matches!(ty_meta, "struct" | "union") {
            let message = format!("{what} cannot take {}", self.describe(ty));
            self.error(id, Diagnostic::error(arg.span, message));
            return None;
        }
        if ty_meta == "union" && !boxed {
            let message = format!(
                "{what} can take {} only with 'boxed': true",
                self.describe(ty)
            );
            self.error(id, Diagnostic::error(arg.span, message));
            return None;
        }
        self.check(ty);
        let mut members = Vec::new();
        self.flat_members(ty, &mut members);
        let conditional = members.iter().any(|&m| self.member(m).cond.is_some());
        if conditional && !boxed {
            let message = format!("conditional {meta} arguments require 'boxed': true");
            self.error(id, Diagnostic::error(arg.span, message));
        }
        Some(ty)
    }

    fn check_returns(&mut self, id: EntityId, ret: &Name) -> Option<EntityId> {
        let ty = self.resolve(id, ret, |_| "command's 'returns'".to_string())?;
        self.check(ty);
        let name = self.name(id);
        if self
            .pragma
            .command_returns_exceptions
            .iter()
            .any(|n| n == name)
        {
            return Some(ty);
        }
        let element = match &self.entities[ty.index()].kind {
            EntityKind::Array(a) => a.element,
            _ => ty,
        };
        if !matches!(self.metas[element.index()], "struct" | "union") {
            let message = format!("command's 'returns' cannot take {}", self.describe(ty));
            self.error(id, Diagnostic::error(ret.span, message));
        }
        Some(ty)
    }

    /// Matches a definition's doc comment with what it documents: every
    /// member, value, branch and feature described, and nothing else.
    fn check_doc(&mut self, id: EntityId) {
        let entity = &self.entities[id.index()];
        let Some(doc) = &entity.doc else { return };
        if entity.is_implicit() {
            return;
        }
        // (role, name, span) of what must be described, and the features.
        let mut documented: Vec<(&'static str, &str, Span)> = Vec::new();
        let mut features: Vec<&Feature> = entity.features.iter().collect();
        fn add_members<'e>(
            object: &'e ObjectType,
            documented: &mut Vec<(&'static str, &'e str, Span)>,
            features: &mut Vec<&'e Feature>,
        ) {
            for m in &object.local_members {
                documented.push(("member", &m.name, m.span));
                features.extend(&m.features);
            }
        }
        match &entity.kind {
            EntityKind::Enum(e) => {
                for v in &e.values {
                    let span = v.span.expect("explicit enums have spans");
                    documented.push(("value", &v.name, span));
                    features.extend(&v.features);
                }
            }
            EntityKind::Object(o) => {
                if let Some(base) = o.base.filter(|&b| self.entities[b.index()].is_implicit()) {
                    if let Some(base) = self.entities[base.index()].as_object() {
                        add_members(base, &mut documented, &mut features);
                    }
                }
                add_members(o, &mut documented, &mut features);
            }
            EntityKind::Alternate(a) => {
                for v in &a.variants {
                    documented.push(("branch", &v.name, v.span));
                }
            }
            EntityKind::Command(crate::model::Command {
                arg_type: Some(arg),
                ..
            })
            | EntityKind::Event(crate::model::Event {
                arg_type: Some(arg),
                ..
            }) => {
                let arg = &self.entities[arg.index()];
                if let (true, Some(o)) = (arg.is_implicit(), arg.as_object()) {
                    add_members(o, &mut documented, &mut features);
                }
            }
            _ => {}
        }
        let excepted = doc
            .symbol
            .as_ref()
            .is_some_and(|s| self.pragma.documentation_exceptions.contains(s));
        let mut problems = Vec::new();
        for feature in &features {
            if doc.feature(&feature.name).is_none() {
                let message = format!("feature '{}' lacks documentation", feature.name);
                problems.push(Diagnostic::doc(feature.span, message));
            }
        }
        for (role, name, span) in &documented {
            if !excepted && doc.member(name).is_none() {
                problems.push(Diagnostic::doc(
                    *span,
                    format!("{role} '{name}' lacks documentation"),
                ));
            }
        }
        for (what, is_feature) in [("member", false), ("feature", true)] {
            let bogus: Vec<(&str, Span)> = doc
                .sections
                .iter()
                .filter_map(|s| match &s.kind {
                    SectionKind::Member(n) if !is_feature => Some((n.as_str(), s.span)),
                    SectionKind::Feature(n) if is_feature => Some((n.as_str(), s.span)),
                    _ => None,
                })
                .filter(|(n, _)| {
                    if is_feature {
                        !features.iter().any(|f| f.name == *n)
                    } else {
                        !documented.iter().any(|(_, d, _)| d == n)
                    }
                })
                .collect();
            let Some(&(_, span)) = bogus.first() else {
                continue;
            };
            let message = match &bogus[..] {
                [(name, _)] => format!("documented {what} '{name}' does not exist"),
                _ => {
                    let names: Vec<&str> = bogus.iter().map(|(n, _)| *n).collect();
                    format!("documented {what}s '{}' do not exist", names.join("', '"))
                }
            };
            problems.push(Diagnostic::doc(span, message));
        }
        for problem in problems {
            self.doc_problem(id, problem);
        }
    }
}
