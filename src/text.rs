//! Text values, parsed once at the edge: each type states its rule once, and
//! both the spec (`minLength`, `maxLength`, `pattern`) and the parser are
//! read from that statement, so the two cannot disagree.
//!
//! - `Line<MAX>`: one line (a name, a recipient): no control characters at
//!   all; surrounding spaces are trimmed.
//! - `Text<MAX>`: text that may span lines (a note, a summary, a reason):
//!   tabs and line breaks allowed, `\r\n` and `\r` stored as `\n`, every other
//!   control character refused; surrounding blanks are trimmed.
//!
//! Both must hold a visible character unless `MIN` is 0 (then blank means
//! "nothing"). Lengths are counted in characters (Unicode scalar values), as
//! JSON Schema counts them.
//!
//! Parse errors name the rule, never the value.

use std::{borrow::Cow, sync::LazyLock};

use poem_openapi::{
    registry::{MetaSchema, MetaSchemaRef},
    types::{ParseError, ParseFromJSON, ParseFromParameter, ParseResult, ToJSON, Type},
};
use regex::Regex;
use serde_json::Value;

/// Characters refused anywhere in a line: C0 controls, DEL and C1 controls.
const LINE_CHAR: &str = r"[^\u0000-\u001F\u007F-\u009F]";
/// Characters refused anywhere in multi-line text: as a line, but tab, line
/// feed and carriage return are allowed.
const TEXT_CHAR: &str = r"[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]";
/// A visible character: not a space and not a control character.
const VISIBLE: &str = r"[^ \u0000-\u001F\u007F-\u009F]";

/// The `pattern` of a text rule, as the spec states it and the parser applies it.
fn pattern(chars: &str, min: usize) -> String {
    if min == 0 {
        format!("^{chars}*$")
    } else {
        format!("^{chars}*{VISIBLE}{chars}*$")
    }
}

static PATTERNS: LazyLock<[Regex; 4]> = LazyLock::new(|| {
    [
        (LINE_CHAR, 0),
        (LINE_CHAR, 1),
        (TEXT_CHAR, 0),
        (TEXT_CHAR, 1),
    ]
    .map(|(chars, min)| Regex::new(&pattern(chars, min)).expect("text patterns compile"))
});

/// One rule: what the spec says and what `check` applies.
struct Rule {
    multi_line: bool,
    min: usize,
    max: usize,
}

impl Rule {
    fn chars(&self) -> &'static str {
        if self.multi_line {
            TEXT_CHAR
        } else {
            LINE_CHAR
        }
    }

    fn schema(&self) -> MetaSchema {
        MetaSchema {
            min_length: (self.min > 0).then_some(self.min),
            max_length: Some(self.max),
            pattern: Some(pattern(self.chars(), self.min)),
            ..MetaSchema::new("string")
        }
    }

    /// The value as stored, or what is wrong with it.
    fn check(&self, raw: &str) -> Result<String, String> {
        let n = raw.chars().count();
        if n > self.max {
            return Err(format!("must have at most {} characters", self.max));
        }
        let regex = &PATTERNS[usize::from(self.multi_line) * 2 + usize::from(self.min > 0)];
        if !regex.is_match(raw) {
            return Err(if self.min > 0 && raw.trim().is_empty() {
                "is required".to_owned()
            } else if self.multi_line {
                "must not contain control characters other than tab and line breaks".to_owned()
            } else {
                "must be one line without control characters".to_owned()
            });
        }
        Ok(if self.multi_line {
            raw.replace("\r\n", "\n")
                .replace('\r', "\n")
                .trim_matches([' ', '\t', '\n'])
                .to_owned()
        } else {
            raw.trim_matches(' ').to_owned()
        })
    }
}

macro_rules! text_type {
    ($(#[$meta:meta])* $name:ident, $multi:expr, $label:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name<const MAX: usize, const MIN: usize = 1>(String);

        impl<const MAX: usize, const MIN: usize> $name<MAX, MIN> {
            const RULE: Rule = Rule {
                multi_line: $multi,
                min: MIN,
                max: MAX,
            };

            /// Checks and normalises `raw`; the error names the rule broken.
            pub fn parse(raw: &str) -> Result<Self, String> {
                Self::RULE.check(raw).map($name)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// `parse` for a value that arrives outside a request body (the
            /// command line, the demo seed): a broken rule names `field`.
            pub fn for_field(field: &str, raw: &str) -> crate::error::ServiceResult<Self> {
                Self::parse(raw).map_err(|m| crate::error::ServiceError::invalid(field, &m))
            }

            pub fn into_inner(self) -> String {
                self.0
            }

            /// The text, or `None` when it is blank (only when `MIN` is 0).
            pub fn into_present(self) -> Option<String> {
                (!self.0.is_empty()).then_some(self.0)
            }
        }

        impl<const MAX: usize, const MIN: usize> Type for $name<MAX, MIN> {
            const IS_REQUIRED: bool = true;
            type RawValueType = Self;
            type RawElementValueType = Self;

            fn name() -> Cow<'static, str> {
                format!(concat!("string_", $label, "_{}_{}"), MIN, MAX).into()
            }

            fn schema_ref() -> MetaSchemaRef {
                MetaSchemaRef::Inline(Box::new(Self::RULE.schema()))
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

        impl<const MAX: usize, const MIN: usize> ParseFromJSON for $name<MAX, MIN> {
            fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
                match value {
                    Some(Value::String(s)) => Self::parse(&s).map_err(ParseError::custom),
                    _ => Err(ParseError::custom("must be a string")),
                }
            }
        }

        impl<const MAX: usize, const MIN: usize> ParseFromParameter for $name<MAX, MIN> {
            fn parse_from_parameter(value: &str) -> ParseResult<Self> {
                Self::parse(value).map_err(ParseError::custom)
            }
        }

        impl<const MAX: usize, const MIN: usize> ToJSON for $name<MAX, MIN> {
            fn to_json(&self) -> Option<Value> {
                Some(Value::String(self.0.clone()))
            }
        }
    };
}

text_type! {
    /// One line of text, `MIN` (0 or 1) to `MAX` characters.
    Line, false, "line"
}

text_type! {
    /// Text that may span lines, `MIN` (0 or 1) to `MAX` characters.
    Text, true, "text"
}

/// A string with a fixed shape: stated as the spec's `pattern`, applied by
/// the parser, normalised by `$norm`.
macro_rules! shaped_type {
    ($(#[$meta:meta])* $name:ident, $pattern:literal, $min:literal, $max:literal, $rule:literal, $norm:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            pub const PATTERN: &'static str = $pattern;

            /// Checks and normalises `raw`; the error names the rule broken.
            pub fn parse(raw: &str) -> Result<Self, String> {
                static REGEX: LazyLock<Regex> =
                    LazyLock::new(|| Regex::new($pattern).expect("pattern compiles"));
                let n = raw.chars().count();
                if !($min..=$max).contains(&n) || !REGEX.is_match(raw) {
                    return Err($rule.to_owned());
                }
                Ok($name(($norm)(raw)))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// `parse` for a value that arrives outside a request body (the
            /// command line, the demo seed): a broken rule names `field`.
            pub fn for_field(field: &str, raw: &str) -> crate::error::ServiceResult<Self> {
                Self::parse(raw).map_err(|m| crate::error::ServiceError::invalid(field, &m))
            }

            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl Type for $name {
            const IS_REQUIRED: bool = true;
            type RawValueType = Self;
            type RawElementValueType = Self;

            fn name() -> Cow<'static, str> {
                stringify!($name).into()
            }

            fn schema_ref() -> MetaSchemaRef {
                MetaSchemaRef::Inline(Box::new(MetaSchema {
                    min_length: Some($min),
                    max_length: Some($max),
                    pattern: (!$pattern.is_empty()).then(|| $pattern.to_owned()),
                    ..MetaSchema::new("string")
                }))
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

        impl ParseFromJSON for $name {
            fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
                match value {
                    Some(Value::String(s)) => Self::parse(&s).map_err(ParseError::custom),
                    _ => Err(ParseError::custom("must be a string")),
                }
            }
        }

        impl ParseFromParameter for $name {
            fn parse_from_parameter(value: &str) -> ParseResult<Self> {
                Self::parse(value).map_err(ParseError::custom)
            }
        }

        impl ToJSON for $name {
            fn to_json(&self) -> Option<Value> {
                Some(Value::String(self.0.clone()))
            }
        }
    };
}

shaped_type! {
    /// A username: 3 to 64 letters, digits, `.`, `_` or `-`; stored and
    /// compared lowercased.
    Username, "^[A-Za-z0-9._-]*$", 3, 64,
    "must be 3 to 64 characters: letters, digits, `.`, `_` or `-`",
    |s: &str| s.to_lowercase()
}

shaped_type! {
    /// An email an account is linked by at its first single sign-on, or
    /// empty (none); stored lowercased.
    SsoEmail, r"^([^@\s\x00-\x1F\x7F]+@[^@\s\x00-\x1F\x7F]+\.[^@\s\x00-\x1F\x7F]+)?$", 0, 254,
    "must be an email address (name@domain), or empty",
    |s: &str| s.to_lowercase()
}

shaped_type! {
    /// A branch code: 2 to 16 letters, digits or `-`; stored uppercased.
    BranchCode, "^[A-Za-z0-9-]*$", 2, 16,
    "must be 2 to 16 characters: letters, digits or `-`",
    |s: &str| s.to_uppercase()
}

shaped_type! {
    /// A new password: 12 to 1024 characters, any characters. Long
    /// passphrases are encouraged.
    NewPassword, "", 12, 1024,
    "must have 12 to 1024 characters",
    |s: &str| s.to_owned()
}

shaped_type! {
    /// A statistics period: a year, a quarter, a month or a span of whole
    /// months (`crate::stats::Period` reads what it means).
    StatsPeriod, r"^20[0-9]{2}(-Q[1-4]|-(0[1-9]|1[0-2])(\.\.20[0-9]{2}-(0[1-9]|1[0-2]))?)?$", 4, 16,
    "must be a year (2026), a quarter (2026-Q4), a month (2026-11) or a span of whole months (2026-01..2026-06)",
    |s: &str| s.to_owned()
}

/// The form of a UUIDv7 (the version nibble is 7).
const UUID_V7: &str =
    "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-7[0-9a-fA-F]{3}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";

/// A record id chosen by the client (for records made offline): a UUIDv7,
/// time-ordered like the server's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientId(uuid::Uuid);

impl ClientId {
    pub fn parse(raw: &str) -> Result<Self, String> {
        static REGEX: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(UUID_V7).expect("pattern compiles"));
        REGEX
            .is_match(raw)
            .then(|| uuid::Uuid::parse_str(raw).ok())
            .flatten()
            .map(ClientId)
            .ok_or_else(|| "must be a UUIDv7".to_owned())
    }

    pub fn uuid(self) -> uuid::Uuid {
        self.0
    }

    /// The client's id, or a new UUIDv7 when it chose none.
    pub fn or_new(id: Option<ClientId>) -> uuid::Uuid {
        id.map_or_else(uuid::Uuid::now_v7, ClientId::uuid)
    }
}

impl Type for ClientId {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        "string_uuid_v7".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            pattern: Some(UUID_V7.to_owned()),
            ..MetaSchema::new_with_format("string", "uuid")
        }))
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

impl ParseFromJSON for ClientId {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            Some(Value::String(s)) => Self::parse(&s).map_err(ParseError::custom),
            _ => Err(ParseError::custom("must be a string")),
        }
    }
}

impl ToJSON for ClientId {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.to_string()))
    }
}

shaped_type! {
    /// The `If-Match` of a change: the `ETag` a read returned, `"<version>"`.
    ETag, r#"^(W/)?"[0-9]{1,9}"$"#, 3, 13,
    "must be an ETag returned by a read",
    |s: &str| s.to_owned()
}

shaped_type! {
    /// An `Idempotency-Key`: 1 to 200 visible ASCII characters (a UUID is
    /// a good choice).
    IdempotencyKeyText, "^[!-~]*$", 1, 200,
    "must be 1 to 200 visible ASCII characters",
    |s: &str| s.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_trimmed_single_and_bounded() {
        assert_eq!(Line::<10>::parse("  Main  ").unwrap().as_str(), "Main");
        assert_eq!(Line::<10>::parse("   ").unwrap_err(), "is required");
        assert!(Line::<10>::parse("abcdefghijk").is_err());
        assert!(Line::<10>::parse("a\nb").is_err());
        assert!(Line::<10>::parse("a\u{0085}b").is_err());
        assert_eq!(Line::<10, 0>::parse("").unwrap().into_present(), None);
        // Ten characters of two bytes each are ten characters.
        assert!(Line::<10>::parse("éééééééééé").is_ok());
    }

    #[test]
    fn text_keeps_line_breaks_and_tabs_only() {
        let t = Text::<100>::parse("\r\nfirst\r\n\tsecond\rthird \n").unwrap();
        assert_eq!(t.as_str(), "first\n\tsecond\nthird");
        assert!(Text::<100>::parse("bell\u{7}").is_err());
        assert_eq!(Text::<100>::parse("\n\t ").unwrap_err(), "is required");
    }

    #[test]
    fn the_spec_states_what_the_parser_applies() {
        let MetaSchemaRef::Inline(schema) = Line::<200>::schema_ref() else {
            panic!("inline schema expected")
        };
        assert_eq!(schema.max_length, Some(200));
        assert_eq!(schema.min_length, Some(1));
        let spec_regex = Regex::new(schema.pattern.as_deref().unwrap()).unwrap();
        for sample in ["Ann", " ", "a\tb", "x\u{1b}y", "\u{a0}"] {
            assert_eq!(
                spec_regex.is_match(sample),
                Line::<200>::parse(sample).is_ok(),
                "{sample:?}"
            );
        }
    }

    #[test]
    fn shaped_strings_follow_their_pattern() {
        assert_eq!(Username::parse("A.Reyes").unwrap().as_str(), "a.reyes");
        assert!(Username::parse("a b").is_err());
        assert!(Username::parse("ab").is_err());
        assert_eq!(BranchCode::parse("main-2").unwrap().as_str(), "MAIN-2");
        assert!(NewPassword::parse("short").is_err());
        assert!(NewPassword::parse("correct horse battery").is_ok());
        assert!(ClientId::parse("0192f0c1-7a2b-7c3d-8e4f-0123456789ab").is_ok());
        assert!(ClientId::parse("0192f0c1-7a2b-4c3d-8e4f-0123456789ab").is_err());
    }
}
