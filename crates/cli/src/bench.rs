//! `mashangban bench`: placeholder replaced below.
use anyhow::Result;
#[derive(clap::Args)]
pub struct BenchArgs {}
pub async fn run(_a: BenchArgs) -> Result<()> {
    Ok(())
}
