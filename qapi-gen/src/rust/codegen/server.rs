//! The server side: `server::Server`, a trait with an async method a
//! command (its arguments and the `Session` in, which emits events),
//! whose default answers as QEMU does for a command it lacks;
//! `server::Served`, which runs a `Server` as a
//! `qapi_types::server::Dispatch` (command name and JSON arguments in,
//! the method's return as JSON out); and `server::INTROSPECTION`.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use crate::model::{EntityId, EntityKind};
use crate::rust::codegen::{Codegen, Scope, ServerPart};
use crate::rust::ident::{self, ident};

/// The name of the trait of the commands.
const TRAIT: &str = "Server";

impl Codegen<'_> {
    /// One part of the `server` module, carrying `introspection`.
    pub(super) fn server(&self, part: ServerPart, introspection: &str) -> TokenStream {
        match part {
            ServerPart::Trait => self.server_trait(),
            ServerPart::Served => self.served(),
            ServerPart::Introspection => {
                let text = raw_string(introspection);
                quote! {
                    /// What the server reports in `query-qmp-schema`: what QEMU
                    /// built from the schema reports (type names masked as
                    /// numbers), with its build conditions kept (a conditional
                    /// entry, member, branch, alternative or enum member has an
                    /// `"if"` key, a conditional enum value or feature is
                    /// `{"value": NAME, "if": CONDITION}`), or, for bindings
                    /// generated from a QEMU's introspection, that introspection.
                    /// [`qapi_types::server::query_qmp_schema`] makes the reply of
                    /// one build configuration of it.
                    pub const INTROSPECTION: &str = #text;
                }
            }
        }
    }

    /// The kept commands, in schema order, and their methods' names: the
    /// wire names in snake_case, unique.
    fn server_commands(&self) -> Vec<(EntityId, proc_macro2::Ident)> {
        let commands: Vec<EntityId> = self
            .kept_ids()
            .filter(|&id| matches!(self.entity(id).kind, EntityKind::Command(_)))
            .collect();
        let methods = ident::unique(
            commands
                .iter()
                .map(|&id| ident::field_name(&self.entity(id).name))
                .collect(),
            &[],
            false,
        );
        commands
            .into_iter()
            .zip(methods.iter().map(|method| ident(method)))
            .collect()
    }

    /// The `Server` trait: a method a command.
    fn server_trait(&self) -> TokenStream {
        let declarations = self
            .server_commands()
            .into_iter()
            .map(|(id, method)| self.server_method(id, &method));
        let server = quote::format_ident!("{}", TRAIT);
        quote! {
            /// The schema's commands, an async method each, taking the
            /// command's arguments and the session it runs in (which emits
            /// events), and returning what it returns, or the error it
            /// answers. A method left out answers as QEMU does for a command
            /// it lacks (`CommandNotFound`): implement those a server needs,
            /// and serve it with [`Served`]. The server runtime answers the
            /// protocol's own commands (`qmp_capabilities`, `query-version`,
            /// `query-commands`, `query-qmp-schema`) itself.
            #[allow(deprecated)]
            pub trait #server: ::core::marker::Send + ::core::marker::Sync + 'static {
                #(#declarations)*
            }
        }
    }

    /// `Served`: the dispatch from a command's name to its method.
    fn served(&self) -> TokenStream {
        let mut arms = Vec::new();
        for (id, method) in self.server_commands() {
            let wire = &self.entity(id).name;
            arms.push(quote! {
                #wire => ::std::boxed::Box::pin(async move {
                    let arguments = match decode(arguments) {
                        ::core::result::Result::Ok(arguments) => arguments,
                        ::core::result::Result::Err(error) => {
                            return ::core::option::Option::Some(::core::result::Result::Err(error));
                        }
                    };
                    encode(self.0.#method(arguments, session).await)
                }),
            });
        }
        let server = quote::format_ident!("{}", TRAIT);
        let call = if arms.is_empty() {
            quote! {
                let _ = (name, arguments, session);
                ::std::boxed::Box::pin(::core::future::ready(::core::option::Option::None))
            }
        } else {
            quote! {
                match name {
                    #(#arms)*
                    _ => ::std::boxed::Box::pin(::core::future::ready(::core::option::Option::None)),
                }
            }
        };
        let helpers = if arms.is_empty() {
            quote!()
        } else {
            quote! {
                /// Decodes arguments already checked against the schema;
                /// should they not decode all the same, the error the
                /// command answers.
                fn decode<T: ::qapi_types::serde::de::DeserializeOwned>(
                    arguments: ::qapi_types::serde_json::Map<::std::string::String, ::qapi_types::serde_json::Value>,
                ) -> ::core::result::Result<T, ::qapi_types::QmpError> {
                    ::qapi_types::serde_json::from_value(::qapi_types::serde_json::Value::Object(arguments))
                        .map_err(|error| ::qapi_types::QmpError::generic(::std::format!("Invalid arguments: {error}")))
                }

                /// A method's result as the reply's JSON.
                fn encode<T: ::qapi_types::serde::Serialize>(
                    result: ::core::result::Result<T, ::qapi_types::QmpError>,
                ) -> ::qapi_types::server::CallOutcome {
                    ::core::option::Option::Some(result.and_then(|value| {
                        ::qapi_types::serde_json::to_value(value)
                            .map_err(|error| ::qapi_types::QmpError::generic(::std::format!("Invalid return value: {error}")))
                    }))
                }
            }
        };
        quote! {
            /// Runs a [`Server`]'s commands for `qapi_types::server`: the
            /// command's JSON arguments decoded, its method awaited, its
            /// return encoded.
            #[derive(Clone, Debug, Default)]
            pub struct Served<S>(pub S);

            #[allow(deprecated)]
            impl<S: #server> ::qapi_types::server::Dispatch for Served<S> {
                fn schema(&self) -> &'static ::qapi_types::schema::BindingSchema {
                    &super::SCHEMA
                }

                fn introspection(&self) -> ::core::option::Option<&'static str> {
                    ::core::option::Option::Some(INTROSPECTION)
                }

                fn call<'a>(
                    &'a self,
                    name: &'a str,
                    arguments: ::qapi_types::serde_json::Map<::std::string::String, ::qapi_types::serde_json::Value>,
                    session: &'a ::qapi_types::server::Session,
                ) -> ::qapi_types::server::CallFuture<'a> {
                    #call
                }
            }

            #helpers
        }
    }

    /// The method of command `id`, whose default body answers
    /// `CommandNotFound`.
    fn server_method(&self, id: EntityId, method: &proc_macro2::Ident) -> TokenStream {
        let entity = self.entity(id);
        let EntityKind::Command(command) = &entity.kind else {
            unreachable!("a command")
        };
        let name = quote::format_ident!("{}", self.name(id));
        let wire = &entity.name;
        let ok = match command.ret_type {
            Some(ty) => self.rust_type(ty, Scope::Sub),
            None => quote!(::qapi_types::Empty),
        };
        let docs = self.method_doc(id);
        quote! {
            #docs
            fn #method(
                &self,
                arguments: super::commands::#name,
                session: &::qapi_types::server::Session,
            ) -> impl ::core::future::Future<Output = ::core::result::Result<#ok, ::qapi_types::QmpError>> + ::core::marker::Send {
                let _ = (arguments, session);
                ::core::future::ready(::core::result::Result::Err(::qapi_types::QmpError::command_not_found(#wire)))
            }
        }
    }

    /// A method's doc: the command's summary (the first paragraph of its
    /// doc), where its arguments are, and how it is run.
    fn method_doc(&self, id: EntityId) -> Option<TokenStream> {
        let entity = self.entity(id);
        let EntityKind::Command(command) = &entity.kind else {
            return None;
        };
        let mut lines: Vec<String> = self
            .item_doc(id, Scope::Sub)
            .into_iter()
            .take_while(|line| !line.is_empty())
            .collect();
        if !lines.is_empty() {
            lines.push(String::new());
        }
        let rust = self.name(id);
        lines.push(format!(
            "`{}`: its arguments are [`{rust}`](super::commands::{rust}).",
            entity.name
        ));
        if command.allow_oob {
            lines.push("It may be executed out of band.".to_string());
        }
        if !command.success_response {
            lines.push("QEMU sends no reply when it succeeds.".to_string());
        }
        self.doc_attrs(&lines)
    }
}

/// `text` as a raw string literal, with enough `#`s that it cannot end
/// early.
fn raw_string(text: &str) -> Literal {
    let mut hashes = String::from("#");
    while text.contains(&format!("\"{hashes}")) {
        hashes.push('#');
    }
    format!("r{hashes}\"{text}\"{hashes}")
        .parse()
        .unwrap_or_else(|_| Literal::string(text))
}
