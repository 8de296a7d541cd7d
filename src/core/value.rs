//! A plain-data view of a JS value: what options parsing and record decoding
//! need to see, and nothing a hostile or corrupted input could use to panic.
//! Shared with the server half (durafetch-wire).

pub use durafetch_wire::value::Value;
