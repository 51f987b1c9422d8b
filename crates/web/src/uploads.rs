//! Forms with files (`multipart/form-data`), read one way for the API, the portal and the
//! console: text fields kept (refused when they hold control characters), each `file` part
//! written to disk as its bytes arrive — never whole in memory — and refused once past
//! 10 MB, or past six files.

use axum::extract::Multipart;
use axum::extract::multipart::MultipartError;
use mashangban_app::files::Incoming;
use mashangban_app::{App, AppError};
use mashangban_domain::attachment::{MAX_BYTES, MAX_PER_TICKET, clean_name};

/// What a form with files held.
pub struct Parts {
    pub fields: Vec<(String, String)>,
    /// The files sent (a file input left empty sends a part without bytes: not counted).
    pub files: Vec<Incoming>,
}

/// Why a form with files was refused.
#[derive(Debug)]
pub enum PartsError {
    /// Not a well-formed multipart body.
    Unreadable(String),
    /// A file past 10 MB (its name, as shown).
    TooLarge(String),
    /// More than six files.
    TooMany,
    /// A text field with control characters (its name).
    Control(String),
    /// Ours: the files folder could not be written.
    Failed(AppError),
}

impl PartsError {
    /// The API's error, naming the field.
    pub fn into_app(self) -> AppError {
        match self {
            PartsError::Unreadable(e) => {
                AppError::invalid("file", format!("the upload could not be read: {e}"))
            }
            PartsError::Control(field) => {
                AppError::invalid(field, "must not contain control characters")
            }
            PartsError::Failed(e) => e,
            other => AppError::invalid("file", other.en()),
        }
    }

    /// What a person filling in the form is told, in Chinese.
    pub fn zh(&self) -> String {
        match self {
            PartsError::Unreadable(_) => "表单无法读取，请重新提交。".into(),
            PartsError::TooLarge(name) => format!("“{name}”超过10MB：单个文件不能超过10MB。"),
            PartsError::TooMany => format!("最多上传{MAX_PER_TICKET}个文件。"),
            PartsError::Control(field) => format!("{field}: 含有不可见的控制字符"),
            PartsError::Failed(_) => "暂时无法上传，请稍后再试。".into(),
        }
    }

    /// The same, in English.
    pub fn en(&self) -> String {
        let mb = MAX_BYTES / 1024 / 1024;
        match self {
            PartsError::Unreadable(_) => "The form could not be read; please send it again".into(),
            PartsError::TooLarge(name) => format!("`{name}` is larger than {mb} MB"),
            PartsError::TooMany => format!("at most {MAX_PER_TICKET} files at once"),
            PartsError::Control(field) => format!("{field}: contains control characters"),
            PartsError::Failed(_) => "The file could not be kept; please try again later".into(),
        }
    }
}

/// Reads a form with files, part by part.
pub async fn read_parts(app: &App, mut m: Multipart) -> Result<Parts, PartsError> {
    let unreadable = |e: MultipartError| PartsError::Unreadable(e.body_text());
    let mut parts = Parts {
        fields: Vec::new(),
        files: Vec::new(),
    };
    while let Some(mut field) = m.next_field().await.map_err(unreadable)? {
        let name = field.name().unwrap_or("").to_string();
        if name != "file" {
            let text = field.text().await.map_err(unreadable)?;
            if text
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
            {
                return Err(PartsError::Control(name));
            }
            parts.fields.push((name, text));
            continue;
        }
        let file_name = field.file_name().unwrap_or("file").to_string();
        let mut file = app.incoming(&file_name).map_err(PartsError::Failed)?;
        while let Some(chunk) = field.chunk().await.map_err(unreadable)? {
            if file.len() + chunk.len() as u64 > MAX_BYTES {
                return Err(PartsError::TooLarge(clean_name(&file_name)));
            }
            file.write(&chunk).await.map_err(PartsError::Failed)?;
        }
        if file.is_empty() {
            continue;
        }
        if parts.files.len() == MAX_PER_TICKET {
            return Err(PartsError::TooMany);
        }
        parts.files.push(file);
    }
    Ok(parts)
}
