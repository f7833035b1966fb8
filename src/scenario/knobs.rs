//! The reconciler knobs of the tree strategies, declared once.
//!
//! A knob tunes one reconciler (or two): `iblt_cells` only the IBLT, `max_tree_depth`
//! only Cassandra's trees. Four places need the list: the `monolithic` and `segmented`
//! tables that accept the knobs (`file.rs`), the checker that refuses a knob beside
//! another reconciler (`ring.rs`), the preset merge that drops a preset's knobs when a
//! table picks another reconciler (`presets.rs`), and the scenario reference
//! (`reference.rs`). Each expands [`with_reconciler_knobs`] with a macro of its own, so
//! a new knob is one entry below plus the checker's use of its value; a knob that is
//! accepted but undocumented, or documented but refused, cannot be written.
//!
//! Each entry reads `name: Type, owners [ReconcilerFile variants], doc (type in the
//! reference, default, unit, meaning);`. The tokens are resolved where the list is
//! expanded, so this module imports nothing (and nothing imports it back).

/// Expands `$then! { { $args } entry; entry; ... }` with every reconciler knob (see the
/// module documentation for an entry's shape).
macro_rules! with_reconciler_knobs {
    ($then:ident! { $($args:tt)* }) => {
        $then! {
            { $($args)* }
            iblt_cells: u32, owners [Iblt],
                doc ("integer", DEFAULT_IBLT_CELLS.to_string(), "cells",
                     "iblt: cells of the first attempt (a failed decode doubles them)");
            pinsketch_capacity: u32, owners [Pinsketch],
                doc ("integer", DEFAULT_PINSKETCH_CAPACITY.to_string(), "differences",
                     "pinsketch: the sketch's capacity");
            cassandra_version: CassandraVersionFile, owners [CassandraTree, CassandraIncremental],
                doc ("\"3.11\" or \"4.0\"", "\"4.0\"".to_string(), "",
                     "cassandra_tree / _incremental: the depth rule of that version (3.11: cap 18, shrinking with the range's share of the ring, CASSANDRA-11390; 4.0: estimatedMaxDepthForBytes)");
            max_tree_depth: u32, owners [CassandraTree, CassandraIncremental],
                doc ("integer", DEFAULT_MAX_TREE_DEPTH.to_string(), "levels",
                     "cassandra_tree / _incremental: repair_session_max_tree_depth (Cassandra 4.0)");
            repair_session_space_mib: u64, owners [CassandraTree, CassandraIncremental],
                doc ("integer", (DEFAULT_SESSION_SPACE_BYTES >> 20).to_string(), "MiB",
                     "cassandra_tree / _incremental: repair_session_space, shared by a session's trees (1/16 of an 8 GiB heap)");
            session_ranges: u32, owners [CassandraTree, CassandraIncremental],
                doc ("integer", "1".to_string(), "ranges",
                     "cassandra_tree / _incremental: token ranges sharing one session's space");
            anticompaction_cost_per_key: DurationText, owners [CassandraIncremental],
                doc ("duration", "`cluster.scan_cost_per_key`".to_string(), "core time per key",
                     "cassandra_incremental: rewriting a partition before validation");
            row_buffer_bytes: u64, owners [RowLevel],
                doc ("integer", DEFAULT_ROW_BUFFER_BYTES.to_string(), "bytes",
                     "row_level: rows hashed together before per-row hashes (ScyllaDB)");
        }
    };
}
pub(crate) use with_reconciler_knobs;
