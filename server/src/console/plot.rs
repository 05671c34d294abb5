//! A small map-like plot of a visit, drawn as SVG (no tile server is reachable, and none is
//! needed): the store at the centre, its geofence circle, the check-in and check-out fixes
//! with their reported accuracy, and where photos were taken. North is up; positions are
//! projected onto a local flat plane around the store (good to a few centimetres over the
//! few hundred metres shown).

use maud::{html, Markup};

use fieldsync_shared::master::Store;
use fieldsync_shared::values::Position;
use fieldsync_shared::visit::Visit;

/// Half the plot's width, in SVG units.
const HALF: f64 = 150.0;

/// Metres east and north of `origin`.
fn local_m(origin: &Position, p: &Position) -> (f64, f64) {
    let east =
        (p.lon() - origin.lon()).to_radians() * origin.lat().to_radians().cos() * 6_371_008.8;
    let north = (p.lat() - origin.lat()).to_radians() * 6_371_008.8;
    (east, north)
}

/// A check-in or check-out fix as drawn.
struct Fix {
    class: &'static str,
    label: &'static str,
    /// Metres east and north of the store.
    at: (f64, f64),
    accuracy_m: f64,
    /// Where the label goes: above right for the check-in, below right for the check-out, so
    /// both stay readable when the two fixes coincide.
    label_dy: f64,
}

/// The plot of `visit` at `store`.
pub fn visit_plot(store: &Store, visit: &Visit) -> Markup {
    let centre = &store.location;
    let radius = f64::from(store.geofence_radius_m).max(1.0);
    let mut points: Vec<Fix> = Vec::new();
    if let Some(c) = &visit.check_in {
        points.push(Fix {
            class: "check-in",
            label: "In 签到",
            at: local_m(centre, &c.position),
            accuracy_m: c.accuracy_m,
            label_dy: -9.0,
        });
    }
    if let Some(c) = &visit.check_out {
        points.push(Fix {
            class: "check-out",
            label: "Out 签退",
            at: local_m(centre, &c.position),
            accuracy_m: c.accuracy_m,
            label_dy: 18.0,
        });
    }
    let photos: Vec<(f64, f64)> = visit
        .photos
        .values()
        .filter_map(|p| p.position.as_ref())
        .map(|p| local_m(centre, p))
        .collect();
    // Metres from the centre to the plot's edge: the fence and every point, with a margin.
    let farthest = points
        .iter()
        .map(|f| f.at.0.hypot(f.at.1))
        .chain(photos.iter().map(|(x, y)| x.hypot(*y)))
        .fold(radius, f64::max);
    let scale = HALF / (farthest * 1.25);
    let at = |(x, y): (f64, f64)| (x * scale, -y * scale);
    let described = format!(
        "Map of {}: geofence of {} m radius{}",
        store.name,
        store.geofence_radius_m,
        points
            .iter()
            .map(|f| format!(
                ", {} {:.0} m from the centre",
                f.label,
                f.at.0.hypot(f.at.1)
            ))
            .collect::<String>()
    );
    html! {
        figure.plot {
            svg viewBox="-160 -160 320 320" role="img" aria-label=(described) xmlns="http://www.w3.org/2000/svg" {
                title { (described) }
                rect.plot-bg x="-160" y="-160" width="320" height="320" {}
                line.plot-axis x1="-150" y1="0" x2="150" y2="0" {}
                line.plot-axis x1="0" y1="-150" x2="0" y2="150" {}
                text.plot-north x="0" y="-140" text-anchor="middle" { "N" }
                circle.geofence cx="0" cy="0" r=(fmt(radius * scale)) {}
                rect.store-mark x="-6" y="-6" width="12" height="12" {}
                @for (x, y) in &photos {
                    @let (px, py) = at((*x, *y));
                    circle.photo-mark cx=(fmt(px)) cy=(fmt(py)) r="3" {}
                }
                @for f in &points {
                    @let (px, py) = at(f.at);
                    circle class=(format!("accuracy {}", f.class)) cx=(fmt(px)) cy=(fmt(py)) r=(fmt((f.accuracy_m.max(0.0) * scale).min(HALF))) {}
                    circle class=(format!("fix {}", f.class)) cx=(fmt(px)) cy=(fmt(py)) r="5" {}
                    text.plot-label x=(fmt(px + 9.0)) y=(fmt(py + f.label_dy)) { (f.label) }
                }
                text.plot-scale x="-150" y="150" { "Fence radius " (store.geofence_radius_m) " m" }
            }
            figcaption { (store.name) ": store ■, geofence ◯, check-in/out ●, photos ●" }
        }
    }
}

fn fmt(v: f64) -> String {
    format!("{v:.1}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_point_north_east_of_the_store_is_up_and_right() {
        let origin = Position::new(31.2304, 121.4737).unwrap();
        let p = Position::new(31.2313, 121.4747).unwrap();
        let (east, north) = local_m(&origin, &p);
        assert!(east > 90.0 && east < 100.0, "{east}");
        assert!(north > 95.0 && north < 105.0, "{north}");
    }
}
