//! Reference data: divisions, units and their liaisons, categories, the official calendar, settings.

use super::*;

fn division_from(row: &AnyRow) -> Result<Division> {
    Ok(Division {
        code: row.try_get("code")?,
        name: row.try_get("name")?,
        level: row
            .try_get::<String, _>("level")?
            .parse()
            .map_err(corrupt)?,
        parent_code: row.try_get("parent_code")?,
        population: row.try_get("population")?,
    })
}

fn unit_from(row: &AnyRow) -> Result<Unit> {
    Ok(Unit {
        id: row.try_get("id")?,
        code: row.try_get("code")?,
        name: row.try_get("name")?,
        kind: row
            .try_get::<String, _>("kind")?
            .parse::<UnitKind>()
            .map_err(corrupt)?,
        parent_id: row.try_get("parent_id")?,
        division_code: row.try_get("division_code")?,
        active: row.try_get::<i64, _>("active")? != 0,
    })
}

fn category_from(row: &AnyRow) -> Result<Category> {
    Ok(Category {
        code: row.try_get("code")?,
        name: row.try_get("name")?,
        parent_code: row.try_get("parent_code")?,
        level: row.try_get::<i64, _>("level")? as u8,
        default_tier: row
            .try_get::<Option<i64>, _>("default_tier")?
            .map(|t| t as u8),
        active: row.try_get::<i64, _>("active")? != 0,
        description: row.try_get("description")?,
        keywords: row
            .try_get::<String, _>("keywords")?
            .split_whitespace()
            .map(str::to_string)
            .collect(),
    })
}

const UNIT_COLS: &str = "id, code, name, kind, parent_id, division_code, active";

const CATEGORY_COLS: &str =
    "code, name, parent_code, level, default_tier, active, description, keywords";

const DIVISION_COLS: &str = "code, name, level, parent_code, population";

#[async_trait]
impl ReferenceStore for SqlStore {
    async fn upsert_divisions(&self, divisions: &[Division]) -> Result<usize> {
        let mut w = self.writer().await?;
        let mut tx = w.begin(self.backend).await?;
        for d in divisions {
            sqlx::query(
                "INSERT INTO divisions (code, name, level, parent_code, population) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level, \
                 parent_code = excluded.parent_code, population = COALESCE(excluded.population, divisions.population)",
            )
            .bind(d.code.clone())
            .bind(d.name.clone())
            .bind(d.level.as_str().to_string())
            .bind(d.parent_code.clone())
            .bind(d.population)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(divisions.len())
    }

    async fn list_divisions(
        &self,
        parent: Option<&str>,
        level: Option<DivisionLevel>,
    ) -> Result<Vec<Division>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {DIVISION_COLS} FROM divisions \
             WHERE ($1 IS NULL OR parent_code = $1) AND ($2 IS NULL OR level = $2) ORDER BY code"
        )))
        .bind(parent.map(str::to_string))
        .bind(level.map(|l| l.as_str().to_string()))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(division_from).collect()
    }

    async fn get_division(&self, code: &str) -> Result<Option<Division>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {DIVISION_COLS} FROM divisions WHERE code = $1"
        )))
        .bind(code.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(division_from).transpose()
    }

    async fn set_population(&self, code: &str, population: Option<i64>) -> Result<()> {
        let mut w = self.writer().await?;
        let r = sqlx::query("UPDATE divisions SET population = $1 WHERE code = $2")
            .bind(population)
            .bind(code.to_string())
            .execute(&mut *w)
            .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                what: format!("division {code}"),
            });
        }
        Ok(())
    }

    async fn insert_unit(&self, u: &NewUnit) -> Result<Unit> {
        let mut w = self.writer().await?;
        let row = sqlx::query(
            "INSERT INTO units (code, name, kind, parent_id, division_code, active) VALUES ($1, $2, $3, $4, $5, 1) \
             RETURNING id, code, name, kind, parent_id, division_code, active",
        )
        .bind(u.code.clone())
        .bind(u.name.clone())
        .bind(u.kind.as_str().to_string())
        .bind(u.parent_id)
        .bind(u.division_code.clone())
        .fetch_one(&mut *w)
        .await
        .map_err(|e| dup(e, format!("unit code {}", u.code)))?;
        unit_from(&row)
    }

    async fn get_unit(&self, id: i64) -> Result<Option<Unit>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {UNIT_COLS} FROM units WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(unit_from).transpose()
    }

    async fn get_unit_by_code(&self, code: &str) -> Result<Option<Unit>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {UNIT_COLS} FROM units WHERE code = $1"
        )))
        .bind(code.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(unit_from).transpose()
    }

    async fn list_units(&self) -> Result<Vec<Unit>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {UNIT_COLS} FROM units ORDER BY id"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(unit_from).collect()
    }

    async fn upsert_categories(&self, categories: &[Category]) -> Result<usize> {
        let mut w = self.writer().await?;
        let mut tx = w.begin(self.backend).await?;
        for c in categories {
            sqlx::query(
                "INSERT INTO categories (code, name, parent_code, level, default_tier, active, description, keywords) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, parent_code = excluded.parent_code, \
                 level = excluded.level, default_tier = excluded.default_tier, active = excluded.active, \
                 description = excluded.description, keywords = excluded.keywords",
            )
            .bind(c.code.clone())
            .bind(c.name.clone())
            .bind(c.parent_code.clone())
            .bind(c.level as i64)
            .bind(c.default_tier.map(i64::from))
            .bind(c.active as i64)
            .bind(c.description.clone())
            .bind(c.keywords.join(" "))
            .execute(&mut *tx)
            .await
            .map_err(|e| dup(e, format!("category {}", c.code)))?;
        }
        tx.commit().await?;
        Ok(categories.len())
    }

    async fn calendar(&self) -> Result<(Vec<CalendarDay>, Vec<i32>)> {
        let rows = sqlx::query("SELECT day, kind, name FROM calendar_days ORDER BY day")
            .fetch_all(&self.pool)
            .await?;
        let mut days = Vec::with_capacity(rows.len());
        for r in &rows {
            let day: String = r.try_get("day")?;
            let kind: String = r.try_get("kind")?;
            days.push(CalendarDay {
                date: chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d")
                    .map_err(|e| corrupt(format!("calendar day {day}: {e}")))?,
                kind: match kind.as_str() {
                    "holiday" => DayKind::Holiday,
                    "workday" => DayKind::Workday,
                    other => return Err(corrupt(format!("calendar kind {other}"))),
                },
                name: r.try_get("name")?,
            });
        }
        let years = sqlx::query("SELECT year FROM calendar_years ORDER BY year")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| r.try_get::<i64, _>("year").map(|y| y as i32))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((days, years))
    }

    async fn upsert_calendar_days(&self, days: &[CalendarDay]) -> Result<usize> {
        let mut w = self.writer().await?;
        let mut tx = w.begin(self.backend).await?;
        let mut years = std::collections::BTreeSet::new();
        for d in days {
            sqlx::query(
                "INSERT INTO calendar_days (day, kind, name) VALUES ($1, $2, $3) \
                 ON CONFLICT (day) DO UPDATE SET kind = excluded.kind, name = excluded.name",
            )
            .bind(d.date.format("%Y-%m-%d").to_string())
            .bind(d.kind.as_str())
            .bind(d.name.clone())
            .execute(&mut *tx)
            .await?;
            years.insert(d.date.year());
        }
        for y in years {
            sqlx::query(
                "INSERT INTO calendar_years (year) VALUES ($1) ON CONFLICT (year) DO NOTHING",
            )
            .bind(i64::from(y))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(days.len())
    }

    async fn delete_calendar_day(&self, date: chrono::NaiveDate) -> Result<bool> {
        let mut w = self.writer().await?;
        let r = sqlx::query("DELETE FROM calendar_days WHERE day = $1")
            .bind(date.format("%Y-%m-%d").to_string())
            .execute(&mut *w)
            .await?;
        Ok(r.rows_affected() > 0)
    }

    async fn set_calendar_year(&self, year: i32, known: bool) -> Result<()> {
        let mut w = self.writer().await?;
        let sql = if known {
            "INSERT INTO calendar_years (year) VALUES ($1) ON CONFLICT (year) DO NOTHING"
        } else {
            "DELETE FROM calendar_years WHERE year = $1"
        };
        sqlx::query(sql)
            .bind(i64::from(year))
            .execute(&mut *w)
            .await?;
        Ok(())
    }

    async fn setting(&self, name: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT value FROM settings WHERE name = $1")
            .bind(name.to_string())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get("value")).transpose()?)
    }

    async fn set_setting(&self, name: &str, value: &str, at: DateTime<Utc>) -> Result<()> {
        let mut w = self.writer().await?;
        sqlx::query(
            "INSERT INTO settings (name, value, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(name.to_string())
        .bind(value.to_string())
        .bind(ts(at))
        .execute(&mut *w)
        .await?;
        Ok(())
    }

    async fn list_categories(&self) -> Result<Vec<Category>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {CATEGORY_COLS} FROM categories ORDER BY code"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(category_from).collect()
    }

    async fn get_category(&self, code: &str) -> Result<Option<Category>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {CATEGORY_COLS} FROM categories WHERE code = $1"
        )))
        .bind(code.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(category_from).transpose()
    }

    async fn unit_contacts(&self) -> Result<Vec<UnitContact>> {
        let rows =
            sqlx::query("SELECT unit_id, liaison, phone FROM unit_contacts ORDER BY unit_id")
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| {
                Ok(UnitContact {
                    unit_id: r.try_get("unit_id")?,
                    liaison: r.try_get("liaison")?,
                    phone: r.try_get("phone")?,
                })
            })
            .collect()
    }

    async fn set_unit_contact(&self, unit_id: i64, contact: Option<&UnitContact>) -> Result<()> {
        let mut w = self.writer().await?;
        match contact {
            Some(c) => {
                sqlx::query(
                    "INSERT INTO unit_contacts (unit_id, liaison, phone) VALUES ($1, $2, $3) \
                     ON CONFLICT (unit_id) DO UPDATE SET liaison = excluded.liaison, phone = excluded.phone",
                )
                .bind(unit_id)
                .bind(c.liaison.clone())
                .bind(c.phone.clone())
                .execute(&mut *w)
                .await
                .map_err(|e| dup(e, format!("unit {unit_id}")))?;
            }
            None => {
                sqlx::query("DELETE FROM unit_contacts WHERE unit_id = $1")
                    .bind(unit_id)
                    .execute(&mut *w)
                    .await?;
            }
        }
        Ok(())
    }
}
