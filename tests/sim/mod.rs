//! The deterministic simulation behind tests/simulation.rs.

pub mod app;
pub mod checks;
pub mod client;
pub mod dates;
pub mod drain;
pub mod encode;
pub mod exec;
pub mod ledger;
pub mod live;
pub mod net;
pub mod report;
pub mod runs;
pub mod store;
pub mod world;
