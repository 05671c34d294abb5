//! The competitor sightings section of the visit page (docs/competitors.md).

use maud::{html, Markup};

use fieldsync_shared::visit::{CompetitorDisplay, CompetitorSighting, Visit};

use super::layout;

fn display_label(d: CompetitorDisplay) -> &'static str {
    match d {
        CompetitorDisplay::Endcap => "Endcap 端架",
        CompetitorDisplay::FloorStand => "Floor stand 地堆",
        CompetitorDisplay::ShelfPosition => "Shelf position 货架位置",
        CompetitorDisplay::Other => "Other 其他",
    }
}

/// The visit's sightings in the order every replica shows them, photos linked.
pub fn sightings(visit: &Visit) -> Markup {
    sightings_section(&visit.competitor_sightings_in_order())
}

/// A section of sightings, in the order given.
pub fn sightings_section(sightings: &[CompetitorSighting]) -> Markup {
    html! {
        section aria-labelledby="competitors" {
            h2 #competitors { "Competitor activity 竞品动态 (" (sightings.len()) ")" }
            @if sightings.is_empty() { p.muted { "No competitor sightings. 无竞品记录。" } }
            @else {
                div.table-scroll {
                    table.competitors {
                        thead { tr {
                            th { "Competitor 竞品" } th { "Product or brand 产品/品牌" } th { "Shelf price 货架价" }
                            th { "Promotion 促销" } th { "Display 陈列" } th { "Photos 照片" } th { "Note 备注" }
                            th { "By 记录人" }
                        } }
                        tbody {
                            @for s in sightings {
                                tr {
                                    td { (s.competitor.as_str()) }
                                    td { @if let Some(seen) = &s.seen { (seen.as_str()) } }
                                    td.num { @if let Some(p) = s.shelf_price { (p) } }
                                    td { @if let Some(p) = &s.promotion { (p.as_str()) } }
                                    td { @if let Some(d) = s.display { (display_label(d)) } }
                                    td {
                                        @for (n, sha) in s.photos.iter().enumerate() {
                                            a href=(format!("/console/photos/{sha}")) { "Photo 照片 " (n + 1) }
                                            " "
                                        }
                                    }
                                    td { (s.note) }
                                    td { (s.by_name) " · " (layout::time(s.at)) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
