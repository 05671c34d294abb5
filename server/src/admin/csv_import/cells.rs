//! Parsers of the cell values import files share; each refusal says what was expected.

use fieldsync_shared::master::{Channel, Grade};
use fieldsync_shared::Money;

pub(super) fn required(s: &str) -> Result<&str, String> {
    if s.is_empty() {
        Err("must not be empty".into())
    } else {
        Ok(s)
    }
}

pub(super) fn parse_u32(s: &str) -> Result<u32, String> {
    required(s)?
        .parse::<u32>()
        .map_err(|_| format!("{s:?} is not a whole number >= 0"))
}

pub(super) fn parse_f64(s: &str) -> Result<f64, String> {
    required(s)?
        .parse::<f64>()
        .map_err(|_| format!("{s:?} is not a number"))
}

pub(super) fn parse_bool(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "yes" | "y" | "1" => Ok(true),
        "false" | "no" | "n" | "0" => Ok(false),
        _ => Err(format!("{s:?} is not true/false (or yes/no, 1/0)")),
    }
}

pub(super) fn parse_channel(s: &str) -> Result<Channel, String> {
    match s.to_ascii_lowercase().as_str() {
        "nka" => Ok(Channel::Nka),
        "rka" => Ok(Channel::Rka),
        "lka" => Ok(Channel::Lka),
        "other" => Ok(Channel::Other),
        _ => Err(format!("{s:?} is not one of nka, rka, lka, other")),
    }
}

pub(super) fn parse_grade(s: &str) -> Result<Grade, String> {
    match s.to_ascii_uppercase().as_str() {
        "A" => Ok(Grade::A),
        "B" => Ok(Grade::B),
        "C" => Ok(Grade::C),
        _ => Err(format!("{s:?} is not one of A, B, C")),
    }
}

/// An amount of money that must not be negative.
pub(super) fn parse_money(s: &str) -> Result<Money, String> {
    let m = Money::parse(s).map_err(|e| e.to_string())?;
    if m.minor() < 0 {
        return Err(format!("{s:?} is negative"));
    }
    Ok(m)
}
