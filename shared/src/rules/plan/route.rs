//! The order of one day's stops: nearest neighbour, then 2-opt, over great-circle distances.
//!
//! The route is an open path (the rep does not return to the first store). With a start
//! position (the rep's home or depot) the path begins there and its first leg counts.

use crate::values::Position;

/// Indices into `stops` in visiting order, and the path's length in km.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub order: Vec<usize>,
    pub length_km: f64,
}

/// Length in km of visiting `stops` in the order given (from `start`, when given).
pub fn path_length_km(start: Option<Position>, stops: &[Position]) -> f64 {
    let legs = start
        .iter()
        .chain(stops)
        .zip(stops.iter().skip(usize::from(start.is_none())));
    legs.map(|(a, b)| a.distance_m(b)).sum::<f64>() / 1000.0
}

/// A short route through `stops`: nearest neighbour from `start` (or from the first stop),
/// improved by 2-opt until no reversal of a segment shortens it. Deterministic: ties go to
/// the lower index.
pub fn plan_route(start: Option<Position>, stops: &[Position]) -> Route {
    let mut order = nearest_neighbour(start, stops);
    two_opt(start, stops, &mut order);
    let ordered: Vec<Position> = order.iter().map(|&i| stops[i]).collect();
    Route {
        length_km: path_length_km(start, &ordered),
        order,
    }
}

fn nearest_neighbour(start: Option<Position>, stops: &[Position]) -> Vec<usize> {
    let mut left: Vec<usize> = (0..stops.len()).collect();
    let mut order = Vec::with_capacity(stops.len());
    let mut at = match start {
        Some(p) => p,
        None => match left.first() {
            Some(_) => stops[left.remove(0)],
            None => return order,
        },
    };
    if start.is_none() {
        order.push(0);
    }
    while !left.is_empty() {
        let (k, _) = left
            .iter()
            .enumerate()
            .map(|(k, &i)| (k, at.distance_m(&stops[i])))
            .fold(
                (0, f64::INFINITY),
                |best, cur| if cur.1 < best.1 { cur } else { best },
            );
        let next = left.remove(k);
        order.push(next);
        at = stops[next];
    }
    order
}

/// Reverses segments `order[i..=j]` while that shortens the path. The first stop is fixed when
/// there is no start position (it is where nearest neighbour began); otherwise every stop moves.
fn two_opt(start: Option<Position>, stops: &[Position], order: &mut [usize]) {
    let n = order.len();
    let point = |order: &[usize], k: Option<usize>| match k {
        Some(k) => Some(stops[order[k]]),
        None => start,
    };
    let dist = |a: Option<Position>, b: Option<Position>| match (a, b) {
        (Some(a), Some(b)) => a.distance_m(&b),
        _ => 0.0,
    };
    let first = usize::from(start.is_none());
    // Each accepted move shortens the path by more than a millimetre, so this ends.
    let mut improved = true;
    while improved {
        improved = false;
        for i in first..n {
            for j in i + 1..n {
                let before = point(order, i.checked_sub(1));
                let after = (j + 1 < n).then(|| stops[order[j + 1]]);
                let (a, b) = (point(order, Some(i)), point(order, Some(j)));
                let old = dist(before, a) + dist(b, after);
                let new = dist(before, b) + dist(a, after);
                if new + 1e-3 < old {
                    order[i..=j].reverse();
                    improved = true;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::pos;

    /// Stops along a parallel, 0.01° of longitude apart (about 0.95 km at 31° N).
    fn line(lons: &[u32]) -> Vec<Position> {
        lons.iter()
            .map(|&k| pos(31.0, 121.0 + f64::from(k) * 0.01))
            .collect()
    }

    #[test]
    fn stops_on_a_line_are_visited_end_to_end() {
        let stops = line(&[3, 0, 4, 1, 2]);
        let route = plan_route(Some(pos(31.0, 120.99)), &stops);
        assert_eq!(route.order, [1, 3, 4, 0, 2]);
        let span = path_length_km(None, &line(&[0, 4]));
        let lead = path_length_km(None, &[pos(31.0, 120.99), stops[1]]);
        assert!((route.length_km - (lead + span)).abs() < 1e-6, "{route:?}");
        assert!(route.length_km < path_length_km(Some(pos(31.0, 120.99)), &stops));
    }

    #[test]
    fn two_opt_removes_the_crossing_nearest_neighbour_leaves() {
        // A square's corners plus a point that lures nearest neighbour into a crossing.
        let stops = vec![
            pos(31.00, 121.00),
            pos(31.00, 121.10),
            pos(31.10, 121.10),
            pos(31.10, 121.00),
            pos(31.05, 121.06),
        ];
        let nn = nearest_neighbour(None, &stops);
        let nn_km = path_length_km(None, &nn.iter().map(|&i| stops[i]).collect::<Vec<_>>());
        let route = plan_route(None, &stops);
        assert!(route.length_km <= nn_km + 1e-9);
        assert_eq!(
            route.order[0], 0,
            "the first stop stays first without a start"
        );
        // No route through these points is shorter (all 24 orders from stop 0 checked).
        let best = permutations(&[1, 2, 3, 4])
            .into_iter()
            .map(|p| {
                let path: Vec<_> = [0].iter().chain(&p).map(|&i| stops[i]).collect();
                path_length_km(None, &path)
            })
            .fold(f64::INFINITY, f64::min);
        assert!(
            (route.length_km - best).abs() < 1e-6,
            "{} vs {best}",
            route.length_km
        );
    }

    #[test]
    fn empty_and_single_routes() {
        assert_eq!(plan_route(None, &[]).order, Vec::<usize>::new());
        assert_eq!(plan_route(None, &[]).length_km, 0.0);
        let one = plan_route(None, &line(&[2]));
        assert_eq!((one.order, one.length_km), (vec![0], 0.0));
    }

    fn permutations(items: &[usize]) -> Vec<Vec<usize>> {
        if items.len() <= 1 {
            return vec![items.to_vec()];
        }
        let mut out = Vec::new();
        for (k, &first) in items.iter().enumerate() {
            let mut rest = items.to_vec();
            rest.remove(k);
            for mut p in permutations(&rest) {
                p.insert(0, first);
                out.push(p);
            }
        }
        out
    }
}
