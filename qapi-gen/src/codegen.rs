//! The Rust emitter: a checked schema in, token streams out. It never
//! reports user errors; every name it emits is sanitised by [`ident`].
//!
//! Layout of the generated module: the schema's types at its root,
//! commands in `commands`, events in `events` (with `events::Event`, which
//! decodes any of them), so that a command and a type of the same name
//! (`drive-backup`, `DriveBackup`) never clash; `SCHEMA` at the root
//! describes them all for a run-time comparison with a server
//! ([`crate::table`]).

use std::collections::HashMap;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::boxing::Boxing;
use crate::doc::{Doc, SectionKind};
use crate::ident::{self, ident};
use crate::model::{Builtin, Cond, Entity, EntityId, EntityKind, Feature, Member, Schema};
use crate::rustdoc::{code_as_text, markdown, Resolver};

/// What to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Render the schema's doc comments as rustdoc (on by default).
    pub docs: bool,
    /// Format the output with prettyplease (on by default). Unformatted
    /// output compiles the same and is generated faster, for build scripts
    /// whose output nobody reads.
    pub format: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            docs: true,
            format: true,
        }
    }
}

/// Where generated code is: the module root or one of its submodules.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    Root,
    Sub,
}

/// The generated items: the module root's (the table last), then those of
/// the `commands` and `events` submodules.
#[derive(Default)]
pub(crate) struct Module {
    pub(crate) root: Vec<TokenStream>,
    /// `SCHEMA`, the last item of the root.
    pub(crate) table: TokenStream,
    pub(crate) commands: Vec<TokenStream>,
    pub(crate) events: Vec<TokenStream>,
}

impl Module {
    /// The submodules' doc comments, a line each.
    pub(crate) const COMMANDS_DOC: &'static [&'static str] = &[
        " The schema's commands: each holds its arguments and fixes, through",
        " [`qapi_types::Command`], its wire name and what it returns.",
    ];
    pub(crate) const EVENTS_DOC: &'static [&'static str] =
        &[" The schema's events, and [`Event`](events::Event), which decodes any of them."];
}

/// Names and boxing decided for the whole schema before emitting.
pub(crate) struct Codegen<'s> {
    schema: &'s Schema,
    options: Options,
    /// Rust names of the emitted types, commands and events.
    names: HashMap<EntityId, String>,
    /// Rust names of union branch enums.
    branch_names: HashMap<EntityId, String>,
    boxing: Boxing,
}

const EVENT_ENUM: &str = "Event";
const UNRECOGNIZED: &str = "Unrecognized";

impl<'s> Codegen<'s> {
    pub(crate) fn new(schema: &'s Schema, options: Options) -> Self {
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
            names,
            branch_names,
            boxing: Boxing::new(schema),
        }
    }

    /// The whole module.
    /// The whole module, as the items of its root and of its `commands`
    /// and `events` submodules, each item a token stream of its own.
    pub(crate) fn module(&self) -> Module {
        let mut module = Module::default();
        for id in self.schema.ids() {
            match &self.entity(id).kind {
                EntityKind::Command(_) => module.commands.push(self.command(id)),
                EntityKind::Event(_) => module.events.push(self.event(id)),
                _ if self.names.contains_key(&id) => module.root.push(self.ty(id)),
                _ => {}
            }
        }
        module.table = crate::table::binding_schema(self.schema);
        module.events.push(self.event_enum());
        module
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
            let id = self.schema.lookup(name)?;
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
                vec![format!("*Only in QEMU builds where {}.*", cond_text(cond))],
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

    fn enumeration(&self, id: EntityId) -> TokenStream {
        let entity = self.entity(id);
        let EntityKind::Enum(e) = &entity.kind else {
            unreachable!("an enum")
        };
        let name = format_ident!("{}", self.name(id));
        let item_lines = self.item_doc(id, Scope::Root);
        let docs = self.item_attrs(id, &item_lines);
        let deprecated = Self::deprecation(&entity.features, entity.doc.as_ref());
        let resolve = self.resolver(Scope::Root);
        let variant_names = ident::unique(
            e.values
                .iter()
                .map(|v| ident::variant_name(&v.name))
                .collect(),
            &[UNRECOGNIZED],
            true,
        );
        let mut variants = Vec::new();
        let mut wires = Vec::new();
        for (value, rust) in e.values.iter().zip(&variant_names) {
            let variant = format_ident!("{}", rust);
            let wire = &value.name;
            let mut lines = self
                .doc_of(id)
                .and_then(|d| d.member(&value.name))
                .map(|s| markdown(&s.text, true, &resolve))
                .unwrap_or_default();
            self.feature_notes(&value.features, entity.doc.as_ref(), &resolve, &mut lines);
            if let Some(cond) = &value.cond {
                push_paragraph(
                    &mut lines,
                    vec![format!("*Only in QEMU builds where {}.*", cond_text(cond))],
                );
            }
            let value_docs = self.member_doc_attrs(&lines, item_lines.is_empty());
            let value_deprecated = Self::deprecation(&value.features, entity.doc.as_ref());
            variants.push(quote! { #value_docs #value_deprecated #variant, });
            wires.push(quote!(#variant = #wire));
        }
        let unrecognized = format_ident!("{}", UNRECOGNIZED);
        quote! {
            #docs
            #deprecated
            #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
            #[non_exhaustive]
            #[allow(clippy::enum_variant_names)]
            pub enum #name {
                #(#variants)*
                /// A value these bindings don't know, from a newer QEMU: kept as sent.
                #unrecognized(::std::string::String),
            }

            ::qapi_types::enumeration! { #name { #(#wires,)* } else #unrecognized }
        }
    }

    /// Fields, constructor parameters and setters for a list of members.
    /// `item_undocumented`: the item holding the fields says nothing
    /// either, and allows that for its fields too.
    fn fields(
        &self,
        owner: EntityId,
        members: &[&Member],
        scope: Scope,
        item_undocumented: bool,
    ) -> Fields {
        let resolve = self.resolver(scope);
        let names = ident::unique(
            members.iter().map(|m| ident::field_name(&m.name)).collect(),
            &[],
            false,
        );
        let mut fields = Fields::default();
        for (member, rust) in members.iter().zip(names) {
            let field = ident(&rust);
            let wire = &member.name;
            let inner = self.held_type(owner, member.ty, scope);
            // A member that exists only under a condition may be missing
            // from a server built without it.
            let optional = member.optional || member.cond.is_some();
            let mut lines = self
                .member_doc(member)
                .and_then(|d| d.member(wire))
                .map(|s| markdown(&s.text, true, &resolve))
                .unwrap_or_default();
            self.feature_notes(
                &member.features,
                self.member_doc(member),
                &resolve,
                &mut lines,
            );
            if let Some(cond) = &member.cond {
                push_paragraph(
                    &mut lines,
                    vec![format!("*Only in QEMU builds where {}.*", cond_text(cond))],
                );
            }
            let docs = self.member_doc_attrs(&lines, item_undocumented);
            let deprecated = Self::deprecation(&member.features, self.member_doc(member));
            let ty = if optional {
                quote!(::core::option::Option<#inner>)
            } else {
                inner.clone()
            };
            fields
                .defs
                .push(quote! { #docs #deprecated pub #field: #ty, });
            let is_string = matches!(
                self.entity(member.ty).kind,
                EntityKind::Builtin(Builtin::Str)
            );
            if optional {
                let setter = format_ident!("with_{}", rust.trim_start_matches("r#"));
                if is_string {
                    fields.strings.push(quote!(#field = #wire => #setter));
                } else {
                    let unboxed = self.rust_type(member.ty, scope);
                    fields
                        .optional
                        .push(quote!(#field = #wire => #setter(#unboxed)));
                }
                fields
                    .inits
                    .push(quote!(#field: ::core::option::Option::None,));
            } else {
                fields.required.push(quote!(#field = #wire));
                if is_string {
                    fields
                        .params
                        .push(quote!(#field: impl ::core::convert::Into<::std::string::String>));
                    fields.inits.push(quote!(#field: #field.into(),));
                } else if self.boxing.is_boxed(owner, member.ty) {
                    // A boxed member takes its value unboxed too.
                    fields
                        .params
                        .push(quote!(#field: impl ::core::convert::Into<#inner>));
                    fields.inits.push(quote!(#field: #field.into(),));
                } else {
                    fields.params.push(quote!(#field: #inner));
                    fields.inits.push(quote!(#field,));
                }
            }
        }
        fields
    }

    fn structure(&self, id: EntityId) -> TokenStream {
        let entity = self.entity(id);
        let name = format_ident!("{}", self.name(id));
        let lines = self.item_doc(id, Scope::Root);
        let docs = self.item_attrs(id, &lines);
        let deprecated = Self::deprecation(&entity.features, entity.doc.as_ref());
        let members = self.schema.members(id);
        let fields = self.fields(id, &members, Scope::Root, lines.is_empty());
        self.record(&name, docs, deprecated, &fields)
    }

    /// A struct with named fields, its constructor and setters, and its
    /// wire form through [`qapi_types::wire::Object`].
    fn record(
        &self,
        name: &proc_macro2::Ident,
        docs: Option<TokenStream>,
        deprecated: Option<TokenStream>,
        fields: &Fields,
    ) -> TokenStream {
        let Fields {
            defs,
            params,
            inits,
            required,
            optional,
            strings,
            flatten,
            rest,
            methods,
        } = fields;
        let default = if params.is_empty() {
            quote!(Default,)
        } else {
            quote!()
        };
        // Past clippy's default limit of seven arguments; a command
        // called `new` is `New::new`.
        let mut lints = Vec::new();
        if params.len() > 7 {
            lints.push(quote!(clippy::too_many_arguments));
        }
        if name == "New" {
            lints.push(quote!(clippy::self_named_constructors));
        }
        let allow = (!lints.is_empty()).then(|| quote!(#[allow(#(#lints),*)]));
        let mut sections = TokenStream::new();
        for (label, entries) in [
            ("required", required),
            ("optional", optional),
            ("strings", strings),
            ("flatten", flatten),
            ("rest", rest),
        ] {
            if !entries.is_empty() {
                let label = format_ident!("{}", label);
                sections.extend(quote!(#label { #(#entries,)* }));
            }
        }
        quote! {
            #docs
            #deprecated
            #[derive(Clone, Debug, #default PartialEq)]
            #[non_exhaustive]
            pub struct #name {
                #(#defs)*
            }

            #[allow(deprecated)]
            impl #name {
                /// Creates a value from its required members; the optional ones
                /// start absent.
                #allow
                pub fn new(#(#params),*) -> Self {
                    Self { #(#inits)* }
                }

                #(#methods)*
            }

            ::qapi_types::object! {
                #name { #sections }
            }
        }
    }

    fn union(&self, id: EntityId) -> TokenStream {
        let entity = self.entity(id);
        let object = entity.as_object().expect("a union");
        let branches = object.branches.as_ref().expect("a union");
        let name = format_ident!("{}", self.name(id));
        let branch_name = format_ident!("{}", self.branch_names[&id]);
        let lines = self.item_doc(id, Scope::Root);
        let docs = self.item_attrs(id, &lines);
        let deprecated = Self::deprecation(&entity.features, entity.doc.as_ref());
        let members: Vec<&Member> = self
            .schema
            .members(id)
            .into_iter()
            .filter(|m| m.name != branches.tag)
            .collect();
        let mut fields = self.fields(id, &members, Scope::Root, lines.is_empty());
        let field_names: Vec<String> = members
            .iter()
            .map(|m| ident::field_name(&m.name))
            .chain([ident::field_name(&branches.tag)])
            .collect();
        let tag_field = ident(&ident::unique(field_names, &[], false)[members.len()]);
        let tag_wire = &branches.tag;
        let tag_doc = format!(" The branch, selected by `{tag_wire}`, with its members.");
        fields.defs.push(quote! {
            #[doc = #tag_doc]
            pub #tag_field: #branch_name,
        });
        fields.params.push(quote!(#tag_field: #branch_name));
        fields.inits.push(quote!(#tag_field,));
        fields.flatten.push(quote!(#tag_field));
        let record = self.record(&name, docs, deprecated, &fields);

        let variant_names = ident::unique(
            branches
                .variants
                .iter()
                .map(|v| ident::variant_name(&v.name))
                .collect(),
            &[UNRECOGNIZED],
            true,
        );
        let tag_enum_doc = self.doc_of(branches.tag_type);
        let resolve = self.resolver(Scope::Root);
        let mut variants = Vec::new();
        let mut writes = Vec::new();
        let mut reads = Vec::new();
        for (variant, rust) in branches.variants.iter().zip(&variant_names) {
            let v = format_ident!("{}", rust);
            let case = &variant.name;
            let mut lines = vec![format!("`{tag_wire}` is `{case}`.")];
            if let Some(section) = tag_enum_doc.and_then(|d| d.member(case)) {
                push_paragraph(&mut lines, markdown(&section.text, true, &resolve));
            }
            if let Some(cond) = &variant.cond {
                push_paragraph(
                    &mut lines,
                    vec![format!("*Only in QEMU builds where {}.*", cond_text(cond))],
                );
            }
            let vdocs = self.doc_attrs(&lines);
            if self.names.contains_key(&variant.ty) {
                let ty = self.held_type(id, variant.ty, Scope::Root);
                let (read, inner) = if self.boxing.is_boxed(id, variant.ty) {
                    (
                        quote!(::std::boxed::Box::new(
                            ::qapi_types::wire::Object::read_members(members)?
                        )),
                        quote!(&**branch),
                    )
                } else {
                    (
                        quote!(::qapi_types::wire::Object::read_members(members)?),
                        quote!(branch),
                    )
                };
                variants.push(quote! { #vdocs #v(#ty), });
                writes.push(quote! {
                    Self::#v(branch) => {
                        ::qapi_types::wire::write(map, #tag_wire, #case)?;
                        ::qapi_types::wire::Object::write_members(#inner, map)
                    }
                });
                reads.push(quote!(#case => Self::#v(#read),));
            } else {
                variants.push(quote! { #vdocs #v, });
                writes.push(quote!(Self::#v => ::qapi_types::wire::write(map, #tag_wire, #case),));
                reads.push(quote!(#case => Self::#v,));
            }
        }
        let unrecognized = format_ident!("{}", UNRECOGNIZED);
        let other =
            quote!(Self::#unrecognized { case, members: ::core::mem::take(members).into_rest() });
        // A build may leave every branch out.
        let read = if reads.is_empty() {
            other
        } else {
            quote! {
                match case.as_str() {
                    #(#reads)*
                    _ => #other,
                }
            }
        };
        let branch_doc = format!(" The branches of [`{}`], by `{tag_wire}`.", self.name(id));
        quote! {
            #record

            #[doc = #branch_doc]
            #[derive(Clone, Debug, PartialEq)]
            #[non_exhaustive]
            #[allow(clippy::large_enum_variant, clippy::enum_variant_names)]
            pub enum #branch_name {
                #(#variants)*
                /// A branch these bindings don't know, from a newer QEMU: the
                /// discriminator's value and the branch's members, kept as sent.
                #unrecognized {
                    /// The discriminator's value.
                    case: ::std::string::String,
                    /// The branch's members.
                    members: ::qapi_types::serde_json::Map<::std::string::String, ::qapi_types::serde_json::Value>,
                },
            }

            #[allow(deprecated)]
            impl ::qapi_types::wire::Object for #branch_name {
                fn write_members<M: ::qapi_types::serde::ser::SerializeMap>(&self, map: &mut M) -> ::core::result::Result<(), M::Error> {
                    match self {
                        #(#writes)*
                        Self::#unrecognized { case, members } => {
                            ::qapi_types::wire::write(map, #tag_wire, case)?;
                            ::qapi_types::wire::write_rest(map, members)
                        }
                    }
                }

                fn read_members(members: &mut ::qapi_types::wire::Members) -> ::core::result::Result<Self, ::qapi_types::serde_json::Error> {
                    let case: ::std::string::String = members.required(#tag_wire)?;
                    ::core::result::Result::Ok(#read)
                }
            }
        }
    }

    fn alternate(&self, id: EntityId) -> TokenStream {
        let entity = self.entity(id);
        let EntityKind::Alternate(alternate) = &entity.kind else {
            unreachable!("an alternate")
        };
        let name = format_ident!("{}", self.name(id));
        let item_lines = self.item_doc(id, Scope::Root);
        let docs = self.item_attrs(id, &item_lines);
        let deprecated = Self::deprecation(&entity.features, entity.doc.as_ref());
        let resolve = self.resolver(Scope::Root);
        let names = ident::unique(
            alternate
                .variants
                .iter()
                .map(|v| ident::variant_name(&v.name))
                .collect(),
            &[],
            true,
        );
        let mut variants = Vec::new();
        let mut ser = Vec::new();
        let mut de = Vec::new();
        for (variant, rust) in alternate.variants.iter().zip(&names) {
            let v = format_ident!("{}", rust);
            let mut lines = self
                .doc_of(id)
                .and_then(|d| d.member(&variant.name))
                .map(|s| markdown(&s.text, true, &resolve))
                .unwrap_or_default();
            if let Some(cond) = &variant.cond {
                push_paragraph(
                    &mut lines,
                    vec![format!("*Only in QEMU builds where {}.*", cond_text(cond))],
                );
            }
            let vdocs = self.member_doc_attrs(&lines, item_lines.is_empty());
            let json = match &self.entity(variant.ty).kind {
                EntityKind::Builtin(Builtin::Null) => {
                    variants.push(quote! { #vdocs #v, });
                    ser.push(quote!(Self::#v => serializer.serialize_unit(),));
                    de.push(quote!(::qapi_types::serde_json::Value::Null => Self::#v,));
                    continue;
                }
                EntityKind::Builtin(Builtin::Bool) => quote!(Bool(_)),
                EntityKind::Builtin(Builtin::Str) | EntityKind::Enum(_) => quote!(String(_)),
                EntityKind::Builtin(_) => quote!(Number(_)),
                EntityKind::Array(_) => quote!(Array(_)),
                _ => quote!(Object(_)),
            };
            let ty = self.held_type(id, variant.ty, Scope::Root);
            variants.push(quote! { #vdocs #v(#ty), });
            ser.push(quote!(Self::#v(value) => ::qapi_types::serde::Serialize::serialize(value, serializer),));
            de.push(quote! {
                ::qapi_types::serde_json::Value::#json => Self::#v(::qapi_types::wire::alternate_branch(value)?),
            });
        }
        let wire_name = &entity.name;
        quote! {
            #docs
            #deprecated
            #[derive(Clone, Debug, PartialEq)]
            #[allow(clippy::large_enum_variant, clippy::enum_variant_names)]
            pub enum #name {
                #(#variants)*
            }

            impl ::qapi_types::serde::Serialize for #name {
                fn serialize<S: ::qapi_types::serde::Serializer>(&self, serializer: S) -> ::core::result::Result<S::Ok, S::Error> {
                    match self {
                        #(#ser)*
                    }
                }
            }

            impl<'de> ::qapi_types::serde::Deserialize<'de> for #name {
                fn deserialize<D: ::qapi_types::serde::Deserializer<'de>>(deserializer: D) -> ::core::result::Result<Self, D::Error> {
                    let value = <::qapi_types::serde_json::Value as ::qapi_types::serde::Deserialize>::deserialize(deserializer)?;
                    ::core::result::Result::Ok(match value {
                        #(#de)*
                        other => return ::core::result::Result::Err(::qapi_types::wire::no_alternative(#wire_name, &other)),
                    })
                }
            }
        }
    }

    /// The arguments of a command or the data of an event: fields of the
    /// implicit object, or a newtype of the named type.
    fn payload(
        &self,
        id: EntityId,
        arg: Option<EntityId>,
        (docs, undocumented): (Option<TokenStream>, bool),
        deprecated: Option<TokenStream>,
    ) -> TokenStream {
        let name = format_ident!("{}", self.name(id));
        // `'gen': false` commands take arguments the schema cannot describe.
        let open = matches!(&self.entity(id).kind, EntityKind::Command(c) if !c.gen);
        match arg {
            Some(arg) if self.entity(arg).is_implicit() => {
                let members = self.schema.members(arg);
                let mut fields = self.fields(arg, &members, Scope::Sub, undocumented);
                if open {
                    self.extra_arguments(&members, &mut fields);
                }
                self.record(&name, docs, deprecated, &fields)
            }
            Some(arg) => {
                let ty = self.rust_type(arg, Scope::Sub);
                quote! {
                    #docs
                    #deprecated
                    #[derive(Clone, Debug, PartialEq)]
                    pub struct #name(pub #ty);

                    #[allow(deprecated)]
                    impl ::core::convert::From<#ty> for #name {
                        fn from(value: #ty) -> Self {
                            Self(value)
                        }
                    }

                    #[allow(deprecated)]
                    impl ::qapi_types::serde::Serialize for #name {
                        fn serialize<S: ::qapi_types::serde::Serializer>(&self, serializer: S) -> ::core::result::Result<S::Ok, S::Error> {
                            ::qapi_types::serde::Serialize::serialize(&self.0, serializer)
                        }
                    }

                    #[allow(deprecated)]
                    impl<'de> ::qapi_types::serde::Deserialize<'de> for #name {
                        fn deserialize<D: ::qapi_types::serde::Deserializer<'de>>(deserializer: D) -> ::core::result::Result<Self, D::Error> {
                            <#ty as ::qapi_types::serde::Deserialize>::deserialize(deserializer).map(Self)
                        }
                    }
                }
            }
            None => self.record(&name, docs, deprecated, &Fields::default()),
        }
    }

    /// A catch-all for the arguments of a `'gen': false` command beyond
    /// those its schema lists.
    fn extra_arguments(&self, members: &[&Member], fields: &mut Fields) {
        let names: Vec<String> = members
            .iter()
            .map(|m| ident::field_name(&m.name))
            .chain(["extra".to_string()])
            .collect();
        let extra = ident(&ident::unique(names, &[], false)[members.len()]);
        fields.defs.push(quote! {
            /// Further arguments, which the schema does not describe.
            pub #extra: ::qapi_types::serde_json::Map<::std::string::String, ::qapi_types::serde_json::Value>,
        });
        fields
            .inits
            .push(quote!(#extra: ::qapi_types::serde_json::Map::new(),));
        fields.rest.push(quote!(#extra));
        fields.methods.push(quote! {
            /// Adds an argument the schema does not describe.
            #[must_use]
            pub fn with_argument(
                mut self,
                name: impl ::core::convert::Into<::std::string::String>,
                value: impl ::core::convert::Into<::qapi_types::serde_json::Value>,
            ) -> Self {
                self.#extra.insert(name.into(), value.into());
                self
            }
        });
    }

    fn command(&self, id: EntityId) -> TokenStream {
        let entity = self.entity(id);
        let EntityKind::Command(command) = &entity.kind else {
            unreachable!("a command")
        };
        let name = format_ident!("{}", self.name(id));
        let mut lines = self.item_doc(id, Scope::Sub);
        if command.allow_oob {
            push_paragraph(
                &mut lines,
                vec!["May be executed out of band ([`qapi_types::OobCommand`]).".to_string()],
            );
        }
        if !command.success_response {
            push_paragraph(
                &mut lines,
                vec!["The server sends no reply when this command succeeds.".to_string()],
            );
        }
        let docs = (self.item_attrs(id, &lines), lines.is_empty());
        let deprecated = Self::deprecation(&entity.features, entity.doc.as_ref());
        let payload = self.payload(id, command.arg_type, docs, deprecated);
        let wire = &entity.name;
        let ok = match command.ret_type {
            Some(ty) => self.rust_type(ty, Scope::Sub),
            None => quote!(::qapi_types::Empty),
        };
        let allow_oob = command.allow_oob;
        let success = command.success_response;
        let oob = if command.allow_oob {
            quote!(#[allow(deprecated)] impl ::qapi_types::OobCommand for #name {})
        } else {
            quote!()
        };
        quote! {
            #payload

            #[allow(deprecated)]
            impl ::qapi_types::Command for #name {
                const NAME: &'static str = #wire;
                const ALLOW_OOB: bool = #allow_oob;
                const SUCCESS_RESPONSE: bool = #success;
                type Ok = #ok;
            }

            #oob
        }
    }

    fn event(&self, id: EntityId) -> TokenStream {
        let entity = self.entity(id);
        let EntityKind::Event(event) = &entity.kind else {
            unreachable!("an event")
        };
        let name = format_ident!("{}", self.name(id));
        let lines = self.item_doc(id, Scope::Sub);
        let docs = (self.item_attrs(id, &lines), lines.is_empty());
        let deprecated = Self::deprecation(&entity.features, entity.doc.as_ref());
        let payload = self.payload(id, event.arg_type, docs, deprecated);
        let wire = &entity.name;
        quote! {
            #payload

            #[allow(deprecated)]
            impl ::qapi_types::Event for #name {
                const NAME: &'static str = #wire;
            }
        }
    }

    fn event_enum(&self) -> TokenStream {
        let mut variants = Vec::new();
        let mut arms = Vec::new();
        for id in self.schema.ids() {
            if !matches!(self.entity(id).kind, EntityKind::Event(_)) {
                continue;
            }
            let name = format_ident!("{}", self.name(id));
            let wire = &self.entity(id).name;
            let doc = format!(" [`{wire}`]({name})");
            let deprecated =
                Self::deprecation(&self.entity(id).features, self.entity(id).doc.as_ref());
            variants.push(quote! { #[doc = #doc] #deprecated #name(#name), });
            arms.push(quote!(#wire => Self::#name(::qapi_types::wire::event_data(&raw.data)?),));
        }
        let event = format_ident!("{}", EVENT_ENUM);
        let unrecognized = format_ident!("{}", UNRECOGNIZED);
        let decode = if arms.is_empty() {
            quote!(::core::result::Result::Ok(Self::#unrecognized(raw.clone())))
        } else {
            quote! {
                ::core::result::Result::Ok(match raw.event.as_str() {
                    #(#arms)*
                    _ => Self::#unrecognized(raw.clone()),
                })
            }
        };
        quote! {
            /// Any event of the schema, decoded by name.
            #[derive(Clone, Debug, PartialEq)]
            #[non_exhaustive]
            #[allow(clippy::large_enum_variant, deprecated)]
            pub enum #event {
                #(#variants)*
                /// An event these bindings don't know, from a newer QEMU: kept as sent.
                #unrecognized(::qapi_types::RawEvent),
            }

            #[allow(deprecated)]
            impl ::qapi_types::EventSet for #event {
                fn decode(raw: &::qapi_types::RawEvent) -> ::core::result::Result<Self, ::qapi_types::serde_json::Error> {
                    #decode
                }
            }
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
    schema.entities().iter().any(|entity| match &entity.kind {
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

/// A condition as prose: `CONFIG_A` and (`CONFIG_B` or not `CONFIG_C`).
fn cond_text(cond: &Cond) -> String {
    match cond {
        Cond::Name(name) => format!("`{name}`"),
        Cond::Not(inner) => format!("not {}", cond_text(inner)),
        Cond::All(items) | Cond::Any(items) => {
            let joiner = if matches!(cond, Cond::All(_)) {
                " and "
            } else {
                " or "
            };
            let parts: Vec<String> = items
                .iter()
                .map(|c| match c {
                    Cond::All(_) | Cond::Any(_) => format!("({})", cond_text(c)),
                    _ => cond_text(c),
                })
                .collect();
            parts.join(joiner)
        }
    }
}
