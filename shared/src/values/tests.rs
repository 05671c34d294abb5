use super::*;

#[test]
fn money_parses_whole_and_decimal_amounts() {
    for (s, minor) in [
        ("12", 1200),
        ("12.5", 1250),
        ("12.50", 1250),
        ("0.05", 5),
        ("0", 0),
        ("-0", 0),
        ("-12.34", -1234),
        ("007.10", 710),
        (" 3.2 ", 320),
        ("92233720368547758.07", i64::MAX),
        ("-92233720368547758.08", i64::MIN),
    ] {
        assert_eq!(Money::parse(s), Ok(Money(minor)), "{s:?}");
    }
}

#[test]
fn money_refuses_malformed_amounts() {
    for s in [
        "",
        " ",
        "-",
        "abc",
        "1.234",
        "1.",
        ".5",
        "-.5",
        "+1",
        "--1",
        "1,000",
        "1e3",
        "1.2.3",
        "1 000",
        "1.-5",
        "١٢",
        "92233720368547758.08",
        "-92233720368547758.09",
        "99999999999999999999999999999999999999999999",
    ] {
        let e = Money::parse(s).unwrap_err();
        assert_eq!(e.field, "amount", "{s:?}");
    }
}

#[test]
fn money_display_round_trips_through_parse() {
    for m in [0, 5, 1250, -1234, i64::MAX, i64::MIN] {
        assert_eq!(Money::parse(&Money(m).to_string()), Ok(Money(m)));
    }
    assert_eq!(Money(-5).to_string(), "-0.05");
}

#[test]
fn position_accepts_the_closed_ranges() {
    for (lat, lon) in [
        (0.0, 0.0),
        (90.0, 180.0),
        (-90.0, -180.0),
        (31.2304, 121.4737),
    ] {
        let p = Position::new(lat, lon).unwrap();
        assert_eq!((p.lat(), p.lon()), (lat, lon));
    }
}

#[test]
fn position_refuses_out_of_range_and_non_finite() {
    for (lat, lon) in [
        (90.000001, 0.0),
        (-90.000001, 0.0),
        (0.0, 180.000001),
        (0.0, -180.000001),
        (f64::NAN, 0.0),
        (0.0, f64::NAN),
        (f64::INFINITY, 0.0),
        (0.0, f64::NEG_INFINITY),
    ] {
        assert_eq!(
            Position::new(lat, lon).unwrap_err().field,
            "position",
            "{lat} {lon}"
        );
    }
}

#[test]
fn distance_matches_known_values() {
    let origin = Position::new(0.0, 0.0).unwrap();
    assert_eq!(origin.distance_m(&origin), 0.0);
    // One degree along a meridian is R * pi / 180.
    let one_degree = Position::new(1.0, 0.0).unwrap();
    let expected = 6_371_008.8 * std::f64::consts::PI / 180.0;
    assert!((origin.distance_m(&one_degree) - expected).abs() < 1e-6);
    // Antipodes: half the circumference, not NaN.
    let antipode = Position::new(0.0, 180.0).unwrap();
    let half = 6_371_008.8 * std::f64::consts::PI;
    assert!((origin.distance_m(&antipode) - half).abs() < 1e-6);
    // Shanghai - Beijing, about 1067 km.
    let shanghai = Position::new(31.2304, 121.4737).unwrap();
    let beijing = Position::new(39.9042, 116.4074).unwrap();
    let d = shanghai.distance_m(&beijing);
    assert!((1_060_000.0..1_075_000.0).contains(&d), "{d}");
    assert_eq!(d, beijing.distance_m(&shanghai));
    // Across the antimeridian: two points 0.002 degrees apart at the equator.
    let east = Position::new(0.0, 179.999).unwrap();
    let west = Position::new(0.0, -179.999).unwrap();
    assert!((east.distance_m(&west) - 0.002 * expected).abs() < 1e-3);
}

#[derive(Debug, PartialEq, autosurgeon::Reconcile, autosurgeon::Hydrate)]
struct Located {
    at: Position,
}

#[test]
fn position_hydrates_through_new() {
    use automerge::transaction::Transactable;
    use automerge::ReadDoc;

    let mut doc = automerge::AutoCommit::new();
    let value = Located {
        at: Position::new(31.5, 121.5).unwrap(),
    };
    autosurgeon::reconcile(&mut doc, &value).unwrap();
    assert_eq!(autosurgeon::hydrate::<_, Located>(&doc).unwrap(), value);

    let (_, at) = doc.get(automerge::ROOT, "at").unwrap().unwrap();
    doc.put(&at, "lat", 91.0).unwrap();
    let err = autosurgeon::hydrate::<_, Located>(&doc).unwrap_err();
    assert!(err.to_string().contains("latitude"), "{err}");

    doc.put(&at, "lat", 10.0).unwrap();
    doc.delete(&at, "lon").unwrap();
    assert!(autosurgeon::hydrate::<_, Located>(&doc).is_err());
}

#[test]
fn position_serde_round_trips_and_validates() {
    let p = Position::new(31.5, -121.25).unwrap();
    let json = serde_json::to_string(&p).unwrap();
    assert_eq!(json, r#"{"lat":31.5,"lon":-121.25}"#);
    assert_eq!(serde_json::from_str::<Position>(&json).unwrap(), p);
    assert!(serde_json::from_str::<Position>(r#"{"lat":91,"lon":0}"#).is_err());
    assert!(serde_json::from_str::<Position>(r#"{"lat":1}"#).is_err());
}

const ABC_SHA256: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

#[test]
fn sha256_digest_matches_the_standard_vector() {
    assert_eq!(Sha256::digest(b"abc").to_hex(), ABC_SHA256);
}

#[test]
fn sha256_parses_either_case_and_prints_lower_case() {
    let lower = Sha256::parse(ABC_SHA256).unwrap();
    let upper = Sha256::parse(&ABC_SHA256.to_uppercase()).unwrap();
    assert_eq!(lower, upper);
    assert_eq!(upper.to_string(), ABC_SHA256);
    assert_eq!(lower, Sha256::digest(b"abc"));
}

#[test]
fn sha256_refuses_wrong_length_and_non_hex() {
    let non_hex = format!("{}g", &ABC_SHA256[..63]);
    let multibyte = format!("{}é", &ABC_SHA256[..62]);
    for s in [
        "",
        &ABC_SHA256[..63],
        &format!("{ABC_SHA256}0"),
        &non_hex,
        &multibyte,
        &format!(" {}", &ABC_SHA256[..63]),
    ] {
        assert_eq!(Sha256::parse(s).unwrap_err().field, "sha256", "{s:?}");
    }
}

#[test]
fn short_text_trims_and_keeps_newlines_and_tabs() {
    let t = ShortText::parse("  shelf empty\n\tback room full  ").unwrap();
    assert_eq!(t.as_str(), "shelf empty\n\tback room full");
    assert_eq!(ShortText::parse("货架缺货").unwrap().as_str(), "货架缺货");
}

#[test]
fn short_text_length_limit_counts_characters() {
    let at_limit = "货".repeat(ShortText::MAX_CHARS);
    assert!(ShortText::parse(&at_limit).is_ok());
    // Surrounding whitespace is trimmed before counting.
    assert!(ShortText::parse(&format!("  {at_limit}  ")).is_ok());
    let over = "a".repeat(ShortText::MAX_CHARS + 1);
    assert_eq!(ShortText::parse(&over).unwrap_err().field, "text");
}

#[test]
fn short_text_refuses_empty_and_control_characters() {
    for s in [
        "",
        "   ",
        "\n\t",
        "a\u{0}b",
        "a\rb",
        "bell\u{7}",
        "del\u{7f}",
        "c1\u{85}x",
    ] {
        assert_eq!(ShortText::parse(s).unwrap_err().field, "text", "{s:?}");
    }
}

#[test]
fn code_types_and_dates_parse() {
    assert_eq!(Sku::parse(" cola-330 ").unwrap().as_str(), "COLA-330");
    assert!(Sku::parse("cola 330").is_err());
    assert!(PersonCode::parse(&"R".repeat(13)).is_err());
    assert_eq!(Date::parse("2026-11-22").unwrap().to_string(), "2026-11-22");
    assert!(Date::parse("2026-02-30").is_err());
    let d = Date::parse("2026-12-31").unwrap();
    assert_eq!(d.add_days(1).to_string(), "2027-01-01");
    assert_eq!(d.days_until(Date::parse("2026-12-01").unwrap()), -30);
}

#[test]
fn name_is_one_trimmed_line_of_at_most_100_characters() {
    assert_eq!(
        Name::parse("  武汉KA一组  ").unwrap().as_str(),
        "武汉KA一组"
    );
    assert!(Name::parse(&"货".repeat(Name::MAX_CHARS)).is_ok());
    let over = Name::parse(&"a".repeat(Name::MAX_CHARS + 1)).unwrap_err();
    assert_eq!(over.field, "name");
    assert!(over.reason.contains("longer than 100"), "{over}");
    // Unlike free text, a name is one line.
    assert!(Name::parse("north\nsouth").is_err());
    assert!(Name::parse("   ").is_err());
}
