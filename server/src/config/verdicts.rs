//! The bounds of the server's cross-device checks (docs/verdicts.md, "Cross-device flags").

use fieldsync_shared::TenantId;

/// Default fastest travel between one person's consecutive check-ins: faster is flagged
/// `impossible_travel`. Road travel between stores rarely averages above it.
pub const DEFAULT_MAX_TRAVEL_KMH: f64 = 120.0;
/// Default shortest visit, check-in to check-out: shorter is flagged `visit_too_short`.
pub const DEFAULT_MIN_VISIT_MINUTES: u32 = 5;

/// Bounds of the location and time checks, with per-tenant speed bounds.
#[derive(Debug, Clone, PartialEq, clap::Args)]
pub struct VerdictSettings {
    /// Fastest travel between one person's consecutive check-ins, in km/h (distance over the
    /// time between them); faster is flagged `impossible_travel`.
    #[arg(
        long = "max-travel-kmh",
        env = "FIELDSYNC_MAX_TRAVEL_KMH",
        default_value_t = DEFAULT_MAX_TRAVEL_KMH,
        value_parser = parse_speed,
        global = true
    )]
    pub max_travel_kmh: f64,

    /// Per-tenant travel bounds that replace `--max-travel-kmh` for their tenant:
    /// comma-separated `<tenant id>=<km/h>`, e.g. a territory of motorways or of islands.
    #[arg(
        long = "tenant-max-travel-kmh",
        env = "FIELDSYNC_TENANT_MAX_TRAVEL_KMH",
        value_delimiter = ',',
        value_parser = parse_tenant_speed,
        global = true
    )]
    pub tenant_max_travel_kmh: Vec<(TenantId, f64)>,

    /// Shortest visit, check-in to check-out, in minutes; shorter is flagged
    /// `visit_too_short`. 0 disables the check.
    #[arg(
        long = "min-visit-minutes",
        env = "FIELDSYNC_MIN_VISIT_MINUTES",
        default_value_t = DEFAULT_MIN_VISIT_MINUTES,
        global = true
    )]
    pub min_visit_minutes: u32,
}

impl Default for VerdictSettings {
    fn default() -> Self {
        VerdictSettings {
            max_travel_kmh: DEFAULT_MAX_TRAVEL_KMH,
            tenant_max_travel_kmh: Vec::new(),
            min_visit_minutes: DEFAULT_MIN_VISIT_MINUTES,
        }
    }
}

impl VerdictSettings {
    /// The travel bound of `tenant`: its own, else the default.
    pub fn max_travel_kmh(&self, tenant: TenantId) -> f64 {
        self.tenant_max_travel_kmh
            .iter()
            .find(|(t, _)| *t == tenant)
            .map_or(self.max_travel_kmh, |(_, kmh)| *kmh)
    }
}

fn parse_speed(s: &str) -> Result<f64, String> {
    let kmh: f64 = s.trim().parse().map_err(|e| format!("{s:?}: {e}"))?;
    if !(kmh.is_finite() && kmh > 0.0) {
        return Err(format!("{s:?}: must be a positive number of km/h"));
    }
    Ok(kmh)
}

fn parse_tenant_speed(s: &str) -> Result<(TenantId, f64), String> {
    let (tenant, kmh) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?}: expected <tenant id>=<km/h>"))?;
    let tenant = TenantId::parse(tenant.trim()).map_err(|e| format!("{s:?}: {e}"))?;
    Ok((tenant, parse_speed(kmh)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_bound_replaces_the_default() {
        let tenant = TenantId::new_random();
        let parsed = parse_tenant_speed(&format!("{tenant}= 250")).unwrap();
        assert_eq!(parsed, (tenant, 250.0));
        let settings = VerdictSettings {
            tenant_max_travel_kmh: vec![parsed],
            ..VerdictSettings::default()
        };
        assert_eq!(settings.max_travel_kmh(tenant), 250.0);
        assert_eq!(
            settings.max_travel_kmh(TenantId::new_random()),
            DEFAULT_MAX_TRAVEL_KMH
        );
        assert!(parse_tenant_speed("nope").is_err());
        assert!(parse_speed("0").is_err() && parse_speed("NaN").is_err());
    }
}
