//! Query-string parameters, validated by hand so that every rejection is a JSON 400 naming the
//! parameter (axum's own `Query` rejection is plain text naming nothing).

use std::ops::RangeInclusive;

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;

use super::ApiError;

/// Longest text a parameter may carry, in characters: longer than any Discogs name or title
/// (the longest are about 1,000), short enough to keep a hostile query cheap.
pub const MAX_TEXT_CHARS: usize = 2_000;

/// Largest pagination offset: deep enough for any client paging by hand, bounded so that no
/// request makes a store sort and skip millions of rows.
pub const MAX_OFFSET: i64 = 10_000;

/// The query string as name/value pairs; the first occurrence of a name wins.
pub struct Params(Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Params, ApiError> {
        Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
            .map(|Query(pairs)| Params(pairs))
            .map_err(|e| ApiError::BadParameter {
                parameter: "query",
                reason: e.body_text(),
            })
    }
}

impl Params {
    /// Parameters from name/value pairs, for tests.
    #[cfg(test)]
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Params {
        Params(
            pairs
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect(),
        )
    }

    /// The value of `name`, trimmed; an empty value counts as absent.
    fn raw(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.trim())
            .filter(|value| !value.is_empty())
    }

    /// Optional text: at most [`MAX_TEXT_CHARS`] characters and no NUL (which neither store can
    /// hold in a string).
    pub fn text(&self, name: &'static str) -> Result<Option<String>, ApiError> {
        self.raw(name).map(|value| text(name, value)).transpose()
    }

    /// Text that must be present.
    pub fn required_text(&self, name: &'static str) -> Result<String, ApiError> {
        self.text(name)?.ok_or_else(|| ApiError::BadParameter {
            parameter: name,
            reason: "is required".to_owned(),
        })
    }

    /// An optional integer within `range`.
    pub fn int(
        &self,
        name: &'static str,
        range: RangeInclusive<i64>,
    ) -> Result<Option<i64>, ApiError> {
        let Some(value) = self.raw(name) else {
            return Ok(None);
        };
        let bad = || ApiError::BadParameter {
            parameter: name,
            reason: format!(
                "must be an integer from {} to {}",
                range.start(),
                range.end()
            ),
        };
        let number: i64 = value.parse().map_err(|_| bad())?;
        if range.contains(&number) {
            Ok(Some(number))
        } else {
            Err(bad())
        }
    }

    /// A page size: `default` when absent, otherwise within `1..=max`.
    pub fn limit(&self, default: i64, max: i64) -> Result<i64, ApiError> {
        Ok(self.int("limit", 1..=max)?.unwrap_or(default))
    }

    /// A pagination offset within `0..=MAX_OFFSET`, 0 when absent.
    pub fn offset(&self) -> Result<i64, ApiError> {
        Ok(self.int("offset", 0..=MAX_OFFSET)?.unwrap_or(0))
    }

    /// `true`/`false` (also `1`/`0`), `default` when absent.
    pub fn flag(&self, name: &'static str, default: bool) -> Result<bool, ApiError> {
        match self.raw(name).map(str::to_ascii_lowercase).as_deref() {
            None => Ok(default),
            Some("true" | "1") => Ok(true),
            Some("false" | "0") => Ok(false),
            Some(_) => Err(ApiError::BadParameter {
                parameter: name,
                reason: "must be true or false".to_owned(),
            }),
        }
    }

    /// One of the `allowed` names (case-insensitive), `default` when absent.
    pub fn choice<T: Choice>(
        &self,
        name: &'static str,
        allowed: &[T],
        default: Option<T>,
    ) -> Result<T, ApiError> {
        match self.raw(name) {
            Some(value) => parse_choice(name, value, allowed),
            None => default.ok_or_else(|| ApiError::BadParameter {
                parameter: name,
                reason: format!("is required (one of {})", names(allowed)),
            }),
        }
    }

    /// A comma-separated list of `allowed` names, without repeats; empty when absent.
    pub fn choices<T: Choice>(
        &self,
        name: &'static str,
        allowed: &[T],
    ) -> Result<Vec<T>, ApiError> {
        let mut chosen = Vec::new();
        for item in self.raw(name).unwrap_or_default().split(',') {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            let choice = parse_choice(name, item, allowed)?;
            if !chosen.contains(&choice) {
                chosen.push(choice);
            }
        }
        Ok(chosen)
    }

    /// A comma-separated list of texts; empty when absent.
    pub fn texts(&self, name: &'static str) -> Result<Vec<String>, ApiError> {
        let mut texts: Vec<String> = Vec::new();
        for item in self.raw(name).unwrap_or_default().split(',') {
            let item = item.trim();
            if !item.is_empty() && !texts.iter().any(|seen| seen == item) {
                texts.push(text(name, item)?);
            }
        }
        Ok(texts)
    }
}

/// Text a parameter `name` (from the query or the path) may carry: at most [`MAX_TEXT_CHARS`]
/// characters and no NUL.
pub fn text(name: &'static str, value: &str) -> Result<String, ApiError> {
    if value.contains('\0') {
        return Err(ApiError::BadParameter {
            parameter: name,
            reason: "must not contain NUL characters".to_owned(),
        });
    }
    if value.chars().count() > MAX_TEXT_CHARS {
        return Err(ApiError::BadParameter {
            parameter: name,
            reason: format!("is longer than {MAX_TEXT_CHARS} characters"),
        });
    }
    Ok(value.to_owned())
}

/// A value of a closed set that a parameter names.
pub trait Choice: Copy + PartialEq {
    fn name(self) -> &'static str;
}

/// The one of `allowed` that `value` (of parameter `name`, from the query or the path) names.
pub fn parse_choice<T: Choice>(
    name: &'static str,
    value: &str,
    allowed: &[T],
) -> Result<T, ApiError> {
    allowed
        .iter()
        .copied()
        .find(|choice| choice.name().eq_ignore_ascii_case(value))
        .ok_or_else(|| ApiError::BadParameter {
            parameter: name,
            reason: format!("{value:?} is not one of {}", names(allowed)),
        })
}

fn names<T: Choice>(allowed: &[T]) -> String {
    allowed
        .iter()
        .map(|choice| choice.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A path segment, the parameter `name`, that must be a positive integer id.
pub fn id(name: &'static str, value: &str) -> Result<i64, ApiError> {
    value
        .parse()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::BadParameter {
            parameter: name,
            reason: format!("{value:?} is not a positive integer"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Color {
        Red,
        Blue,
    }

    const COLORS: &[Color] = &[Color::Red, Color::Blue];

    impl Choice for Color {
        fn name(self) -> &'static str {
            match self {
                Color::Red => "red",
                Color::Blue => "blue",
            }
        }
    }

    fn rejected_parameter<T: std::fmt::Debug>(result: Result<T, ApiError>) -> &'static str {
        match result {
            Err(ApiError::BadParameter { parameter, .. }) => parameter,
            other => panic!("expected a bad parameter, got {other:?}"),
        }
    }

    #[test]
    fn integers_are_bounded_and_empty_means_absent() {
        let params = Params::from_pairs(&[("limit", "5"), ("offset", ""), ("year", "-3")]);
        assert_eq!(params.limit(10, 50).ok(), Some(5));
        assert_eq!(params.offset().ok(), Some(0));
        assert_eq!(rejected_parameter(params.int("year", 1860..=2100)), "year");
        let huge = Params::from_pairs(&[("limit", "99999999999999999999999")]);
        assert_eq!(rejected_parameter(huge.limit(10, 50)), "limit");
        let zero = Params::from_pairs(&[("limit", "0")]);
        assert_eq!(rejected_parameter(zero.limit(10, 50)), "limit");
    }

    #[test]
    fn text_rejects_nul_and_overlong_values_and_trims() {
        let params = Params::from_pairs(&[("q", "  Björk \u{a0}"), ("nul", "a\0b")]);
        assert_eq!(params.text("q").ok().flatten().as_deref(), Some("Björk"));
        assert_eq!(rejected_parameter(params.text("nul")), "nul");
        let long = "x".repeat(MAX_TEXT_CHARS + 1);
        let params = Params::from_pairs(&[("name", long.as_str())]);
        assert_eq!(rejected_parameter(params.required_text("name")), "name");
        assert_eq!(
            rejected_parameter(Params::from_pairs(&[]).required_text("name")),
            "name"
        );
    }

    #[test]
    fn choices_are_case_insensitive_and_deduplicated() {
        let params = Params::from_pairs(&[("type", "BLUE"), ("types", "red, blue,red,,")]);
        assert_eq!(params.choice("type", COLORS, None).ok(), Some(Color::Blue));
        assert_eq!(
            params.choices("types", COLORS).ok(),
            Some(vec![Color::Red, Color::Blue])
        );
        let params = Params::from_pairs(&[("type", "green"), ("types", "red,green")]);
        assert_eq!(
            rejected_parameter(params.choice("type", COLORS, Some(Color::Red))),
            "type"
        );
        assert_eq!(rejected_parameter(params.choices("types", COLORS)), "types");
        assert_eq!(
            Params::from_pairs(&[])
                .choice("type", COLORS, Some(Color::Red))
                .ok(),
            Some(Color::Red)
        );
    }

    #[test]
    fn flags_and_ids() {
        let params = Params::from_pairs(&[("a", "TRUE"), ("b", "0"), ("c", "yes")]);
        assert_eq!(params.flag("a", false).ok(), Some(true));
        assert_eq!(params.flag("b", true).ok(), Some(false));
        assert_eq!(params.flag("d", true).ok(), Some(true));
        assert_eq!(rejected_parameter(params.flag("c", false)), "c");
        assert_eq!(id("id", "42").ok(), Some(42));
        assert_eq!(rejected_parameter(id("id", "-1")), "id");
        assert_eq!(
            rejected_parameter(id("artist_id", "1'; DROP TABLE artists")),
            "artist_id"
        );
    }
}
