//! Request bodies, judged by the spec. `Input<T>` is documented exactly as
//! poem-openapi's `Json<T>`, and before `T` is parsed the body is validated
//! against `T`'s schema in the served spec: a value of the wrong type, a bad
//! date, an unknown enum value, a missing field, a length or a pattern is a
//! 422 whose `errors` name every bad field at once, by its JSON pointer.
//! The spec's own statement is the rule applied, so the two cannot drift.
//!
//! Being an operation's argument after `BearerAuth`, it runs after sign-in:
//! an unauthenticated caller learns nothing about the body's shape.

use std::{
    collections::HashMap,
    ops::Deref,
    sync::{Arc, LazyLock, Mutex},
};

use poem::{FromRequest, Request, RequestBody, Result, http::StatusCode};
use poem_openapi::{
    ApiExtractor, ApiExtractorType, ExtractParamOptions,
    error::ContentTypeError,
    payload::{Json, ParsePayload, Payload},
    registry::{MetaMediaType, MetaRequest, MetaSchemaRef, Registry},
    types::{ParseFromJSON, Type},
};
use serde_json::Value;

use super::problem::{Problem, ProblemResponse};

/// A JSON request body, validated against its schema in the spec.
#[derive(Debug, Clone)]
pub struct Input<T>(pub T);

impl<T> Deref for Input<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: Type> Payload for Input<T> {
    const CONTENT_TYPE: &'static str = <Json<T> as Payload>::CONTENT_TYPE;

    fn check_content_type(content_type: &str) -> bool {
        <Json<T> as Payload>::check_content_type(content_type)
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: ParseFromJSON> ParsePayload for Input<T> {
    const IS_REQUIRED: bool = T::IS_REQUIRED;

    async fn from_request(request: &Request, body: &mut RequestBody) -> Result<Self> {
        let data = <Vec<u8> as FromRequest>::from_request(request, body).await?;
        let value: Value = if data.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&data).map_err(|_| {
                ProblemResponse::from(Problem::new(
                    StatusCode::BAD_REQUEST,
                    "malformed-body",
                    "The body is not valid JSON",
                ))
            })?
        };
        if let MetaSchemaRef::Reference(name) = T::schema_ref() {
            check(&name, &value, request.data::<Schemas>())?;
        }
        // The schema check passed, so this succeeds unless the type is
        // stricter than its schema; then the type's message (a rule, never
        // a value) is still reported as a 422.
        T::parse_from_json(Some(value)).map(Input).map_err(|err| {
            let message = err.into_message();
            let field = super::problem::field_of(&message);
            let mut p = invalid();
            p = match field {
                Some((field, rule)) => p.field(field, rule),
                None => p.field("body", safe_message(&message)),
            };
            ProblemResponse::from(p).into()
        })
    }
}

impl<'a, T: ParseFromJSON> ApiExtractor<'a> for Input<T> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        <Self as Payload>::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        Some(MetaRequest {
            description: None,
            content: vec![MetaMediaType {
                content_type: <Self as Payload>::CONTENT_TYPE,
                schema: <Self as Payload>::schema_ref(),
            }],
            required: <Self as ParsePayload>::IS_REQUIRED,
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> Result<Self> {
        match request.content_type() {
            Some(ct) if Self::check_content_type(ct) => {
                <Self as ParsePayload>::from_request(request, body).await
            }
            Some(ct) => Err(ContentTypeError::NotSupported {
                content_type: ct.to_owned(),
            }
            .into()),
            None => Err(ContentTypeError::ExpectContentType.into()),
        }
    }
}

fn invalid() -> Problem {
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
        "Some fields are invalid",
    )
}

/// The validator of each request schema, compiled once from the spec.
static VALIDATORS: LazyLock<Mutex<HashMap<String, Arc<jsonschema::Validator>>>> =
    LazyLock::new(Default::default);

/// The spec's `components`, which every request schema is checked against;
/// given to each request by the composition root, which holds the spec.
#[derive(Clone, Copy)]
pub struct Schemas(pub &'static Value);

fn validator(name: &str, components: &Value) -> Option<Arc<jsonschema::Validator>> {
    let mut cache = VALIDATORS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(v) = cache.get(name) {
        return Some(v.clone());
    }
    let schema = serde_json::json!({
        "$ref": format!("#/components/schemas/{name}"),
        "components": components,
    });
    let built = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .should_validate_formats(true)
        .build(&schema);
    match built {
        Ok(v) => {
            let v = Arc::new(v);
            cache.insert(name.to_owned(), v.clone());
            Some(v)
        }
        Err(_) => {
            tracing::error!(
                schema = name,
                "a request schema of the spec does not compile"
            );
            None
        }
    }
}

/// Validates `value` against the named schema; every error, by field.
fn check(name: &str, value: &Value, schemas: Option<&Schemas>) -> Result<(), ProblemResponse> {
    let Some(validator) = schemas.and_then(|s| validator(name, s.0)) else {
        return Err(Problem::for_status(StatusCode::INTERNAL_SERVER_ERROR).into());
    };
    let mut problem = invalid();
    for error in validator.iter_errors(value) {
        let mut field = error
            .instance_path()
            .as_str()
            .trim_start_matches('/')
            .to_owned();
        // Each field the body should not have, by name: a typo
        // (`recertification_months`) must not be dropped in silence.
        if let jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } =
            error.kind()
        {
            for name in unexpected {
                let at = if field.is_empty() {
                    name.clone()
                } else {
                    format!("{field}/{name}")
                };
                let at = if safe_field(&at) {
                    at
                } else {
                    "body".to_owned()
                };
                let message = "is not a field of this body".to_owned();
                if !problem
                    .errors
                    .iter()
                    .any(|e| e.field == at && e.message == message)
                {
                    problem = problem.field(at, message);
                }
            }
            continue;
        }
        let message = match error.kind() {
            jsonschema::error::ValidationErrorKind::Required { property } => {
                let name = property.as_str().unwrap_or_default();
                field = if field.is_empty() {
                    name.to_owned()
                } else {
                    format!("{field}/{name}")
                };
                "is required".to_owned()
            }
            kind => rule_message(kind),
        };
        if field.is_empty() {
            field = "body".to_owned();
        }
        if !safe_field(&field) {
            field = "body".to_owned();
        }
        if !problem
            .errors
            .iter()
            .any(|e| e.field == field && e.message == message)
        {
            problem = problem.field(field, message);
        }
    }
    if problem.errors.is_empty() {
        Ok(())
    } else {
        Err(problem.into())
    }
}

/// What a schema keyword demands, in words, without the rejected value.
fn rule_message(kind: &jsonschema::error::ValidationErrorKind) -> String {
    use jsonschema::error::{TypeKind, ValidationErrorKind as K};
    match kind {
        K::Type { kind } => match kind {
            TypeKind::Single(t) => format!("must be of type {t}"),
            TypeKind::Multiple(ts) => {
                let names: Vec<String> = ts.iter().map(|t| t.to_string()).collect();
                format!("must be of type {}", names.join(" or "))
            }
        },
        K::Enum { options } => {
            let names: Vec<&str> = options
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            format!("must be one of: {}", names.join(", "))
        }
        K::Format { format } => match format.as_str() {
            "date" => "must be a date, YYYY-MM-DD".to_owned(),
            "date-time" => "must be an RFC 3339 date-time".to_owned(),
            "uuid" => "must be a UUID".to_owned(),
            other => format!("must be in the format {other}"),
        },
        K::MaxLength { limit } => format!("must have at most {limit} characters"),
        K::MinLength { limit } if *limit <= 1 => "must not be empty".to_owned(),
        K::MinLength { limit } => format!("must have at least {limit} characters"),
        K::MaxItems { limit } => format!("must have at most {limit} items"),
        K::MinItems { limit } => format!("must have at least {limit} items"),
        K::Maximum { limit } => format!("must be at most {limit}"),
        K::Minimum { limit } => format!("must be at least {limit}"),
        K::Pattern { pattern } => pattern_message(pattern),
        K::UniqueItems => "must not repeat an item".to_owned(),
        other => format!("does not satisfy `{}`", other.keyword()),
    }
}

/// Patterns are stated in the spec; their message says what they mean.
fn pattern_message(pattern: &str) -> String {
    if pattern == crate::text::Username::PATTERN {
        "must be letters, digits, `.`, `_` or `-`".to_owned()
    } else if pattern == crate::text::BranchCode::PATTERN {
        "must be letters, digits or `-`".to_owned()
    } else if pattern.contains(r"\u0009") || pattern.contains(r"\u0008") {
        "must hold visible text, without control characters other than tab and line breaks"
            .to_owned()
    } else if pattern.contains(r"\u001F") {
        "must be one line of visible text, without control characters".to_owned()
    } else {
        "must match the pattern stated in the spec".to_owned()
    }
}

/// A JSON pointer of schema property names and indexes: safe to repeat.
fn safe_field(field: &str) -> bool {
    field.len() <= 100
        && field
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_/-".contains(c))
}

fn safe_message(message: &str) -> String {
    if message.len() <= 120
        && message
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || " .,`()_-/".contains(c))
    {
        message.to_owned()
    } else {
        "does not match the documented shape".to_owned()
    }
}
