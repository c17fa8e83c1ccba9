//! Wire types whose form the spec states exactly: `Timestamp` (RFC 3339 in
//! UTC with `Z`, `format: date-time`) and `Date` (`format: date`). poem-openapi
//! writes chrono's times with `+00:00` and dates as `naive-date`, which
//! generated clients do not know.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use poem_openapi::{
    registry::{MetaSchema, MetaSchemaRef},
    types::{ParseError, ParseFromJSON, ParseFromParameter, ParseResult, ToJSON, Type},
};
use serde_json::Value;

/// A moment, always written as UTC with `Z` and microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(pub DateTime<Utc>);

/// A calendar date, `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date(pub NaiveDate);

impl From<DateTime<Utc>> for Timestamp {
    fn from(t: DateTime<Utc>) -> Self {
        Timestamp(t)
    }
}

impl From<String> for Timestamp {
    /// A time this service stored as text (always RFC 3339, so this cannot
    /// fail for its own rows).
    fn from(s: String) -> Self {
        Timestamp(
            DateTime::parse_from_rfc3339(&s)
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_default(),
        )
    }
}

impl From<NaiveDate> for Date {
    fn from(d: NaiveDate) -> Self {
        Date(d)
    }
}

impl Timestamp {
    fn text(&self) -> String {
        self.0.to_rfc3339_opts(SecondsFormat::Micros, true)
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text())
    }
}

impl serde::Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

macro_rules! string_type {
    ($ty:ty, $format:literal, $parse:expr, $show:expr) => {
        impl Type for $ty {
            const IS_REQUIRED: bool = true;
            type RawValueType = Self;
            type RawElementValueType = Self;

            fn name() -> Cow<'static, str> {
                concat!("string_", $format).into()
            }

            fn schema_ref() -> MetaSchemaRef {
                MetaSchemaRef::Inline(Box::new(MetaSchema::new_with_format("string", $format)))
            }

            fn as_raw_value(&self) -> Option<&Self::RawValueType> {
                Some(self)
            }

            fn raw_element_iter<'a>(
                &'a self,
            ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
                Box::new(self.as_raw_value().into_iter())
            }
        }

        impl ParseFromJSON for $ty {
            fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
                match value.unwrap_or_default() {
                    Value::String(s) => ($parse)(s.as_str()),
                    other => Err(ParseError::expected_type(other)),
                }
            }
        }

        impl ParseFromParameter for $ty {
            fn parse_from_parameter(value: &str) -> ParseResult<Self> {
                ($parse)(value)
            }
        }

        impl ToJSON for $ty {
            fn to_json(&self) -> Option<Value> {
                Some(Value::String(($show)(self)))
            }
        }
    };
}

string_type!(
    Timestamp,
    "date-time",
    |s: &str| DateTime::parse_from_rfc3339(s)
        .map(|t| Timestamp(t.with_timezone(&Utc)))
        .map_err(|_| ParseError::custom("must be an RFC 3339 date-time")),
    |t: &Timestamp| t.text()
);

string_type!(
    Date,
    "date",
    |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(Date)
        .map_err(|_| ParseError::custom("must be a date, YYYY-MM-DD")),
    |d: &Date| d.0.to_string()
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_written_in_one_form() {
        let t: Timestamp = "2026-11-28T09:30:00+00:00".to_owned().into();
        assert_eq!(
            t.to_json(),
            Some(Value::String("2026-11-28T09:30:00.000000Z".into()))
        );
        assert!(Date::parse_from_parameter("2026-13-45").is_err());
        assert_eq!(
            Date::parse_from_parameter("2026-12-01").unwrap().to_json(),
            Some(Value::String("2026-12-01".into()))
        );
    }
}
