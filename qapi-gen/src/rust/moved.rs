//! Token streams that `quote!` takes by moving their tokens.
//!
//! `quote!` interpolates a `TokenStream` by reference, so it copies every
//! token of it, and with proc-macro2 outside a procedural macro each
//! copied identifier and literal is a new allocation, freed again when the
//! original is dropped. A stream built for one place, and interpolated at
//! each level of nesting on its way into the item, was copied once a
//! level. [`Moved`] hands its tokens over instead.

use std::cell::Cell;

use proc_macro2::TokenStream;
use quote::ToTokens;

/// A token stream to be interpolated once: `quote!` moves its tokens out,
/// so that a second interpolation would find it empty. For the parts an
/// emitter builds for exactly one place (fields, members, table entries),
/// never for a name or a type written in several.
pub(crate) struct Moved(Cell<TokenStream>);

impl Moved {
    /// Wraps `tokens`.
    pub(crate) fn new(tokens: TokenStream) -> Self {
        Self(Cell::new(tokens))
    }

    /// Each of `streams`, wrapped.
    pub(crate) fn all(streams: Vec<TokenStream>) -> Vec<Moved> {
        streams.into_iter().map(Moved::new).collect()
    }
}

impl ToTokens for Moved {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        tokens.extend(self.0.take());
    }

    fn into_token_stream(self) -> TokenStream {
        self.0.into_inner()
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::Moved;

    #[test]
    fn interpolated_tokens_are_those_of_the_stream() {
        let fields = Moved::all(vec![quote!(pub a: u8,), quote!(pub b: Vec<u8>,)]);
        let list = Moved::new(quote!(&[1, 2]));
        assert_eq!(
            quote!(struct S { #(#fields)* } const L: &[u8] = #list;).to_string(),
            quote!(
                struct S {
                    pub a: u8,
                    pub b: Vec<u8>,
                }
                const L: &[u8] = &[1, 2];
            )
            .to_string()
        );
    }

    #[test]
    fn a_second_interpolation_finds_nothing() {
        let once = Moved::new(quote!(x));
        assert_eq!(quote!(#once #once).to_string(), "x");
    }
}
