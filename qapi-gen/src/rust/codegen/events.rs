//! Events: a struct of the data of each, and `events::Event`, which
//! decodes any of them.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::model::{EntityId, EntityKind};
use crate::rust::codegen::{Codegen, Scope, EVENT_ENUM, UNRECOGNIZED};
use crate::rust::moved::Moved;

impl Codegen<'_> {
    pub(super) fn event(&self, id: EntityId) -> TokenStream {
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

    pub(super) fn event_enum(&self) -> TokenStream {
        let mut variants = Vec::new();
        let mut arms = Vec::new();
        for id in self.kept_ids() {
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
        let variants = Moved::all(variants);
        let decode = if arms.is_empty() {
            quote!(::core::result::Result::Ok(Self::#unrecognized(raw.clone())))
        } else {
            let arms = Moved::all(arms);
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
