//! What std's prelude would give, from `alloc`: the crate builds without std
//! for the browser (see lib.rs).

pub use alloc::boxed::Box;
pub use alloc::string::{String, ToString};
pub use alloc::vec;
pub use alloc::vec::Vec;
