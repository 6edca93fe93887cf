//! A QAPI schema rebuilt from an [`Introspection`], so that bindings can be
//! generated for the QEMU a user runs without its schema source.
//!
//! Commands and events keep their names. The server masks type names, so
//! each type is named after its first use, visiting commands and then
//! events in name order and, from there, breadth first:
//!
//! - arguments (or event data) are written inline, as the schema source
//!   mostly writes them, even where several commands share them (so that a
//!   command keeps its fields when a newer QEMU shares its arguments);
//!   unions, and objects with members whose names QAPI only allows by
//!   exception (`SIZE_MB`), are named `{Command}Arguments` (`{Event}Data`);
//! - a command's return type is `{Command}Return`; for an array, its
//!   element is `{Command}Item`;
//! - the type of member `m` of type `P` is `{P}{M}` (for an array, its
//!   element), with `P` the command's or event's name for inline
//!   arguments;
//! - union branch `c` of `P` is `{P}{C}`; an alternate's alternative is
//!   `{P}{Kind}`, its branch named after its JSON kind (`string`, `int`,
//!   `object`...).
//!
//! A name already taken gets a number. Names the server did not mask (a
//! QEMU built to show them) are kept, but for arguments, which are
//! written inline all the same. A name depends only on the uses of
//! its type, not on the server's numbering or order, so it stays put when
//! the server gains definitions, unless one of them uses the type before
//! its old first use.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt::Write as _;

use qapi_types::qmp::{SchemaInfo, SchemaInfoBranch, SchemaInfoObject};

use crate::introspection::introspect::Introspection;
use crate::model::JsonType;
use crate::rust::ident;

/// Rebuilds a QAPI schema (in QAPI's own syntax) from an introspection.
pub(crate) fn reconstruct(intro: &Introspection) -> Result<String, String> {
    reconstruct_named(intro, &HashMap::new())
}

/// Like [`reconstruct`], with the names of `preferred` (by server name)
/// for the types it names: kept from an earlier introspection of the same
/// QEMU's interface, so that names stay put across upgrades.
pub(crate) fn reconstruct_named(
    intro: &Introspection,
    preferred: &HashMap<String, String>,
) -> Result<String, String> {
    let mut commands: Vec<&SchemaInfo> = Vec::new();
    let mut events: Vec<&SchemaInfo> = Vec::new();
    for info in intro.infos() {
        check_names(info)?;
        match &info.meta_type {
            SchemaInfoBranch::Command(_) => commands.push(info),
            SchemaInfoBranch::Event(_) => events.push(info),
            _ => {}
        }
    }
    commands.sort_by(|a, b| a.name.cmp(&b.name));
    events.sort_by(|a, b| a.name.cmp(&b.name));
    let mut namer = Namer::new(intro);
    for name in preferred.values() {
        check_name(name)?;
    }
    namer.preferred = preferred
        .iter()
        .filter(|(server, name)| intro.get(server).is_some() && is_real_type_name(name))
        .map(|(server, name)| (server.as_str(), name.as_str()))
        .collect();
    // Preferred names are reserved for their types.
    namer
        .taken
        .extend(namer.preferred.values().map(|n| n.to_string()));
    for info in intro.infos() {
        if matches!(
            info.meta_type,
            SchemaInfoBranch::Command(_) | SchemaInfoBranch::Event(_)
        ) {
            namer.taken.insert(info.name.clone());
        }
    }
    for info in commands.iter().chain(&events) {
        namer.root(info);
    }
    while let Some(name) = namer.queue.pop_front() {
        namer.visit(name);
    }
    let mut out = Emitter::default();
    for &name in &namer.order {
        out.ty(&namer, name)?;
    }
    for info in commands.iter().chain(&events) {
        out.root(&namer, info)?;
    }
    Ok(out.finish())
}

/// Names may only hold characters QAPI names are made of, so that the
/// schema text needs no escapes.
fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.+[]".contains(&b))
    {
        return Err(format!("'{name}' is not a QAPI name"));
    }
    Ok(())
}

/// Checks every name an entity holds (its own, its members', values',
/// cases', tag's and features', and the types it names) with
/// [`check_name`]: they are written into the schema text.
fn check_names(info: &SchemaInfo) -> Result<(), String> {
    fn features(f: &Option<Vec<String>>) -> impl Iterator<Item = &str> {
        f.iter().flatten().map(String::as_str)
    }
    let mut names: Vec<&str> = vec![&info.name];
    names.extend(features(&info.features));
    match &info.meta_type {
        SchemaInfoBranch::Enum(e) => {
            for value in e.members.iter().flatten() {
                names.push(&value.name);
                names.extend(features(&value.features));
            }
        }
        SchemaInfoBranch::Array(a) => names.push(&a.element_type),
        SchemaInfoBranch::Object(o) => {
            for member in &o.members {
                names.extend([member.name.as_str(), member.r#type.as_str()]);
                names.extend(features(&member.features));
            }
            names.extend(o.tag.as_deref());
            for variant in o.variants.iter().flatten() {
                names.extend([variant.case.as_str(), variant.r#type.as_str()]);
            }
        }
        SchemaInfoBranch::Alternate(a) => names.extend(a.members.iter().map(|m| m.r#type.as_str())),
        SchemaInfoBranch::Command(c) => names.extend([c.arg_type.as_str(), c.ret_type.as_str()]),
        SchemaInfoBranch::Event(e) => names.push(&e.arg_type),
        _ => {}
    }
    names.into_iter().try_for_each(check_name)?;
    check_shape(info)
}

/// What QAPI would reject in the rebuilt schema, said of the server's
/// entity (whose name the user can find in the introspection) rather
/// than of the rebuilt text: duplicate or invalid member, value and case
/// names, branches without a discriminator.
fn check_shape(info: &SchemaInfo) -> Result<(), String> {
    let what = |detail: String| format!("the server's '{}': {detail}", info.name);
    let unique = |kind: &str, names: Vec<&str>| -> Result<(), String> {
        let mut seen = HashSet::new();
        for name in names {
            // Enum values (and so branches) may start with a digit.
            let digit = kind != "member" && name.starts_with(|c: char| c.is_ascii_digit());
            let checked = if digit {
                format!("d{name}")
            } else {
                name.to_string()
            };
            if crate::frontend::names::stem(&checked).is_err() {
                return Err(what(format!("{kind} '{name}' is not a valid QAPI name")));
            }
            if !seen.insert(name) {
                return Err(what(format!("{kind} '{name}' is described twice")));
            }
        }
        Ok(())
    };
    match &info.meta_type {
        SchemaInfoBranch::Enum(e) => unique(
            "value",
            e.members
                .iter()
                .flatten()
                .map(|v| v.name.as_str())
                .collect(),
        ),
        SchemaInfoBranch::Object(o) => {
            unique(
                "member",
                o.members.iter().map(|m| m.name.as_str()).collect(),
            )?;
            let variants = o.variants.as_deref().unwrap_or_default();
            unique("branch", variants.iter().map(|v| v.case.as_str()).collect())?;
            match &o.tag {
                None if !variants.is_empty() => {
                    Err(what("branches without a discriminator ('tag')".into()))
                }
                Some(tag) if !o.members.iter().any(|m| m.name == *tag) => Err(what(format!(
                    "discriminator '{tag}' is not one of its members"
                ))),
                _ => Ok(()),
            }
        }
        _ => Ok(()),
    }
}

/// How an alternative is told apart on the wire, as a branch name.
fn kind(intro: &Introspection, name: &str) -> &'static str {
    match intro.get(name).map(|i| &i.meta_type) {
        Some(SchemaInfoBranch::Builtin(b)) => match JsonType::from_introspection(&b.json_type) {
            Some(
                json @ (JsonType::String
                | JsonType::Number
                | JsonType::Int
                | JsonType::Boolean
                | JsonType::Null),
            ) => json.name(),
            _ => "value",
        },
        Some(SchemaInfoBranch::Enum(_)) => "enum",
        Some(SchemaInfoBranch::Array(_)) => "array",
        _ => "object",
    }
}

/// Whether the server left `name` unmasked and it can be kept.
fn is_real_type_name(name: &str) -> bool {
    // `QType` is predefined: a server's type of that name is renamed.
    crate::frontend::names::check_camel(name).is_ok() && !name.ends_with("List") && name != "QType"
}

/// Whether a member or value name needs the `member-name-exceptions`
/// pragma.
fn needs_exception(name: &str) -> bool {
    name.bytes().any(|b| b.is_ascii_uppercase() || b == b'_')
}

/// The CamelCase form of a wire name, for derived names (`9p` → `9p`,
/// to follow its parent's name: `Fs9p`).
fn camel(name: &str) -> String {
    ident::camel_words(name).trim_start_matches('_').to_string()
}

/// Names for the masked types, decided before anything is written.
struct Namer<'a> {
    intro: &'a Introspection,
    /// QAPI names of object, enum and alternate types, by server name.
    names: HashMap<&'a str, String>,
    /// Why each type has its name, for its doc comment.
    origins: HashMap<&'a str, String>,
    /// Names in use.
    taken: HashSet<String>,
    /// Named types in naming order.
    order: Vec<&'a str>,
    /// Types not visited yet.
    queue: VecDeque<&'a str>,
    /// Arguments and event data written inline.
    inline: HashSet<&'a str>,
    /// Names to give types, by server name, before deriving any.
    preferred: HashMap<&'a str, &'a str>,
}

impl<'a> Namer<'a> {
    fn new(intro: &'a Introspection) -> Self {
        Self {
            intro,
            names: HashMap::new(),
            origins: HashMap::new(),
            taken: HashSet::new(),
            order: Vec::new(),
            queue: VecDeque::new(),
            inline: HashSet::new(),
            preferred: HashMap::new(),
        }
    }

    /// Names what a command or event uses.
    fn root(&mut self, info: &'a SchemaInfo) {
        let wire = info.name.as_str();
        let base = camel(wire);
        let (arg, ret) = match &info.meta_type {
            SchemaInfoBranch::Command(c) => (c.arg_type.as_str(), Some(c.ret_type.as_str())),
            SchemaInfoBranch::Event(e) => (e.arg_type.as_str(), None),
            _ => return,
        };
        let is_command = ret.is_some();
        if !self.intro.is_empty_object(arg) {
            match self.plain_object(arg) {
                // Written inline even where other commands or types use
                // the same object, so that a command's shape does not
                // change when a newer QEMU shares its arguments. QAPI has
                // no member-name exceptions for inline members.
                Some(object) if !object.members.iter().any(|m| needs_exception(&m.name)) => {
                    self.inline.insert(arg);
                    self.members(object, &base, wire);
                }
                _ => {
                    let (suffix, what) = if is_command {
                        ("Arguments", "Arguments")
                    } else {
                        ("Data", "Data")
                    };
                    self.name(
                        arg,
                        format!("{base}{suffix}"),
                        format!("{what} of @{wire}."),
                    );
                }
            }
        }
        if let Some(ret) = ret.filter(|r| !self.intro.is_empty_object(r)) {
            match self.intro.get(ret).map(|i| &i.meta_type) {
                Some(SchemaInfoBranch::Array(a)) => self.name(
                    &a.element_type,
                    format!("{base}Item"),
                    format!("An element of what @{wire} returns."),
                ),
                _ => self.name(
                    ret,
                    format!("{base}Return"),
                    format!("What @{wire} returns."),
                ),
            }
        }
    }

    /// The object `name`, if it is one without branches.
    fn plain_object(&self, name: &str) -> Option<&'a SchemaInfoObject> {
        let intro: &'a Introspection = self.intro;
        match &intro.get(name)?.meta_type {
            SchemaInfoBranch::Object(o) if o.variants.as_ref().is_none_or(|v| v.is_empty()) => {
                Some(o)
            }
            _ => None,
        }
    }

    /// Names the types of an object's members; `parent` is the object's
    /// QAPI name (or the command's or event's, for inline arguments).
    fn members(&mut self, object: &'a SchemaInfoObject, parent: &str, parent_wire: &str) {
        for member in &object.members {
            self.name(
                &member.r#type,
                format!("{parent}{}", camel(&member.name)),
                format!("The type of @{parent_wire}'s member '{}'.", member.name),
            );
        }
    }

    /// Gives `name` (or, for an array, its element) a name, unless it has
    /// one or is a builtin.
    fn name(&mut self, name: &'a str, suggestion: String, origin: String) {
        let intro: &'a Introspection = self.intro;
        let Some(mut info) = intro.get(name) else {
            return;
        };
        let mut name = name;
        if let SchemaInfoBranch::Array(a) = &info.meta_type {
            // QAPI has no arrays of arrays: `type_ref` rejects them.
            match intro.get(&a.element_type) {
                Some(element) if !matches!(element.meta_type, SchemaInfoBranch::Array(_)) => {
                    name = &a.element_type;
                    info = element;
                }
                _ => return,
            }
        }
        match &info.meta_type {
            SchemaInfoBranch::Object(_)
            | SchemaInfoBranch::Enum(_)
            | SchemaInfoBranch::Alternate(_) => {}
            _ => return,
        }
        if self.names.contains_key(name) {
            return;
        }
        let chosen = if let Some(preferred) = self.preferred.get(name) {
            preferred.to_string()
        } else if is_real_type_name(name) && !self.taken.contains(name) {
            name.to_string()
        } else {
            let mut candidate = if suggestion.ends_with("List") {
                format!("{suggestion}Type")
            } else {
                suggestion
            };
            if is_real_type_name(&candidate) {
                let stem = candidate.clone();
                let mut n = 2;
                while self.taken.contains(&candidate) {
                    candidate = format!("{stem}{n}");
                    n += 1;
                }
            } else {
                let mut n = 1;
                candidate = format!("Type{n}");
                while self.taken.contains(&candidate) {
                    n += 1;
                    candidate = format!("Type{n}");
                }
            }
            candidate
        };
        self.taken.insert(chosen.clone());
        self.names.insert(name, chosen);
        self.origins.insert(name, origin);
        self.order.push(name);
        self.queue.push_back(name);
    }

    /// Names what type `name` refers to.
    fn visit(&mut self, name: &'a str) {
        let intro: &'a Introspection = self.intro;
        let Some(info) = intro.get(name) else {
            return;
        };
        let parent = self.names[name].clone();
        match &info.meta_type {
            SchemaInfoBranch::Object(o) => {
                self.members(o, &parent, &parent);
                for variant in o.variants.iter().flatten() {
                    if !intro.is_empty_object(&variant.r#type) {
                        self.name(
                            &variant.r#type,
                            format!("{parent}{}", camel(&variant.case)),
                            format!("Branch '{}' of @{parent}.", variant.case),
                        );
                    }
                }
            }
            SchemaInfoBranch::Alternate(a) => {
                for member in &a.members {
                    let kind = kind(intro, &member.r#type);
                    self.name(
                        &member.r#type,
                        format!("{parent}{}", camel(kind)),
                        format!("The {kind} alternative of @{parent}."),
                    );
                }
            }
            _ => {}
        }
    }
}

/// A QAPI value: what the schema text is made of.
enum Q {
    Str(String),
    Bool(bool),
    List(Vec<Q>),
    Dict(Vec<(String, Q)>),
}

impl Q {
    fn str(s: impl Into<String>) -> Q {
        Q::Str(s.into())
    }

    fn write(&self, out: &mut String) {
        match self {
            Q::Str(s) => {
                let _ = write!(out, "'{s}'");
            }
            Q::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Q::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    out.push_str(if i == 0 { " " } else { ", " });
                    item.write(out);
                }
                out.push_str(" ]");
            }
            Q::Dict(entries) => {
                out.push('{');
                for (i, (key, value)) in entries.iter().enumerate() {
                    out.push_str(if i == 0 { " " } else { ", " });
                    let _ = write!(out, "'{key}': ");
                    value.write(out);
                }
                out.push_str(" }");
            }
        }
    }
}

/// The schema text and the pragma lists it needs.
#[derive(Default)]
struct Emitter {
    body: String,
    command_name_exceptions: Vec<String>,
    command_returns_exceptions: Vec<String>,
    member_name_exceptions: Vec<String>,
    documented: Vec<String>,
}

impl Emitter {
    fn finish(self) -> String {
        let list = |names: Vec<String>| Q::List(names.into_iter().map(Q::Str).collect());
        let pragma = Q::Dict(vec![(
            "pragma".into(),
            Q::Dict(vec![
                ("doc-required".into(), Q::Bool(false)),
                (
                    "command-name-exceptions".into(),
                    list(self.command_name_exceptions),
                ),
                (
                    "command-returns-exceptions".into(),
                    list(self.command_returns_exceptions),
                ),
                (
                    "member-name-exceptions".into(),
                    list(self.member_name_exceptions),
                ),
                ("documentation-exceptions".into(), list(self.documented)),
            ]),
        )]);
        let mut out = String::from("# Rebuilt from a query-qmp-schema reply by cargo qapi.\n\n");
        pragma.write(&mut out);
        out.push_str("\n\n");
        out.push_str(&self.body);
        out
    }

    /// A reference to type `name`.
    fn type_ref(namer: &Namer<'_>, name: &str) -> Result<Q, String> {
        let info = namer
            .intro
            .get(name)
            .ok_or_else(|| format!("type '{name}' is referenced but not described"))?;
        Ok(match &info.meta_type {
            SchemaInfoBranch::Builtin(b) => Q::str(
                JsonType::from_introspection(&b.json_type).map_or("any", JsonType::builtin_name),
            ),
            SchemaInfoBranch::Array(a) => {
                let element = namer.intro.get(&a.element_type).ok_or_else(|| {
                    format!("type '{}' is referenced but not described", a.element_type)
                })?;
                if matches!(element.meta_type, SchemaInfoBranch::Array(_)) {
                    return Err(format!("array '{name}' holds arrays, which QAPI has not"));
                }
                Q::List(vec![Self::type_ref(namer, &a.element_type)?])
            }
            SchemaInfoBranch::Object(_)
            | SchemaInfoBranch::Enum(_)
            | SchemaInfoBranch::Alternate(_) => match namer.names.get(name) {
                Some(n) => Q::str(n.clone()),
                None => {
                    return Err(format!(
                        "type '{name}' is not reached from a command or event"
                    ))
                }
            },
            SchemaInfoBranch::Command(_) | SchemaInfoBranch::Event(_) => {
                return Err(format!("'{name}' is used as a type but is not one"))
            }
            // A kind of type this crate does not know (a newer QEMU's):
            // any JSON value.
            _ => Q::str("any"),
        })
    }

    fn features(features: &Option<Vec<String>>, entries: &mut Vec<(String, Q)>) {
        if let Some(features) = features.as_ref().filter(|f| !f.is_empty()) {
            entries.push((
                "features".into(),
                Q::List(features.iter().map(|f| Q::str(f.clone())).collect()),
            ));
        }
    }

    /// An object's members as a QAPI `data` dictionary; notes `owner` for
    /// the member-name pragma when a name needs it.
    fn members(
        &mut self,
        namer: &Namer<'_>,
        object: &SchemaInfoObject,
        owner: &str,
        features: &mut Vec<String>,
    ) -> Result<Q, String> {
        let mut entries = Vec::with_capacity(object.members.len());
        let mut excepted = false;
        for member in &object.members {
            excepted |= needs_exception(&member.name);
            let key = if member.default.is_some() {
                format!("*{}", member.name)
            } else {
                member.name.clone()
            };
            let ty = Self::type_ref(namer, &member.r#type)?;
            let value = match member.features.as_ref().filter(|f| !f.is_empty()) {
                Some(list) => {
                    features.extend(list.iter().cloned());
                    let mut dict = vec![("type".into(), ty)];
                    Self::features(&member.features, &mut dict);
                    Q::Dict(dict)
                }
                None => ty,
            };
            entries.push((key, value));
        }
        if excepted {
            self.member_name_exceptions.push(owner.to_string());
        }
        Ok(Q::Dict(entries))
    }

    /// Writes a definition with its doc comment.
    fn definition(
        &mut self,
        name: &str,
        text: &str,
        features: Vec<String>,
        entries: Vec<(String, Q)>,
    ) {
        let mut features = features;
        features.sort();
        features.dedup();
        let _ = writeln!(self.body, "##\n# @{name}:\n#\n# {text}");
        if !features.is_empty() {
            self.body.push_str("#\n# Features:\n#\n");
            for feature in &features {
                // What a feature means is the server's to say; the
                // bindings name it.
                let _ = writeln!(self.body, "# @{feature}:");
            }
        }
        self.body.push_str("##\n");
        Q::Dict(entries).write(&mut self.body);
        self.body.push_str("\n\n");
        self.documented.push(name.to_string());
    }

    /// Writes a named type.
    fn ty(&mut self, namer: &Namer<'_>, server_name: &str) -> Result<(), String> {
        let Some(info) = namer.intro.get(server_name) else {
            return Ok(());
        };
        let name = namer.names[server_name].clone();
        let mut features = info.features.clone().unwrap_or_default();
        let mut entries = Vec::new();
        match &info.meta_type {
            SchemaInfoBranch::Enum(e) => {
                // `Introspection` gives enums of QEMU before 6.2, which
                // list `values` only, their `members`.
                let members = e.members.as_deref().unwrap_or_default();
                let mut values = Vec::with_capacity(members.len());
                let mut excepted = false;
                for value in members {
                    excepted |= needs_exception(&value.name);
                    values.push(match value.features.as_ref().filter(|f| !f.is_empty()) {
                        Some(list) => {
                            features.extend(list.iter().cloned());
                            let mut dict = vec![("name".into(), Q::str(value.name.clone()))];
                            Self::features(&value.features, &mut dict);
                            Q::Dict(dict)
                        }
                        None => Q::str(value.name.clone()),
                    });
                }
                if excepted {
                    self.member_name_exceptions.push(name.clone());
                }
                entries.push(("enum".into(), Q::str(name.clone())));
                entries.push(("data".into(), Q::List(values)));
            }
            SchemaInfoBranch::Object(o) => {
                let data = self.members(namer, o, &name, &mut features)?;
                match (&o.tag, o.variants.as_ref().filter(|v| !v.is_empty())) {
                    (Some(tag), Some(variants)) => {
                        let mut branches = Vec::new();
                        for variant in variants {
                            if !namer.intro.is_empty_object(&variant.r#type) {
                                branches.push((
                                    variant.case.clone(),
                                    Self::type_ref(namer, &variant.r#type)?,
                                ));
                            }
                        }
                        entries.push(("union".into(), Q::str(name.clone())));
                        entries.push(("base".into(), data));
                        entries.push(("discriminator".into(), Q::str(tag.clone())));
                        entries.push(("data".into(), Q::Dict(branches)));
                    }
                    _ => {
                        entries.push(("struct".into(), Q::str(name.clone())));
                        entries.push(("data".into(), data));
                    }
                }
            }
            SchemaInfoBranch::Alternate(a) => {
                let mut branches: Vec<(String, Q)> = Vec::new();
                for member in &a.members {
                    let mut branch = kind(namer.intro, &member.r#type).to_string();
                    let mut n = 2;
                    while branches.iter().any(|(b, _)| *b == branch) {
                        branch = format!("{}{n}", kind(namer.intro, &member.r#type));
                        n += 1;
                    }
                    branches.push((branch, Self::type_ref(namer, &member.r#type)?));
                }
                entries.push(("alternate".into(), Q::str(name.clone())));
                entries.push(("data".into(), Q::Dict(branches)));
            }
            _ => return Ok(()),
        }
        Self::features(&info.features, &mut entries);
        let origin = namer.origins.get(server_name).cloned().unwrap_or_default();
        self.definition(&name, &origin, features, entries);
        Ok(())
    }

    /// Writes a command or event.
    fn root(&mut self, namer: &Namer<'_>, info: &SchemaInfo) -> Result<(), String> {
        let name = info.name.clone();
        let mut features = info.features.clone().unwrap_or_default();
        let mut entries = Vec::new();
        let (meta, arg) = match &info.meta_type {
            SchemaInfoBranch::Command(c) => ("command", c.arg_type.as_str()),
            SchemaInfoBranch::Event(e) => ("event", e.arg_type.as_str()),
            _ => return Ok(()),
        };
        entries.push((meta.into(), Q::str(name.clone())));
        if !namer.intro.is_empty_object(arg) {
            if namer.inline.contains(arg) {
                let Some(object) = namer.plain_object(arg) else {
                    return Ok(());
                };
                let data = self.members(namer, object, &name, &mut features)?;
                entries.push(("data".into(), data));
            } else {
                let boxed = namer.plain_object(arg).is_none();
                entries.push(("data".into(), Self::type_ref(namer, arg)?));
                if boxed {
                    entries.push(("boxed".into(), Q::Bool(true)));
                }
            }
        }
        if let SchemaInfoBranch::Command(c) = &info.meta_type {
            if !namer.intro.is_empty_object(&c.ret_type) {
                let returns = Self::type_ref(namer, &c.ret_type)?;
                let object_like = |ty: &str| {
                    matches!(
                        namer.intro.get(ty).map(|i| &i.meta_type),
                        Some(SchemaInfoBranch::Object(_))
                    )
                };
                let allowed = match namer.intro.get(&c.ret_type).map(|i| &i.meta_type) {
                    Some(SchemaInfoBranch::Array(a)) => object_like(&a.element_type),
                    _ => object_like(&c.ret_type),
                };
                if !allowed {
                    self.command_returns_exceptions.push(name.clone());
                }
                entries.push(("returns".into(), returns));
            }
            if c.allow_oob == Some(true) {
                entries.push(("allow-oob".into(), Q::Bool(true)));
            }
            if name.contains('_') {
                self.command_name_exceptions.push(name.clone());
            }
        }
        Self::features(&info.features, &mut entries);
        let text = format!("The server's `{name}` {meta}, from its introspection.");
        self.definition(&name, &text, features, entries);
        Ok(())
    }
}
