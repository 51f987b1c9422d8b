//! Keeping personal data only as long as needed: the retention policy in force, the
//! server's task that takes out what has fallen due (each ticket once, however many
//! instances run it), and a citizen's erasure. What is taken out of a record is the text
//! crate's `scrub_record`; when a ticket falls due, the domain's `retention`.

use chrono::{DateTime, Utc};
use mashangban_domain::lifecycle::EventKind;
use mashangban_domain::permission::Permission;
use mashangban_domain::retention::{RetainedKind, RetentionPolicy};
use mashangban_domain::{Actor, Event};
pub use mashangban_store::RetentionEntry;
use mashangban_store::ScrubPlan;
use mashangban_text::anonymise::{PersonalKind, Scrub, forget_removed_originals, scrub_record};
use serde::{Deserialize, Serialize};

use crate::{App, AppError, SERVER, require};

/// The setting that holds the retention policy (JSON).
pub const RETENTION_POLICY_SETTING: &str = "retention_policy";

/// Tickets of each kind a pass of the task takes out at most.
pub const RETENTION_BATCH: u32 = 500;

/// The outbox's channels that address the citizen (their number, their WeChat id).
const CITIZEN_CHANNELS: [&str; 3] = [
    mashangban_store::channel::SMS,
    crate::wechat::api::PUSH,
    crate::wechat::api::PHOTO,
];

/// What a pass of the task, or an erasure, took out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RetentionReport {
    /// Tickets whose contacts, whose texts, whose files, whose call recordings were taken
    /// out.
    pub contact: u64,
    pub content: u64,
    pub attachments: u64,
    pub recordings: u64,
    /// Uploads never given to a request, removed after a day.
    pub unattached: u64,
    /// Files' bytes removed from disk (those no record holds any more).
    pub files_removed: u64,
    /// Personal data taken out in all (a file counts one).
    pub data: u64,
}

/// A citizen's request to erase their data.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErasureInput {
    /// The phone number their requests were made with.
    pub phone: String,
    /// Why (the citizen's request, how it was made): kept in the log.
    pub reason: String,
}

/// What an erasure did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Erased {
    /// The requests of that number found, and those that still held personal data.
    pub tickets: u64,
    pub scrubbed: u64,
    pub data: u64,
}

impl App {
    /// The retention policy in force (the default until an administrator sets one; open to
    /// every signed-in user, as the other policies are).
    pub async fn retention_policy(&self, _actor: &Actor) -> Result<RetentionPolicy, AppError> {
        self.stored_setting(RETENTION_POLICY_SETTING).await
    }

    /// Replaces the retention policy (checked first).
    pub async fn set_retention_policy(
        &self,
        actor: &Actor,
        body: serde_json::Value,
    ) -> Result<RetentionPolicy, AppError> {
        require(actor, Permission::ManagePolicies)?;
        let p: RetentionPolicy = crate::from_body(body)?;
        p.check().map_err(|(f, m)| AppError::invalid(f, m))?;
        self.store_setting(RETENTION_POLICY_SETTING, &p).await?;
        Ok(p)
    }

    /// The retention log, newest first (administrators).
    pub async fn retention_log(&self, actor: &Actor) -> Result<Vec<RetentionEntry>, AppError> {
        require(actor, Permission::ManagePolicies)?;
        Ok(self.store.retention_log(200).await?)
    }

    /// Scrubs one ticket of these kinds (its files' bytes are released, removed by the
    /// task's passes); the data taken out, none if it was done already.
    async fn scrub_one(
        &self,
        ticket_id: i64,
        kinds: &[RetainedKind],
        requested: bool,
        by: &Actor,
        at: DateTime<Utc>,
    ) -> Result<Option<usize>, AppError> {
        let Some(t) = self.store.get_ticket(ticket_id).await? else {
            return Ok(None);
        };
        let mut known = Vec::new();
        if let Some(n) = &t.citizen.name {
            known.push((PersonalKind::Name, n.clone()));
        }
        if let Some(p) = &t.citizen.phone {
            known.push((PersonalKind::Phone, p.clone()));
        }
        let scrub = Scrub {
            contact: kinds.contains(&RetainedKind::Contact),
            content: kinds.contains(&RetainedKind::Content),
            recordings: kinds.contains(&RetainedKind::Recordings),
            known,
        };
        let marker = Event {
            ticket_id,
            seq: 0,
            at,
            actor: *by,
            kind: EventKind::PersonalDataRemoved {
                kinds: kinds.to_vec(),
                requested,
            },
        };
        let plan = ScrubPlan {
            ticket_id,
            kinds,
            record: &|v| scrub_record(v, &scrub),
            case: &forget_removed_originals,
            citizen_channels: &CITIZEN_CHANNELS,
        };
        Ok(self.store.scrub_ticket(&plan, marker).await?)
    }

    /// The task: takes out, for each kind of the policy, what has fallen due (at most
    /// [`RETENTION_BATCH`] tickets a kind a pass), and logs it.
    pub async fn apply_retention_at(&self, at: DateTime<Utc>) -> Result<RetentionReport, AppError> {
        let policy = self.retention_policy(&SERVER).await?;
        let mut report = RetentionReport::default();
        for kind in RetainedKind::ALL {
            let Some(cutoff) = policy.cutoff(kind, at) else {
                continue;
            };
            let (mut tickets, mut data) = (0u64, 0u64);
            for id in self
                .store
                .retention_due(kind, cutoff, RETENTION_BATCH)
                .await?
            {
                if let Some(n) = self.scrub_one(id, &[kind], false, &SERVER, at).await?
                    && n > 0
                {
                    tickets += 1;
                    data += n as u64;
                }
            }
            if tickets > 0 {
                self.store
                    .log_retention(&RetentionEntry {
                        id: 0,
                        at,
                        user_id: SERVER.user_id,
                        what: kind.as_str().into(),
                        tickets: tickets as i64,
                        data: data as i64,
                        reason: None,
                    })
                    .await?;
            }
            match kind {
                RetainedKind::Contact => report.contact = tickets,
                RetainedKind::Content => report.content = tickets,
                RetainedKind::Attachments => report.attachments = tickets,
                RetainedKind::Recordings => report.recordings = tickets,
            }
            report.data += data;
        }
        let unattached = self.remove_unattached_at(at).await? as u64;
        report.files_removed = self.remove_released_files(at).await? as u64;
        if unattached > 0 {
            self.store
                .log_retention(&RetentionEntry {
                    id: 0,
                    at,
                    user_id: SERVER.user_id,
                    what: "unattached_files".into(),
                    tickets: 0,
                    data: unattached as i64,
                    reason: None,
                })
                .await?;
            report.unattached = unattached;
            report.data += unattached;
        }
        Ok(report)
    }

    /// A citizen's erasure: every request of their phone number loses its contacts and the
    /// personal data of its texts now, whatever the policy; logged with the reason.
    pub async fn erase_citizen_at(
        &self,
        actor: &Actor,
        input: ErasureInput,
        at: DateTime<Utc>,
    ) -> Result<Erased, AppError> {
        require(actor, Permission::EraseCitizenData)?;
        let phone = mashangban_domain::intake::validate_phone("phone", Some(input.phone))?
            .ok_or_else(|| AppError::invalid("phone", "the phone number is needed"))?;
        let reason = input.reason.trim().to_string();
        if reason.is_empty() || reason.chars().count() > 500 {
            return Err(AppError::invalid(
                "reason",
                "say why, in at most 500 characters",
            ));
        }
        let ids = self.store.tickets_of_phone(&phone).await?;
        let (mut scrubbed, mut data) = (0u64, 0u64);
        for id in &ids {
            if let Some(n) = self
                .scrub_one(*id, &RetainedKind::ALL, true, actor, at)
                .await?
                && n > 0
            {
                scrubbed += 1;
                data += n as u64;
            }
        }
        // Their files' bytes now, unless just uploaded (the next pass takes those).
        self.remove_released_files(at).await?;
        self.store
            .log_retention(&RetentionEntry {
                id: 0,
                at,
                user_id: actor.user_id,
                what: "erasure".into(),
                tickets: scrubbed as i64,
                data: data as i64,
                reason: Some(reason),
            })
            .await?;
        Ok(Erased {
            tickets: ids.len() as u64,
            scrubbed,
            data,
        })
    }
}
