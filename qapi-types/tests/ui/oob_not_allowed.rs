// `query-version` is not `allow-oob`: it cannot be sent with exec-oob.
use qapi_types::qmp::commands::QueryVersion;
use qapi_types::Qmp;

async fn run(qmp: &Qmp) {
    let _ = qmp.execute_oob(&QueryVersion::new()).await;
}

fn main() {
    let _ = run;
}
