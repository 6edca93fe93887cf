//! Alternates: an enum of the alternatives, told apart by JSON type.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::model::{Builtin, EntityId, EntityKind};
use crate::rust::codegen::{push_paragraph, Codegen, Scope};
use crate::rust::ident;
use crate::rust::moved::Moved;
use crate::rust::rustdoc::markdown;

impl Codegen<'_> {
    pub(super) fn alternate(&self, id: EntityId) -> TokenStream {
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
                    vec![format!("*Only in QEMU builds where {cond:#}.*")],
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
        let (variants, ser, de) = (Moved::all(variants), Moved::all(ser), Moved::all(de));
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
}
