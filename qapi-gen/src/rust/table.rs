//! The bindings' description of themselves: `SCHEMA`, a
//! `qapi_types::schema::table::BindingSchema` holding the commands, the events
//! and every type they reach, for comparison with a server's
//! `query-qmp-schema` at run time.
//!
//! Every entry is a static value the compiler checks: type references
//! are `TypeRef`s (builtins and arrays by what they are, the other types
//! by QAPI name), and the table of named types is sorted by name for
//! binary search. Everything is one static of `const fn` constructor
//! calls, a line an entry once formatted:
//! `M::new("device", R::STR).optional()`. A command, event, member,
//! value, branch or alternative the schema defines under a condition
//! carries it, as the schema writes it, for a server to apply its
//! build's: `.only_if(If::Defined("CONFIG_LINUX"))` (a type is there
//! where what uses it is).

use std::collections::{BTreeMap, HashSet, VecDeque};

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::model::selection::Selection;
use crate::model::{Cond, EntityId, EntityKind, Schema};
use crate::rust::moved::Moved;

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
        match &entity.kind {
            EntityKind::Command(command) => {
                let arguments = Moved::new(reached.reference(schema, command.arg_type));
                let returns = Moved::new(reached.reference(schema, command.ret_type));
                let oob = command.allow_oob.then(|| quote!(.allow_oob()));
                let own = (!command.gen).then(|| quote!(.reads_own_arguments()));
                let cond = conditional(&entity.cond);
                commands.push(quote!(C::new(#name, #arguments, #returns) #oob #own #cond));
            }
            EntityKind::Event(event) => {
                let data = Moved::new(reached.reference(schema, event.arg_type));
                let cond = conditional(&entity.cond);
                events.push(quote!(E::new(#name, #data) #cond));
            }
            _ => {}
        }
    }
    let (commands, events) = (Moved::all(commands), Moved::all(events));
    let types = Moved::all(reached.types(schema));
    quote! {
        /// The commands, events and types these bindings use, for
        /// `check_schema` against a server.
        pub static SCHEMA: ::qapi_types::schema::table::BindingSchema = {
            #[allow(unused_imports)]
            use ::qapi_types::schema::table::{
                Alternative as A, BindingSchema, Branch as B, CommandDef as C, Condition as If,
                EnumValue as V, EventDef as E, Member as M, TypeDef as T, TypeRef as R,
            };
            BindingSchema {
                commands: &[#(#commands,)*],
                events: &[#(#events,)*],
                types: &[#(#types,)*],
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
    /// A reference to `ty` (the empty object when `None`), noting the
    /// named types it reaches: `R::STR`, `R::Array(&R::Named("Thing"))`.
    fn reference(&mut self, schema: &Schema, ty: Option<EntityId>) -> TokenStream {
        let Some(ty) = ty.or_else(|| schema.lookup(EMPTY)) else {
            return quote!(R::Named(#EMPTY));
        };
        let entity = schema.entity(ty);
        match &entity.kind {
            EntityKind::Builtin(builtin) => {
                let name = format_ident!("{}", builtin.name().to_uppercase());
                quote!(R::#name)
            }
            EntityKind::Array(array) => {
                let element = Moved::new(self.reference(schema, Some(array.element)));
                quote!(R::Array(&#element))
            }
            _ => {
                if self.seen.insert(ty) {
                    self.queue.push_back(ty);
                }
                let name = &entity.name;
                quote!(R::Named(#name))
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
    /// alternatives.
    fn entry(&mut self, schema: &Schema, id: EntityId) -> TokenStream {
        let name = &schema.entity(id).name;
        match &schema.entity(id).kind {
            EntityKind::Enum(e) => {
                let values = e.values.iter().map(|v| {
                    let value = &v.name;
                    let cond = conditional(&v.cond);
                    Moved::new(quote!(V::new(#value) #cond))
                });
                quote!(T::enumeration(#name, &[#(#values,)*]))
            }
            EntityKind::Object(object) => {
                let members: Vec<Moved> = schema
                    .members(id)
                    .iter()
                    .map(|m| {
                        let member = &m.name;
                        let ty = Moved::new(self.reference(schema, Some(m.ty)));
                        let optional = m.optional.then(|| quote!(.optional()));
                        let cond = conditional(&m.cond);
                        Moved::new(quote!(M::new(#member, #ty) #optional #cond))
                    })
                    .collect();
                match &object.branches {
                    None => quote!(T::structure(#name, &[#(#members,)*])),
                    Some(branches) => {
                        let tag = &branches.tag;
                        // Implicit branches add no members.
                        let declared = branches.variants.iter().filter(|v| !v.implicit);
                        let branches: Vec<Moved> = declared
                            .map(|v| {
                                let case = &v.name;
                                let ty = Moved::new(self.reference(schema, Some(v.ty)));
                                let cond = conditional(&v.cond);
                                Moved::new(quote!(B::new(#case, #ty) #cond))
                            })
                            .collect();
                        quote!(T::union(#name, &[#(#members,)*], #tag, &[#(#branches,)*]))
                    }
                }
            }
            EntityKind::Alternate(alternate) => {
                let alternatives: Vec<Moved> = alternate
                    .variants
                    .iter()
                    .map(|v| {
                        let ty = Moved::new(self.reference(schema, Some(v.ty)));
                        let cond = conditional(&v.cond);
                        Moved::new(quote!(A::new(#ty) #cond))
                    })
                    .collect();
                quote!(T::alternate(#name, &[#(#alternatives,)*]))
            }
            // Builtins and arrays are referred to, not described;
            // commands and events are not types.
            _ => quote!(T::structure(#name, &[])),
        }
    }
}

/// `.only_if(CONDITION)` for what the schema defines under a condition
/// (`None` adds nothing, without allocating as an empty token stream
/// does).
fn conditional(cond: &Option<Cond>) -> Option<TokenStream> {
    cond.as_ref().map(|cond| {
        let condition = condition(cond);
        quote!(.only_if(#condition))
    })
}

/// A condition as the table writes it: `If::Defined("CONFIG_LINUX")`,
/// `If::All(&[...])`, `If::Any(&[...])`, `If::Not(&...)`.
fn condition(cond: &Cond) -> TokenStream {
    match cond {
        Cond::Name(symbol) => quote!(If::Defined(#symbol)),
        Cond::All(all) => {
            let all = Moved::all(all.iter().map(condition).collect());
            quote!(If::All(&[#(#all),*]))
        }
        Cond::Any(any) => {
            let any = Moved::all(any.iter().map(condition).collect());
            quote!(If::Any(&[#(#any),*]))
        }
        Cond::Not(not) => {
            let not = Moved::new(condition(not));
            quote!(If::Not(&#not))
        }
    }
}
