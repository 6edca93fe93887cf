// `query-version` returns a `VersionInfo`, not a string.
use qapi_types::qmp::commands::QueryVersion;
use qapi_types::Qmp;

async fn run(qmp: &Qmp) -> Result<(), qapi_types::Error> {
    let version: String = qmp.execute(&QueryVersion::new()).await?;
    println!("{version}");
    Ok(())
}

fn main() {
    let _ = run;
}
