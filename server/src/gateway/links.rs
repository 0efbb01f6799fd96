//! Client-chosen names (consumer groups, members, v2 instances) as path segments of the links
//! the gateway answers (`base_uri`, `self`, `related`).
//!
//! A name may hold any character, so each is percent-encoded on its own: a `/` stays inside
//! its segment (`%2F`). `.` and `..` are refused as group and instance names (`GroupId::new`,
//! consumer creation), because URL resolution removes a dot segment even percent-encoded:
//! `/consumer-groups/../lags` would name another resource. A dot-only name that reaches here
//! anyway (a member id) still has its dots encoded, which keeps it from being a literal step.
//! Topic names need none of this: Kafka's rules allow only `[a-zA-Z0-9._-]` and refuse `.`
//! and `..`.

/// `name` percent-encoded as one path segment: RFC 3986's unreserved characters pass, except
/// the dots of a dot-only name.
pub(crate) fn segment(name: &str) -> String {
    let dots_only = !name.is_empty() && name.bytes().all(|b| b == b'.');
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        let unreserved = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
        if unreserved && !(dots_only && b == b'.') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xF)]));
        }
    }
    out
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

#[cfg(test)]
mod tests {
    use super::segment;

    #[test]
    fn names_stay_one_literal_segment() {
        assert_eq!(segment("orders.v1-2_x~"), "orders.v1-2_x~");
        assert_eq!(segment("a b/c"), "a%20b%2Fc");
        assert_eq!(segment(".."), "%2E%2E");
        assert_eq!(segment("."), "%2E");
        assert_eq!(segment("..."), "%2E%2E%2E");
        assert_eq!(segment("a..b"), "a..b");
        assert_eq!(segment("%2e%2e"), "%252e%252e");
        assert_eq!(segment("é"), "%C3%A9");
    }
}
