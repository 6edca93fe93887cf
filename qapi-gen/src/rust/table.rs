//! The bindings' description of themselves: `SCHEMA`, a
//! `qapi_types::schema::BindingSchema` holding the commands, the events
//! and every type they reach, for comparison with a server's
//! `query-qmp-schema` at run time.
//!
//! Types are named as in the schema (arrays as `[Element]`), and the
//! table of types is sorted by name for binary search. Everything is one
//! static of `const fn` constructor calls, a line an entry once formatted,
//! each type's members (values, branches, alternatives) written in one
//! string, as QAPI writes them: `"*device: str, slot: str"`.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet, VecDeque};

use proc_macro2::TokenStream;
use quote::quote;

use crate::model::selection::Selection;
use crate::model::{Cond, EntityId, EntityKind, Schema};

/// The name of the empty object, which stands for absent arguments,
/// returns and event data.
const EMPTY: &str = "q_empty";

/// The `SCHEMA` static, of the commands and events `selection` keeps.
pub(crate) fn binding_schema(schema: &Schema, selection: &Selection) -> TokenStream {
    let mut reached = Reached::default();
    let mut commands = Vec::new();
    let mut events = Vec::new();
    for id in schema.ids().filter(|&id| selection.contains(id)) {
        let entity = schema.entity(id);
        let name = &entity.name;
        let conditional = entity.cond.is_some();
        match &entity.kind {
            EntityKind::Command(command) => {
                let arguments = reached.reference(schema, command.arg_type);
                let returns = reached.reference(schema, command.ret_type);
                let oob = flag(command.allow_oob, || quote!(.allow_oob()));
                let cond = flag(conditional, || quote!(.conditional()));
                commands.push(quote!(C::new(#name, #arguments, #returns) #oob #cond));
            }
            EntityKind::Event(event) => {
                let data = reached.reference(schema, event.arg_type);
                let cond = flag(conditional, || quote!(.conditional()));
                events.push(quote!(E::new(#name, #data) #cond));
            }
            _ => {}
        }
    }
    let types = reached.types(schema);
    quote! {
        /// The commands, events and types these bindings use, for
        /// `check_schema` against a server.
        pub static SCHEMA: ::qapi_types::schema::BindingSchema = {
            #[allow(unused_imports)]
            use ::qapi_types::schema::{BindingSchema, CommandDef as C, EventDef as E, TypeDef as T};
            BindingSchema {
                commands: &[#(#commands),*],
                events: &[#(#events),*],
                types: &[#(#types),*],
            }
        };
    }
}

/// The named types reached from commands and events.
#[derive(Default)]
struct Reached {
    seen: HashSet<EntityId>,
    queue: VecDeque<EntityId>,
}

impl Reached {
    /// The name a reference to `ty` has in the table (the empty object
    /// when `None`), noting the named types it reaches.
    fn reference<'s>(&mut self, schema: &'s Schema, ty: Option<EntityId>) -> Cow<'s, str> {
        let Some(ty) = ty.or_else(|| schema.lookup(EMPTY)) else {
            return Cow::Borrowed(EMPTY);
        };
        let entity = schema.entity(ty);
        match &entity.kind {
            EntityKind::Builtin(builtin) => Cow::Borrowed(builtin.name()),
            EntityKind::Array(array) => {
                Cow::Owned(format!("[{}]", self.reference(schema, Some(array.element))))
            }
            _ => {
                if self.seen.insert(ty) {
                    self.queue.push_back(ty);
                }
                Cow::Borrowed(&entity.name)
            }
        }
    }

    /// The table entries of every type reached, sorted by name.
    fn types(mut self, schema: &Schema) -> Vec<TokenStream> {
        let mut kinds = BTreeMap::new();
        while let Some(id) = self.queue.pop_front() {
            let entry = self.entry(schema, id);
            kinds.insert(schema.entity(id).name.clone(), entry);
        }
        kinds.into_values().collect()
    }

    /// The table entry of a named type: its members, values, branches or
    /// alternatives written in one string each (see
    /// `qapi_types::schema::Entries`).
    fn entry(&mut self, schema: &Schema, id: EntityId) -> TokenStream {
        let name = &schema.entity(id).name;
        match &schema.entity(id).kind {
            EntityKind::Enum(e) => {
                let values = entries(e.values.iter().map(|v| (&v.cond, v.name.clone())));
                quote!(T::enumeration(#name, #values))
            }
            EntityKind::Object(object) => {
                let members = schema.members(id);
                let members = entries(members.iter().map(|m| {
                    let star = if m.optional { "*" } else { "" };
                    let ty = self.reference(schema, Some(m.ty));
                    (&m.cond, format!("{star}{}: {ty}", m.name))
                }));
                match &object.branches {
                    None => quote!(T::structure(#name, #members)),
                    Some(branches) => {
                        let tag = &branches.tag;
                        // Implicit branches add no members.
                        let declared = branches.variants.iter().filter(|v| !v.implicit);
                        let branches = entries(declared.map(|v| {
                            let ty = self.reference(schema, Some(v.ty));
                            (&v.cond, format!("{}: {ty}", v.name))
                        }));
                        quote!(T::union(#name, #members, #tag, #branches))
                    }
                }
            }
            EntityKind::Alternate(alternate) => {
                let alternatives = entries(
                    alternate
                        .variants
                        .iter()
                        .map(|v| (&v.cond, self.reference(schema, Some(v.ty)).into_owned())),
                );
                quote!(T::alternate(#name, #alternatives))
            }
            // Builtins and arrays are named, not described; commands and
            // events are not types.
            _ => quote!(T::structure(#name, "")),
        }
    }
}

/// Entries joined by `", "`, conditional ones marked with `~`.
fn entries<'c>(entries: impl Iterator<Item = (&'c Option<Cond>, String)>) -> String {
    let mut text = String::new();
    for (cond, entry) in entries {
        if !text.is_empty() {
            text.push_str(", ");
        }
        if cond.is_some() {
            text.push('~');
        }
        text.push_str(&entry);
    }
    text
}

/// `tokens()` when `set` (`None` adds nothing, without allocating as an
/// empty token stream does).
fn flag(set: bool, tokens: impl FnOnce() -> TokenStream) -> Option<TokenStream> {
    set.then(tokens)
}
