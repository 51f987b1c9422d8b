//! Channels (渠道) and the hotlines merged into 12345 (整合热线) as use cases: every staff
//! member reads them, administrators write them, and every request taken is checked
//! against them — its channel must be one that is open, a call on a merged hotline must
//! name an open line, and a line's category is given to a request that names none.

use crate::{App, AppError, Reference, require};
use mashangban_domain::channel::{
    BUILT_IN, Channel, ChannelDef, ChannelInput, HotlineLine, LineInput, check_channel, check_line,
};
use mashangban_domain::{Actor, NewTicket, Permission};

impl App {
    /// Every channel, open or closed, in their order.
    pub async fn channels(&self, _actor: &Actor) -> Result<Vec<ChannelDef>, AppError> {
        Ok(self.reference().await?.channels.clone())
    }

    /// Writes a channel (administrators); the channel and whether it is new. The channels
    /// the product serves may be renamed and regrouped, never closed.
    pub async fn put_channel(
        &self,
        actor: &Actor,
        code: &str,
        input: ChannelInput,
    ) -> Result<(ChannelDef, bool), AppError> {
        require(actor, Permission::ManageReference)?;
        let built_in = Channel::new(code).is_ok_and(|c| BUILT_IN.contains(&c));
        let c = check_channel(code, input, built_in).map_err(|(f, m)| AppError::invalid(f, m))?;
        let created = self.store.put_channel(&c).await?;
        self.invalidate_reference();
        Ok((c, created))
    }

    /// Every merged hotline.
    pub async fn lines(&self, _actor: &Actor) -> Result<Vec<HotlineLine>, AppError> {
        Ok(self.reference().await?.lines.clone())
    }

    /// Writes a merged hotline (administrators); the line and whether it is new. Its
    /// category and unit must exist.
    pub async fn put_line(
        &self,
        actor: &Actor,
        number: &str,
        input: LineInput,
    ) -> Result<(HotlineLine, bool), AppError> {
        require(actor, Permission::ManageReference)?;
        let l = check_line(number, input).map_err(|(f, m)| AppError::invalid(f, m))?;
        let reference = self.reference().await?;
        if let Some(code) = &l.category_code
            && !reference.categories.contains_key(code)
        {
            return Err(AppError::invalid(
                "category_code",
                format!("no category has the code `{code}`"),
            ));
        }
        if let Some(id) = l.unit_id
            && !reference.units.contains_key(&id)
        {
            return Err(AppError::invalid(
                "unit_id",
                format!("no unit has the id {id}"),
            ));
        }
        let created = self.store.put_line(&l).await?;
        self.invalidate_reference();
        Ok((l, created))
    }
}

/// Refuses a channel no one made (a filter by a closed channel still finds its tickets).
pub(crate) fn check_known_channel(r: &Reference, c: &Channel) -> Result<(), AppError> {
    if r.channel(c).is_some() {
        return Ok(());
    }
    let all: Vec<&str> = r.channels.iter().map(|c| c.code.as_str()).collect();
    Err(AppError::invalid(
        "channel",
        format!("no channel `{c}`; channels: {}", all.join(", ")),
    ))
}

/// Checks a request's channel as it is taken: an open channel; on a merged hotline, an open
/// line, whose category the request gets when it names none.
pub(crate) fn check_intake_channel(r: &Reference, new: &mut NewTicket) -> Result<(), AppError> {
    let open: Vec<&str> = r
        .channels
        .iter()
        .filter(|c| c.active)
        .map(|c| c.code.as_str())
        .collect();
    match r.channel(&new.channel) {
        Some(c) if c.active => {}
        Some(_) => {
            return Err(AppError::invalid(
                "channel",
                format!(
                    "`{}` is closed to new requests; open channels: {}",
                    new.channel,
                    open.join(", ")
                ),
            ));
        }
        None => {
            return Err(AppError::invalid(
                "channel",
                format!(
                    "no channel `{}`; channels: {}",
                    new.channel,
                    open.join(", ")
                ),
            ));
        }
    }
    if new.channel != Channel::MERGED_LINE {
        return Ok(());
    }
    let lines: Vec<&str> = r
        .lines
        .iter()
        .filter(|l| l.active)
        .map(|l| l.number.as_str())
        .collect();
    let number = new.channel_detail.as_deref().map(str::trim).unwrap_or("");
    let Some(line) = r.lines.iter().find(|l| l.active && l.number == number) else {
        return Err(AppError::invalid(
            "channel_detail",
            format!(
                "a request on a merged hotline names its line; `{number}` is not an open line (lines: {})",
                lines.join(", ")
            ),
        ));
    };
    new.channel_detail = Some(line.number.clone());
    if new.category_code.is_none() {
        new.category_code = line.category_code.clone();
    }
    Ok(())
}
