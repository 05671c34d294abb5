//! The reports at scale on PostgreSQL (docs/performance.md, "Reports at scale"): a region of
//! 200 reps in 20 teams (the demo region, manager `mgr1`) with a year of data, generated
//! straight into the projection tables by `INSERT ... SELECT` over `generate_series` (one
//! statement per table, run by `psql`): 40 stores per rep (their territory), 23 visits per rep
//! and working day (~1.2 million), 10 orders per rep and working day (~520 000), two expenses
//! per rep and week, a target per rep and month. Every row's JSON is a real document of its
//! kind (made once by a device, then given its own id, store, person, date and status), so
//! the reports parse what they would in production.
//!
//! Then, as the manager, it times `GET /v1/reports/monthly` (last month), the visit-frequency
//! report (the region over two weeks: a quarter of the region is refused as too many rows;
//! one rep over a quarter) and the rep's weekly report (the region, last week): p50 and max of
//! a few runs each.
//!
//! Run: `scripts/with-postgres.sh cargo bench -p fieldsync-e2e --bench reports`;
//! `FIELDSYNC_BENCH_SMOKE=1` generates 5 reps over 40 days (seconds). Needs `psql`.
//!
//! `FIELDSYNC_BENCH_DATABASE_URL=<url of an existing, empty or earlier generated database>`
//! keeps the generated region: the first run generates into that database and leaves it; the
//! next runs (the same day: the data is dated relative to today) find `bench-rep-1` there and
//! only time the reports, so iterating on a report does not cost the 8-minute generation.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fieldsync_client::{AuditInput, GeoFix};
use fieldsync_e2e::process::PgDatabase;
use fieldsync_e2e::{http, photo_file, TestDevice, TestServer};
use fieldsync_server::config::Secret;
use fieldsync_server::demo::{demo_region_id, demo_tenant_id};
use fieldsync_shared::expense::{Expense, ExpenseStatus, ExpenseType};
use fieldsync_shared::order::{OrderStatus, PaymentMethod};
use fieldsync_shared::plan::IsoWeek;
use fieldsync_shared::visit::{VisitStatus, VisitStep};
use fieldsync_shared::{Money, Timestamp, UserId};

const RUNS: usize = 5;

struct Scale {
    reps: u32,
    days: u32,
    stores_per_rep: u32,
    visits_per_day: u32,
    orders_per_day: u32,
}

fn psql(url: &str, sql: &str) -> String {
    let mut child = Command::new("psql")
        .args([url, "-v", "ON_ERROR_STOP=1", "-q", "-t", "-A", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("psql (the PostgreSQL client) in PATH");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(sql.as_bytes())
        .expect("write the script");
    let out = child.wait_with_output().expect("psql");
    assert!(
        out.status.success(),
        "psql failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A JSON string of `value` for SQL (`'...'::jsonb`).
fn json_literal(value: &serde_json::Value) -> String {
    format!("'{}'::jsonb", value.to_string().replace('\'', "''"))
}

/// One visit (with an audit) and one order, made by rep1's device and synced: the documents
/// the generated ones are copies of.
fn templates(server: &TestServer) {
    let rep = TestDevice::login(server, "rep1");
    let store = rep
        .stores()
        .unwrap()
        .into_iter()
        .find(|s| s.code.as_str() == "NKA-001")
        .unwrap();
    let today = Timestamp::now().utc_date();
    let visit = rep.start_visit(store.id, today).unwrap();
    let at = GeoFix {
        lat: store.location.lat(),
        lon: store.location.lon(),
        accuracy_m: 6.0,
        mocked: false,
    };
    rep.check_in(visit, at, Timestamp::now()).unwrap();
    for step in VisitStep::ALL {
        rep.record_step(visit, *step, None).unwrap();
    }
    for (i, sku) in ["COLA-330", "TEA-500", "WATER-550", "RIVAL-COLA"]
        .iter()
        .enumerate()
    {
        rep.record_audit_line(
            visit,
            AuditInput {
                sku: sku.to_string(),
                location: "MAIN".into(),
                facings: 4 + i as u32,
                on_shelf: i != 2,
                shelf_price: None,
                oldest_production_date: None,
            },
        )
        .unwrap();
    }
    rep.attach_photo(
        visit,
        &photo_file(rep.dir.path(), "shelf.jpg", 1),
        Some(VisitStep::Merchandise),
    )
    .unwrap();
    rep.check_out(visit, at, Timestamp::now()).unwrap();
    let _ = rep.submit_visit(visit);
    let (order, _) = rep
        .create_order(store.id, today.add_days(7), PaymentMethod::Cash, None)
        .unwrap();
    for product in rep.products().unwrap().iter().skip(10).take(5) {
        rep.set_order_line(
            order,
            product.sku.as_str(),
            product.case_pack * 2,
            Some(Money(product.list_price.minor())),
        )
        .unwrap();
    }
    let _ = rep.submit_order(order);
    rep.sync().unwrap();
}

/// The generation script: people, teams, stores and territories, then the projections.
fn script(scale: &Scale, expense: &Expense) -> String {
    let tenant = demo_tenant_id();
    let region = demo_region_id();
    let visit_status = serde_json::to_value(VisitStatus::Submitted).unwrap();
    let order_status = serde_json::to_value(OrderStatus::Submitted).unwrap();
    let expense_status = serde_json::to_value(ExpenseStatus::Submitted).unwrap();
    let (vs, os, es) = (
        visit_status.as_str().unwrap(),
        order_status.as_str().unwrap(),
        expense_status.as_str().unwrap(),
    );
    let expense = json_literal(&serde_json::to_value(expense).unwrap());
    let Scale {
        reps,
        days,
        stores_per_rep: spr,
        visits_per_day: vpd,
        orders_per_day: opd,
    } = scale;
    format!(
        r#"
BEGIN;
CREATE TEMP TABLE b_visit AS SELECT document::jsonb AS doc FROM visits WHERE tenant_id = '{tenant}' LIMIT 1;
CREATE TEMP TABLE b_order AS SELECT document::jsonb AS doc, number, amount, units FROM orders WHERE tenant_id = '{tenant}' LIMIT 1;
CREATE TEMP TABLE b_rep AS
  SELECT i, md5('bench-rep-' || i)::uuid::text AS id, (i - 1) / 10 AS team FROM generate_series(1, {reps}) i;
CREATE TEMP TABLE b_day AS
  SELECT d::date AS day, row_number() OVER (ORDER BY d) AS n
  FROM generate_series(current_date - {days}, current_date - 1, interval '1 day') d
  WHERE extract(isodow FROM d) < 6;

INSERT INTO users (id, tenant_id, username, password_hash, role, code, display_name, created_at)
  SELECT md5('bench-sup-' || t)::uuid::text, '{tenant}', 'bench-sup-' || t,
         (SELECT password_hash FROM users WHERE username = 'sup1' AND tenant_id = '{tenant}'),
         'supervisor', 'BS' || lpad(t::text, 3, '0'), 'Bench supervisor ' || t, 0
  FROM generate_series(0, ({reps} - 1) / 10) t;
INSERT INTO users (id, tenant_id, username, password_hash, role, code, display_name, created_at)
  SELECT id, '{tenant}', 'bench-rep-' || i,
         (SELECT password_hash FROM users WHERE username = 'rep1' AND tenant_id = '{tenant}'),
         'rep', 'BR' || lpad(i::text, 4, '0'), 'Bench rep ' || lpad(i::text, 4, '0'), 0
  FROM b_rep;
INSERT INTO teams (id, tenant_id, name, supervisor_id, region_id, created_at)
  SELECT md5('bench-team-' || t)::uuid::text, '{tenant}', 'Bench team ' || lpad(t::text, 2, '0'),
         md5('bench-sup-' || t)::uuid::text, '{region}', 0
  FROM generate_series(0, ({reps} - 1) / 10) t;
INSERT INTO team_members (user_id, team_id, tenant_id)
  SELECT id, md5('bench-team-' || team)::uuid::text, '{tenant}' FROM b_rep;

CREATE TEMP TABLE b_store AS
  SELECT r.i AS rep, k, md5('bench-store-' || r.i || '-' || k)::uuid::text AS id
  FROM b_rep r, generate_series(0, {spr} - 1) k;
INSERT INTO stores (id, tenant_id, code, name, channel, grade, address, lat, lon,
                    geofence_radius_m, delivery_lead_days, version, updated_at)
  SELECT id, '{tenant}', 'BS-' || lpad(rep::text, 4, '0') || '-' || lpad(k::text, 2, '0'),
         'Bench store ' || rep || '/' || k, (ARRAY['nka', 'rka', 'lka', 'other'])[k % 4 + 1],
         (ARRAY['A', 'B', 'C'])[k % 3 + 1], 'Bench street ' || k,
         30.5 + rep * 0.0005, 114.3 + k * 0.0005, 150, 2, 1, 0
  FROM b_store;
INSERT INTO territories (id, tenant_id, name, created_at)
  SELECT md5('bench-territory-' || i)::uuid::text, '{tenant}', 'Bench territory ' || i, 0 FROM b_rep;
INSERT INTO territory_assignments (territory_id, user_id, tenant_id)
  SELECT md5('bench-territory-' || i)::uuid::text, id, '{tenant}' FROM b_rep;
INSERT INTO territory_stores (territory_id, store_id, tenant_id)
  SELECT md5('bench-territory-' || rep)::uuid::text, id, '{tenant}' FROM b_store;

CREATE TEMP TABLE b_visits AS
  SELECT md5('bench-visit-' || r.i || '-' || d.n || '-' || s)::uuid::text AS id, r.id AS person,
         md5('bench-store-' || r.i || '-' || ((d.n * {vpd} + s) % {spr}))::uuid::text AS store,
         to_char(d.day, 'YYYY-MM-DD') AS day
  FROM b_rep r, b_day d, generate_series(0, {vpd} - 1) s;
INSERT INTO documents (id, tenant_id, kind, version, last_seq, created_at, updated_at)
  SELECT id, '{tenant}', 'visit', 1, 0, 0, 0 FROM b_visits;
INSERT INTO visits (doc_id, tenant_id, store_id, person_id, planned_date, status, updated_seq, document)
  SELECT v.id, '{tenant}', v.store, v.person, v.day, '{vs}', 0,
         jsonb_set(jsonb_set(jsonb_set(jsonb_set(jsonb_set(t.doc,
           '{{id}}', to_jsonb(v.id)), '{{store_id}}', to_jsonb(v.store)),
           '{{person_id}}', to_jsonb(v.person)), '{{planned_date}}', to_jsonb(v.day)),
           '{{status}}', '"{vs}"')::text
  FROM b_visits v, b_visit t;
DROP TABLE b_visits;

CREATE TEMP TABLE b_orders AS
  SELECT md5('bench-order-' || r.i || '-' || d.n || '-' || s)::uuid::text AS id, r.id AS person,
         md5('bench-store-' || r.i || '-' || ((d.n * {opd} + s) % {spr}))::uuid::text AS store,
         to_char(d.day, 'YYYY-MM-DD') AS day,
         to_char(d.day + 3, 'YYYY-MM-DD') AS requested,
         -- Delivered 2 to 4 days after the order (a third late), one in ten not recorded,
         -- none in the future.
         CASE WHEN (d.n + s) % 10 = 0 OR d.day + 4 > current_date THEN NULL
              ELSE to_char(d.day + 2 + ((d.n + s) % 3)::int, 'YYYY-MM-DD') END AS delivered
  FROM b_rep r, b_day d, generate_series(0, {opd} - 1) s;
INSERT INTO documents (id, tenant_id, kind, version, last_seq, created_at, updated_at)
  SELECT id, '{tenant}', 'order', 1, 0, 0, 0 FROM b_orders;
INSERT INTO orders (doc_id, tenant_id, store_id, person_id, order_date, status, number, updated_seq,
                    amount, units, requested_delivery, delivered_on, document)
  SELECT o.id, '{tenant}', o.store, o.person, o.day, '{os}', t.number, 0, t.amount, t.units,
         o.requested, o.delivered,
         jsonb_set(jsonb_set(jsonb_set(jsonb_set(jsonb_set(jsonb_set(jsonb_set(t.doc,
           '{{id}}', to_jsonb(o.id)), '{{store_id}}', to_jsonb(o.store)),
           '{{person_id}}', to_jsonb(o.person)), '{{order_date}}', to_jsonb(o.day)),
           '{{status}}', '"{os}"'), '{{requested_delivery}}', to_jsonb(o.requested)),
           '{{delivery}}', CASE WHEN o.delivered IS NULL THEN 'null'::jsonb
                           ELSE jsonb_build_object('delivered_on', o.delivered,
                                                   'recorded_by', o.person, 'recorded_at', 0) END)::text
  FROM b_orders o, b_order t;
DROP TABLE b_orders;

CREATE TEMP TABLE b_expenses AS
  SELECT md5('bench-expense-' || r.i || '-' || d.n)::uuid::text AS id, r.id AS person,
         to_char(d.day, 'YYYY-MM-DD') AS day, 2000 + (d.n % 7) * 1000 AS amount
  FROM b_rep r, b_day d WHERE extract(isodow FROM d.day) IN (1, 4);
INSERT INTO documents (id, tenant_id, kind, version, last_seq, created_at, updated_at)
  SELECT id, '{tenant}', 'expense', 1, 0, 0, 0 FROM b_expenses;
INSERT INTO expenses (doc_id, tenant_id, person_id, store_id, expense_date, expense_type, amount,
                      status, approver, updated_seq, document)
  SELECT e.id, '{tenant}', e.person, NULL, e.day, 'travel', e.amount, '{es}', NULL, 0,
         jsonb_set(jsonb_set(jsonb_set(jsonb_set({expense},
           '{{id}}', to_jsonb(e.id)), '{{person_id}}', to_jsonb(e.person)),
           '{{date}}', to_jsonb(e.day)), '{{amount}}', to_jsonb(e.amount))::text
  FROM b_expenses e;

INSERT INTO targets (id, tenant_id, period, period_start, period_end, person_id, category, amount, volume, updated_at)
  SELECT md5('bench-target-' || r.i || '-' || m)::uuid::text, '{tenant}',
         to_char(date_trunc('month', current_date) - m * interval '1 month', 'YYYY-MM'),
         to_char(date_trunc('month', current_date) - m * interval '1 month', 'YYYY-MM-DD'),
         to_char(date_trunc('month', current_date) - (m - 1) * interval '1 month' - interval '1 day', 'YYYY-MM-DD'),
         r.id, '', 50000000, 20000, 0
  FROM b_rep r, generate_series(0, 13) m;
COMMIT;
-- What autovacuum would have done by now: statistics and the visibility map (index-only scans).
VACUUM ANALYZE;
SELECT (SELECT count(*) FROM visits) || ' visits, ' || (SELECT count(*) FROM orders) || ' orders, '
    || (SELECT count(*) FROM expenses) || ' expenses, ' || (SELECT count(*) FROM targets) || ' targets, '
    || pg_size_pretty(pg_database_size(current_database()));
"#
    )
}

/// p50 and max of [`RUNS`] requests of `path`, and the last answer.
fn time(server: &TestServer, token: &str, path: &str) -> (Duration, Duration, Vec<u8>) {
    let mut samples = Vec::new();
    let mut last = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        let mut resp = http()
            .get(&format!("{}{path}", server.url))
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .expect("request");
        let body = resp.body_mut().read_to_vec().unwrap();
        samples.push(t.elapsed());
        assert_eq!(
            resp.status(),
            200,
            "{path}: {}",
            String::from_utf8_lossy(&body)
        );
        last = body;
    }
    samples.sort();
    (samples[samples.len() / 2], samples[samples.len() - 1], last)
}

fn main() {
    let smoke = std::env::var_os("FIELDSYNC_BENCH_SMOKE").is_some();
    let scale = if smoke {
        Scale {
            reps: 5,
            days: 40,
            stores_per_rep: 10,
            visits_per_day: 5,
            orders_per_day: 3,
        }
    } else {
        Scale {
            reps: 200,
            days: 365,
            stores_per_rep: 40,
            visits_per_day: 23,
            orders_per_day: 10,
        }
    };
    // A kept database (not dropped) or a scratch one (dropped at the end).
    let (kept, _scratch) = match std::env::var("FIELDSYNC_BENCH_DATABASE_URL") {
        Ok(url) => (url, None),
        Err(_) => {
            let db = PgDatabase::create();
            (db.url().to_string(), Some(db))
        }
    };
    let url = kept.as_str();
    let server = TestServer::start_with(|c| c.database_url = Some(Secret::new(url)));
    let today = Timestamp::now().utc_date();
    let generated = psql(
        url,
        "SELECT count(*) FROM users WHERE username = 'bench-rep-1'",
    );
    if generated == "0" {
        generate(&server, url, &scale, today);
    } else {
        println!("kept database: the region generated by an earlier run");
    }
    time_reports(&server, url, today);
}

/// The templates, then the region straight into the tables.
fn generate(server: &TestServer, url: &str, scale: &Scale, today: fieldsync_shared::Date) {
    templates(server);
    let mut expense = Expense::new(
        UserId::new_random(),
        ExpenseType::Travel,
        Money(2000),
        today,
        Timestamp::now(),
    );
    expense.status = ExpenseStatus::Submitted;
    expense.submitted_at = Some(Timestamp::now());
    let t = Instant::now();
    let counts = psql(url, &script(scale, &expense));
    println!("generated in {:.1} s: {counts}", t.elapsed().as_secs_f64());
}

/// Times each report as the manager and prints p50, max and what the answer covered.
fn time_reports(server: &TestServer, url: &str, today: fieldsync_shared::Date) {
    let token = server.token("mgr1");
    let month = fieldsync_server::targets::Period::parse(&today.to_string()[..7])
        .unwrap()
        .month_before(1)
        .unwrap();
    let this_week = IsoWeek::of(today);
    let last_week = IsoWeek::of(today.add_days(-7));
    let two_weeks = IsoWeek::of(today.add_days(-14));
    let quarter = IsoWeek::of(today.add_days(-7 * 13));
    let one_rep = psql(url, "SELECT id FROM users WHERE username = 'bench-rep-1'");
    for (name, path) in [
        (
            "monthly, the region, last month",
            format!("/v1/reports/monthly?month={}", month.as_str()),
        ),
        (
            "visit-frequency, the region, two weeks",
            format!("/v1/reports/visit-frequency?from={two_weeks}&to={last_week}"),
        ),
        (
            "visit-frequency, one rep, a quarter",
            format!(
                "/v1/reports/visit-frequency?from={quarter}&to={this_week}&person_id={one_rep}"
            ),
        ),
        (
            "rep-weekly, the region, last week",
            format!("/v1/reports/rep-weekly?week={last_week}"),
        ),
    ] {
        let (p50, max, body) = time(server, &token, &path);
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        // What the answer covered, so a fast answer is not a fast empty one.
        let covered = match &json {
            j if j.get("total").is_some() => format!(
                "{} reps, sales {}",
                j["reps"].as_array().map_or(0, Vec::len),
                j["total"]["sales_amount"]
            ),
            j if j.get("rows").is_some() => format!(
                "{} rows, {} done",
                j["rows"].as_array().map_or(0, Vec::len),
                j["weeks"].as_array().map_or(0, |w| w
                    .iter()
                    .map(|w| w["done"].as_u64().unwrap_or(0))
                    .sum())
            ),
            j => format!(
                "{} reps, {} visits done",
                j["reps"].as_array().map_or(0, Vec::len),
                j["reps"].as_array().map_or(0, |r| r
                    .iter()
                    .map(|r| r["done"].as_u64().unwrap_or(0))
                    .sum())
            ),
        };
        println!(
            "{name}: p50 {:.0} ms, max {:.0} ms ({} bytes: {covered})",
            p50.as_secs_f64() * 1000.0,
            max.as_secs_f64() * 1000.0,
            body.len()
        );
    }
}
