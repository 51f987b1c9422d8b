//! The evaluation aggregates (考评) the events keep.

use super::*;

#[async_trait]
impl AggregateStore for SqlStore {
    async fn kpi_tallies(
        &self,
        dim: mashangban_domain::aggregates::Dim,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
        by_day: bool,
    ) -> Result<Vec<GroupTally>> {
        let mut conn = self.pool.acquire().await?;
        aggregates::tallies(&mut conn, dim, from, to, by_day).await
    }

    async fn kpi_facts(
        &self,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> Result<
        Vec<(
            mashangban_domain::aggregates::FactKey,
            mashangban_domain::kpi::Tally,
        )>,
    > {
        let mut conn = self.pool.acquire().await?;
        aggregates::fine_rows(&mut conn, from, to).await
    }

    async fn kpi_issue_groups(&self, day: chrono::NaiveDate) -> Result<Vec<GroupTally>> {
        let mut conn = self.pool.acquire().await?;
        aggregates::issue_groups(&mut conn, day).await
    }

    async fn kpi_issue_counts(
        &self,
        day: chrono::NaiveDate,
        groups: &[String],
        place_min: u64,
    ) -> Result<Vec<mashangban_domain::report::IssueCounts>> {
        let mut conn = self.pool.acquire().await?;
        aggregates::issue_counts(&mut conn, day, groups, place_min).await
    }

    async fn kpi_issue_rollup(
        &self,
        name: &str,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> Result<Vec<GroupTally>> {
        let mut conn = self.pool.acquire().await?;
        aggregates::issue_rollup(&mut conn, name, from, to).await
    }

    async fn add_aggregate_facts(
        &self,
        facts: Vec<(i64, mashangban_domain::aggregates::Fact)>,
    ) -> Result<()> {
        self.run_write::<()>(Box::new(
            move |_: &mut AnyConnection, sums: &mut aggregates::Pending| -> JobFuture<'_> {
                Box::pin(async move {
                    for (ticket, fact) in &facts {
                        sums.add(*ticket, std::slice::from_ref(fact));
                    }
                    Ok(Box::new(()) as JobOutput)
                })
            },
        ))
        .await
    }

    async fn rebuild_aggregates(&self) -> Result<RebuildReport> {
        let mut w = self.writer().await?;
        let mut tx = w.begin(self.backend).await?;
        let report = aggregates::rebuild(&mut tx).await?;
        tx.commit().await?;
        Ok(report)
    }
}
