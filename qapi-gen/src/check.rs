//! The rules that span definitions: resolution, bases, union and alternate
//! branches, clashes on generated names, arguments and returns, and the
//! match between doc comments and what they document.

use std::collections::HashMap;

use crate::diagnostic::{Context, Diagnostic};
use crate::doc::SectionKind;
use crate::expr::{BranchDef, MemberDef, Name, TypeRef};
use crate::model::{
    Branches, EntityId, EntityKind, Feature, JsonType, Member, ObjectType, Variant,
};
use crate::names::c_name;
use crate::schema::{Builder, Pending, Seen, State};

/// Members seen so far, by C name, for clash detection.
type SeenMap = HashMap<String, Seen>;

impl Builder<'_> {
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

    fn span(&self, id: EntityId) -> crate::source::Span {
        self.entities[id.index()]
            .span
            .expect("only predefined entities lack a span, and they are never checked")
    }

    /// QEMU's `describe()` of a type, command or event.
    pub(crate) fn describe(&self, id: EntityId) -> String {
        let name = &self.entities[id.index()].name;
        match self.metas[id.index()] {
            "array" => format!(
                "array type ['{}']",
                name.strip_suffix("List").unwrap_or(name)
            ),
            meta @ ("command" | "event") => format!("{meta} '{name}'"),
            meta => format!("{meta} type '{name}'"),
        }
    }

    /// QEMU's `QAPISchemaMember.describe()`, relative to the definition
    /// being checked.
    fn describe_member(&self, seen: &Seen, current: EntityId) -> String {
        let mut role = seen.role.to_string();
        let mut meta = "type";
        let mut defined_in = self.entities[seen.defined_in.index()].name.as_str();
        if let Some(implicit) = defined_in.strip_prefix("q_obj_") {
            if let Some(owner) = implicit.strip_suffix("-arg") {
                role = "parameter".to_string();
                meta = "command";
                defined_in = owner;
            } else if let Some(owner) = implicit.strip_suffix("-base") {
                role = format!("base {role}");
                defined_in = owner;
            }
        }
        let current_name = self.contexts[current.index()]
            .as_ref()
            .map_or("", |c| c.name.as_str());
        if defined_in != current_name {
            format!("{role} '{}' of {meta} '{defined_in}'", seen.name)
        } else {
            format!("{role} '{}'", seen.name)
        }
    }

    /// Adds `seen` to the map, reporting a clash of C names.
    fn clash(&mut self, current: EntityId, at: crate::source::Span, map: &mut SeenMap, seen: Seen) {
        let key = c_name(&seen.name);
        if let Some(previous) = map.get(&key) {
            let message = format!(
                "{} collides with {}",
                self.describe_member(&seen, current),
                self.describe_member(previous, current)
            );
            self.error(current, Diagnostic::error(at, message));
            return;
        }
        map.insert(key, seen);
    }

    /// Resolves a type name; `what` says who uses it.
    fn resolve(&mut self, current: EntityId, name: &Name, what: &str) -> Option<EntityId> {
        let found = self
            .by_name
            .get(&name.name)
            .copied()
            .filter(|id| !matches!(self.metas[id.index()], "command" | "event"));
        if found.is_none() {
            let message = format!("{what} uses unknown type '{}'", name.name);
            self.error(current, Diagnostic::error(name.span, message));
        }
        found
    }

    /// Checks the features of a definition: no clash, none special on types.
    fn check_features(
        &mut self,
        id: EntityId,
        features: &[Feature],
        owner: EntityId,
        is_type: bool,
    ) {
        let mut map = SeenMap::new();
        for feature in features {
            let seen = Seen {
                role: "feature",
                name: feature.name.clone(),
                defined_in: owner,
            };
            self.clash(id, feature.span, &mut map, seen);
            if is_type && feature.is_special() {
                let message = format!("feature '{}' is not supported for types", feature.name);
                self.error(id, Diagnostic::error(feature.span, message));
            }
        }
    }

    /// Checks one entity (once), resolving its references.
    pub(crate) fn check(&mut self, id: EntityId) {
        match self.states[id.index()] {
            State::Done => return,
            State::InProgress => {
                let message = format!("object {} contains itself", self.entities[id.index()].name);
                let span = self.span(id);
                self.error(id, Diagnostic::error(span, message));
                return;
            }
            State::Unchecked => {}
        }
        self.states[id.index()] = State::InProgress;
        let pending = self.pending[id.index()].take();
        let features = self.entities[id.index()].features.clone();
        let is_type = !matches!(self.metas[id.index()], "command" | "event");
        self.check_features(id, &features, id, is_type);
        match pending {
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

    fn check_enum(&mut self, id: EntityId) {
        let Some(values) = self.entities[id.index()]
            .as_enum()
            .map(|e| e.values.clone())
        else {
            return;
        };
        let mut map = SeenMap::new();
        for value in &values {
            let seen = Seen {
                role: "value",
                name: value.name.clone(),
                defined_in: id,
            };
            let at = value.span.unwrap_or_else(|| self.span(id));
            self.clash(id, at, &mut map, seen);
        }
    }

    fn check_array(&mut self, id: EntityId, element: &Name) {
        let what = self.contexts[id.index()]
            .as_ref()
            .map_or("array", |c| c.meta);
        let Some(element_id) = self.resolve(id, element, what) else {
            return;
        };
        if self.metas[element_id.index()] == "array" {
            let message = format!("{what} uses an array of arrays, which QAPI cannot express");
            self.error(id, Diagnostic::error(element.span, message));
            return;
        }
        self.entities[id.index()].kind = EntityKind::Array(crate::model::ArrayType {
            element: element_id,
        });
    }

    fn member_seen(member: &Member) -> Seen {
        Seen {
            role: "member",
            name: member.name.clone(),
            defined_in: member.defined_in,
        }
    }

    fn check_object(
        &mut self,
        id: EntityId,
        base: Option<Name>,
        local: Vec<MemberDef>,
        union: Option<(Name, Vec<BranchDef>)>,
    ) {
        let mut map = SeenMap::new();
        let mut members: Vec<Member> = Vec::new();
        let mut base_id = None;
        if let Some(base) = &base {
            if let Some(b) = self.resolve(id, base, "'base'") {
                if self.metas[b.index()] != "struct" {
                    let message =
                        format!("'base' requires a struct type, {} isn't", self.describe(b));
                    self.error(id, Diagnostic::error(base.span, message));
                } else {
                    self.check(b);
                    let inherited = self.entities[b.index()]
                        .as_object()
                        .map(|o| o.members.clone())
                        .unwrap_or_default();
                    for m in &inherited {
                        self.clash(id, base.span, &mut map, Self::member_seen(m));
                    }
                    members.extend(inherited);
                    base_id = Some(b);
                }
            }
        }
        let mut local_members = Vec::with_capacity(local.len());
        for def in local {
            let seen = Seen {
                role: "member",
                name: def.name.clone(),
                defined_in: id,
            };
            let what = self.describe_member(&seen, id);
            let TypeRef::Named(ty_name) = &def.ty else {
                unreachable!("array member types are named when defined")
            };
            let ty = self.resolve(id, ty_name, &what).unwrap_or(self.empty);
            let mut features = SeenMap::new();
            for f in &def.features {
                let seen = Seen {
                    role: "feature",
                    name: f.name.clone(),
                    defined_in: id,
                };
                self.clash(id, f.span, &mut features, seen);
            }
            self.clash(id, def.span, &mut map, seen);
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
        members.extend(local_members.iter().cloned());
        let branches = union.and_then(|(tag, branches)| {
            self.check_branches(id, base_id, &members, &tag, branches, &mut map)
        });
        self.entities[id.index()].kind = EntityKind::Object(ObjectType {
            base: base_id,
            local_members,
            members,
            branches,
            implicit_for: self.entities[id.index()]
                .as_object()
                .and_then(|o| o.implicit_for),
        });
    }

    fn check_branches(
        &mut self,
        id: EntityId,
        base_id: Option<EntityId>,
        members: &[Member],
        tag: &Name,
        branches: Vec<BranchDef>,
        map: &mut SeenMap,
    ) -> Option<Branches> {
        let union_span = self.span(id);
        let tag_member = map
            .get(&c_name(&tag.name))
            .filter(|seen| seen.name == tag.name)
            .and_then(|_| members.iter().find(|m| m.name == tag.name))
            .cloned();
        let Some(tag_member) = tag_member else {
            let message = format!("discriminator '{}' is not a member of 'base'", tag.name);
            self.error(id, Diagnostic::error(tag.span, message));
            return None;
        };
        let base_desc = match base_id {
            Some(b) if !self.entities[b.index()].name.starts_with("q_") => {
                format!("base type '{}'", self.entities[b.index()].name)
            }
            _ => "'base'".to_string(),
        };
        let tag_values = match &self.entities[tag_member.ty.index()].kind {
            EntityKind::Enum(e) => e.values.clone(),
            _ => {
                let message = format!(
                    "discriminator member '{}' of {base_desc} must be of enum type",
                    tag.name
                );
                self.error(id, Diagnostic::error(tag.span, message));
                return None;
            }
        };
        if tag_member.optional {
            let message = format!(
                "discriminator member '{}' of {base_desc} must not be optional",
                tag.name
            );
            self.error(id, Diagnostic::error(tag.span, message));
            return None;
        }
        if tag_member.cond.is_some() {
            let message = format!(
                "discriminator member '{}' of {base_desc} must not be conditional",
                tag.name
            );
            self.error(id, Diagnostic::error(tag.span, message));
            return None;
        }
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
        let tag_type_desc = self.describe(tag_member.ty);
        let mut ok = true;
        for (variant, ty_name) in &mut variants {
            let Some(ty_name) = ty_name else { continue };
            let what = format!("branch '{}'", variant.name);
            let Some(ty) = self.resolve(id, ty_name, &what) else {
                ok = false;
                continue;
            };
            variant.ty = ty;
            if !tag_values.iter().any(|v| v.name == variant.name) {
                let message = format!(
                    "branch '{}' is not a value of {tag_type_desc}",
                    variant.name
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
            self.check(ty);
        }
        if ok {
            for (variant, _) in &variants {
                let mut branch_map = map.clone();
                self.clash_object(id, variant.ty, variant.span, &mut branch_map);
            }
        }
        Some(Branches {
            tag: tag.name.clone(),
            tag_type: tag_member.ty,
            variants: variants.into_iter().map(|(v, _)| v).collect(),
        })
    }

    /// Adds an object's members (and its branches' members) to `map`.
    fn clash_object(
        &mut self,
        current: EntityId,
        object: EntityId,
        at: crate::source::Span,
        map: &mut SeenMap,
    ) {
        let Some(o) = self.entities[object.index()].as_object().cloned() else {
            return;
        };
        for m in &o.members {
            self.clash(current, at, map, Self::member_seen(m));
        }
        if let Some(branches) = &o.branches {
            for v in &branches.variants {
                let mut branch_map = map.clone();
                self.clash_object(current, v.ty, at, &mut branch_map);
            }
        }
    }

    fn check_alternate(&mut self, id: EntityId, branches: Vec<BranchDef>) {
        let mut variants = Vec::with_capacity(branches.len());
        let mut map = SeenMap::new();
        let mut types_seen: HashMap<JsonType, String> = HashMap::new();
        for branch in branches {
            let TypeRef::Named(ty_name) = &branch.ty else {
                unreachable!("branch types are named when defined")
            };
            let what = format!("branch '{}'", branch.name);
            let Some(ty) = self.resolve(id, ty_name, &what) else {
                continue;
            };
            self.check(ty);
            let seen = Seen {
                role: "branch",
                name: branch.name.clone(),
                defined_in: id,
            };
            self.clash(id, branch.span, &mut map, seen);
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
                        if e.values.iter().any(|v| {
                            v.name.starts_with([
                                '-', '+', '.', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9',
                            ])
                        }) {
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
        self.entities[id.index()].kind =
            EntityKind::Alternate(crate::model::AlternateType { variants });
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
        let ty = self.resolve(id, arg, &what)?;
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
        let conditional = self.entities[ty.index()]
            .as_object()
            .is_some_and(|o| o.members.iter().any(|m| m.cond.is_some()));
        if conditional && !boxed {
            let message = format!("conditional {meta} arguments require 'boxed': true");
            self.error(id, Diagnostic::error(arg.span, message));
        }
        Some(ty)
    }

    fn check_returns(&mut self, id: EntityId, ret: &Name) -> Option<EntityId> {
        let ty = self.resolve(id, ret, "command's 'returns'")?;
        self.check(ty);
        let name = &self.entities[id.index()].name;
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

    /// Connects a definition's doc comment to what it documents.
    pub(crate) fn connect_doc(&mut self, id: EntityId) {
        let entity = &self.entities[id.index()];
        if entity.doc.is_none() || entity.is_implicit() {
            return;
        }
        let features = entity.features.clone();
        let mut documented: Vec<(&'static str, String, crate::source::Span, Vec<Feature>)> =
            Vec::new();
        let mut push_members = |members: &[Member]| {
            for m in members {
                documented.push(("member", m.name.clone(), m.span, m.features.clone()));
            }
        };
        match &entity.kind {
            EntityKind::Enum(e) => {
                for v in &e.values {
                    let span = v.span.expect("explicit enums have spans");
                    documented.push(("value", v.name.clone(), span, v.features.clone()));
                }
            }
            EntityKind::Object(o) => {
                if let Some(base) = o.base.filter(|b| self.entities[b.index()].is_implicit()) {
                    if let Some(bo) = self.entities[base.index()].as_object() {
                        push_members(&bo.local_members);
                    }
                }
                push_members(&o.local_members);
            }
            EntityKind::Alternate(a) => {
                for v in &a.variants {
                    documented.push(("branch", v.name.clone(), v.span, Vec::new()));
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
                let arg_entity = &self.entities[arg.index()];
                if arg_entity.is_implicit() {
                    if let Some(o) = arg_entity.as_object() {
                        push_members(&o.local_members);
                    }
                }
            }
            _ => {}
        }
        for f in &features {
            self.connect_feature(id, f);
        }
        for (role, name, span, member_features) in documented {
            self.connect_member(id, role, &name, span);
            for f in &member_features {
                self.connect_feature(id, f);
            }
        }
    }

    fn connect_member(&mut self, id: EntityId, role: &str, name: &str, span: crate::source::Span) {
        let doc = self.entities[id.index()]
            .doc
            .as_ref()
            .expect("checked by caller");
        if doc.member(name).is_none() {
            let symbol = doc.symbol.clone().unwrap_or_default();
            if !self.pragma.documentation_exceptions.contains(&symbol) {
                let message = format!("{role} '{name}' lacks documentation");
                self.doc_problem(id, Diagnostic::doc(span, message));
            }
        }
        self.connected[id.index()].0.insert(name.to_string());
    }

    fn connect_feature(&mut self, id: EntityId, feature: &Feature) {
        let doc = self.entities[id.index()]
            .doc
            .as_ref()
            .expect("checked by caller");
        if doc.feature(&feature.name).is_none() {
            let message = format!("feature '{}' lacks documentation", feature.name);
            self.doc_problem(id, Diagnostic::doc(feature.span, message));
        }
        self.connected[id.index()].1.insert(feature.name.clone());
    }

    /// Reports descriptions of members and features that do not exist.
    pub(crate) fn check_docs(&mut self) {
        for index in 0..self.entities.len() {
            let id = EntityId(index as u32);
            let Some(doc) = &self.entities[index].doc else {
                continue;
            };
            let (members, features) = &self.connected[index];
            let mut problems = Vec::new();
            for (what, feature) in [("member", false), ("feature", true)] {
                let bogus: Vec<&crate::doc::Section> = doc
                    .sections
                    .iter()
                    .filter(|s| match &s.kind {
                        SectionKind::Member(n) if !feature => !members.contains(n),
                        SectionKind::Feature(n) if feature => !features.contains(n),
                        _ => false,
                    })
                    .collect();
                let Some(first) = bogus.first() else { continue };
                let names: Vec<String> = bogus
                    .iter()
                    .map(|s| match &s.kind {
                        SectionKind::Member(n) | SectionKind::Feature(n) => n.clone(),
                        _ => String::new(),
                    })
                    .collect();
                let message = if names.len() > 1 {
                    format!("documented {what}s '{}' do not exist", names.join("', '"))
                } else {
                    format!("documented {what} '{}' does not exist", names[0])
                };
                problems.push(Diagnostic::doc(first.span, message));
            }
            for problem in problems {
                self.doc_problem(id, problem);
            }
        }
    }
}
