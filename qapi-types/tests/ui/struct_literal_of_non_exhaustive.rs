// Generated structs are built with `new` and setters, so that members a
// newer schema adds never break this code: struct literals are refused.
use qapi_types::qmp::VersionTriple;

fn main() {
    let _ = VersionTriple { major: 10, minor: 0, micro: 2 };
}
