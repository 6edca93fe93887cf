//! The Rust emitter: a checked schema in, token streams out. It never
//! reports user errors; every name it emits is sanitised by [`ident`].
//! This module decides names and boxing for the whole schema and holds
//! what the emitters share (types, docs); each kind of definition has an
//! emitter of its own in a submodule (`enums`, `structs`, `unions`,
//! `alternates`, `commands`, `events`), and so has the server side
//! (`server`).
//!
//! Layout of the generated module: the schema's types at its root,
//! commands in `commands`, events in `events` (with `events::Event`, which
//! decodes any of them), so that a command and a type of the same name
//! (`drive-backup`, `DriveBackup`) never clash; `SCHEMA` at the root
//! describes them all for a run-time comparison with a server
//! ([`crate::rust::table`]). With the server side, `server` holds the
//! trait of the commands, the wrapper that dispatches to it, and the
//! introspection.

mod alternates;
mod commands;
mod enums;
mod events;
mod server;
mod structs;
mod unions;

use std::collections::HashMap;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::frontend::doc::{Doc, SectionKind};
use crate::model::selection::Selection;
use crate::model::{Builtin, Entity, EntityId, EntityKind, Feature, Member, Schema};
use crate::rust::boxing::Boxing;
use crate::rust::ident::{self};
use crate::rust::rustdoc::{code_as_text, markdown, Resolver};

/// What to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Render the schema's doc comments as rustdoc (on by default).
    pub docs: bool,
    /// Format the output with prettyplease (on by default). Unformatted
    /// output compiles the same and is generated faster, for build scripts
    /// whose output nobody reads.
    pub format: bool,
    /// Generate the server side too (off by default): the `server`
    /// module, with a trait of the schema's commands, the `Served`
    /// wrapper that dispatches to it, and the introspection QEMU would
    /// report.
    pub server: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            docs: true,
            format: true,
            server: false,
        }
    }
}

/// Where generated code is: the module root or one of its submodules.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    Root,
    Sub,
}

/// Where a generated item goes: the module root or one of its `commands`
/// and `events` submodules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Section {
    Root,
    Commands,
    Events,
    Server,
}

impl Section {
    /// The sections of client-only bindings, in the order the module
    /// holds them.
    const CLIENT: [Section; 3] = [Section::Root, Section::Commands, Section::Events];

    /// The submodule's name and doc comment (a line each), `None` for the
    /// root.
    pub(crate) fn submodule(self) -> Option<(&'static str, &'static [&'static str])> {
        match self {
            Section::Root => None,
            Section::Commands => Some((
                "commands",
                &[
                    " The schema's commands: each holds its arguments and fixes, through",
                    " [`qapi_types::Command`], its wire name and what it returns.",
                ],
            )),
            Section::Events => Some((
                "events",
                &[" The schema's events, and [`Event`](events::Event), which decodes any of them."],
            )),
            Section::Server => Some((
                "server",
                &[
                    " The server side: [`Server`](server::Server), a method a command,",
                    " [`Served`](server::Served), which runs a `Server` as a",
                    " [`qapi_types::server::Dispatch`], and the",
                    " [`INTROSPECTION`](server::INTROSPECTION) of the schema.",
                ],
            )),
        }
    }
}

/// The server module's items, generated (and formatted) apart, so that
/// a large schema's are not all held at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ServerPart {
    /// The `Server` trait.
    Trait,
    /// `Served`, its `Dispatch` implementation and helpers.
    Served,
    /// `INTROSPECTION`.
    Introspection,
}

impl ServerPart {
    /// The parts, in the order the module holds them.
    pub(crate) const ALL: [ServerPart; 3] = [
        ServerPart::Trait,
        ServerPart::Served,
        ServerPart::Introspection,
    ];
}

/// One generated item of the module.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Item {
    /// A type, command or event of the schema.
    Definition(EntityId),
    /// The bindings' `SCHEMA` table.
    SchemaTable,
    /// The `Event` enum of every event.
    EventEnum,
    /// A part of the server side: the trait, `Served`, the introspection.
    Server(ServerPart),
}

/// Names and boxing decided for the whole schema before emitting.
pub(crate) struct Codegen<'s> {
    schema: &'s Schema,
    options: Options,
    /// What to emit; names and boxing are decided on the whole schema, so
    /// that kept items come out as in the full bindings.
    selection: &'s Selection,
    /// Rust names of the emitted types, commands and events.
    names: HashMap<EntityId, String>,
    /// Rust names of union branch enums.
    branch_names: HashMap<EntityId, String>,
    boxing: Boxing,
    /// With the server side: the introspection it carries (the text of
    /// `server::INTROSPECTION`).
    introspection: Option<String>,
}

const EVENT_ENUM: &str = "Event";
const UNRECOGNIZED: &str = "Unrecognized";

impl<'s> Codegen<'s> {
    pub(crate) fn new(schema: &'s Schema, options: Options, selection: &'s Selection) -> Self {
        let mut types = Vec::new();
        let mut commands = Vec::new();
        let mut events = Vec::new();
        for id in schema.ids() {
            let entity = schema.entity(id);
            match &entity.kind {
                EntityKind::Command(_) => commands.push(id),
                EntityKind::Event(_) => events.push(id),
                _ if emits_type(schema, id) => types.push(id),
                _ => {}
            }
        }
        let mut names = HashMap::new();
        let type_names: Vec<String> = types
            .iter()
            .map(|&id| ident::type_name(&schema.entity(id).name))
            .collect();
        // Branch enums share the types' namespace.
        let unions: Vec<EntityId> = types
            .iter()
            .copied()
            .filter(|&id| schema.entity(id).as_object().is_some_and(|o| o.is_union()))
            .collect();
        let mut all = type_names.clone();
        all.extend(
            unions
                .iter()
                .map(|&id| ident::type_name(&format!("{}Branch", schema.entity(id).name))),
        );
        let all = ident::unique(all, &[], true);
        for (i, &id) in types.iter().enumerate() {
            names.insert(id, all[i].clone());
        }
        let mut branch_names = HashMap::new();
        for (i, &id) in unions.iter().enumerate() {
            branch_names.insert(id, all[types.len() + i].clone());
        }
        let command_names = ident::unique(
            commands
                .iter()
                .map(|&id| ident::item_name(&schema.entity(id).name))
                .collect(),
            &[],
            true,
        );
        names.extend(commands.iter().copied().zip(command_names));
        let event_names = ident::unique(
            events
                .iter()
                .map(|&id| ident::item_name(&schema.entity(id).name))
                .collect(),
            // `Event::Unrecognized` holds the events the bindings lack.
            &[EVENT_ENUM, UNRECOGNIZED],
            true,
        );
        names.extend(events.iter().copied().zip(event_names));
        Self {
            schema,
            options,
            selection,
            names,
            branch_names,
            boxing: Boxing::new(schema),
            introspection: None,
        }
    }

    /// With the server side, carrying `introspection` (the masked
    /// introspection of the kept commands and events, conditions kept).
    pub(crate) fn serving(mut self, introspection: String) -> Self {
        self.introspection = Some(introspection);
        self
    }

    /// The sections of the module, in order: the server side's last,
    /// when there is one.
    pub(crate) fn sections(&self) -> Vec<Section> {
        let server = self.introspection.as_ref().map(|_| Section::Server);
        Section::CLIENT.into_iter().chain(server).collect()
    }

    /// The items of one section of the module, in schema order.
    pub(crate) fn items(&self, section: Section) -> Vec<Item> {
        let mut items: Vec<Item> = self
            .kept_ids()
            .filter(|&id| match (&self.entity(id).kind, section) {
                (EntityKind::Command(_), Section::Commands) => true,
                (EntityKind::Event(_), Section::Events) => true,
                (EntityKind::Command(_) | EntityKind::Event(_), _) => false,
                (_, Section::Root) => self.names.contains_key(&id),
                _ => false,
            })
            .map(Item::Definition)
            .collect();
        match section {
            Section::Root => items.push(Item::SchemaTable),
            Section::Commands => {}
            Section::Events => items.push(Item::EventEnum),
            Section::Server => items.extend(ServerPart::ALL.map(Item::Server)),
        }
        items
    }

    /// One item's tokens (for a definition, its type and impls).
    pub(crate) fn item(&self, item: Item) -> TokenStream {
        match item {
            Item::Definition(id) => match self.entity(id).kind {
                EntityKind::Command(_) => self.command(id),
                EntityKind::Event(_) => self.event(id),
                _ => self.ty(id),
            },
            Item::SchemaTable => crate::rust::table::binding_schema(self.schema, self.selection),
            Item::EventEnum => self.event_enum(),
            Item::Server(part) => self.server(part, self.introspection.as_deref().unwrap_or("[]")),
        }
    }

    /// What an item was generated for, to name it in a message.
    pub(crate) fn label(&self, item: Item) -> &str {
        match item {
            Item::Definition(id) => &self.entity(id).name,
            Item::SchemaTable => "SCHEMA",
            Item::EventEnum => EVENT_ENUM,
            Item::Server(_) => "server",
        }
    }

    /// The Rust paths of commands and events, by wire name.
    pub(crate) fn item_paths(&self) -> Vec<(String, String)> {
        self.schema
            .ids()
            .filter_map(|id| {
                let module = match self.entity(id).kind {
                    EntityKind::Command(_) => "commands",
                    EntityKind::Event(_) => "events",
                    _ => return None,
                };
                Some((
                    self.entity(id).name.clone(),
                    format!("{module}::{}", self.names[&id]),
                ))
            })
            .collect()
    }

    /// The kept definitions, in schema order.
    fn kept_ids(&self) -> impl Iterator<Item = EntityId> + '_ {
        self.schema.ids().filter(|&id| self.selection.contains(id))
    }

    fn entity(&self, id: EntityId) -> &'s Entity {
        self.schema.entity(id)
    }

    fn name(&self, id: EntityId) -> &str {
        &self.names[&id]
    }

    /// The Rust type of a reference to `ty`.
    fn rust_type(&self, ty: EntityId, scope: Scope) -> TokenStream {
        let entity = self.entity(ty);
        match &entity.kind {
            EntityKind::Builtin(b) => match b {
                Builtin::Str => quote!(::std::string::String),
                Builtin::Number => quote!(f64),
                Builtin::Int | Builtin::Int64 => quote!(i64),
                Builtin::Int8 => quote!(i8),
                Builtin::Int16 => quote!(i16),
                Builtin::Int32 => quote!(i32),
                Builtin::Uint8 => quote!(u8),
                Builtin::Uint16 => quote!(u16),
                Builtin::Uint32 => quote!(u32),
                Builtin::Uint64 | Builtin::Size => quote!(u64),
                Builtin::Bool => quote!(bool),
                Builtin::Any => quote!(::qapi_types::serde_json::Value),
                Builtin::Null => quote!(::qapi_types::Null),
            },
            EntityKind::Array(a) => {
                let element = self.rust_type(a.element, scope);
                quote!(::std::vec::Vec<#element>)
            }
            _ => match self.names.get(&ty) {
                Some(name) => {
                    let name = format_ident!("{}", name);
                    match scope {
                        Scope::Root => quote!(#name),
                        Scope::Sub => quote!(super::#name),
                    }
                }
                // The empty object.
                None => quote!(::qapi_types::Empty),
            },
        }
    }

    /// The type of a value held by `owner`: boxed inside a cycle.
    fn held_type(&self, owner: EntityId, ty: EntityId, scope: Scope) -> TokenStream {
        let inner = self.rust_type(ty, scope);
        if self.boxing.is_boxed(owner, ty) {
            quote!(::std::boxed::Box<#inner>)
        } else {
            inner
        }
    }

    /// Resolves `@name` in docs written at `scope`.
    fn resolver(&self, scope: Scope) -> impl Fn(&str) -> Option<String> + '_ {
        move |name: &str| {
            // Only to what the bindings hold: an allowlist leaves the
            // rest out, and its name stays plain text.
            let id = self
                .schema
                .lookup(name)
                .filter(|&id| self.selection.contains(id))?;
            let rust = self.names.get(&id)?;
            let prefix = if scope == Scope::Sub { "super::" } else { "" };
            Some(match self.entity(id).kind {
                EntityKind::Command(_) => format!("{prefix}commands::{rust}"),
                EntityKind::Event(_) => format!("{prefix}events::{rust}"),
                _ => format!("{prefix}{rust}"),
            })
        }
    }

    /// The doc of definition `id` as attributes, with the QAPI name as a
    /// search alias where the Rust name differs (`blockdev-add` finds
    /// `BlockdevAdd`).
    fn item_attrs(&self, id: EntityId, lines: &[String]) -> Option<TokenStream> {
        let docs = self.doc_attrs(lines)?;
        let entity = self.entity(id);
        let wire = &entity.name;
        if entity.is_implicit() || *wire == self.name(id) {
            return Some(docs);
        }
        Some(quote!(#docs #[doc(alias = #wire)]))
    }

    /// `#[doc]` attributes from Markdown lines; where the schema says
    /// nothing, `#[allow(missing_docs)]` rather than a line repeating the
    /// name. `None` without docs: adds nothing, without allocating as an
    /// empty token stream does.
    fn doc_attrs(&self, lines: &[String]) -> Option<TokenStream> {
        if !self.options.docs {
            return None;
        }
        if lines.is_empty() {
            return Some(quote!(#[allow(missing_docs)]));
        }
        // Lines split at `\n`, and with their code blocks made text.
        let safe = code_as_text(lines);
        let as_given = lines.iter().filter(|_| safe.is_none());
        let lines = as_given
            .flat_map(|line| line.split('\n'))
            .chain(safe.iter().flatten().map(String::as_str));
        let attrs = lines.map(|line| {
            let text = if line.is_empty() {
                String::new()
            } else {
                format!(" {line}")
            };
            quote!(#[doc = #text])
        });
        Some(quote!(#(#attrs)*))
    }

    /// The doc of a field or variant: nothing where neither it nor its
    /// item has one (the item's `#[allow(missing_docs)]` covers it).
    fn member_doc_attrs(&self, lines: &[String], item_undocumented: bool) -> Option<TokenStream> {
        if lines.is_empty() && item_undocumented {
            return None;
        }
        self.doc_attrs(lines)
    }

    /// The doc of a definition: body, sections, features, condition.
    fn item_doc(&self, id: EntityId, scope: Scope) -> Vec<String> {
        if !self.options.docs {
            return Vec::new();
        }
        let entity = self.entity(id);
        let resolve = self.resolver(scope);
        let mut lines = Vec::new();
        // Without a doc comment, no line that would only repeat the name.
        if let Some(doc) = &entity.doc {
            self.doc_sections(doc, &resolve, &mut lines);
        }
        self.feature_notes(&entity.features, entity.doc.as_ref(), &resolve, &mut lines);
        if let Some(cond) = &entity.cond {
            push_paragraph(
                &mut lines,
                vec![format!("*Only in QEMU builds where {cond:#}.*")],
            );
        }
        lines
    }

    fn doc_sections(&self, doc: &Doc, resolve: &Resolver<'_>, lines: &mut Vec<String>) {
        for section in &doc.sections {
            let text = match &section.kind {
                SectionKind::Plain => markdown(&section.text, false, resolve),
                SectionKind::Returns => labelled("Returns", &section.text, resolve),
                SectionKind::Errors => labelled("Errors", &section.text, resolve),
                SectionKind::Since => {
                    // Older releases wrote more after the version.
                    let (version, rest) =
                        section.text.split_once('\n').unwrap_or((&section.text, ""));
                    let mut lines = vec![format!("*Since: {}*", version.trim())];
                    let rest = markdown(rest, true, resolve);
                    if !rest.is_empty() {
                        lines.push(String::new());
                        lines.extend(rest);
                    }
                    lines
                }
                SectionKind::LegacyNote(_) => {
                    let mut body = markdown(&section.text, true, resolve);
                    if let Some(first) = body.first_mut() {
                        *first = format!("**Note:** {first}");
                    }
                    body
                }
                SectionKind::LegacyExample(_) => {
                    let mut body = vec![
                        "**Example**".to_string(),
                        String::new(),
                        "```text".to_string(),
                    ];
                    body.extend(dedent_block(&section.text));
                    body.push("```".to_string());
                    body
                }
                SectionKind::Member(_) | SectionKind::Feature(_) | SectionKind::Todo => continue,
            };
            push_paragraph(lines, text);
        }
    }

    fn feature_notes(
        &self,
        features: &[Feature],
        doc: Option<&Doc>,
        resolve: &Resolver<'_>,
        lines: &mut Vec<String>,
    ) {
        for feature in features {
            let description = doc
                .and_then(|d| d.feature(&feature.name))
                .map(|s| markdown(&s.text, true, resolve).join(" "))
                .unwrap_or_default();
            let label = if feature.is_deprecated() {
                "**Deprecated**".to_string()
            } else if feature.is_unstable() {
                "**Unstable** (it may change incompatibly or be withdrawn)".to_string()
            } else {
                format!("Feature `{}`", feature.name)
            };
            let text = if description.is_empty() {
                label
            } else {
                format!("{label}: {description}")
            };
            push_paragraph(lines, vec![text]);
        }
    }

    /// `#[deprecated]` for items with the `deprecated` feature, noting
    /// what the schema's doc says of it (`Use @id instead.`) in plain
    /// words.
    fn deprecation(features: &[Feature], doc: Option<&Doc>) -> Option<TokenStream> {
        let feature = features.iter().find(|f| f.is_deprecated())?;
        let said = doc
            .and_then(|d| d.feature(&feature.name))
            .map(|section| {
                section
                    .text
                    .split_whitespace()
                    .map(|word| word.strip_prefix('@').unwrap_or(word))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .filter(|text| !text.is_empty());
        let note = said.unwrap_or_else(|| "deprecated in the QAPI schema".to_string());
        Some(quote!(#[deprecated(note = #note)]))
    }

    /// The doc comment documenting a member: its owner's, or for an
    /// implicit object, its definition's.
    fn member_doc(&self, member: &Member) -> Option<&'s Doc> {
        let owner = self.entity(member.defined_in);
        let owner = match owner.as_object().and_then(|o| o.implicit_for) {
            Some(definition) => self.entity(definition),
            None => owner,
        };
        owner.doc.as_ref().filter(|_| self.options.docs)
    }

    /// An entity's doc comment, unless docs are off.
    fn doc_of(&self, id: EntityId) -> Option<&'s Doc> {
        self.entity(id).doc.as_ref().filter(|_| self.options.docs)
    }

    fn ty(&self, id: EntityId) -> TokenStream {
        match &self.entity(id).kind {
            EntityKind::Enum(_) => self.enumeration(id),
            EntityKind::Object(o) if o.is_union() => self.union(id),
            EntityKind::Object(_) => self.structure(id),
            EntityKind::Alternate(_) => self.alternate(id),
            _ => quote!(),
        }
    }
}

/// Whether an entity becomes a type of its own: every explicit enum,
/// struct, union and alternate, and the predefined `QType` when used.
fn emits_type(schema: &Schema, id: EntityId) -> bool {
    let entity = schema.entity(id);
    match entity.kind {
        EntityKind::Enum(_) if entity.is_implicit() => is_referenced(schema, id),
        EntityKind::Enum(_) => true,
        EntityKind::Object(_) | EntityKind::Alternate(_) => !entity.is_implicit(),
        _ => false,
    }
}

/// Whether any member, branch, array or return type refers to `target`.
fn is_referenced(schema: &Schema, target: EntityId) -> bool {
    schema.entities().any(|entity| match &entity.kind {
        EntityKind::Object(o) => {
            o.local_members.iter().any(|m| m.ty == target)
                || o.branches
                    .as_ref()
                    .is_some_and(|b| b.variants.iter().any(|v| v.ty == target))
        }
        EntityKind::Alternate(a) => a.variants.iter().any(|v| v.ty == target),
        EntityKind::Array(a) => a.element == target,
        EntityKind::Command(c) => c.ret_type == Some(target),
        _ => false,
    })
}

/// What [`Codegen::fields`] produces.
#[derive(Default)]
struct Fields {
    defs: Vec<TokenStream>,
    params: Vec<TokenStream>,
    inits: Vec<TokenStream>,
    /// `field = "wire"` of required members.
    required: Vec<TokenStream>,
    /// `field = "wire" => setter(Type)` of optional members.
    optional: Vec<TokenStream>,
    /// `field = "wire" => setter` of optional string members.
    strings: Vec<TokenStream>,
    /// Fields whose members are the struct's.
    flatten: Vec<TokenStream>,
    /// The field keeping members no other field takes.
    rest: Vec<TokenStream>,
    /// Further methods.
    methods: Vec<TokenStream>,
}

fn push_paragraph(lines: &mut Vec<String>, paragraph: Vec<String>) {
    if paragraph.is_empty() {
        return;
    }
    if !lines.is_empty() {
        lines.push(String::new());
    }
    lines.extend(paragraph);
}

fn labelled(label: &str, text: &str, resolve: &Resolver<'_>) -> Vec<String> {
    let mut body = markdown(text, true, resolve);
    match body.first_mut() {
        Some(first) if !first.starts_with(['-', '*']) && !first.is_empty() => {
            *first = format!("**{label}:** {first}");
        }
        _ => {
            body.insert(0, format!("**{label}:**"));
            body.insert(1, String::new());
        }
    }
    body
}

fn dedent_block(text: &str) -> Vec<String> {
    let common = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    text.lines()
        .map(|l| {
            if l.trim().is_empty() {
                String::new()
            } else {
                l[common..].replace("```", "` ` `")
            }
        })
        .collect()
}
