//! Reports as XLSX workbooks (rust_xlsxwriter): each sheet a header row in bold, frozen, and
//! rows of typed cells, so numbers stay numbers in a spreadsheet.

use rust_xlsxwriter::{Format, Workbook, XlsxError};

/// One cell's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
    Bool(bool),
    Empty,
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}

impl From<u32> for Cell {
    fn from(n: u32) -> Cell {
        Cell::Number(f64::from(n))
    }
}

impl From<bool> for Cell {
    fn from(b: bool) -> Cell {
        Cell::Bool(b)
    }
}

impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(v: Option<T>) -> Cell {
        v.map_or(Cell::Empty, Into::into)
    }
}

/// One worksheet: its name (at most 31 characters, none of `[]:*?/\`), header and rows.
#[derive(Debug, Clone)]
pub struct Sheet {
    pub name: String,
    pub header: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
}

/// The workbook of `sheets`, as the bytes of an `.xlsx` file.
pub fn workbook(sheets: &[Sheet]) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    for sheet in sheets {
        let ws = book.add_worksheet();
        ws.set_name(sheet.name.as_str())?;
        for (col, title) in (0u16..).zip(&sheet.header) {
            ws.write_string_with_format(0, col, *title, &bold)?;
        }
        for (row, cells) in (1u32..).zip(&sheet.rows) {
            for (col, cell) in (0u16..).zip(cells) {
                match cell {
                    Cell::Text(s) => ws.write_string(row, col, s.as_str())?,
                    Cell::Number(n) => ws.write_number(row, col, *n)?,
                    Cell::Bool(b) => ws.write_boolean(row, col, *b)?,
                    Cell::Empty => ws,
                };
            }
        }
        ws.set_freeze_panes(1, 0)?;
        ws.autofit();
    }
    book.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_workbook_is_a_zip_with_its_sheets() {
        let sheet = Sheet {
            name: "Weeks 周".into(),
            header: vec!["week", "done"],
            rows: vec![
                vec!["2026-W45".into(), 3u32.into()],
                vec![Cell::Empty, true.into()],
            ],
        };
        let bytes = workbook(&[sheet]).unwrap();
        assert_eq!(&bytes[..2], b"PK", "an XLSX file is a zip archive");
        let bad = Sheet {
            name: "a/b".into(),
            header: vec![],
            rows: vec![],
        };
        assert!(workbook(&[bad]).is_err(), "a sheet name with a slash");
    }
}
