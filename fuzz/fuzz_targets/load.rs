//! Fuzzes the loader end to end: YAML parsing (anchors, merge keys, many documents), v1beta1
//! conversion, typed decoding, validation and diagnostic rendering. No input may panic, and
//! every diagnostic the pipeline produces must render.

#![no_main]

use adze::load::{Bundle, Origin};
use adze::report::diagnostics::to_text;
use adze::validate::{validate, Flags};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut bundle = Bundle::new();
    bundle.add_source("fuzz.yaml", text.to_string(), Origin::Input);
    let diags = validate(&bundle, &Flags::default());
    // Load-time findings and validation findings both reach the user.
    let _ = to_text(&bundle, &bundle.diagnostics);
    let _ = to_text(&bundle, &diags);
});
