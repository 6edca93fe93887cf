//! Structs: a Rust struct of the members, its builder and its setters.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::model::{Builtin, EntityId, EntityKind, Member};
use crate::rust::codegen::{push_paragraph, Codegen, Fields, Scope};
use crate::rust::ident::{self, ident};
use crate::rust::moved::Moved;
use crate::rust::rustdoc::markdown;

impl Codegen<'_> {
    /// Fields, constructor parameters and setters for a list of members.
    /// `item_undocumented`: the item holding the fields says nothing
    /// either, and allows that for its fields too.
    pub(super) fn fields(
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
                    vec![format!("*Only in QEMU builds where {cond:#}.*")],
                );
            }
            let docs = self.member_doc_attrs(&lines, item_undocumented);
            let deprecated = Self::deprecation(&member.features, self.member_doc(member));
            let ty = Moved::new(if optional {
                quote!(::core::option::Option<#inner>)
            } else {
                inner.clone()
            });
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

    pub(super) fn structure(&self, id: EntityId) -> TokenStream {
        let entity = self.entity(id);
        let name = format_ident!("{}", self.name(id));
        let lines = self.item_doc(id, Scope::Root);
        let docs = self.item_attrs(id, &lines);
        let deprecated = Self::deprecation(&entity.features, entity.doc.as_ref());
        let members = self.schema.members(id);
        let fields = self.fields(id, &members, Scope::Root, lines.is_empty());
        self.record(&name, docs, deprecated, fields)
    }

    /// A struct with named fields, its constructor and setters, and its
    /// wire form through [`qapi_types::wire::Object`].
    pub(super) fn record(
        &self,
        name: &proc_macro2::Ident,
        docs: Option<TokenStream>,
        deprecated: Option<TokenStream>,
        fields: Fields,
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
                let entries = Moved::all(entries);
                sections.extend(quote!(#label { #(#entries,)* }));
            }
        }
        let (defs, params, inits, methods) = (
            Moved::all(defs),
            Moved::all(params),
            Moved::all(inits),
            Moved::all(methods),
        );
        let sections = Moved::new(sections);
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
}
