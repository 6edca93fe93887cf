//! Commands: a struct of the arguments, its wire name and its return
//! type.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::model::{EntityId, EntityKind, Member};
use crate::rust::codegen::{push_paragraph, Codegen, Fields, Scope};
use crate::rust::ident::{self, ident};

impl Codegen<'_> {
    /// The arguments of a command or the data of an event: fields of the
    /// implicit object, or a newtype of the named type.
    pub(super) fn payload(
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
                self.record(&name, docs, deprecated, fields)
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
            None => self.record(&name, docs, deprecated, Fields::default()),
        }
    }

    /// A catch-all for the arguments of a `'gen': false` command beyond
    /// those its schema lists.
    pub(super) fn extra_arguments(&self, members: &[&Member], fields: &mut Fields) {
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

    pub(super) fn command(&self, id: EntityId) -> TokenStream {
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
}
