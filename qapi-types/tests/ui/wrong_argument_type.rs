// `enable` is a list of capabilities, not a string.
use qapi_types::qmp::commands::QmpCapabilities;

fn main() {
    let _ = QmpCapabilities::new().with_enable("oob");
}
