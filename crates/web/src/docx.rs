//! Word documents (.docx, Office Open XML) the reports hand out: a title, headings,
//! paragraphs and bordered tables, in the fonts of Chinese official documents (仿宋 body, 黑体
//! headings, 小标宋-like title). Written directly as the few XML parts Word needs.

use std::io::Write;

/// A block of the document.
pub enum Block {
    /// The centred red title.
    Title(String),
    /// A centred line under the title (the date).
    Centred(String),
    Heading(String),
    Paragraph(String),
    /// A header row and the rows; numbers are right-aligned.
    Table(Vec<String>, Vec<Vec<String>>),
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            // Characters XML 1.0 cannot carry are left out.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

fn run(text: &str, font: &str, size_half_points: u32, bold: bool, colour: Option<&str>) -> String {
    format!(
        "<w:r><w:rPr><w:rFonts w:ascii=\"{font}\" w:hAnsi=\"{font}\" w:eastAsia=\"{font}\"/>{}{}<w:sz w:val=\"{size_half_points}\"/><w:szCs w:val=\"{size_half_points}\"/></w:rPr><w:t xml:space=\"preserve\">{}</w:t></w:r>",
        if bold { "<w:b/>" } else { "" },
        colour
            .map(|c| format!("<w:color w:val=\"{c}\"/>"))
            .unwrap_or_default(),
        escape(text)
    )
}

fn paragraph(inner: &str, centred: bool, indent: bool) -> String {
    format!(
        "<w:p><w:pPr>{}{}<w:spacing w:line=\"480\" w:lineRule=\"auto\"/></w:pPr>{inner}</w:p>",
        if centred {
            "<w:jc w:val=\"center\"/>"
        } else {
            ""
        },
        if indent {
            "<w:ind w:firstLineChars=\"200\" w:firstLine=\"640\"/>"
        } else {
            ""
        }
    )
}

fn looks_numeric(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '%' | '-' | ','))
}

fn table(header: &[String], rows: &[Vec<String>]) -> String {
    let cell = |text: &str, head: bool| {
        let right = !head && looks_numeric(text);
        format!(
            "<w:tc><w:tcPr><w:tcW w:w=\"0\" w:type=\"auto\"/>{}</w:tcPr><w:p><w:pPr>{}</w:pPr>{}</w:p></w:tc>",
            if head {
                "<w:shd w:val=\"clear\" w:color=\"auto\" w:fill=\"EEEEEE\"/>"
            } else {
                ""
            },
            if right { "<w:jc w:val=\"right\"/>" } else { "" },
            run(text, "仿宋", 21, head, None)
        )
    };
    let border = "<w:top w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"444444\"/><w:left w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"444444\"/><w:bottom w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"444444\"/><w:right w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"444444\"/><w:insideH w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"444444\"/><w:insideV w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"444444\"/>";
    let mut out = format!(
        "<w:tbl><w:tblPr><w:tblW w:w=\"5000\" w:type=\"pct\"/><w:tblBorders>{border}</w:tblBorders></w:tblPr>"
    );
    out.push_str("<w:tr><w:trPr><w:tblHeader/></w:trPr>");
    for h in header {
        out.push_str(&cell(h, true));
    }
    out.push_str("</w:tr>");
    for r in rows {
        out.push_str("<w:tr>");
        for v in r {
            out.push_str(&cell(v, false));
        }
        out.push_str("</w:tr>");
    }
    out.push_str("</w:tbl><w:p/>");
    out
}

/// The document's body XML.
fn body(blocks: &[Block]) -> String {
    let mut out = String::new();
    for b in blocks {
        out.push_str(&match b {
            Block::Title(t) => paragraph(
                &run(t, "方正小标宋简体", 44, false, Some("C00000")),
                true,
                false,
            ),
            Block::Centred(t) => paragraph(&run(t, "仿宋", 32, false, None), true, false),
            Block::Heading(t) => paragraph(&run(t, "黑体", 32, false, None), false, true),
            Block::Paragraph(t) => paragraph(&run(t, "仿宋", 32, false, None), false, true),
            Block::Table(h, rows) => table(h, rows),
        });
    }
    out
}

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/><Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/></Types>"#;

const RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/></Relationships>"#;

/// A whole .docx file: A4 portrait (landscape when `wide`, for broad tables).
pub fn document(title: &str, blocks: &[Block], wide: bool) -> Result<Vec<u8>, String> {
    let (w, h) = if wide { (16838, 11906) } else { (11906, 16838) };
    let orient = if wide { " w:orient=\"landscape\"" } else { "" };
    let doc = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>{}<w:sectPr><w:pgSz w:w=\"{w}\" w:h=\"{h}\"{orient}/><w:pgMar w:top=\"1440\" w:right=\"1300\" w:bottom=\"1440\" w:left=\"1300\" w:header=\"851\" w:footer=\"992\" w:gutter=\"0\"/></w:sectPr></w:body></w:document>",
        body(blocks)
    );
    let core = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<cp:coreProperties xmlns:cp=\"http://schemas.openxmlformats.org/package/2006/metadata/core-properties\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><dc:title>{}</dc:title><dc:creator>Mashangban</dc:creator></cp:coreProperties>",
        escape(title)
    );
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, text) in [
            ("[Content_Types].xml", CONTENT_TYPES),
            ("_rels/.rels", RELS),
            ("word/document.xml", doc.as_str()),
            ("docProps/core.xml", core.as_str()),
        ] {
            zip.start_file(name, opts).map_err(|e| e.to_string())?;
            zip.write_all(text.as_bytes()).map_err(|e| e.to_string())?;
        }
        zip.finish().map_err(|e| e.to_string())?;
    }
    Ok(buf.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn a_document_holds_its_text_escaped_in_word_parts() {
        let bytes = document(
            "日报",
            &[
                Block::Title("12345政务服务便民热线工作日报".into()),
                Block::Centred("2026年03月05日".into()),
                Block::Heading("热点问题：".into()),
                Block::Paragraph("1. 交通秩序 37 件 <违法停车> & 占道".into()),
                Block::Table(
                    vec!["渠道".into(), "件数".into()],
                    vec![vec!["微信".into(), "7".into()]],
                ),
            ],
            false,
        )
        .unwrap();
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut names: Vec<String> = zip.file_names().map(|n| n.unwrap().to_string()).collect();
        names.sort();
        assert_eq!(
            names,
            [
                "[Content_Types].xml",
                "_rels/.rels",
                "docProps/core.xml",
                "word/document.xml"
            ]
        );
        let mut xml = String::new();
        zip.by_name("word/document.xml")
            .unwrap()
            .read_to_string(&mut xml)
            .unwrap();
        assert!(xml.contains("12345政务服务便民热线工作日报"));
        assert!(xml.contains("&lt;违法停车&gt; &amp; 占道"));
        assert!(xml.contains("<w:tbl>"));
        assert!(
            xml.contains("<w:jc w:val=\"right\"/>"),
            "numbers right-aligned"
        );
        assert_eq!(escape("a\u{1}b"), "ab");
    }
}
