//! The bindings' description of themselves: `SCHEMA`, a
//! `qapi_types::schema::BindingSchema` holding the commands, the events
//! and every type they reach, for comparison with a server's
//! `query-qmp-schema` at run time.
//!
//! Types are named as in the schema (arrays as `[Element]`), and the
//! table of types is sorted by name for binary search. Everything is one
//! static of `const fn` constructor calls, a line an entry once
//! formatted: about a sixth of the system emulator's bindings, 2% of
//! their build time.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet, VecDeque};

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::model::{Cond, EntityId, EntityKind, Schema};

/// The name of the empty object, which stands for absent arguments,
/// returns and event data.
const EMPTY: &str = "q_empty";

/// The `SCHEMA` static.
pub(crate) fn binding_schema(schema: &Schema) -> TokenStream {
    let mut reached = Reached::default();
    let mut commands = Vec::new();
    let mut events = Vec::new();
    for id in schema.ids() {
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
            use ::qapi_types::schema::{
                Alternative as A, BindingSchema, Branch as B, CommandDef as C, EnumValue as V,
                EventDef as E, Member as M, TypeDef as T,
            };
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

    /// The table entry of a named type: one `quote!`, its members, values
    /// or alternatives repeated within (cheaper than one each).
    fn entry(&mut self, schema: &Schema, id: EntityId) -> TokenStream {
        let name = &schema.entity(id).name;
        match &schema.entity(id).kind {
            EntityKind::Enum(e) => {
                let values = e.values.iter().map(|v| &v.name);
                let conds = e.values.iter().map(|v| conditional(&v.cond));
                quote!(T::enumeration(#name, &[#(V::new(#values) #conds),*]))
            }
            EntityKind::Object(object) => {
                let members = schema.members(id);
                let names = members.iter().map(|m| &m.name);
                let ctors = members.iter().map(|m| {
                    if m.optional {
                        format_ident!("optional")
                    } else {
                        format_ident!("required")
                    }
                });
                let types: Vec<Cow<str>> = members
                    .iter()
                    .map(|m| self.reference(schema, Some(m.ty)))
                    .collect();
                let conds = members.iter().map(|m| conditional(&m.cond));
                let members = quote!(&[#(M::#ctors(#names, #types) #conds),*]);
                match &object.branches {
                    None => quote!(T::structure(#name, #members)),
                    Some(branches) => {
                        let tag = &branches.tag;
                        // Implicit branches add no members.
                        let declared: Vec<_> =
                            branches.variants.iter().filter(|v| !v.implicit).collect();
                        let cases = declared.iter().map(|v| &v.name);
                        let types: Vec<Cow<str>> = declared
                            .iter()
                            .map(|v| self.reference(schema, Some(v.ty)))
                            .collect();
                        let conds = declared.iter().map(|v| conditional(&v.cond));
                        quote!(T::union(#name, #members, #tag, &[#(B::new(#cases, #types) #conds),*]))
                    }
                }
            }
            EntityKind::Alternate(alternate) => {
                let types: Vec<Cow<str>> = alternate
                    .variants
                    .iter()
                    .map(|v| self.reference(schema, Some(v.ty)))
                    .collect();
                let conds = alternate.variants.iter().map(|v| conditional(&v.cond));
                quote!(T::alternate(#name, &[#(A::new(#types) #conds),*]))
            }
            // Builtins and arrays are named, not described; commands and
            // events are not types.
            _ => quote!(T::structure(#name, &[])),
        }
    }
}

/// `.conditional()` for what exists only under a condition.
fn conditional(cond: &Option<Cond>) -> TokenStream {
    flag(cond.is_some(), || quote!(.conditional()))
}

/// `tokens()` when `set`.
fn flag(set: bool, tokens: impl FnOnce() -> TokenStream) -> TokenStream {
    if set {
        tokens()
    } else {
        TokenStream::new()
    }
}
