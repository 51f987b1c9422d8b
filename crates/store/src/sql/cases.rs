//! Typical cases (典型案例) and their history: the one versioned write, with the notices
//! a step calls for in the same transaction.

use super::*;
use mashangban_domain::cases::TypicalCase;

impl Versioned for TypicalCase {
    const TABLE: &'static str = "typical_cases";
    const HISTORY: &'static str = "typical_case_changes";
    const SUBJECT_COLUMN: &'static str = "case_id";
    const NOUN: &'static str = "typical case";
    const COLUMNS: &'static str = "id, body, version";
    const WRITTEN: &'static [&'static str] = &[
        "ticket_id",
        "state",
        "category_code",
        "published_at",
        "words",
        "body",
        "version",
    ];

    fn id(&self) -> i64 {
        self.id
    }
    fn version(&self) -> i64 {
        self.version
    }
    fn stamp(&mut self, id: i64, version: i64) {
        (self.id, self.version) = (id, version);
    }
    fn values(&self) -> Result<Vec<P>> {
        let t = &self.text;
        // What a search may find: the texts as published, nothing the drafting took out.
        let words = [&t.title, &t.request, &t.handling, &t.result]
            .map(|s| s.as_str())
            .join("\n");
        Ok(vec![
            P::I(Some(self.ticket_id)),
            P::S(Some(self.state.as_str().to_string())),
            P::S(self.category_code.clone()),
            P::I(self.published_at.map(ts)),
            P::S(Some(words)),
            P::S(Some(serde_json::to_string(self).map_err(corrupt)?)),
            P::I(Some(self.version)),
        ])
    }
    fn from_row(row: &AnyRow) -> Result<Self> {
        let body: String = row.try_get("body")?;
        let mut c: TypicalCase = serde_json::from_str(&body).map_err(corrupt)?;
        c.id = row.try_get("id")?;
        c.version = row.try_get("version")?;
        Ok(c)
    }
}

/// `%` and `_` taken literally in a `LIKE … ESCAPE '\'` pattern.
fn like_escaped(words: &str) -> String {
    let mut out = String::with_capacity(words.len() + 2);
    out.push('%');
    for c in words.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

#[async_trait]
impl CaseStore for SqlStore {
    async fn write_case(
        &self,
        case: TypicalCase,
        notices: Vec<NewNotice>,
        user_id: i64,
        at: DateTime<Utc>,
    ) -> Result<TypicalCase> {
        let ticket_id = case.ticket_id;
        let mut w = self.writer().await?;
        let mut tx = w.begin(self.backend).await?;
        let saved = versioned::write(&mut tx, VersionedWrite::Save(case), user_id, at)
            .await
            .map_err(|e| match e {
                StoreError::Duplicate { .. } => StoreError::Duplicate {
                    what: format!("a typical case of ticket {ticket_id}"),
                },
                e => e,
            })?
            .ok_or_else(|| corrupt("a saved case came back empty"))?;
        let notices: Vec<(Option<i64>, NewNotice)> =
            notices.into_iter().map(|n| (Some(ticket_id), n)).collect();
        insert_notices(&mut tx, &notices, at).await?;
        tx.commit().await?;
        Ok(saved)
    }

    async fn case(&self, id: i64) -> Result<Option<TypicalCase>> {
        let mut conn = self.pool.acquire().await?;
        match versioned::load::<TypicalCase>(&mut conn, id).await {
            Ok(c) => Ok(Some(c)),
            Err(StoreError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn case_of_ticket(&self, ticket_id: i64) -> Result<Option<TypicalCase>> {
        let row = sqlx::query("SELECT id, body, version FROM typical_cases WHERE ticket_id = $1")
            .bind(ticket_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(TypicalCase::from_row).transpose()
    }

    async fn cases(&self, filter: &CaseFilter) -> Result<(Vec<TypicalCase>, u64)> {
        let mut clauses = Vec::new();
        let mut params = Vec::new();
        if let Some(state) = filter.state {
            params.push(P::S(Some(state.as_str().to_string())));
            clauses.push(format!("state = ${}", params.len()));
        }
        if let Some(prefix) = &filter.category_prefix {
            params.push(P::S(Some(
                like_escaped(prefix).trim_start_matches('%').to_string(),
            )));
            clauses.push(format!("category_code LIKE ${} ESCAPE '\\'", params.len()));
        }
        if let Some(words) = filter
            .words
            .as_deref()
            .map(str::trim)
            .filter(|w| !w.is_empty())
        {
            for word in words.split_whitespace().take(5) {
                params.push(P::S(Some(like_escaped(word))));
                clauses.push(format!("words LIKE ${} ESCAPE '\\'", params.len()));
            }
        }
        let filter_sql = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        let total: i64 = bind_all(
            sqlx::query(AssertSqlSafe(format!(
                "SELECT COUNT(*) AS n FROM typical_cases {filter_sql}"
            ))),
            params.clone(),
        )
        .fetch_one(&self.pool)
        .await?
        .try_get("n")?;
        let n = params.len();
        params.push(P::I(Some(i64::from(filter.limit.clamp(1, 500)))));
        params.push(P::I(Some(i64::from(filter.offset))));
        let rows = bind_all(
            sqlx::query(AssertSqlSafe(format!(
                "SELECT id, body, version FROM typical_cases {filter_sql} \
                 ORDER BY COALESCE(published_at, 0) DESC, id DESC LIMIT ${} OFFSET ${}",
                n + 1,
                n + 2
            ))),
            params,
        )
        .fetch_all(&self.pool)
        .await?;
        let cases = rows
            .iter()
            .map(TypicalCase::from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok((cases, total.max(0) as u64))
    }

    async fn published_case_categories(&self) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT DISTINCT category_code FROM typical_cases \
             WHERE state = 'published' AND category_code IS NOT NULL ORDER BY category_code",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<String, _>("category_code")?))
            .collect()
    }

    async fn case_history(&self, case_id: i64) -> Result<Vec<CaseChange>> {
        let rows = versioned::history::<TypicalCase>(&self.pool, Some(case_id), 1_000).await?;
        Ok(rows
            .into_iter()
            .map(|r| CaseChange {
                id: r.id,
                case_id: r.subject_id,
                version: r.version,
                action: r.action,
                before: r.before,
                after: r.after,
                user_id: r.user_id,
                at: r.at,
            })
            .collect())
    }
}
