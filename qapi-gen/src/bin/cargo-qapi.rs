//! `cargo qapi`: see [`qapi_gen::cli`].

fn main() {
    std::process::exit(qapi_gen::cli::run_on_terminal(std::env::args_os()));
}
