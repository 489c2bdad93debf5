//! `--mask` and `--secret` of `adze run`: building the run's [`Masker`] and printing through
//! it (see [`crate::mask`] for what is masked and why).

use std::sync::Arc;

use super::Outcome;
use crate::load::Bundle;
use crate::mask::collect::{self, GivenSecret};
use crate::mask::Masker;

/// Applies `--secret` to the run's documents and builds the masker of the run: every
/// loaded Secret's values, `--secret` and `--mask` values. Prints a warning for each value
/// too short to mask; a malformed `--secret` is an error (exit 2).
pub fn for_run(
    bundle: &mut Bundle,
    secrets: &[String],
    masks: &[String],
) -> Result<Arc<Masker>, Outcome> {
    let given = secrets
        .iter()
        .map(|s| s.parse::<GivenSecret>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            eprintln!("error: {e}");
            Outcome::Invalid
        })?;
    collect::apply(bundle, &given);
    let (masker, warnings) = collect::masker_of(bundle, masks);
    for w in warnings {
        eprintln!("warning: {w}");
    }
    Ok(masker)
}

/// Prints `text` on stderr, masked, with a newline.
pub fn eprintln(masker: &Masker, text: &str) {
    eprintln!("{}", masker.mask(text));
}
