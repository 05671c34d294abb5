//! Document ids as typed on the command line: a full UUID or a unique prefix of a local
//! document's id.

use fieldsync_client::{Device, DeviceError, DocId, DocKind};

use crate::error::{CliError, CliResult};

/// A full UUID, or a unique prefix of the id of a local document of `kind`.
pub fn resolve(device: &Device, kind: DocKind, input: &str) -> CliResult<DocId> {
    let input = input.trim().to_ascii_lowercase();
    if let Ok(id) = DocId::parse(&input) {
        return Ok(id);
    }
    if input.is_empty() {
        return Err(CliError::Usage(format!("empty {} id", kind.as_str())));
    }
    let matches: Vec<DocId> = device
        .document_ids(Some(kind))?
        .into_iter()
        .filter(|id| id.to_string().starts_with(&input))
        .collect();
    match matches.as_slice() {
        [one] => Ok(*one),
        [] => Err(DeviceError::NotFound {
            what: kind.as_str(),
            id: input,
        }
        .into()),
        many => Err(CliError::Usage(format!(
            "{input:?} matches {} {}s; type more of the id",
            many.len(),
            kind.as_str()
        ))),
    }
}

/// A visit or an order: a full UUID, or a unique prefix of a local document's id.
pub fn resolve_any(device: &Device, input: &str) -> CliResult<(DocKind, DocId)> {
    if let Ok(id) = DocId::parse(input.trim()) {
        return Ok((device.document_kind(id)?, id));
    }
    let mut found = Vec::new();
    for kind in DocKind::ALL {
        match resolve(device, *kind, input) {
            Ok(id) => found.push((*kind, id)),
            Err(CliError::Device(DeviceError::NotFound { .. })) => {}
            Err(e) => return Err(e),
        }
    }
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(DeviceError::NotFound {
            what: "visit or order",
            id: input.trim().to_string(),
        }
        .into()),
        _ => Err(CliError::Usage(format!(
            "{input:?} matches a visit and an order; type more of the id"
        ))),
    }
}
