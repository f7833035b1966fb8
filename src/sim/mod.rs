//! The deterministic kernel: virtual time, seeded random streams and the event queue.
//!
//! Nothing here knows about replicas, Merkle trees or strategies; the `world` module
//! drives these pieces. Every source of nondeterminism a simulation could have (clock,
//! randomness, tie order) is pinned down in this module.

pub mod queue;
pub mod rng;
pub mod time;

pub use queue::EventQueue;
pub use rng::{StreamId, stream};
pub use time::{SimTime, format_secs};
