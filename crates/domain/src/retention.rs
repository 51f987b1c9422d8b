//! Keeping personal data only as long as needed: how long after a request is finished each
//! kind of personal data is kept before it is taken out of the ticket, its events and the
//! search index (the figures stay: they never held it).
//!
//! This module says what the policy is and when a ticket's data fall due; the taking out is
//! the text crate's (`anonymise::scrub_record`), and the files' removal the application's.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// The kinds of personal data a policy keeps for a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RetainedKind {
    /// The citizen's name, phone number and WeChat follower id, wherever they are written.
    Contact,
    /// The free texts (the request, notes, replies, callbacks' notes): what they say stays,
    /// the personal data in them go (names, numbers, house numbers, compounds' names).
    Content,
    /// The photos and documents a request carries (a face, a plate, a house may be in
    /// them): removed whole, the bytes too once no other request holds the same file.
    Attachments,
    /// The reference of the call's recording in the telephone system (the citizen's
    /// voice): emptied, so that nothing here leads to it.
    Recordings,
}

impl RetainedKind {
    pub const ALL: [RetainedKind; 4] = [
        Self::Contact,
        Self::Content,
        Self::Attachments,
        Self::Recordings,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Contact => "contact",
            Self::Content => "content",
            Self::Attachments => "attachments",
            Self::Recordings => "recordings",
        }
    }
}

/// Days after a request is finished (closed, answered at intake, not accepted, handed
/// over) that each kind is kept; none: kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetentionPolicy {
    pub contact_days: Option<u32>,
    pub content_days: Option<u32>,
    /// A policy saved before files had a time of their own keeps them the default time.
    #[serde(default = "default_attachments_days")]
    pub attachments_days: Option<u32>,
    /// Likewise for the calls' recordings.
    #[serde(default = "default_recordings_days")]
    pub recordings_days: Option<u32>,
}

fn default_attachments_days() -> Option<u32> {
    RetentionPolicy::default().attachments_days
}

fn default_recordings_days() -> Option<u32> {
    RetentionPolicy::default().recordings_days
}

impl Default for RetentionPolicy {
    /// Three years for contacts, files and recordings, five for the texts: long enough for
    /// a repeat request, a complaint about the handling or an audit to find them.
    fn default() -> Self {
        RetentionPolicy {
            contact_days: Some(3 * 365),
            content_days: Some(5 * 365),
            attachments_days: Some(3 * 365),
            recordings_days: Some(3 * 365),
        }
    }
}

/// How long a file uploaded from the portal may wait for the request it was sent with:
/// one never joined to a request (the citizen gave up) goes after this.
pub const UNATTACHED_HOURS: i64 = 24;

/// The shortest time a policy may keep anything: the callback, a bad rating's review and a
/// reopening all come within it.
pub const MIN_DAYS: u32 = 90;

impl RetentionPolicy {
    pub fn days(&self, kind: RetainedKind) -> Option<u32> {
        match kind {
            RetainedKind::Contact => self.contact_days,
            RetainedKind::Content => self.content_days,
            RetainedKind::Attachments => self.attachments_days,
            RetainedKind::Recordings => self.recordings_days,
        }
    }

    /// Refuses a time too short to finish the work the data are for, naming the field.
    pub fn check(&self) -> Result<(), (String, String)> {
        for kind in RetainedKind::ALL {
            if let Some(d) = self.days(kind)
                && d < MIN_DAYS
            {
                return Err((
                    format!("{}_days", kind.as_str()),
                    format!("at least {MIN_DAYS} days (none keeps them), not {d}"),
                ));
            }
        }
        Ok(())
    }

    /// Requests finished before this moment have this kind due for taking out.
    pub fn cutoff(&self, kind: RetainedKind, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.days(kind).map(|d| now - Duration::days(i64::from(d)))
    }

    /// Whether a request finished at `finished` has this kind due at `now`.
    pub fn due(
        &self,
        kind: RetainedKind,
        finished: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> bool {
        match (finished, self.cutoff(kind, now)) {
            (Some(f), Some(cut)) => f < cut,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_kind_falls_due_its_days_after_the_request_is_finished() {
        let p = RetentionPolicy::default();
        let finished = Utc.with_ymd_and_hms(2023, 1, 10, 0, 0, 0).unwrap();
        let day = |y, m, d| Utc.with_ymd_and_hms(y, m, d, 0, 0, 1).unwrap();
        // 3 × 365 days after 2023-01-10 is 2026-01-09 (2024 has 366).
        assert!(!p.due(RetainedKind::Contact, Some(finished), day(2026, 1, 8)));
        assert!(p.due(RetainedKind::Contact, Some(finished), day(2026, 1, 9)));
        assert!(!p.due(RetainedKind::Content, Some(finished), day(2026, 1, 10)));
        assert!(p.due(RetainedKind::Content, Some(finished), day(2028, 1, 10)));
        // An open request keeps everything; a kind without a time is kept.
        assert!(!p.due(RetainedKind::Contact, None, day(2030, 1, 1)));
        let keep = RetentionPolicy {
            contact_days: None,
            ..p
        };
        assert!(!keep.due(RetainedKind::Contact, Some(finished), day(2030, 1, 1)));
    }

    #[test]
    fn too_short_a_time_is_refused_by_name() {
        let p = RetentionPolicy {
            content_days: Some(30),
            ..RetentionPolicy::default()
        };
        assert_eq!(
            p.check(),
            Err((
                "content_days".to_string(),
                "at least 90 days (none keeps them), not 30".to_string()
            ))
        );
        assert_eq!(RetentionPolicy::default().check(), Ok(()));
        let p = RetentionPolicy {
            attachments_days: Some(89),
            ..RetentionPolicy::default()
        };
        assert_eq!(
            p.check(),
            Err((
                "attachments_days".to_string(),
                "at least 90 days (none keeps them), not 89".to_string()
            ))
        );
    }

    #[test]
    fn a_policy_saved_before_files_had_a_time_keeps_them_three_years() {
        let p: RetentionPolicy =
            serde_json::from_str(r#"{"contact_days": 400, "content_days": null}"#).unwrap();
        assert_eq!(
            p,
            RetentionPolicy {
                contact_days: Some(400),
                content_days: None,
                attachments_days: Some(1095),
                recordings_days: Some(1095),
            }
        );
        let keep: RetentionPolicy = serde_json::from_str(
            r#"{"contact_days": 400, "content_days": null, "attachments_days": null}"#,
        )
        .unwrap();
        assert_eq!(keep.attachments_days, None);
    }
}
