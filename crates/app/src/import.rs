//! Historical import as a use case: a CSV or Excel file of past tickets (one row each, the
//! columns of [`mashangban_domain::import::COLUMNS`]) checked whole — every bad field of
//! every row in one report, and then nothing written — and written whole in one
//! transaction, each ticket from its events at their own times, the aggregates with it.
//! Rows whose number is already here are left as they are, so that the same file imported
//! again changes nothing.

use crate::{App, AppError, require};
use chrono::{DateTime, Utc};
use mashangban_domain::import::{
    COLUMNS, MAX_ROWS, Names, PastTicket, RowError, check_row, events,
};
use mashangban_domain::{Actor, Permission};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// The kinds of file taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    Csv,
    Xlsx,
}

impl ImportFormat {
    /// The format of a file by its first bytes: a workbook is a zip archive.
    pub fn sniff(bytes: &[u8]) -> ImportFormat {
        if bytes.starts_with(b"PK\x03\x04") {
            ImportFormat::Xlsx
        } else {
            ImportFormat::Csv
        }
    }

    /// The format a file's name or media type says.
    pub fn of(name_or_type: &str) -> Option<ImportFormat> {
        let n = name_or_type.to_ascii_lowercase();
        if n.ends_with(".csv") || n.starts_with("text/csv") {
            Some(ImportFormat::Csv)
        } else if n.ends_with(".xlsx")
            || n.starts_with("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        {
            Some(ImportFormat::Xlsx)
        } else {
            None
        }
    }
}

/// What an import did, or would do (a dry run), or why it did nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    /// Rows of tickets in the file.
    pub rows: usize,
    /// Tickets written (none on a dry run or when any row is bad).
    pub imported: usize,
    /// Rows whose number is already here: left as they are.
    pub already_here: usize,
    pub dry_run: bool,
    /// Every bad field of every row; when there is any, nothing is written.
    pub errors: Vec<RowError>,
}

/// A row of a file: its line (the header is line 1) and its cells.
type Row = (usize, Vec<String>);

/// The rows of a file that hold anything, read as they are needed (CSV) or from the
/// sheet (Excel).
fn rows_of<'a>(
    bytes: &'a [u8],
    format: ImportFormat,
) -> Result<Box<dyn Iterator<Item = Result<Row, AppError>> + Send + 'a>, AppError> {
    let filled = |r: &Result<Row, AppError>| {
        r.as_ref().map_or(true, |(_, cells)| {
            cells.iter().any(|c| !c.trim().is_empty())
        })
    };
    Ok(match format {
        ImportFormat::Xlsx => Box::new(
            crate::catalogue::sheet_rows(bytes, true)?
                .into_iter()
                .enumerate()
                .map(|(i, cells)| Ok((i + 1, cells)))
                .filter(filled),
        ),
        ImportFormat::Csv => {
            let text = std::str::from_utf8(bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes))
                .map_err(|_| AppError::invalid("file", "is not UTF-8 text"))?;
            let records = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(text.as_bytes())
                .into_records();
            Box::new(
                records
                    .map(|r| {
                        let r =
                            r.map_err(|e| AppError::invalid("file", format!("is not CSV: {e}")))?;
                        let line = r.position().map_or(0, |p| p.line() as usize);
                        Ok((line, r.iter().map(str::to_string).collect()))
                    })
                    .filter(filled),
            )
        }
    })
}

impl App {
    /// Imports past tickets from a file (administrators): see the module's documentation.
    pub async fn import_tickets(
        &self,
        actor: &Actor,
        bytes: &[u8],
        format: ImportFormat,
        dry_run: bool,
        _now: DateTime<Utc>,
    ) -> Result<ImportReport, AppError> {
        require(actor, Permission::Maintain)?;
        let mut rows = rows_of(bytes, format)?;
        let Some((_, header)) = rows.next().transpose()? else {
            return Err(AppError::invalid(
                "file",
                "is empty: a header row is needed",
            ));
        };
        let header: Vec<String> = header.iter().map(|h| h.trim().to_string()).collect();
        let mut errors: Vec<RowError> = header
            .iter()
            .filter(|h| !h.is_empty() && !COLUMNS.contains(&h.as_str()))
            .map(|h| RowError {
                line: 1,
                field: h.clone(),
                message: format!("is not a column; the columns are {}", COLUMNS.join(", ")),
            })
            .collect();
        let r = self.reference().await?;
        let units: HashMap<String, i64> =
            r.units.values().map(|u| (u.code.clone(), u.id)).collect();
        let categories: HashSet<String> = r
            .categories
            .values()
            .filter(|c| c.level == 3)
            .map(|c| c.code.clone())
            .collect();
        let divisions: HashSet<String> = r.divisions.keys().cloned().collect();
        let channels: HashSet<String> = r.channels.iter().map(|c| c.code.to_string()).collect();
        let lines: HashSet<String> = r.lines.iter().map(|l| l.number.clone()).collect();
        let names = Names {
            units: &units,
            categories: &categories,
            divisions: &divisions,
            channels: &channels,
            lines: &lines,
        };
        let mut past: Vec<PastTicket> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        let mut count = 0;
        for row in rows {
            let (line, cells) = row?;
            count += 1;
            if count > MAX_ROWS {
                return Err(AppError::invalid(
                    "file",
                    format!("has more than {MAX_ROWS} rows: import it in parts"),
                ));
            }
            let by_column: HashMap<&str, &str> = header
                .iter()
                .zip(cells.iter())
                .map(|(h, c)| (h.as_str(), c.as_str()))
                .collect();
            let checked = check_row(line, &by_column, &names);
            if let Some(n) = by_column
                .get("number")
                .map(|n| n.trim())
                .filter(|n| !n.is_empty())
                && !seen.insert(n.to_string())
            {
                errors.push(RowError {
                    line,
                    field: "number".into(),
                    message: format!("`{n}` is on an earlier row too"),
                });
                continue;
            }
            match checked {
                Ok(t) => past.push(t),
                Err(e) => errors.extend(e),
            }
        }
        let mut report = ImportReport {
            rows: count,
            imported: 0,
            already_here: 0,
            dry_run,
            errors,
        };
        if !report.errors.is_empty() {
            return Ok(report);
        }
        let mut new = Vec::with_capacity(past.len());
        for t in past {
            if self.store.ticket_by_number(&t.number).await?.is_some() {
                report.already_here += 1;
            } else {
                new.push(t);
            }
        }
        if dry_run || new.is_empty() {
            return Ok(report);
        }
        let (policy, calendar) = (r.policy.clone(), r.calendar.clone());
        let plan: mashangban_store::ImportPlan = std::sync::Arc::new(move |t: &PastTicket| {
            events(t, crate::auth::new_tracking_code(), &policy, &calendar)
        });
        report.imported = self
            .store
            .import_tickets(new, plan)
            .await
            .map_err(|e| match e {
                mashangban_store::StoreError::Duplicate { what } => AppError::Conflict {
                    code: "duplicate",
                    message: format!(
                        "{what} was taken while the file was imported; import it again"
                    ),
                },
                other => other.into(),
            })?;
        Ok(report)
    }
}
