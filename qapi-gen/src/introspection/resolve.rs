//! A schema source cut down to what one QEMU build exposes, as its
//! introspection shows.
//!
//! The source holds every definition, member, value, branch and feature
//! of every build, those of some builds under `if` conditions. Pairing the
//! source with the introspection (commands and events by name, types by
//! following both from there: members by name, branches by case,
//! alternatives by JSON kind) shows which of them this build has: what the
//! introspection lacks is left out, what it has loses its condition, and
//! definitions no command or event of the build reaches are left out. The
//! docs, names and exact integer types still come from the source.
//!
//! The introspection's side is resolved as the run-time check of bindings
//! resolves it ([`qapi_types::schema::ServerTypes`]). The pairing rules
//! differ by job: the check pairs in the direction values travel and
//! reports what breaks; this pairs what is present, first come first
//! paired; the schema diff (`compare::compatibility`) compares two
//! schemas, not a schema with an introspection.

use std::collections::{HashMap, HashSet, VecDeque};

use qapi_types::qmp::SchemaInfoBranch;
use qapi_types::schema::{ServerType, ServerTypes};

use crate::introspection::introspect::Introspection;
use crate::model::{EntityId, EntityKind, Feature, JsonType, Schema};

/// The source cut down to what the introspected build exposes, and where
/// the two disagree beyond conditions (a schema of another QEMU version).
pub(crate) fn resolve(source: &Schema, intro: &Introspection) -> (Schema, Vec<String>) {
    let (pairing, roots) = pair(source, intro);
    let schema = pairing.apply();
    (schema.retain(roots), pairing.notes)
}

/// The source's names of the server's types, by server name: for the
/// named types (not builtins, arrays or implicit objects) that pair up.
pub(crate) fn type_names(source: &Schema, intro: &Introspection) -> HashMap<String, String> {
    let (pairing, _) = pair(source, intro);
    pairing
        .paired
        .iter()
        .filter(|(id, _)| {
            let entity = source.entity(**id);
            !entity.is_implicit()
                && matches!(
                    entity.kind,
                    EntityKind::Object(_) | EntityKind::Enum(_) | EntityKind::Alternate(_)
                )
        })
        .map(|(id, server)| (server.to_string(), source.entity(*id).name.clone()))
        .collect()
}

/// Walks the source and the introspection side by side from the commands
/// and events both have, which it returns.
fn pair<'a>(source: &'a Schema, intro: &'a Introspection) -> (Pairing<'a>, Vec<EntityId>) {
    let mut pairing = Pairing {
        source,
        intro,
        server: ServerTypes::new(intro.infos()),
        paired: HashMap::new(),
        members: HashMap::new(),
        values: HashMap::new(),
        variants: HashMap::new(),
        features: HashMap::new(),
        allow_oob: HashMap::new(),
        notes: Vec::new(),
        queue: VecDeque::new(),
    };
    let mut roots = Vec::new();
    for id in source.definitions() {
        let entity = source.entity(id);
        if !matches!(entity.kind, EntityKind::Command(_) | EntityKind::Event(_)) {
            continue;
        }
        match intro.get(&entity.name) {
            Some(info) => {
                roots.push(id);
                pairing.queue.push_back((id, info.name.as_str()));
            }
            None if entity.cond.is_none() => pairing.notes.push(format!(
                "{} '{}' is in the schema but not on the server: left out",
                entity.meta(),
                entity.name
            )),
            None => {}
        }
    }
    for info in intro.infos() {
        if matches!(
            info.meta_type,
            SchemaInfoBranch::Command(_) | SchemaInfoBranch::Event(_)
        ) && source.lookup(&info.name).is_none()
        {
            pairing.notes.push(format!(
                "the server's {} '{}' is not in the schema: the bindings lack it",
                info.meta_type.meta_type_name(),
                info.name
            ));
        }
    }
    while let Some((id, name)) = pairing.queue.pop_front() {
        pairing.pair(id, name);
    }
    (pairing, roots)
}

/// How notes name a source entity: `struct 'Foo'`, `the arguments of
/// command 'x'` (not the implicit object's internal name).
fn shown(source: &Schema, id: EntityId) -> String {
    let entity = source.entity(id);
    if let Some(owner) = entity.as_object().and_then(|o| o.implicit_for) {
        let owner = source.entity(owner);
        let what = match &owner.kind {
            EntityKind::Command(_) => "the arguments of",
            EntityKind::Event(_) => "the data of",
            _ => "the base of",
        };
        return format!("{what} {} '{}'", owner.meta(), owner.name);
    }
    format!("{} '{}'", entity.meta(), entity.name)
}

/// What is present, found by walking the source and the introspection
/// side by side.
struct Pairing<'a> {
    source: &'a Schema,
    intro: &'a Introspection,
    /// The introspection's types, resolved by name.
    server: ServerTypes<'a>,
    /// Source entities paired with server entities.
    paired: HashMap<EntityId, &'a str>,
    /// Present members, by the object declaring them.
    members: HashMap<EntityId, HashSet<&'a str>>,
    /// Present enum values.
    values: HashMap<EntityId, HashSet<&'a str>>,
    /// Present union branches and alternatives.
    variants: HashMap<EntityId, HashSet<String>>,
    /// Features the server reports: of a definition (`None`), or of a
    /// member or enum value.
    features: HashMap<(EntityId, Option<String>), HashSet<&'a str>>,
    /// What the server says of out-of-band execution.
    allow_oob: HashMap<EntityId, bool>,
    notes: Vec<String>,
    /// Pairs to look at, in the order they were found (the source's
    /// order, breadth first: a type used by several commands pairs with
    /// the first command's).
    queue: VecDeque<(EntityId, &'a str)>,
}

impl<'a> Pairing<'a> {
    fn note_features(&mut self, id: EntityId, of: Option<&str>, features: &'a Option<Vec<String>>) {
        let set = features.iter().flatten().map(String::as_str).collect();
        self.features.insert((id, of.map(str::to_string)), set);
    }

    fn pair(&mut self, id: EntityId, name: &'a str) {
        let source = self.source;
        let intro: &'a Introspection = self.intro;
        if let Some(previous) = self.paired.insert(id, name) {
            if previous != name && !same_builtin(intro, previous, name) {
                self.notes.push(format!(
                    "{} stands for more than one server type: the schema and the server differ",
                    shown(source, id)
                ));
            }
            return;
        }
        let Some(info) = intro.get(name) else {
            self.notes.push(format!(
                "the server names type '{name}' but does not describe it"
            ));
            return;
        };
        let entity = source.entity(id);
        self.note_features(id, None, &info.features);
        match (&entity.kind, &info.meta_type) {
            (EntityKind::Command(c), SchemaInfoBranch::Command(i)) => {
                self.allow_oob.insert(id, i.allow_oob == Some(true));
                if c.allow_oob != (i.allow_oob == Some(true)) {
                    self.notes.push(format!(
                        "command '{}': allow-oob differs: the server's is used",
                        entity.name
                    ));
                }
                self.pair_optional(&entity.name, c.arg_type, &i.arg_type);
                self.pair_optional(&entity.name, c.ret_type, &i.ret_type);
            }
            (EntityKind::Event(e), SchemaInfoBranch::Event(i)) => {
                self.pair_optional(&entity.name, e.arg_type, &i.arg_type);
            }
            (EntityKind::Object(o), SchemaInfoBranch::Object(i)) => {
                let by_name: HashMap<&str, _> =
                    i.members.iter().map(|m| (m.name.as_str(), m)).collect();
                for member in source.members(id) {
                    match by_name.get(member.name.as_str()) {
                        Some(m) => {
                            self.members
                                .entry(member.defined_in)
                                .or_default()
                                .insert(&m.name);
                            self.note_features(member.defined_in, Some(&member.name), &m.features);
                            self.queue.push_back((member.ty, &m.r#type));
                        }
                        None if member.cond.is_none() => self.notes.push(format!(
                            "member '{}' of {} is not on the server: left out",
                            member.name,
                            shown(source, id)
                        )),
                        None => {}
                    }
                }
                // Objects reached only as bases have their members noted
                // through the objects built on them; an object whose
                // members are all absent still counts as examined.
                let mut base = Some(id);
                while let Some(b) = base {
                    self.members.entry(b).or_default();
                    base = source.entity(b).as_object().and_then(|o| o.base);
                }
                for m in &i.members {
                    if !source.members(id).iter().any(|s| s.name == m.name) {
                        self.notes.push(format!(
                            "the server has member '{}' in {}, which the schema lacks",
                            m.name,
                            shown(source, id)
                        ));
                    }
                }
                if o.branches.as_ref().map(|b| b.tag.as_str()) != i.tag.as_deref() {
                    self.notes.push(format!(
                        "{}: the server's discriminator is {}",
                        shown(source, id),
                        i.tag.as_deref().map_or("none".into(), |t| format!("'{t}'"))
                    ));
                }
                if let Some(branches) = &o.branches {
                    let cases: HashMap<&str, &str> = i
                        .variants
                        .iter()
                        .flatten()
                        .map(|v| (v.case.as_str(), v.r#type.as_str()))
                        .collect();
                    let present = self.variants.entry(id).or_default();
                    let mut pairs = Vec::new();
                    for variant in &branches.variants {
                        if let Some(&ty) = cases.get(variant.name.as_str()) {
                            present.insert(variant.name.clone());
                            pairs.push((variant.ty, ty));
                        }
                    }
                    self.queue.extend(pairs);
                }
            }
            (EntityKind::Enum(e), SchemaInfoBranch::Enum(i)) => {
                let present = self.values.entry(id).or_default();
                for value in i.members.iter().flatten() {
                    present.insert(&value.name);
                }
                for value in i.members.iter().flatten() {
                    self.note_features(id, Some(&value.name), &value.features);
                    if !e.values.iter().any(|v| v.name == value.name) {
                        self.notes.push(format!(
                            "the server has value '{}' in {}, which the schema lacks",
                            value.name,
                            shown(source, id)
                        ));
                    }
                }
            }
            (EntityKind::Array(a), SchemaInfoBranch::Array(i)) => {
                self.queue.push_back((a.element, &i.element_type));
            }
            (EntityKind::Alternate(a), SchemaInfoBranch::Alternate(i)) => {
                let mut unused: Vec<&'a str> =
                    i.members.iter().map(|m| m.r#type.as_str()).collect();
                let present = self.variants.entry(id).or_default();
                let mut pairs = Vec::new();
                for variant in &a.variants {
                    let want = source_kind(source, variant.ty);
                    if let Some(pos) = unused
                        .iter()
                        .position(|t| server_kind(&self.server, t) == want)
                    {
                        present.insert(variant.name.clone());
                        pairs.push((variant.ty, unused.remove(pos)));
                    }
                }
                self.queue.extend(pairs);
            }
            (EntityKind::Builtin(b), SchemaInfoBranch::Builtin(i)) => {
                if Some(b.json_type()) != JsonType::from_introspection(&i.json_type) {
                    self.notes.push(format!(
                        "'{}' is a {} on the server",
                        b.name(),
                        JsonType::from_introspection(&i.json_type)
                            .map_or("type of another kind", JsonType::name)
                    ));
                }
            }
            _ => self.notes.push(format!(
                "{} is {} on the server",
                shown(source, id),
                crate::frontend::diagnostic::article(info.meta_type.meta_type_name())
            )),
        }
    }

    /// Pairs a command's or event's argument or return type, which the
    /// source leaves out (`None`) where the server names an empty object.
    fn pair_optional(&mut self, owner: &str, id: Option<EntityId>, name: &'a str) {
        match id {
            Some(id) => self.queue.push_back((id, name)),
            None if self.intro.is_empty_object(name) => {}
            None => self.notes.push(format!(
                "'{owner}': the server has arguments, data or a return value the schema lacks"
            )),
        }
    }

    /// The source with what the server lacks left out and conditions
    /// dropped.
    fn apply(&self) -> Schema {
        let mut schema = self.source.clone();
        let keep_features = |features: &mut Vec<Feature>, key: (EntityId, Option<String>)| {
            let reported = self.features.get(&key);
            features.retain(|f| {
                f.cond.is_none() || reported.is_some_and(|r| r.contains(f.name.as_str()))
            });
            for feature in features.iter_mut() {
                feature.cond = None;
            }
        };
        for (index, entity) in schema.entities.values_mut().enumerate() {
            let id = EntityId(index as u32);
            if !self.paired.contains_key(&id) && !self.members.contains_key(&id) {
                continue;
            }
            entity.cond = None;
            keep_features(&mut entity.features, (id, None));
            match &mut entity.kind {
                EntityKind::Object(o) => {
                    // What could not be paired keeps only what every build has.
                    match self.members.get(&id) {
                        Some(present) => o
                            .local_members
                            .retain(|m| present.contains(m.name.as_str())),
                        None => o.local_members.retain(|m| m.cond.is_none()),
                    }
                    for member in &mut o.local_members {
                        member.cond = None;
                        keep_features(&mut member.features, (id, Some(member.name.clone())));
                    }
                    if let Some(branches) = &mut o.branches {
                        match self.variants.get(&id) {
                            Some(present) => {
                                branches.variants.retain(|v| present.contains(&v.name))
                            }
                            None => branches.variants.retain(|v| v.cond.is_none()),
                        }
                        for variant in &mut branches.variants {
                            variant.cond = None;
                        }
                    }
                }
                EntityKind::Enum(e) => {
                    match self.values.get(&id) {
                        Some(present) => e.values.retain(|v| present.contains(v.name.as_str())),
                        None => e.values.retain(|v| v.cond.is_none()),
                    }
                    for value in &mut e.values {
                        value.cond = None;
                        keep_features(&mut value.features, (id, Some(value.name.clone())));
                    }
                }
                EntityKind::Alternate(a) => {
                    match self.variants.get(&id) {
                        Some(present) => a.variants.retain(|v| present.contains(&v.name)),
                        None => a.variants.retain(|v| v.cond.is_none()),
                    }
                    for variant in &mut a.variants {
                        variant.cond = None;
                    }
                }
                EntityKind::Command(c) => {
                    if let Some(&oob) = self.allow_oob.get(&id) {
                        c.allow_oob = oob;
                    }
                }
                _ => {}
            }
        }
        schema
    }
}

/// Builtins of the same JSON type are one on the server (`int` for every
/// integer type).
fn same_builtin(intro: &Introspection, a: &str, b: &str) -> bool {
    intro.builtin(a).is_some() && intro.builtin(a) == intro.builtin(b)
}

/// How a source type appears on the wire, as alternates tell their
/// alternatives apart (integers are numbers).
fn source_kind(schema: &Schema, id: EntityId) -> Option<JsonType> {
    Some(match &schema.entity(id).kind {
        EntityKind::Builtin(b) => match b.json_type() {
            JsonType::Int => JsonType::Number,
            other => other,
        },
        EntityKind::Enum(_) => JsonType::String,
        EntityKind::Array(_) => JsonType::Array,
        EntityKind::Object(_) => JsonType::Object,
        _ => return None,
    })
}

/// How a server type appears on the wire: the same, for the types an
/// alternative can be.
fn server_kind(server: &ServerTypes<'_>, name: &str) -> Option<JsonType> {
    match server.resolve(name) {
        ServerType::Alternate(_) | ServerType::Unrecognized(_) => None,
        other => JsonType::from_introspection(&other.json()),
    }
}
