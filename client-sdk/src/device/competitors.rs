//! Competitor sightings of a visit (docs/competitors.md): add, edit and remove one's own,
//! list them. What a sighting may hold is the shared rule `visit::competitors::sighting_from`;
//! who may change which sighting is the shared write policy, run by `edits::edit`.

use fieldsync_shared::policy::{codes, Field};
use fieldsync_shared::visit::competitors::{sighting_from, SightingProblem};
use fieldsync_shared::visit::{CompetitorSighting, SightingId, SightingInput, Visit};
use fieldsync_shared::{DocId, Timestamp};

use super::Device;
use crate::edits;
use crate::error::{DeviceError, Result};

fn problem(p: SightingProblem, id: SightingId) -> DeviceError {
    match p {
        SightingProblem::NoList | SightingProblem::Full => DeviceError::wrong_state(p.to_string()),
        SightingProblem::Unknown => DeviceError::not_found("competitor sighting", id),
        SightingProblem::NotYours => DeviceError::Forbidden {
            field: Field::CompetitorSightings.as_str().to_string(),
            code: codes::NOT_ENTRY_AUTHOR.to_string(),
            message: p.to_string(),
        },
    }
}

impl Device {
    /// Records a competitor sighting on the visit, under a new id (returned). Sightings added
    /// at once on two devices are both kept.
    pub fn add_competitor_sighting(
        &self,
        visit: DocId,
        input: &SightingInput,
    ) -> Result<SightingId> {
        let id = SightingId::new_random();
        self.put_sighting(visit, id, input, "add competitor sighting")?;
        Ok(id)
    }

    /// Replaces one's own sighting `id` with what `input` says (its time becomes now).
    pub fn edit_competitor_sighting(
        &self,
        visit: DocId,
        id: SightingId,
        input: &SightingInput,
    ) -> Result<()> {
        let v: Visit = edits::read(&self.db, visit)?;
        let known = v
            .competitor_sightings
            .as_ref()
            .is_some_and(|m| m.contains_key(&id.to_string()));
        if !known {
            return Err(problem(SightingProblem::Unknown, id));
        }
        self.put_sighting(visit, id, input, "edit competitor sighting")
    }

    /// Removes one's own sighting `id`.
    pub fn remove_competitor_sighting(&self, visit: DocId, id: SightingId) -> Result<()> {
        self.edit_visit(visit, "remove competitor sighting", |_, profile, v| {
            v.remove_competitor_sighting(id, profile.id)
                .map_err(|p| problem(p, id))
        })
    }

    /// The visit's competitor sightings in the order every replica shows them.
    pub fn competitor_sightings(&self, visit: DocId) -> Result<Vec<CompetitorSighting>> {
        let v: Visit = edits::read(&self.db, visit)?;
        Ok(v.competitor_sightings_in_order())
    }

    fn put_sighting(
        &self,
        visit: DocId,
        id: SightingId,
        input: &SightingInput,
        message: &str,
    ) -> Result<()> {
        self.edit_visit(visit, message, |_, profile, v| {
            let sighting = sighting_from(
                v,
                input,
                id,
                profile.id,
                &profile.display_name,
                Timestamp::now(),
            )?;
            v.put_competitor_sighting(sighting)
                .map_err(|p| problem(p, id))
        })
    }
}
