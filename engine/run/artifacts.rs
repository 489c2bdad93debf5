//! Artifacts (alpha, `enable-artifacts`): what steps and tasks declare they consumed and
//! produced, in a `provenance.json` of the shape
//! `{"inputs": [{"name", "values": [...]}], "outputs": [...]}`.
//!
//! `$(steps.S.outputs.A)`, `$(steps.S.inputs.A)`, `$(tasks.T.outputs.A)` and
//! `$(tasks.T.inputs.A)` become the JSON text of artifact `A`'s `values` (spec §3).

use serde_json::Value;

/// Which list of a provenance file a reference reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArtifactList {
    /// `inputs`.
    Inputs,
    /// `outputs`.
    Outputs,
}

/// The JSON text of the `values` of artifact `name` in `provenance`, if it declares one.
pub fn values_json(provenance: &Value, list: ArtifactList, name: &str) -> Option<String> {
    let key = match list {
        ArtifactList::Inputs => "inputs",
        ArtifactList::Outputs => "outputs",
    };
    provenance
        .get(key)?
        .as_array()?
        .iter()
        .find(|a| a.get("name").and_then(Value::as_str) == Some(name))
        .and_then(|a| a.get("values"))
        .map(Value::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_artifacts_values_are_its_json_text() {
        let p: Value = serde_json::from_str(
            r#"{"inputs":[{"name":"src","values":[{"uri":"git://x"}]}],"outputs":[{"name":"image","values":[{"uri":"oci://y","digest":{"sha256":"ab"}}]}]}"#,
        )
        .expect("json");
        assert_eq!(
            values_json(&p, ArtifactList::Outputs, "image").as_deref(),
            Some(r#"[{"uri":"oci://y","digest":{"sha256":"ab"}}]"#)
        );
        assert_eq!(
            values_json(&p, ArtifactList::Inputs, "src").as_deref(),
            Some(r#"[{"uri":"git://x"}]"#)
        );
        assert_eq!(values_json(&p, ArtifactList::Inputs, "image"), None);
    }
}
