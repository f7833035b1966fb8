//! aesim: a deterministic discrete-event simulator of Merkle-tree anti-entropy between
//! replicas.
//!
//! The map (see ARCHITECTURE.md): [`scenario`] turns a TOML file into a checked
//! [`scenario::Scenario`]; [`run`] builds one [`world::World`] per strategy and runs it;
//! the world advances the [`sim`] kernel's event queue, using the passive [`model`]
//! components and asking a [`strategy`] what to compare; [`metrics`] holds what was
//! measured; [`output`] writes it; [`report`] renders charts and `report.md` from the
//! written files; [`sweep`] runs a grid of scenarios x seeds and aggregates them;
//! [`profile`] reads the process's peak memory for the terminal summary.

/// aesim's version for `--version`: the package version and, when built from a git
/// checkout, the commit (`0.1.0 (commit 0123456789ab)`; see `build.rs`). Result files
/// and run hashes use the package version alone, so a commit changes no result.
/// Version of every JSON document aesim prints (`schema_version`, the first field):
/// bumped when a field changes meaning or goes away; new fields do not bump it.
pub const JSON_SCHEMA_VERSION: u32 = 1;

pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), env!("AESIM_GIT_SUFFIX"));

pub mod calibrate;
pub mod chart;
pub mod compare;
pub mod html;
pub mod metrics;
pub mod model;
pub mod output;
pub mod profile;
pub mod protocol;
pub mod report;
pub mod resources;
pub mod run;
pub mod scenario;
pub mod sim;
pub mod strategy;
pub mod sweep;
pub mod validate;
pub mod world;
