//! The caller's options object, as the host encodes it, read into the
//! core's plain-data view ([`Value`]) and validated there
//! (src/core/options.rs): a mistake names the option.
//!
//! A value is a tag and its content: 0 undefined, 1 null, 2 false, 3 true,
//! 4 a number, 5 a string, 6 a function, 7 an array, 8 an object (its own
//! enumerable fields; a store adapter's methods by name), 9 anything else.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::core::codec::{Malformed, Reader};
use crate::core::options::{refused, Expect, OptionError, Options};
use crate::core::value::Value;

/// Deeper than any option goes: the host stops there.
const MAX_DEPTH: u32 = 4;

pub fn read_value(r: &mut Reader, depth: u32) -> Result<Value, Malformed> {
    Ok(match r.u8()? {
        0 => Value::Undefined,
        1 => Value::Null,
        2 => Value::Bool(false),
        3 => Value::Bool(true),
        4 => Value::Number(r.f64()?),
        5 => Value::Str(r.string()?),
        6 => Value::Function,
        7 | 8 if depth == 0 => return Err(Malformed),
        7 => {
            let n = r.u32()?;
            let mut items = Vec::new();
            for _ in 0..n {
                items.push(read_value(r, depth - 1)?);
            }
            Value::List(items)
        }
        8 => {
            let n = r.u32()?;
            let mut fields = Vec::new();
            for _ in 0..n {
                fields.push((r.string()?, read_value(r, depth - 1)?));
            }
            Value::Object(fields)
        }
        9 => Value::Other,
        _ => return Err(Malformed),
    })
}

pub fn parse(encoded: &[u8]) -> Result<Options, OptionError> {
    let not_an_object = || refused("options", Expect::Object);
    let r = &mut Reader::new(encoded);
    match read_value(r, MAX_DEPTH) {
        Ok(Value::Undefined | Value::Null) => Ok(Options::default()),
        Ok(Value::Object(fields)) if r.is_empty() => Options::parse(&fields),
        _ => Err(not_an_object()),
    }
}
