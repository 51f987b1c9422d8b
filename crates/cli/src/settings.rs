//! How the binary is set up before anything runs: the settings file of an installed server
//! (`/etc/mashangban/mashangban.conf`, or the file `MASHANGBAN_CONFIG` names), whose
//! `MASHANGBAN_*=value` lines count as environment variables that are not already set (the
//! environment overrides the file); and the log's format.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// The settings file of a server installed from the package.
pub const DEFAULT_CONFIG: &str = "/etc/mashangban/mashangban.conf";

/// The settings of a file's text: `NAME=value` lines, `#` comments and blank lines
/// ignored, a value optionally in double or single quotes. Only `MASHANGBAN_*` names are
/// taken; anything else is refused with its line number.
pub fn parse_settings(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((name, value)) = line.split_once('=') else {
            return Err(format!("line {}: expected NAME=value", i + 1));
        };
        let name = name.trim();
        if !name.starts_with("MASHANGBAN_")
            || !name
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(format!(
                "line {}: `{name}` is not a setting of Mashangban (MASHANGBAN_*)",
                i + 1
            ));
        }
        let value = value.trim();
        let value = ['"', '\'']
            .iter()
            .find_map(|q| value.strip_prefix(*q).and_then(|v| v.strip_suffix(*q)))
            .unwrap_or(value);
        if value.chars().any(char::is_control) {
            return Err(format!("line {}: `{name}` has a control character", i + 1));
        }
        out.push((name.to_string(), value.to_string()));
    }
    Ok(out)
}

/// The settings file to read: the one `MASHANGBAN_CONFIG` names (which must exist), else
/// [`DEFAULT_CONFIG`] if there is one.
fn config_path() -> Result<Option<PathBuf>, String> {
    match std::env::var_os("MASHANGBAN_CONFIG") {
        Some(p) if !p.is_empty() => {
            let p = PathBuf::from(p);
            if !p.is_file() {
                return Err(format!(
                    "MASHANGBAN_CONFIG names {}, which is not a file",
                    p.display()
                ));
            }
            Ok(Some(p))
        }
        _ => Ok(Path::new(DEFAULT_CONFIG)
            .is_file()
            .then(|| PathBuf::from(DEFAULT_CONFIG))),
    }
}

/// Reads the settings file, if any, into the environment (a variable already set wins);
/// the file read, if any.
///
/// Called first thing in `main`, while the process has one thread: nothing else reads or
/// writes the environment meanwhile.
pub fn load_config_file() -> Result<Option<PathBuf>, String> {
    let Some(path) = config_path()? else {
        return Ok(None);
    };
    let text =
        std::fs::read_to_string(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let settings = parse_settings(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    for (name, value) in settings {
        if std::env::var_os(&name).is_none() {
            // SAFETY: `main` calls this before starting the runtime or any other thread.
            unsafe { std::env::set_var(name, value) };
        }
    }
    Ok(Some(path))
}

/// The log's filter unless `MASHANGBAN_LOG` says otherwise.
pub const DEFAULT_FILTER: &str = "info,sqlx=warn";
/// The same for the benchmarks, whose in-process server would otherwise write a line for
/// each of its hundreds of thousands of requests (and measure the writing).
pub const BENCH_FILTER: &str = "info,sqlx=warn,mashangban::http=warn";

/// Starts the log: JSON lines when `MASHANGBAN_LOG_FORMAT=json` (one object a line; the
/// request's id, route and user id come with every line written while it is served), else
/// text, coloured only on a terminal. `MASHANGBAN_LOG` filters (default `default_filter`).
pub fn init_logging(default_filter: &str) -> Result<(), String> {
    let filter = tracing_subscriber::EnvFilter::try_from_env("MASHANGBAN_LOG")
        .unwrap_or_else(|_| default_filter.into());
    let format = std::env::var("MASHANGBAN_LOG_FORMAT").unwrap_or_default();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format.trim() {
        "json" => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init(),
        "" | "text" => builder.with_ansi(std::io::stderr().is_terminal()).init(),
        other => {
            return Err(format!(
                "MASHANGBAN_LOG_FORMAT must be `json` or `text`, not `{other}`"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_settings_file_is_read_line_by_line() {
        let text = "# Mashangban\n\nMASHANGBAN_DATABASE_URL=sqlite:///var/lib/mashangban/mashangban.db\n\
                    export MASHANGBAN_ADDR = \"0.0.0.0:8080\"\nMASHANGBAN_PUBLIC_URL='https://12345.example.gov.cn'\n\
                    MASHANGBAN_LOG_FORMAT=json\n";
        assert_eq!(
            parse_settings(text).unwrap(),
            vec![
                (
                    "MASHANGBAN_DATABASE_URL".to_string(),
                    "sqlite:///var/lib/mashangban/mashangban.db".to_string()
                ),
                ("MASHANGBAN_ADDR".into(), "0.0.0.0:8080".into()),
                (
                    "MASHANGBAN_PUBLIC_URL".into(),
                    "https://12345.example.gov.cn".into()
                ),
                ("MASHANGBAN_LOG_FORMAT".into(), "json".into()),
            ]
        );
        assert_eq!(
            parse_settings("MASHANGBAN_X=1\nPATH=/tmp\n").unwrap_err(),
            "line 2: `PATH` is not a setting of Mashangban (MASHANGBAN_*)"
        );
        assert_eq!(
            parse_settings("MASHANGBAN_ADDR\n").unwrap_err(),
            "line 1: expected NAME=value"
        );
        assert_eq!(
            parse_settings("mashangban_addr=1\n").unwrap_err(),
            "line 1: `mashangban_addr` is not a setting of Mashangban (MASHANGBAN_*)"
        );
        assert_eq!(
            parse_settings("MASHANGBAN_A=\n").unwrap(),
            vec![("MASHANGBAN_A".into(), String::new())]
        );
    }
}
