//! `cargo qapi`: see [`qapi_gen::cli`].

fn main() {
    qapi_gen::cli::main()
}
