//! The XML WeChat posts and takes: a flat `<xml>` of elements, their text often in CDATA.
//! Read with a streaming parser that knows no document types (so no entity of a DTD is
//! ever expanded); only the root's direct children are kept.

use quick_xml::Reader;
use quick_xml::events::Event;
use std::collections::BTreeMap;

/// The most elements a message may have (WeChat's have about a dozen).
const MAX_FIELDS: usize = 64;

/// The root's children by name, or why the XML was refused.
pub fn fields(xml: &str) -> Result<BTreeMap<String, String>, String> {
    let mut reader = Reader::from_str(xml);
    let mut out = BTreeMap::new();
    let mut depth = 0usize;
    let mut root = false;
    let mut current: Option<(String, String)> = None;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                depth += 1;
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                match depth {
                    1 if name == "xml" => root = true,
                    1 => return Err(format!("the root element is <{name}>, not <xml>")),
                    2 => current = Some((name, String::new())),
                    _ => {}
                }
            }
            Ok(Event::Empty(e)) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                match depth {
                    0 if name == "xml" => root = true,
                    0 => return Err(format!("the root element is <{name}>, not <xml>")),
                    1 => {
                        out.insert(name, String::new());
                    }
                    _ => {}
                }
            }
            Ok(Event::End(_)) => {
                if depth == 2
                    && let Some((name, text)) = current.take()
                {
                    if out.len() >= MAX_FIELDS {
                        return Err(format!("more than {MAX_FIELDS} elements"));
                    }
                    out.insert(name, text);
                }
                depth = depth.saturating_sub(1);
            }
            Ok(Event::Text(t)) => {
                let text = t.decode().map_err(|e| e.to_string())?;
                push(&mut current, depth, &text);
            }
            Ok(Event::CData(t)) => {
                let text = t.decode().map_err(|e| e.to_string())?;
                push(&mut current, depth, &text);
            }
            Ok(Event::GeneralRef(r)) => {
                let c = match r.resolve_char_ref().map_err(|e| e.to_string())? {
                    Some(c) => c.to_string(),
                    None => {
                        let name = r.decode().map_err(|e| e.to_string())?;
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or_else(|| format!("the entity &{name}; is not known"))?
                            .to_string()
                    }
                };
                push(&mut current, depth, &c);
            }
            Ok(Event::DocType(_)) => return Err("a document type is not accepted".into()),
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => return Err(format!("malformed XML: {e}")),
        }
    }
    if !root || depth != 0 {
        return Err("not a WeChat message: <xml>…</xml> expected".into());
    }
    Ok(out)
}

fn push(current: &mut Option<(String, String)>, depth: usize, text: &str) {
    if depth == 2
        && let Some((_, t)) = current
    {
        t.push_str(text);
    }
}

/// Text as CDATA (a `]]>` inside is split across two sections).
pub fn cdata(text: &str) -> String {
    format!("<![CDATA[{}]]>", text.replace("]]>", "]]]]><![CDATA[>"))
}

/// A passive reply of text to a follower.
pub fn text_reply(to: &str, from: &str, created: i64, content: &str) -> String {
    format!(
        "<xml><ToUserName>{}</ToUserName><FromUserName>{}</FromUserName><CreateTime>{created}</CreateTime><MsgType>{}</MsgType><Content>{}</Content></xml>",
        cdata(to),
        cdata(from),
        cdata("text"),
        cdata(content)
    )
}

/// A reply in safe mode: the ciphertext, its signature, timestamp and nonce.
pub fn encrypted_reply(encrypt: &str, signature: &str, timestamp: &str, nonce: &str) -> String {
    format!(
        "<xml><Encrypt>{}</Encrypt><MsgSignature>{}</MsgSignature><TimeStamp>{timestamp}</TimeStamp><Nonce>{}</Nonce></xml>",
        cdata(encrypt),
        cdata(signature),
        cdata(nonce)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_wechat_sends() {
        let f = fields(
            "<xml><ToUserName><![CDATA[gh_1]]></ToUserName>\n<CreateTime>1348831860</CreateTime>\
             <Content><![CDATA[a]]>&amp;b&#x4E00;</Content><ScanCodeInfo><ScanType>qr</ScanType></ScanCodeInfo></xml>",
        )
        .unwrap();
        assert_eq!(f["ToUserName"], "gh_1");
        assert_eq!(f["CreateTime"], "1348831860");
        assert_eq!(f["Content"], "a&b一");
        assert_eq!(f["ScanCodeInfo"], "", "only the root's children");
    }

    #[test]
    fn refuses_what_is_not_a_message() {
        for bad in [
            "",
            "<xml><a>1</a>",
            "<root><a>1</a></root>",
            "<!DOCTYPE xml [<!ENTITY e \"x\">]><xml><a>&e;</a></xml>",
            "<xml><a>&e;</a></xml>",
            "<xml><a>1</b></xml>",
        ] {
            assert!(fields(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn replies_survive_their_own_text() {
        let x = text_reply("o1", "gh_1", 5, "a]]>b<c>");
        assert_eq!(fields(&x).unwrap()["Content"], "a]]>b<c>");
    }
}
