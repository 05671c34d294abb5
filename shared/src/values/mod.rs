//! Parsed value types. Parse, don't validate: every constructor that takes outside input
//! returns `Result`, so a value of one of these types is valid by construction. Hydrating a
//! document goes through the same `parse`, so a malformed document is refused, not trusted.

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;
use uuid::Uuid;

/// Why a value was refused. `field` names the value's kind, `reason` says what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid {field}: {reason}")]
pub struct ParseError {
    pub field: &'static str,
    pub reason: String,
}

impl ParseError {
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }
}

/// Implements autosurgeon Reconcile/Hydrate for a type stored as a string in a document;
/// hydration goes through `parse` so invalid content is refused.
macro_rules! crdt_as_string {
    ($t:ty) => {
        impl autosurgeon::Reconcile for $t {
            type Key<'a> = autosurgeon::reconcile::NoKey;
            fn reconcile<R: autosurgeon::Reconciler>(&self, reconciler: R) -> Result<(), R::Error> {
                let s = self.to_string();
                autosurgeon::Reconcile::reconcile(&s, reconciler)
            }
        }
        impl autosurgeon::Hydrate for $t {
            fn hydrate_string(s: &str) -> Result<Self, autosurgeon::HydrateError> {
                <$t>::parse(s).map_err(|e| {
                    autosurgeon::HydrateError::unexpected(stringify!($t), e.to_string())
                })
            }
        }
    };
}
pub(crate) use crdt_as_string;

/// serde for autosurgeon's collaborative `Text`: a plain string in JSON.
pub mod text_serde {
    use autosurgeon::Text;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Text, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(t.as_str())
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Text, D::Error> {
        Ok(Text::with_value(String::deserialize(d)?))
    }
}

/// Implements autosurgeon Reconcile/Hydrate for an `i64` newtype stored as a signed integer.
macro_rules! crdt_as_i64 {
    ($t:ident) => {
        impl autosurgeon::Reconcile for $t {
            type Key<'a> = autosurgeon::reconcile::NoKey;
            fn reconcile<R: autosurgeon::Reconciler>(&self, reconciler: R) -> Result<(), R::Error> {
                autosurgeon::Reconcile::reconcile(&self.0, reconciler)
            }
        }
        impl autosurgeon::Hydrate for $t {
            fn hydrate_int(i: i64) -> Result<Self, autosurgeon::HydrateError> {
                Ok($t(i))
            }
            fn hydrate_uint(u: u64) -> Result<Self, autosurgeon::HydrateError> {
                i64::try_from(u).map($t).map_err(|_| {
                    autosurgeon::HydrateError::unexpected(
                        stringify!($t),
                        format!("{u} out of range"),
                    )
                })
            }
        }
    };
}

/// UUID-backed identifiers. Displayed and serialized as the hyphenated UUID.
macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident, $field:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh random identifier (UUID v4).
            pub fn new_random() -> Self {
                Self(Uuid::new_v4())
            }
            pub fn parse(s: &str) -> Result<Self, ParseError> {
                Uuid::parse_str(s.trim())
                    .map(Self)
                    .map_err(|e| ParseError::new($field, e.to_string()))
            }
            pub fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        crdt_as_string!($name);
    };
}

pub(crate) use uuid_id;

uuid_id!(
    /// A customer company using Fieldsync. Every row and document belongs to exactly one.
    TenantId,
    "tenant id"
);
uuid_id!(
    /// A person (merchandiser, rep, supervisor, manager, admin).
    UserId,
    "user id"
);
uuid_id!(
    /// One installation of the app on one phone. A reinstall is a new device.
    DeviceId,
    "device id"
);
uuid_id!(
    /// One Automerge document (a visit or an order), generated on the device.
    DocId,
    "document id"
);
uuid_id!(
    /// A store (point of sale).
    StoreId,
    "store id"
);

/// Upper-case code of bounded length made of `A-Z 0-9 - _ .`: SKUs, store codes, person codes.
macro_rules! code_type {
    ($(#[$meta:meta])* $name:ident, $field:literal, $max:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub const MAX_LEN: usize = $max;
            /// Trims, upper-cases and checks the allowed characters and length.
            pub fn parse(s: &str) -> Result<Self, ParseError> {
                let s = s.trim().to_ascii_uppercase();
                if s.is_empty() {
                    return Err(ParseError::new($field, "must not be empty"));
                }
                if s.len() > $max {
                    return Err(ParseError::new($field, format!("longer than {} characters", $max)));
                }
                if let Some(c) = s
                    .chars()
                    .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
                {
                    return Err(ParseError::new($field, format!("character {c:?} not allowed")));
                }
                Ok(Self(s))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl TryFrom<String> for $name {
            type Error = ParseError;
            fn try_from(s: String) -> Result<Self, ParseError> {
                Self::parse(&s)
            }
        }
        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }
        crdt_as_string!($name);
    };
}

code_type!(
    /// Stock keeping unit, e.g. `COLA-330-24`.
    Sku,
    "SKU",
    40
);
code_type!(
    /// A store's business code, e.g. `NKA-0001`.
    StoreCode,
    "store code",
    32
);
code_type!(
    /// A person's short code used in order numbers, e.g. `R001`.
    PersonCode,
    "person code",
    12
);
code_type!(
    /// Where in the store an observation was made, e.g. `MAIN-SHELF`, `ENDCAP-3`, `BACKROOM`.
    ShelfLocation,
    "shelf location",
    32
);
code_type!(
    /// A promotion's or display agreement's business code, e.g. `CNY-2027-ENDCAP`.
    PromotionCode,
    "promotion code",
    32
);
code_type!(
    /// A picture of success's business code, e.g. `WALMART-SODA`.
    PictureCode,
    "picture code",
    32
);
code_type!(
    /// A checklist point's code within a picture of success, e.g. `COLA-BLOCK`: the key of
    /// the visit's score of the point.
    PointCode,
    "point code",
    32
);
code_type!(
    /// An annual agreement's business code, e.g. `WALMART-2027`.
    AgreementCode,
    "agreement code",
    32
);

/// An amount of money in minor units (fen, cents). Never a float.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Money(pub i64);

crdt_as_i64!(Money);

impl Money {
    pub const ZERO: Money = Money(0);
    /// Parses a decimal amount with at most two decimals, e.g. `"12.50"` -> 1250.
    ///
    /// Accepts an optional leading `-`, digits, and optionally `.` followed by one or two
    /// digits. Refuses anything else (`+`, grouping separators, exponents, `.5`, `5.`) and
    /// amounts outside `i64` minor units.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let err = |reason: &str| ParseError::new("amount", format!("{s:?}: {reason}"));
        let t = s.trim();
        let (negative, unsigned) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t),
        };
        let (whole, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) {
            return Err(err("expected a decimal number such as 12.50"));
        }
        if unsigned.contains('.') && (frac.is_empty() || !all_digits(frac)) {
            return Err(err("expected digits after the decimal point"));
        }
        if frac.len() > 2 {
            return Err(err("more than two decimals"));
        }
        // Accumulate in i128 with checked arithmetic: a long run of digits must not wrap.
        let mut digits = whole
            .bytes()
            .chain(frac.bytes())
            .chain("00".bytes().take(2 - frac.len()));
        let minor = digits
            .try_fold(0i128, |acc, b| {
                acc.checked_mul(10)?.checked_add(i128::from(b - b'0'))
            })
            .map(|m| if negative { -m } else { m })
            .and_then(|m| i64::try_from(m).ok())
            .ok_or_else(|| err("out of range"))?;
        Ok(Money(minor))
    }
    pub fn minor(&self) -> i64 {
        self.0
    }
    pub fn checked_mul(self, qty: u32) -> Option<Money> {
        self.0.checked_mul(qty as i64).map(Money)
    }
    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }
}

impl fmt::Display for Money {
    /// `1250` -> `12.50`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", a / 100, a % 100)
    }
}

/// A WGS84 position. Latitude in [-90, 90], longitude in [-180, 180], both finite.
/// Stored in documents and on the wire as a map `{lat, lon}`; hydration and deserialization
/// both go through [`Position::new`], so an out-of-range value is refused.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, autosurgeon::Reconcile)]
pub struct Position {
    lat: f64,
    lon: f64,
}

/// Mean Earth radius (IUGG), metres.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

impl Position {
    pub fn new(lat: f64, lon: f64) -> Result<Self, ParseError> {
        // `contains` is false for NaN, so this also refuses non-finite values.
        if !(-90.0..=90.0).contains(&lat) {
            return Err(ParseError::new(
                "position",
                format!("latitude {lat} not in [-90, 90]"),
            ));
        }
        if !(-180.0..=180.0).contains(&lon) {
            return Err(ParseError::new(
                "position",
                format!("longitude {lon} not in [-180, 180]"),
            ));
        }
        Ok(Position { lat, lon })
    }
    pub fn lat(&self) -> f64 {
        self.lat
    }
    pub fn lon(&self) -> f64 {
        self.lon
    }
    /// Great-circle distance in metres (haversine, mean Earth radius 6 371 008.8 m).
    pub fn distance_m(&self, other: &Position) -> f64 {
        let (phi1, phi2) = (self.lat.to_radians(), other.lat.to_radians());
        let d_phi = phi2 - phi1;
        let d_lambda = (other.lon - self.lon).to_radians();
        let a =
            (d_phi / 2.0).sin().powi(2) + phi1.cos() * phi2.cos() * (d_lambda / 2.0).sin().powi(2);
        // Rounding can push `a` a hair above 1 for antipodal points; sqrt(1 - a) would be NaN.
        let a = a.clamp(0.0, 1.0);
        2.0 * EARTH_RADIUS_M * a.sqrt().atan2((1.0 - a).sqrt())
    }
}

impl autosurgeon::Hydrate for Position {
    fn hydrate_map<D: autosurgeon::ReadDoc>(
        doc: &D,
        obj: &automerge::ObjId,
    ) -> Result<Self, autosurgeon::HydrateError> {
        let lat: f64 = autosurgeon::hydrate_prop(doc, obj, "lat")?;
        let lon: f64 = autosurgeon::hydrate_prop(doc, obj, "lon")?;
        Position::new(lat, lon)
            .map_err(|e| autosurgeon::HydrateError::unexpected("a valid position", e.to_string()))
    }
}

impl<'de> Deserialize<'de> for Position {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            lat: f64,
            lon: f64,
        }
        let raw = Raw::deserialize(d)?;
        Position::new(raw.lat, raw.lon).map_err(serde::de::Error::custom)
    }
}

/// A calendar date (no time zone), `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Date(chrono::NaiveDate);

impl Date {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
            .map(Date)
            .map_err(|e| ParseError::new("date", format!("{s:?} is not YYYY-MM-DD: {e}")))
    }
    pub fn from_naive(d: chrono::NaiveDate) -> Self {
        Date(d)
    }
    pub fn naive(&self) -> chrono::NaiveDate {
        self.0
    }
    /// Adds (or with a negative value subtracts) whole days; saturates at the calendar's ends.
    pub fn add_days(&self, days: i64) -> Date {
        Date(
            self.0
                .checked_add_signed(chrono::Duration::days(days))
                .unwrap_or(if days < 0 {
                    chrono::NaiveDate::MIN
                } else {
                    chrono::NaiveDate::MAX
                }),
        )
    }
    /// Whole days from `self` to `later` (negative if `later` is earlier).
    pub fn days_until(&self, later: Date) -> i64 {
        (later.0 - self.0).num_days()
    }
}
impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}
impl TryFrom<String> for Date {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, ParseError> {
        Date::parse(&s)
    }
}
impl From<Date> for String {
    fn from(d: Date) -> String {
        d.to_string()
    }
}
crdt_as_string!(Date);

/// An instant, milliseconds since the Unix epoch (UTC). Device clocks are recorded as given;
/// rules that compare instants say which clock they trust.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

crdt_as_i64!(Timestamp);

impl Timestamp {
    pub fn now() -> Self {
        Timestamp(chrono::Utc::now().timestamp_millis())
    }
    pub fn millis(&self) -> i64 {
        self.0
    }
    pub fn to_chrono(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::from_timestamp_millis(self.0).unwrap_or_default()
    }
    /// Parses RFC 3339, e.g. `2026-11-22T09:30:00+08:00`.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        chrono::DateTime::parse_from_rfc3339(s.trim())
            .map(|d| Timestamp(d.timestamp_millis()))
            .map_err(|e| ParseError::new("timestamp", format!("{s:?} is not RFC 3339: {e}")))
    }
    /// The UTC calendar date of this instant.
    pub fn utc_date(&self) -> Date {
        Date(self.to_chrono().date_naive())
    }
}
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}",
            self.to_chrono()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        )
    }
}

/// A SHA-256 digest, lower-case hex on the wire and in documents. Photos are addressed by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sha256([u8; 32]);

impl Sha256 {
    /// Exactly 64 hex digits, either case.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let mut out = [0u8; 32];
        if s.len() != 64 {
            return Err(ParseError::new(
                "sha256",
                format!(
                    "expected 64 hex digits, got {} characters",
                    s.chars().count()
                ),
            ));
        }
        hex::decode_to_slice(s, &mut out)
            .map_err(|e| ParseError::new("sha256", format!("not hex: {e}")))?;
        Ok(Sha256(out))
    }
    /// Digest of `bytes`.
    pub fn digest(bytes: &[u8]) -> Self {
        use sha2::Digest;
        Sha256(sha2::Sha256::digest(bytes).into())
    }
    pub fn from_bytes(b: [u8; 32]) -> Self {
        Sha256(b)
    }
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}
impl fmt::Display for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}
impl TryFrom<String> for Sha256 {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, ParseError> {
        Sha256::parse(&s)
    }
}
impl From<Sha256> for String {
    fn from(h: Sha256) -> String {
        h.to_hex()
    }
}
crdt_as_string!(Sha256);

/// Trims `s` and checks it is 1 to `max` characters without control characters other than
/// those `allowed`: the one rule behind every free-text and name value.
fn bounded_text(
    s: &str,
    field: &'static str,
    max: usize,
    allowed: &[char],
) -> Result<String, ParseError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(ParseError::new(field, "must not be empty"));
    }
    if s.chars().count() > max {
        return Err(ParseError::new(
            field,
            format!("longer than {max} characters"),
        ));
    }
    if let Some(c) = s.chars().find(|c| c.is_control() && !allowed.contains(c)) {
        return Err(ParseError::new(
            field,
            format!("control character {c:?} not allowed"),
        ));
    }
    Ok(s.to_string())
}

/// Free text with a length limit (comments, reasons). Trimmed; control characters
/// other than newline and tab refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ShortText(String);

impl ShortText {
    pub const MAX_CHARS: usize = 2000;
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        bounded_text(s, "text", Self::MAX_CHARS, &['\n', '\t']).map(ShortText)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl fmt::Display for ShortText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl TryFrom<String> for ShortText {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, ParseError> {
        ShortText::parse(&s)
    }
}
impl From<ShortText> for String {
    fn from(v: ShortText) -> String {
        v.0
    }
}
crdt_as_string!(ShortText);

/// A name of a team, region, territory, store, product or device, or a person's display
/// name: trimmed, 1 to 100 characters, one line (no control characters).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Name(String);

impl Name {
    pub const MAX_CHARS: usize = 100;
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        bounded_text(s, "name", Self::MAX_CHARS, &[]).map(Name)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl TryFrom<String> for Name {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, ParseError> {
        Name::parse(&s)
    }
}
impl From<Name> for String {
    fn from(v: Name) -> String {
        v.0
    }
}

/// A closed set of names stored as strings (snake_case) in documents and on the wire.
/// Generates `as_str`, `parse`, `ALL`, Display, serde and autosurgeon impls.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident, $field:literal { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            pub fn parse(s: &str) -> Result<Self, $crate::values::ParseError> {
                match s.trim() {
                    $($text => Ok($name::$variant),)+
                    other => Err($crate::values::ParseError::new(
                        $field,
                        format!("unknown value {other:?}, expected one of: {}", [$($text),+].join(", ")),
                    )),
                }
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl TryFrom<String> for $name {
            type Error = $crate::values::ParseError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }
        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.as_str().to_string()
            }
        }
        $crate::values::crdt_as_string!($name);
    };
}
pub(crate) use string_enum;

#[cfg(test)]
mod tests;
