//! A table answered as JSON, or as CSV when the client asks for `text/csv`
//! (statistics). The spec states both media types on the one response.

use poem::{IntoResponse, Request, Response};
use poem_openapi::{
    ApiResponse,
    payload::{Json, Payload, PlainText},
    registry::{MetaMediaType, MetaResponse, MetaResponses, Registry},
    types::{ParseFromJSON, ToJSON},
};

/// A table that can also be written as CSV (a header row first).
pub trait Csv {
    fn records(&self) -> Vec<Vec<String>>;
}

/// A cell as a spreadsheet will show it and never run it: one that begins
/// with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`
/// (OWASP's rule for CSV injection). Every CSV answer writes its cells
/// through this.
pub fn safe_cell(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// Appends one CSV row, every cell made safe.
pub fn write_row<W: std::io::Write, S: AsRef<str>>(
    w: &mut csv::Writer<W>,
    row: impl IntoIterator<Item = S>,
) -> csv::Result<()> {
    w.write_record(row.into_iter().map(|c| safe_cell(c.as_ref()).into_owned()))
}

/// The table as JSON, or as CSV when the request's `Accept` names `text/csv`.
pub struct TableReply<T> {
    table: T,
    csv: bool,
}

impl<T> TableReply<T> {
    pub fn new(req: &Request, table: T) -> Self {
        let csv = req
            .header("accept")
            .is_some_and(|a| a.split(',').any(|t| t.trim().starts_with("text/csv")));
        TableReply { table, csv }
    }
}

impl<T: ToJSON + ParseFromJSON + Csv + Send> IntoResponse for TableReply<T> {
    fn into_response(self) -> Response {
        if !self.csv {
            return Json(self.table).into_response();
        }
        let mut w = csv::Writer::from_writer(Vec::new());
        for r in self.table.records() {
            let _ = write_row(&mut w, &r);
        }
        Response::builder()
            .content_type("text/csv; charset=utf-8")
            .body(w.into_inner().unwrap_or_default())
    }
}

impl<T: ToJSON + ParseFromJSON + Csv + Send> ApiResponse for TableReply<T> {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "The table; CSV with `Accept: text/csv`",
                status: Some(200),
                status_range: None,
                content: vec![
                    MetaMediaType {
                        content_type: <Json<T> as Payload>::CONTENT_TYPE,
                        schema: <Json<T> as Payload>::schema_ref(),
                    },
                    MetaMediaType {
                        content_type: "text/csv; charset=utf-8",
                        schema: <PlainText<String> as Payload>::schema_ref(),
                    },
                ],
                headers: vec![],
            }],
        }
    }

    fn register(registry: &mut Registry) {
        <Json<T> as Payload>::register(registry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_that_a_spreadsheet_would_run_are_made_text() {
        for risky in ["=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(safe_cell(risky), format!("'{risky}"));
        }
        for plain in ["<5", "12", "food", "2026-11", "", "a=b"] {
            assert_eq!(safe_cell(plain), plain);
        }
    }
}
