//! Media types of the v1 API: which encoding a request body has, and which
//! one the client accepts for the event stream.

/// `application/json`.
pub const APPLICATION_JSON: &str = "application/json";
/// `application/x-protobuf`.
pub const APPLICATION_PROTOBUF: &str = "application/x-protobuf";

/// An encoding of v1 messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentType {
    /// The proto3 JSON mapping, with the `.proto`'s field names.
    Json,
    /// Protobuf bytes.
    Protobuf,
}

impl ContentType {
    /// The media type, as sent in `Content-Type`.
    pub fn as_str(self) -> &'static str {
        match self {
            ContentType::Json => APPLICATION_JSON,
            ContentType::Protobuf => APPLICATION_PROTOBUF,
        }
    }

    /// The encoding a `Content-Type` header names (parameters such as
    /// `charset` ignored), or None when it is neither of ours.
    pub fn parse(header: &str) -> Option<ContentType> {
        let media = header.split(';').next().unwrap_or_default().trim();
        if media.eq_ignore_ascii_case(APPLICATION_JSON) {
            Some(ContentType::Json)
        } else if media.eq_ignore_ascii_case(APPLICATION_PROTOBUF) {
            Some(ContentType::Protobuf)
        } else {
            None
        }
    }

    /// The encoding to answer with given the request's `Accept` header:
    /// JSON when it is accepted (or there is no header), else protobuf,
    /// else None. Wildcards (`*/*`, `application/*`) and `q=0` are honoured.
    pub fn negotiate(accept: Option<&str>) -> Option<ContentType> {
        let Some(accept) = accept else {
            return Some(ContentType::Json);
        };
        [ContentType::Json, ContentType::Protobuf]
            .into_iter()
            .find(|c| accepts(accept, c.as_str()))
    }
}

/// Whether an `Accept` header value accepts `media` (`type/subtype`): the
/// most specific matching range decides, and `q=0` refuses.
pub fn accepts(accept: &str, media: &str) -> bool {
    let (kind, _) = media.split_once('/').unwrap_or((media, ""));
    let mut best: Option<(u8, f64)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let pattern = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let quality = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f64>().ok())
            .unwrap_or(1.0);
        let specificity = if pattern == media {
            3
        } else if pattern == format!("{kind}/*") {
            2
        } else if pattern == "*/*" {
            1
        } else {
            continue;
        };
        if best.is_none_or(|(s, _)| specificity > s) {
            best = Some((specificity, quality));
        }
    }
    best.is_some_and(|(_, q)| q > 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_are_matched_without_parameters() {
        assert_eq!(
            ContentType::parse("application/json"),
            Some(ContentType::Json)
        );
        assert_eq!(
            ContentType::parse("Application/X-Protobuf; charset=binary"),
            Some(ContentType::Protobuf)
        );
        assert_eq!(ContentType::parse("text/plain"), None);
    }

    #[test]
    fn accept_prefers_json_then_protobuf() {
        assert_eq!(ContentType::negotiate(None), Some(ContentType::Json));
        assert_eq!(ContentType::negotiate(Some("*/*")), Some(ContentType::Json));
        assert_eq!(
            ContentType::negotiate(Some("application/x-protobuf")),
            Some(ContentType::Protobuf)
        );
        assert_eq!(
            ContentType::negotiate(Some("application/*;q=0.5, application/json;q=0")),
            Some(ContentType::Protobuf)
        );
        assert_eq!(ContentType::negotiate(Some("text/html")), None);
    }
}
