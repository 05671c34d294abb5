//! The page shell every console page shares: head (assets, no inline script or style, so a
//! strict Content-Security-Policy holds), the top bar with the signed-in user and sign-out,
//! and the security headers of every HTML answer.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};

use super::assets;
use super::auth::ConsoleUser;
use super::csrf;

/// Which page of the top bar is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Queue,
    Orders,
    Visit,
    VisitFrequency,
    WeeklyReport,
    MonthlyReport,
    StoreOpportunity,
    Agreements,
}

/// A page of a signed-in user.
pub fn page(user: &ConsoleUser, section: Section, title: &str, body: Markup) -> Markup {
    let csrf_header = format!(r#"{{"{}": "{}"}}"#, csrf::HEADER, user.csrf_token);
    html! {
        (DOCTYPE)
        html lang="zh-Hans-CN" {
            (head(title))
            body hx-headers=(csrf_header) {
                header.topbar {
                    a.brand href="/console/queue" { "Fieldsync" }
                    nav aria-label="Console sections" {
                        a href="/console/queue" aria-current=[(section == Section::Queue).then_some("page")] { "Review queue 待审核" }
                        a href="/console/orders" aria-current=[(section == Section::Orders).then_some("page")] { "Orders 订单" }
                        a href="/console/reports/visit-frequency" aria-current=[(section == Section::VisitFrequency).then_some("page")] { "Visit frequency 拜访频率" }
                        a href="/console/reports/rep-weekly" aria-current=[(section == Section::WeeklyReport).then_some("page")] { "Weekly report 周报" }
                        a href="/console/reports/monthly" aria-current=[(section == Section::MonthlyReport).then_some("page")] { "Monthly report 月报" }
                        a href="/console/reports/store-opportunity" aria-current=[(section == Section::StoreOpportunity).then_some("page")] { "KA stores 重点门店" }
                        a href="/console/reports/agreements" aria-current=[(section == Section::Agreements).then_some("page")] { "Agreements 年度协议" }
                    }
                    div.who {
                        span { (user.profile.display_name) " · " (user.profile.role.as_str()) }
                        form method="post" action="/console/logout" {
                            input type="hidden" name=(csrf::FIELD) value=(user.csrf_token);
                            button.link type="submit" { "Sign out" }
                        }
                    }
                }
                (body)
                p.shortcuts-hint { "Keyboard: " kbd { "j" } "/" kbd { "k" } " move, " kbd { "Enter" } " open, " kbd { "a" } " approve, " kbd { "r" } " reject, " kbd { "?" } " help" }
            }
        }
    }
}

/// A page without a signed-in user (sign-in, errors).
pub fn bare_page(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="zh-Hans-CN" {
            (head(title))
            body { (body) }
        }
    }
}

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            // No inline styles from htmx either: the CSP allows only the console's own files.
            meta name="htmx-config" content=r#"{"includeIndicatorStyles": false}"#;
            title { (title) " · Fieldsync console" }
            link rel="stylesheet" href=(assets::CSS_PATH);
            script src=(assets::HTMX_PATH) defer {}
            script src=(assets::JS_PATH) defer {}
        }
    }
}

/// The console's Content-Security-Policy, set on every console answer by the router: its own
/// scripts, styles and images only — plus the object store's origin as an image source when
/// photos are downloaded from presigned URLs there (`photo_origin`).
pub fn content_security_policy(photo_origin: Option<&str>) -> HeaderValue {
    let img_src = match photo_origin {
        Some(origin) => format!("'self' {origin}"),
        None => "'self'".to_string(),
    };
    let policy = format!(
        "default-src 'self'; img-src {img_src}; style-src 'self'; script-src 'self'; \
         connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    );
    // An origin is built from a parsed URI's scheme and authority: always a valid value.
    HeaderValue::from_str(&policy).unwrap_or_else(|_| content_security_policy(None))
}

/// An HTML answer with the console's security headers (the CSP comes from the router): no
/// framing, no caching of pages that show a person's work.
pub fn html_response(status: StatusCode, body: Markup) -> Response {
    let mut resp = (status, body.into_string()).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// A fragment for htmx (same headers as a page).
pub fn fragment(body: Markup) -> Response {
    html_response(StatusCode::OK, body)
}

/// Whether a request came from htmx (and wants a fragment, not a page).
pub fn is_htmx(headers: &axum::http::HeaderMap) -> bool {
    headers.contains_key("hx-request")
}

/// A time for people: `2026-12-06 14:05` (UTC).
pub fn time(t: fieldsync_shared::Timestamp) -> String {
    chrono::DateTime::from_timestamp_millis(t.millis())
        .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| t.millis().to_string())
}

/// A duration for people: `1 h 05 min`, `12 min`.
pub fn duration(ms: i64) -> String {
    let minutes = ms.max(0) / 60_000;
    if minutes >= 60 {
        format!("{} h {:02} min", minutes / 60, minutes % 60)
    } else {
        format!("{minutes} min")
    }
}

/// Percent-encodes a query value.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
