//! Enumerations: a Rust enum of the wire names, with `Unrecognized` for
//! values of a newer QEMU.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::model::{EntityId, EntityKind};
use crate::rust::codegen::{push_paragraph, Codegen, Scope, UNRECOGNIZED};
use crate::rust::ident;
use crate::rust::moved::Moved;
use crate::rust::rustdoc::markdown;

impl Codegen<'_> {
    pub(super) fn enumeration(&self, id: EntityId) -> TokenStream {
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
                    vec![format!("*Only in QEMU builds where {cond:#}.*")],
                );
            }
            let value_docs = self.member_doc_attrs(&lines, item_lines.is_empty());
            let value_deprecated = Self::deprecation(&value.features, entity.doc.as_ref());
            variants.push(quote! { #value_docs #value_deprecated #variant, });
            wires.push(quote!(#variant = #wire));
        }
        let unrecognized = format_ident!("{}", UNRECOGNIZED);
        let (variants, wires) = (Moved::all(variants), Moved::all(wires));
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
}
