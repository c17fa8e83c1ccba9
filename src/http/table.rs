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
            let _ = w.write_record(&r);
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
