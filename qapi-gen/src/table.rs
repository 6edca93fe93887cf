//! The bindings' description of themselves: `SCHEMA`, a
//! `qapi_types::schema::BindingSchema` holding the commands, the events
//! and every type they reach, for comparison with a server's
//! `query-qmp-schema` at run time.
//!
//! Types are named as in the schema (arrays as `[Element]`), and the
//! table of types is sorted by name for binary search. Everything is one
//! static of literals: it compiles quickly.

use std::collections::{BTreeMap, VecDeque};

use proc_macro2::TokenStream;
use quote::quote;

use crate::model::{EntityId, EntityKind, Schema};

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
                let oob = flag(command.allow_oob, quote!(.allow_oob()));
                let cond = flag(conditional, quote!(.conditional()));
                commands.push(quote!(C::new(#name, #arguments, #returns) #oob #cond));
            }
            EntityKind::Event(event) => {
                let data = reached.reference(schema, event.arg_type);
                let cond = flag(conditional, quote!(.conditional()));
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
    /// By name, so that the table comes out sorted.
    named: BTreeMap<String, EntityId>,
    queue: VecDeque<EntityId>,
}

impl Reached {
    /// The name a reference to `ty` has in the table (the empty object
    /// when `None`), noting the named types it reaches.
    fn reference(&mut self, schema: &Schema, ty: Option<EntityId>) -> String {
        let Some(ty) = ty.or_else(|| schema.lookup(EMPTY)) else {
            return EMPTY.to_string();
        };
        let entity = schema.entity(ty);
        match &entity.kind {
            EntityKind::Builtin(builtin) => builtin.name().to_string(),
            EntityKind::Array(array) => {
                format!("[{}]", self.reference(schema, Some(array.element)))
            }
            _ => {
                if !self.named.contains_key(&entity.name) {
                    self.named.insert(entity.name.clone(), ty);
                    self.queue.push_back(ty);
                }
                entity.name.clone()
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

    /// The table entry of a named type.
    fn entry(&mut self, schema: &Schema, id: EntityId) -> TokenStream {
        let name = &schema.entity(id).name;
        match &schema.entity(id).kind {
            EntityKind::Enum(e) => {
                let values = e.values.iter().map(|v| {
                    let value = &v.name;
                    let cond = flag(v.cond.is_some(), quote!(.conditional()));
                    quote!(V::new(#value) #cond)
                });
                quote!(T::enumeration(#name, &[#(#values),*]))
            }
            EntityKind::Object(object) => {
                let members: Vec<TokenStream> = schema
                    .members(id)
                    .into_iter()
                    .map(|m| {
                        let member = &m.name;
                        let ty = self.reference(schema, Some(m.ty));
                        let cond = flag(m.cond.is_some(), quote!(.conditional()));
                        if m.optional {
                            quote!(M::optional(#member, #ty) #cond)
                        } else {
                            quote!(M::required(#member, #ty) #cond)
                        }
                    })
                    .collect();
                match &object.branches {
                    None => quote!(T::structure(#name, &[#(#members),*])),
                    Some(branches) => {
                        let tag = &branches.tag;
                        // Implicit branches add no members.
                        let cases: Vec<TokenStream> = branches
                            .variants
                            .iter()
                            .filter(|v| !v.implicit)
                            .map(|v| {
                                let case = &v.name;
                                let ty = self.reference(schema, Some(v.ty));
                                let cond = flag(v.cond.is_some(), quote!(.conditional()));
                                quote!(B::new(#case, #ty) #cond)
                            })
                            .collect();
                        quote!(T::union(#name, &[#(#members),*], #tag, &[#(#cases),*]))
                    }
                }
            }
            EntityKind::Alternate(alternate) => {
                let alternatives: Vec<TokenStream> = alternate
                    .variants
                    .iter()
                    .map(|v| {
                        let ty = self.reference(schema, Some(v.ty));
                        let cond = flag(v.cond.is_some(), quote!(.conditional()));
                        quote!(A::new(#ty) #cond)
                    })
                    .collect();
                quote!(T::alternate(#name, &[#(#alternatives),*]))
            }
            // Builtins and arrays are named, not described; commands and
            // events are not types.
            _ => quote!(T::structure(#name, &[])),
        }
    }
}

/// `tokens` when `set`.
fn flag(set: bool, tokens: TokenStream) -> TokenStream {
    if set {
        tokens
    } else {
        TokenStream::new()
    }
}
