//! Unions: the common members, and an enum of the branches on the
//! discriminator.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::model::{EntityId, Member};
use crate::rust::codegen::{push_paragraph, Codegen, Scope, UNRECOGNIZED};
use crate::rust::ident::{self, ident};
use crate::rust::moved::Moved;
use crate::rust::rustdoc::markdown;

impl Codegen<'_> {
    pub(super) fn union(&self, id: EntityId) -> TokenStream {
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
        let record = Moved::new(self.record(&name, docs, deprecated, fields));

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
                    vec![format!("*Only in QEMU builds where {cond:#}.*")],
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
        let read = Moved::new(if reads.is_empty() {
            other
        } else {
            let reads = Moved::all(reads);
            quote! {
                match case.as_str() {
                    #(#reads)*
                    _ => #other,
                }
            }
        });
        let (variants, writes) = (Moved::all(variants), Moved::all(writes));
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
}
