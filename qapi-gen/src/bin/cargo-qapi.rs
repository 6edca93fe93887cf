//! `cargo qapi`: see [`qapi_gen::cli`].

fn main() {
    let code = qapi_gen::cli::run(
        std::env::args_os(),
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    );
    std::process::exit(code);
}
