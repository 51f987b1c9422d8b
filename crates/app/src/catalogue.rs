//! The dispatch catalogue (派单目录) as administrators keep it: entries checked against the
//! rules of `domain::catalogue` and the organisation, saved with their history, imported
//! and exported as CSV, and asked who owns a matter.

use chrono::{NaiveDate, Utc};
use mashangban_domain::catalogue::{self, CatalogueEntry, CatalogueMatch, Ownership, Subject};
use mashangban_domain::types::TIERS;
pub use mashangban_store::CatalogueChange;
use mashangban_store::{CatalogueWrite, StoreError};
use serde::{Deserialize, Serialize};

use crate::{App, AppError, Reference, require};
use mashangban_domain::{Actor, Permission};

/// An entry as an administrator gives it (new without `id`; an edit names the `version`
/// it was read at).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryInput {
    #[serde(default)]
    pub id: Option<i64>,
    #[serde(default)]
    pub version: Option<i64>,
    pub category_code: String,
    #[serde(default)]
    pub division_code: Option<String>,
    /// The unit, by id or by code (`CITY-CG`).
    #[serde(default)]
    pub unit_id: Option<i64>,
    #[serde(default)]
    pub unit_code: Option<String>,
    /// `functional` or `territorial`; by default from the unit's kind (city departments
    /// and public enterprises functional, governments territorial).
    #[serde(default)]
    pub ownership: Option<String>,
    #[serde(default)]
    pub tier: Option<u8>,
    /// Default: today (Asia/Shanghai).
    #[serde(default)]
    pub valid_from: Option<NaiveDate>,
    #[serde(default)]
    pub valid_to: Option<NaiveDate>,
    #[serde(default)]
    pub note: Option<String>,
}

/// The columns of the catalogue's CSV, in order.
pub const CSV_COLUMNS: [&str; 9] = [
    "category_code",
    "division_code",
    "unit_code",
    "ownership",
    "tier",
    "valid_from",
    "valid_to",
    "note",
    "id",
];

/// Today in Asia/Shanghai.
pub fn today() -> NaiveDate {
    Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive()
}

/// A division's code with its ancestors, most specific first (the city last).
pub fn division_chain(r: &Reference, code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut at = Some(code.to_string());
    while let Some(c) = at {
        if out.contains(&c) || out.len() > 8 {
            break;
        }
        at = r.division_parents.get(&c).cloned().flatten();
        out.push(c);
    }
    out
}

/// A category's code with its ancestors, most specific first.
pub fn category_chain(r: &Reference, code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut at = r.categories.get(code);
    while let Some(c) = at {
        if out.len() > 8 {
            break;
        }
        out.push(c.code.clone());
        at = c.parent_code.as_deref().and_then(|p| r.categories.get(p));
    }
    out
}

/// The handling tier a matter takes when it goes to the unit the catalogue names (what a
/// suggestion proposes): the domain's [`mashangban_domain::matter_tier`].
pub fn tier_for(r: &Reference, found: Option<&CatalogueMatch>, category_code: &str) -> Option<u8> {
    let category_tier = r.categories.get(category_code).and_then(|c| c.default_tier);
    match found {
        Some(m) => mashangban_domain::matter_tier(
            m.entry.unit_id,
            Some((m.entry.unit_id, m.entry.tier)),
            category_tier,
        ),
        None => category_tier,
    }
}

impl App {
    /// Every entry, ended ones included.
    pub async fn catalogue(&self, _actor: &Actor) -> Result<Vec<CatalogueEntry>, AppError> {
        Ok(self.store.catalogue().await?)
    }

    /// Changes, newest first, of one entry or of all.
    pub async fn catalogue_history(
        &self,
        actor: &Actor,
        entry_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<CatalogueChange>, AppError> {
        require(actor, Permission::ReadFigures)?;
        Ok(self.store.catalogue_history(entry_id, limit).await?)
    }

    /// The entry an input describes, checked field by field against the organisation.
    fn entry_from(&self, r: &Reference, input: &EntryInput) -> Result<CatalogueEntry, AppError> {
        let category_code = input.category_code.trim().to_string();
        if !r.categories.contains_key(&category_code) {
            return Err(AppError::invalid(
                "category_code",
                format!("`{category_code}` is not a category"),
            ));
        }
        let division_code = input
            .division_code
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(str::to_string);
        if let Some(d) = &division_code
            && !r.divisions.contains_key(d)
        {
            return Err(AppError::invalid(
                "division_code",
                format!("`{d}` is not a division"),
            ));
        }
        let unit = match (input.unit_id, input.unit_code.as_deref().map(str::trim)) {
            (Some(id), _) => r
                .units
                .get(&id)
                .ok_or_else(|| AppError::invalid("unit_id", format!("unit {id} does not exist")))?,
            (None, Some(code)) if !code.is_empty() => {
                r.units.values().find(|u| u.code == code).ok_or_else(|| {
                    AppError::invalid("unit_code", format!("no unit has the code `{code}`"))
                })?
            }
            _ => {
                return Err(AppError::invalid(
                    "unit_id",
                    "the owning unit is required (unit_id or unit_code)",
                ));
            }
        };
        if !unit.active {
            return Err(AppError::invalid(
                "unit_id",
                format!("{} is deactivated", unit.name),
            ));
        }
        let ownership = match input
            .ownership
            .as_deref()
            .map(str::trim)
            .filter(|o| !o.is_empty())
        {
            None => Ownership::default_for(unit.kind),
            Some(o) => Ownership::parse(o).ok_or_else(|| {
                AppError::invalid(
                    "ownership",
                    format!("`{o}`: expected functional or territorial"),
                )
            })?,
        };
        if let Some(t) = input.tier
            && !TIERS.contains(&t)
        {
            return Err(AppError::invalid(
                "tier",
                format!("{t} is not a tier; expected 1, 3, 7 or 11"),
            ));
        }
        let note = input.note.clone().unwrap_or_default().trim().to_string();
        if note.chars().count() > 200 {
            return Err(AppError::invalid("note", "at most 200 characters"));
        }
        Ok(CatalogueEntry {
            id: input.id.unwrap_or(0),
            category_code,
            division_code,
            unit_id: unit.id,
            ownership,
            tier: input.tier,
            valid_from: input.valid_from.unwrap_or_else(today),
            valid_to: input.valid_to,
            note,
            version: input.version.unwrap_or(0),
        })
    }

    /// Checks entries against the catalogue's rules, each against the stored entries and
    /// the ones before it.
    fn check_entries(
        &self,
        r: &Reference,
        entries: &[CatalogueEntry],
        stored: &[CatalogueEntry],
    ) -> Result<(), (usize, AppError)> {
        let mut others: Vec<CatalogueEntry> = stored.to_vec();
        for (i, e) in entries.iter().enumerate() {
            let scope = e
                .division_code
                .as_deref()
                .map(|d| division_chain(r, d))
                .unwrap_or_default();
            let cats = category_chain(r, &e.category_code);
            let kind = |id: i64| r.units.get(&id).map(|u| u.kind);
            catalogue::check(e, kind, &cats, &scope, &others).map_err(|refusal| {
                let (field, message) = refusal.explain();
                (i, AppError::invalid(field, message))
            })?;
            // A new entry among the ones being written gets a provisional id so that the
            // later ones are checked against it.
            let mut e = e.clone();
            if e.id == 0 {
                e.id = -(i as i64) - 1;
            }
            others.retain(|o| o.id != e.id);
            others.push(e);
        }
        Ok(())
    }

    /// Adds or edits one entry.
    pub async fn save_catalogue_entry(
        &self,
        actor: &Actor,
        input: EntryInput,
    ) -> Result<CatalogueEntry, AppError> {
        require(actor, Permission::ManageReference)?;
        let user_id = actor.user_id;
        let r = self.reference().await?;
        let entry = self.entry_from(&r, &input)?;
        if entry.id != 0 && input.version.is_none() {
            return Err(AppError::invalid(
                "version",
                "an edit names the version it was read at",
            ));
        }
        let (app, r, entry) = (self, &r, &entry);
        let saved = self
            .write_checked(user_id, || async move {
                let (seen, stored) = app.store.catalogue_seen().await?;
                if entry.id != 0 && !stored.iter().any(|e| e.id == entry.id) {
                    return Err(AppError::NotFound(format!("catalogue entry {}", entry.id)));
                }
                app.check_entries(r, std::slice::from_ref(entry), &stored)
                    .map_err(|(_, e)| e)?;
                Ok((seen, vec![CatalogueWrite::Save(entry.clone())]))
            })
            .await?;
        saved
            .into_iter()
            .next()
            .ok_or_else(|| AppError::Internal("a saved entry came back empty".into()))
    }

    /// Deletes an entry (ending it with `valid_to` keeps its history in force instead).
    pub async fn delete_catalogue_entry(
        &self,
        actor: &Actor,
        id: i64,
        version: i64,
    ) -> Result<(), AppError> {
        require(actor, Permission::ManageReference)?;
        let user_id = actor.user_id;
        self.store
            .write_catalogue(
                vec![CatalogueWrite::Delete { id, version }],
                user_id,
                Utc::now(),
            )
            .await
            .map_err(catalogue_error)?;
        self.invalidate_reference();
        Ok(())
    }

    /// Imports entries from CSV (the columns of `CSV_COLUMNS`, with a header row; a row with
    /// an `id` edits that entry, at its current version). All rows or none: the first bad
    /// row is named with its line.
    pub async fn import_catalogue_csv(
        &self,
        actor: &Actor,
        text: &str,
    ) -> Result<Vec<CatalogueEntry>, AppError> {
        require(actor, Permission::ManageReference)?;
        let user_id = actor.user_id;
        let app = self;
        self.write_checked(user_id, || async move {
            let (seen, entries) = app.checked_import(text).await?;
            Ok((
                seen,
                entries.into_iter().map(CatalogueWrite::Save).collect(),
            ))
        })
        .await
    }

    /// Writes what `prepare` read, checked and made of the catalogue at a stamp; if the
    /// catalogue changed since, `prepare` reads and checks again (up to [`CATALOGUE_TRIES`]
    /// times in all).
    async fn write_checked<
        F: std::future::Future<Output = Result<(i64, Vec<CatalogueWrite>), AppError>>,
    >(
        &self,
        user_id: i64,
        prepare: impl Fn() -> F,
    ) -> Result<Vec<CatalogueEntry>, AppError> {
        let mut tries = 0;
        loop {
            tries += 1;
            let (seen, writes) = prepare().await?;
            match self
                .store
                .write_catalogue_seen(writes, user_id, Utc::now(), Some(seen))
                .await
            {
                Err(StoreError::Conflict) if tries < CATALOGUE_TRIES => continue,
                written => {
                    let saved = written.map_err(catalogue_error)?;
                    self.invalidate_reference();
                    return Ok(saved);
                }
            }
        }
    }

    /// The entries of an import, checked against the catalogue as it was at the stamp
    /// returned with them.
    async fn checked_import(&self, text: &str) -> Result<(i64, Vec<CatalogueEntry>), AppError> {
        let r = self.reference().await?;
        let (seen, stored) = self.store.catalogue_seen().await?;
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .flexible(true)
            .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        let headers = reader
            .headers()
            .map_err(|e| AppError::invalid("file", format!("line 1: {e}")))?
            .clone();
        let col = |name: &str| headers.iter().position(|h| h == name);
        for required in ["category_code", "valid_from"] {
            if col(required).is_none() {
                return Err(AppError::invalid(
                    "file",
                    format!(
                        "line 1: the column `{required}` is missing (columns: {})",
                        CSV_COLUMNS.join(",")
                    ),
                ));
            }
        }
        if col("unit_code").is_none() && col("unit_id").is_none() {
            return Err(AppError::invalid(
                "file",
                "line 1: a `unit_code` or `unit_id` column is needed",
            ));
        }
        let mut entries = Vec::new();
        for (i, rec) in reader.records().enumerate() {
            let line = i + 2;
            let rec = rec.map_err(|e| AppError::invalid("file", format!("line {line}: {e}")))?;
            let get = |name: &str| {
                col(name)
                    .and_then(|c| rec.get(c))
                    .map(str::to_string)
                    .filter(|v| !v.is_empty())
            };
            let at_line = |e: AppError| match e {
                AppError::Invalid { field, message } => {
                    AppError::invalid("file", format!("line {line}, {field}: {message}"))
                }
                other => other,
            };
            let number = |name: &str| -> Result<Option<i64>, AppError> {
                get(name)
                    .map(|v| {
                        v.parse::<i64>().map_err(|_| {
                            AppError::invalid(
                                "file",
                                format!("line {line}, {name}: `{v}` is not a number"),
                            )
                        })
                    })
                    .transpose()
            };
            let date = |name: &str| -> Result<Option<NaiveDate>, AppError> {
                get(name)
                    .map(|v| {
                        v.replace('/', "-").parse::<NaiveDate>().map_err(|_| {
                            AppError::invalid(
                                "file",
                                format!("line {line}, {name}: `{v}` is not a date (YYYY-MM-DD)"),
                            )
                        })
                    })
                    .transpose()
            };
            let id = number("id")?;
            let tier = number("tier")?
                .map(|t| {
                    u8::try_from(t).map_err(|_| {
                        AppError::invalid("file", format!("line {line}, tier: {t} is not a tier"))
                    })
                })
                .transpose()?;
            let input = EntryInput {
                id,
                version: id.and_then(|id| stored.iter().find(|e| e.id == id).map(|e| e.version)),
                category_code: get("category_code").unwrap_or_default(),
                division_code: get("division_code"),
                unit_id: number("unit_id")?,
                unit_code: get("unit_code"),
                ownership: get("ownership"),
                tier,
                valid_from: date("valid_from")?,
                valid_to: date("valid_to")?,
                note: get("note"),
            };
            if let Some(id) = id
                && input.version.is_none()
            {
                return Err(AppError::invalid(
                    "file",
                    format!("line {line}, id: no entry {id} to edit"),
                ));
            }
            entries.push(self.entry_from(&r, &input).map_err(at_line)?);
        }
        if entries.is_empty() {
            return Err(AppError::invalid("file", "no rows after the header"));
        }
        self.check_entries(&r, &entries, &stored)
            .map_err(|(i, e)| match e {
                AppError::Invalid { field, message } => {
                    AppError::invalid("file", format!("line {}, {field}: {message}", i + 2))
                }
                other => other,
            })?;
        Ok((seen, entries))
    }

    /// The catalogue as a table: the import's columns, then the version and the names.
    pub async fn export_catalogue_rows(
        &self,
        _actor: &Actor,
    ) -> Result<(Vec<&'static str>, Vec<Vec<String>>), AppError> {
        let r = self.reference().await?;
        let mut header: Vec<&'static str> = CSV_COLUMNS.to_vec();
        header.extend(["version", "category_name", "division_name", "unit_name"]);
        let mut rows = Vec::new();
        for e in self.store.catalogue().await? {
            let unit = r.units.get(&e.unit_id);
            rows.push(vec![
                e.category_code.clone(),
                e.division_code.clone().unwrap_or_default(),
                unit.map(|u| u.code.clone()).unwrap_or_default(),
                e.ownership.as_str().to_string(),
                e.tier.map(|t| t.to_string()).unwrap_or_default(),
                e.valid_from.to_string(),
                e.valid_to.map(|d| d.to_string()).unwrap_or_default(),
                e.note.clone(),
                e.id.to_string(),
                e.version.to_string(),
                r.category_path(&e.category_code).unwrap_or_default(),
                e.division_code
                    .as_deref()
                    .and_then(|d| r.division_path(d))
                    .unwrap_or_else(|| "全市".into()),
                unit.map(|u| u.name.clone()).unwrap_or_default(),
            ]);
        }
        Ok((header, rows))
    }

    /// The catalogue as CSV (UTF-8 with a byte-order mark, so that Excel reads it right).
    pub async fn export_catalogue_csv(&self, actor: &Actor) -> Result<String, AppError> {
        let (header, rows) = self.export_catalogue_rows(actor).await?;
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(&header)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        for row in rows {
            w.write_record(&row)
                .map_err(|e| AppError::Internal(e.to_string()))?;
        }
        let bytes = w
            .into_inner()
            .map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(format!("\u{feff}{}", String::from_utf8_lossy(&bytes)))
    }

    /// Imports entries from an Excel workbook (.xlsx): its first sheet, laid out as the CSV
    /// import (a header row of the same columns; dates as dates or `YYYY-MM-DD` text). All
    /// rows or none; the first bad row is named with its line.
    pub async fn import_catalogue_xlsx(
        &self,
        actor: &Actor,
        bytes: &[u8],
    ) -> Result<Vec<CatalogueEntry>, AppError> {
        require(actor, Permission::ManageReference)?;
        let text = xlsx_as_csv(bytes)?;
        self.import_catalogue_csv(actor, &text).await
    }

    /// The unit that owns a matter of this category at this place on this day, by the
    /// catalogue, with the rule that decided.
    pub async fn catalogue_owner(
        &self,
        _actor: &Actor,
        category_code: &str,
        division_code: Option<&str>,
        day: NaiveDate,
    ) -> Result<Option<CatalogueMatch>, AppError> {
        let r = self.reference().await?;
        let subject = Subject {
            categories: category_chain(&r, category_code),
            divisions: division_code
                .map(|d| division_chain(&r, d))
                .unwrap_or_default(),
        };
        Ok(catalogue::resolve(&r.catalogue, &subject, day))
    }
}

/// The first sheet of a workbook as CSV text: numbers as written (`3`, not `3.0`), dates as
/// `YYYY-MM-DD`; empty rows left out.
pub fn xlsx_as_csv(bytes: &[u8]) -> Result<String, AppError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for cells in sheet_rows(bytes, false)? {
        if cells.iter().all(String::is_empty) {
            continue;
        }
        w.write_record(&cells)
            .map_err(|e| AppError::Internal(e.to_string()))?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| AppError::Internal(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| AppError::Internal(e.to_string()))
}

/// The rows of a workbook's first sheet as text, every row kept (the n-th is the sheet's
/// line n): numbers as written (`3`, not `3.0`), dates as `YYYY-MM-DD`, or with their time
/// (`YYYY-MM-DD HH:MM:SS`) when `times`.
pub fn sheet_rows(bytes: &[u8], times: bool) -> Result<Vec<Vec<String>>, AppError> {
    use calamine::{Data, Reader, Xlsx};
    let bad = |e: String| {
        AppError::invalid(
            "file",
            format!("not a readable Excel workbook (.xlsx): {e}"),
        )
    };
    let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).map_err(|e| bad(e.to_string()))?;
    let range = wb
        .worksheet_range_at(0)
        .ok_or_else(|| bad("it has no sheet".into()))?
        .map_err(|e| bad(e.to_string()))?;
    let excel_time = |serial: f64| -> Option<String> {
        let base = NaiveDate::from_ymd_opt(1899, 12, 30)?.and_hms_opt(0, 0, 0)?;
        let seconds = (serial.max(0.0) * 86_400.0).round() as i64;
        let t = base.checked_add_signed(chrono::Duration::seconds(seconds))?;
        Some(if times {
            t.format("%Y-%m-%d %H:%M:%S").to_string()
        } else {
            t.date().to_string()
        })
    };
    Ok(range
        .rows()
        .map(|row| {
            row.iter()
                .map(|c| match c {
                    Data::Empty => String::new(),
                    Data::String(s) => s.trim().to_string(),
                    Data::Int(i) => i.to_string(),
                    Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => {
                        format!("{}", *f as i64)
                    }
                    Data::Float(f) => f.to_string(),
                    Data::Bool(b) => b.to_string(),
                    Data::DateTime(d) => excel_time(d.as_f64()).unwrap_or_default(),
                    Data::DateTimeIso(s) if times => s.replace('T', " "),
                    Data::DateTimeIso(s) => s.chars().take(10).collect(),
                    Data::DurationIso(s) => s.clone(),
                    Data::Error(e) => format!("#{e:?}"),
                })
                .collect()
        })
        .collect())
}

/// Times a catalogue write is checked and tried while others keep changing the catalogue.
const CATALOGUE_TRIES: u32 = 3;

fn catalogue_error(e: StoreError) -> AppError {
    match e {
        StoreError::Conflict => AppError::Conflict {
            code: "version_conflict",
            message: "the entry was changed by someone else; reload it and try again".into(),
        },
        StoreError::NotFound { what } => AppError::NotFound(what),
        other => other.into(),
    }
}
