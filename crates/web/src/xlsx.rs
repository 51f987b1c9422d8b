//! Excel workbooks the console and the API hand out: one sheet, a bold header row kept in
//! view, every cell written as text (codes keep their leading zeros, and whatever a citizen
//! typed never becomes a formula).

/// One sheet named `name`: the header, then the rows; `widths` sets some columns' widths.
pub fn workbook(
    name: &str,
    header: &[&str],
    rows: &[Vec<String>],
    widths: &[(u16, f64)],
) -> Result<Vec<u8>, String> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let sheet = wb.add_worksheet();
    sheet.set_name(name).map_err(|e| e.to_string())?;
    let bold = Format::new().set_bold();
    for (c, h) in header.iter().enumerate() {
        sheet
            .write_string_with_format(0, c as u16, *h, &bold)
            .map_err(|e| e.to_string())?;
    }
    for (i, r) in rows.iter().enumerate() {
        for (c, v) in r.iter().enumerate() {
            sheet
                .write_string((i + 1) as u32, c as u16, v)
                .map_err(|e| e.to_string())?;
        }
    }
    sheet.set_freeze_panes(1, 0).map_err(|e| e.to_string())?;
    for (c, w) in widths {
        sheet.set_column_width(*c, *w).map_err(|e| e.to_string())?;
    }
    wb.save_to_buffer().map_err(|e| e.to_string())
}
