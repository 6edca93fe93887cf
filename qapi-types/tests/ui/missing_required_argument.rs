// `VersionTriple` needs major, minor and micro.
use qapi_types::qmp::VersionTriple;

fn main() {
    let _ = VersionTriple::new(10, 0);
}
