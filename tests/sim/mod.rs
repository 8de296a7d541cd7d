//! The deterministic simulation behind tests/simulation.rs.

pub mod app;
pub mod checker;
pub mod checks;
pub mod dates;
pub mod drains;
pub mod exec;
pub mod fleet;
pub mod host;
pub mod ledger;
pub mod net;
pub mod report;
pub mod runs;
pub mod store;
pub mod stored;
pub mod workflows;
pub mod world;
