//! Arbitrary bytes through the whole extractor (chunker, tree, canonical mapping, hash): it may
//! report errors, it must never panic. Seed with real records: `fuzz/seed.sh`.
#![no_main]

use std::io::Cursor;
use std::path::Path;

use discogs::extract::{Extractor, Options};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let options = Options { threads: 0, max_errors: u64::MAX, kind: None };
    let reader = Box::new(Cursor::new(data.to_vec()));
    let Ok(mut extractor) = Extractor::from_reader(reader, Path::new("fuzz-input"), &options) else {
        return;
    };
    while let Ok(Some(batch)) = extractor.next_batch() {
        for record in &batch.records {
            // Whatever was accepted must be valid JSON whose id is the record's id.
            let value: serde_json_check::Value = serde_json_check::from_slice(&record.json).expect("canonical JSON parses");
            assert_eq!(value["id"].as_i64(), Some(record.id));
        }
    }
});
