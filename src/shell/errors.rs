//! Failures thrown to JS as plain objects. The JS entry turns them into
//! `DurafetchError`s and writes the messages, so wording lives in one place.

use super::js::Fields;

pub fn failure(kind: &str) -> Fields {
    Fields::new().set("durafetch", true).set("kind", kind)
}
