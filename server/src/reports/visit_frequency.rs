//! The visit-frequency compliance report: per rep, store (with its grade) and ISO week, the
//! visits required by the store's grade, planned in the rep's plan and done by the rep, and
//! whether the store was overdue at the week's end. Computed from projection rows
//! (`store::plans::PlanStore`), never by hydrating documents.
//!
//! * **required**: 1 when the store's next visit falls due in the week: its last completed
//!   visit (by anyone) before the week's Monday plus the grade's interval is on or before the
//!   week's Sunday, or it was never visited.
//! * **planned**: 1 when the rep's plan for the week holds the store.
//! * **done**: the rep's completed visits of the store dated in the week; **unplanned**: those
//!   of them with no plan entry.
//! * **overdue**: at the week's Sunday, the last completed visit (by anyone) is more than the
//!   interval ago, or there is none.

use std::collections::{BTreeMap, HashMap, HashSet};

use fieldsync_shared::master::Grade;
use fieldsync_shared::plan::IsoWeek;
use fieldsync_shared::rules::plan::VisitFrequency;
use fieldsync_shared::values::{Date, StoreId, UserId};
use serde::Serialize;

use super::format::csv_field;
use super::xlsx::Sheet;
use crate::store::plans::{CoveredStore, DoneVisit, PlannedVisit};

/// One rep, store and week.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FrequencyRow {
    #[schema(value_type = String)]
    pub week: IsoWeek,
    #[schema(value_type = String)]
    pub person_id: UserId,
    #[schema(value_type = String)]
    pub store_id: StoreId,
    pub store_code: String,
    pub store_name: String,
    #[schema(value_type = String)]
    pub grade: Grade,
    pub required: u32,
    pub planned: u32,
    pub done: u32,
    pub unplanned: u32,
    pub overdue: bool,
    /// The store's last completed visit (by anyone) on or before the week's Sunday.
    #[schema(value_type = Option<String>)]
    pub last_visit: Option<Date>,
}

/// A week's totals over the rows: what the chart draws.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct WeekTotals {
    #[schema(value_type = String)]
    pub week: IsoWeek,
    pub required: u32,
    pub planned: u32,
    pub done: u32,
    pub unplanned: u32,
    /// Stores overdue at the week's end.
    pub overdue: u32,
}

/// One rep's totals in one week: the console's table and the workbook's second sheet.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonWeekTotals {
    pub week: IsoWeek,
    pub person_id: UserId,
    /// Stores covered.
    pub stores: u32,
    pub required: u32,
    pub planned: u32,
    pub done: u32,
    pub unplanned: u32,
    pub overdue: u32,
    /// Required stores the rep visited in the week.
    pub met: u32,
}

impl PersonWeekTotals {
    /// Required stores visited, in percent (100 when nothing was required).
    pub fn compliance_percent(&self) -> u32 {
        if self.required == 0 {
            100
        } else {
            self.met * 100 / self.required
        }
    }
}

/// What the report is computed from.
pub struct Inputs<'a> {
    pub weeks: &'a [IsoWeek],
    pub covered: &'a [CoveredStore],
    pub planned: &'a [PlannedVisit],
    /// Completed visits dated within the weeks, by anyone.
    pub done: &'a [DoneVisit],
    /// Each store's last completed visit before the first week.
    pub last_before: &'a HashMap<StoreId, Date>,
    pub frequency: VisitFrequency,
}

/// The rows, by week, rep and store code; with `grade`, only stores of that grade.
pub fn rows(inputs: &Inputs<'_>, grade: Option<Grade>) -> Vec<FrequencyRow> {
    let planned: HashSet<(UserId, StoreId, Date)> = inputs
        .planned
        .iter()
        .map(|p| (p.person_id, p.store_id, p.week_start))
        .collect();
    let mut visits_by_store: HashMap<StoreId, Vec<&DoneVisit>> = HashMap::new();
    for v in inputs.done {
        visits_by_store.entry(v.store_id).or_default().push(v);
    }
    let mut out = Vec::new();
    for &week in inputs.weeks {
        let (monday, sunday) = (week.monday(), week.sunday());
        for cs in inputs
            .covered
            .iter()
            .filter(|c| grade.is_none_or(|g| c.grade == g))
        {
            let visits = visits_by_store
                .get(&cs.store_id)
                .map_or(&[][..], Vec::as_slice);
            let last_on_or_before = |day: Date, strictly: bool| {
                visits
                    .iter()
                    .map(|v| v.date)
                    .filter(|d| if strictly { *d < day } else { *d <= day })
                    .max()
                    .or_else(|| inputs.last_before.get(&cs.store_id).copied())
            };
            let interval = i64::from(inputs.frequency.interval_days(cs.grade));
            let required =
                last_on_or_before(monday, true).is_none_or(|d| d.add_days(interval) <= sunday);
            let last = last_on_or_before(sunday, false);
            let overdue = last.is_none_or(|d| d.days_until(sunday) > interval);
            let done = visits
                .iter()
                .filter(|v| v.person_id == cs.person_id && v.date >= monday && v.date <= sunday)
                .count() as u32;
            let is_planned = planned.contains(&(cs.person_id, cs.store_id, monday));
            out.push(FrequencyRow {
                week,
                person_id: cs.person_id,
                store_id: cs.store_id,
                store_code: cs.code.clone(),
                store_name: cs.name.clone(),
                grade: cs.grade,
                required: u32::from(required),
                planned: u32::from(is_planned),
                done,
                unplanned: if is_planned { 0 } else { done },
                overdue,
                last_visit: last,
            });
        }
    }
    out
}

/// Totals per week, in the order of `weeks` (weeks without rows count zero).
pub fn totals(weeks: &[IsoWeek], rows: &[FrequencyRow]) -> Vec<WeekTotals> {
    let mut by_week: BTreeMap<IsoWeek, WeekTotals> = weeks
        .iter()
        .map(|&week| {
            let zero = WeekTotals {
                week,
                required: 0,
                planned: 0,
                done: 0,
                unplanned: 0,
                overdue: 0,
            };
            (week, zero)
        })
        .collect();
    for r in rows {
        if let Some(t) = by_week.get_mut(&r.week) {
            t.required += r.required;
            t.planned += r.planned;
            t.done += r.done;
            t.unplanned += r.unplanned;
            t.overdue += u32::from(r.overdue);
        }
    }
    by_week.into_values().collect()
}

/// Totals per rep and week, by rep then week.
pub fn by_person(rows: &[FrequencyRow]) -> Vec<PersonWeekTotals> {
    let mut by: BTreeMap<(UserId, IsoWeek), PersonWeekTotals> = BTreeMap::new();
    for r in rows {
        let t = by
            .entry((r.person_id, r.week))
            .or_insert_with(|| PersonWeekTotals {
                week: r.week,
                person_id: r.person_id,
                stores: 0,
                required: 0,
                planned: 0,
                done: 0,
                unplanned: 0,
                overdue: 0,
                met: 0,
            });
        t.stores += 1;
        t.required += r.required;
        t.planned += r.planned;
        t.done += r.done;
        t.unplanned += r.unplanned;
        t.overdue += u32::from(r.overdue);
        t.met += u32::from(r.required > 0 && r.done > 0);
    }
    by.into_values().collect()
}

/// The report as workbook sheets: week totals, totals per rep and week, and the rows (with
/// the people's names from `names`).
pub fn sheets(
    weeks: &[WeekTotals],
    rows: &[FrequencyRow],
    names: &HashMap<UserId, String>,
) -> Vec<Sheet> {
    let name = |id: &UserId| names.get(id).cloned().unwrap_or_else(|| id.to_string());
    let weeks_sheet = Sheet {
        name: "Weeks 周汇总".into(),
        header: vec![
            "week",
            "required",
            "planned",
            "done",
            "unplanned",
            "overdue",
        ],
        rows: weeks
            .iter()
            .map(|w| {
                vec![
                    w.week.to_string().into(),
                    w.required.into(),
                    w.planned.into(),
                    w.done.into(),
                    w.unplanned.into(),
                    w.overdue.into(),
                ]
            })
            .collect(),
    };
    let people_sheet = Sheet {
        name: "Reps 人员".into(),
        header: vec![
            "week",
            "person_id",
            "person",
            "stores",
            "required",
            "planned",
            "done",
            "unplanned",
            "overdue",
            "compliance_percent",
        ],
        rows: by_person(rows)
            .iter()
            .map(|t| {
                vec![
                    t.week.to_string().into(),
                    t.person_id.to_string().into(),
                    name(&t.person_id).into(),
                    t.stores.into(),
                    t.required.into(),
                    t.planned.into(),
                    t.done.into(),
                    t.unplanned.into(),
                    t.overdue.into(),
                    t.compliance_percent().into(),
                ]
            })
            .collect(),
    };
    let stores_sheet = Sheet {
        name: "Stores 门店".into(),
        header: vec![
            "week",
            "person_id",
            "person",
            "store_id",
            "store_code",
            "store_name",
            "grade",
            "required",
            "planned",
            "done",
            "unplanned",
            "overdue",
            "last_visit",
        ],
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    r.week.to_string().into(),
                    r.person_id.to_string().into(),
                    name(&r.person_id).into(),
                    r.store_id.to_string().into(),
                    r.store_code.clone().into(),
                    r.store_name.clone().into(),
                    format!("{:?}", r.grade).into(),
                    r.required.into(),
                    r.planned.into(),
                    r.done.into(),
                    r.unplanned.into(),
                    r.overdue.into(),
                    r.last_visit.map(|d| d.to_string()).into(),
                ]
            })
            .collect(),
    };
    vec![weeks_sheet, people_sheet, stores_sheet]
}

/// The rows as CSV (RFC 4180: fields with a comma, quote or line break are quoted).
pub fn csv(rows: &[FrequencyRow]) -> String {
    let mut out = String::from(
        "week,person_id,store_id,store_code,store_name,grade,required,planned,done,unplanned,overdue,last_visit\r\n",
    );
    for r in rows {
        let fields = [
            r.week.to_string(),
            r.person_id.to_string(),
            r.store_id.to_string(),
            r.store_code.clone(),
            r.store_name.clone(),
            format!("{:?}", r.grade),
            r.required.to_string(),
            r.planned.to_string(),
            r.done.to_string(),
            r.unplanned.to_string(),
            r.overdue.to_string(),
            r.last_visit.map(|d| d.to_string()).unwrap_or_default(),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::xlsx::Cell;

    fn date(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    fn covered(person: UserId, n: u8, grade: Grade) -> CoveredStore {
        CoveredStore {
            person_id: person,
            store_id: StoreId(uuid::Uuid::from_bytes([n; 16])),
            code: format!("S-{n}"),
            name: format!("Store, {n}"),
            grade,
        }
    }

    /// Weeks 2026-W45..W48 (Mondays 11-02, 11-09, 11-16, 11-23); one rep with an A store
    /// visited weekly except W46, a B store visited in W45 only and a C store never visited.
    #[test]
    fn a_month_of_one_rep_with_known_answers() {
        let rep = UserId::new_random();
        let weeks: Vec<IsoWeek> = (45..=48).map(|w| IsoWeek::new(2026, w).unwrap()).collect();
        let stores = [
            covered(rep, 1, Grade::A),
            covered(rep, 2, Grade::B),
            covered(rep, 3, Grade::C),
        ];
        let (a, b) = (stores[0].store_id, stores[1].store_id);
        let visit = |store, d: &str| DoneVisit {
            person_id: rep,
            store_id: store,
            date: date(d),
        };
        let done = [
            visit(a, "2026-11-03"),
            visit(a, "2026-11-18"),
            visit(a, "2026-11-24"),
            visit(b, "2026-11-04"),
        ];
        let plan = |store, monday: &str| PlannedVisit {
            person_id: rep,
            store_id: store,
            week_start: date(monday),
        };
        let planned = [
            plan(a, "2026-11-02"),
            plan(a, "2026-11-09"),
            plan(a, "2026-11-16"),
        ];
        let last_before = HashMap::from([(a, date("2026-10-27")), (b, date("2026-10-20"))]);
        let inputs = Inputs {
            weeks: &weeks,
            covered: &stores,
            planned: &planned,
            done: &done,
            last_before: &last_before,
            frequency: VisitFrequency::default(),
        };
        let all = rows(&inputs, None);
        let view: Vec<(u32, u8, u32, u32, u32, u32, bool)> = all
            .iter()
            .map(|r| {
                (
                    r.week.week(),
                    r.store_id.0.as_bytes()[0],
                    r.required,
                    r.planned,
                    r.done,
                    r.unplanned,
                    r.overdue,
                )
            })
            .collect();
        #[rustfmt::skip]
        let expected = vec![
            // W45: A due (10-27 + 7 = 11-03), visited as planned; B due (10-20 + 14 = 11-03),
            // visited unplanned; C never visited: required and overdue every week.
            (45, 1, 1, 1, 1, 0, false), (45, 2, 1, 0, 1, 1, false), (45, 3, 1, 0, 0, 0, true),
            // W46: A due 11-10, planned but not visited: overdue at Sunday 11-15 (12 days).
            (46, 1, 1, 1, 0, 0, true),  (46, 2, 0, 0, 0, 0, false), (46, 3, 1, 0, 0, 0, true),
            // W47: A visited 11-18; B due 11-18, not visited: overdue at 11-22 (18 days).
            (47, 1, 1, 1, 1, 0, false), (47, 2, 1, 0, 0, 0, true),  (47, 3, 1, 0, 0, 0, true),
            // W48: A visited 11-24 unplanned.
            (48, 1, 1, 0, 1, 1, false), (48, 2, 1, 0, 0, 0, true),  (48, 3, 1, 0, 0, 0, true),
        ];
        assert_eq!(view, expected);
        let t = totals(&weeks, &all);
        assert_eq!(
            t.iter()
                .map(|t| (t.required, t.planned, t.done, t.overdue))
                .collect::<Vec<_>>(),
            [(3, 1, 2, 1), (2, 1, 0, 2), (3, 1, 1, 2), (3, 0, 1, 2)]
        );
        assert_eq!(rows(&inputs, Some(Grade::C)).len(), 4);
        let per_rep = by_person(&all);
        assert_eq!(
            per_rep
                .iter()
                .map(|t| (t.week.week(), t.stores, t.met, t.compliance_percent()))
                .collect::<Vec<_>>(),
            [
                (45, 3, 2, 66),
                (46, 3, 0, 0),
                (47, 3, 1, 33),
                (48, 3, 1, 33)
            ]
        );
        let book = sheets(&t, &all, &HashMap::from([(rep, "李娜 Li Na".to_string())]));
        assert_eq!(book.len(), 3);
        assert_eq!(book[0].rows.len(), 4);
        assert_eq!(book[1].rows[0][2], Cell::Text("李娜 Li Na".into()));
        assert_eq!(book[2].rows[0][12], Cell::Text("2026-11-03".into()));
        assert_eq!(
            book[2].rows[2][12],
            Cell::Empty,
            "the C store was never visited"
        );
        let text = csv(&all[..1]);
        assert!(text.starts_with("week,person_id,"));
        assert!(
            text.contains(",S-1,\"Store, 1\",A,1,1,1,0,false,2026-11-03\r\n"),
            "{text}"
        );
    }
}
