//! Checks of the `[[strategy]]` tables: each kind's fields (the monolithic tree's here,
//! the segmented and Riak kinds' in their own files) and the strategies' names.

use super::file::{ClusterFile, OrderFile, StrategyFile, TreeFile};
use super::{Checker, MAX_NAME_CHARS, file};
use crate::strategy::{RangeOrder, RepairSettings, StrategyConfig, StrategyKind};

impl Checker<'_> {
    /// Every `[[strategy]]`, in order: each kind's fields, then the names.
    pub(super) fn strategies(&mut self, entries: Vec<StrategyFile>, c: &ClusterFile) -> Vec<StrategyConfig> {
        if entries.is_empty() {
            self.error(
                "strategy",
                "a scenario needs at least one [[strategy]]".into(),
                "add [[strategy]] with kind = \"monolithic\"",
            );
        }
        let mut strategies: Vec<StrategyConfig> = Vec::new();
        for (i, entry) in entries.into_iter().enumerate() {
            let at = |field: &str| format!("strategy[{i}].{field}");
            let (name, kind, repair) = match entry {
                StrategyFile::Monolithic(raw) => self.monolithic(raw, c, &at),
                StrategyFile::Segmented(raw) => self.segmented_strategy(raw, c, &at),
                StrategyFile::RiakAae(raw) => {
                    let (config, reconciler) = self.riak_aae(&at, c, &raw);
                    let repair = Checker::repair_settings(raw.pairs, raw.session_overhead.map(|d| d.0))
                        .with_reconciler(reconciler);
                    let default = if config.tictac { "riak_tictac" } else { "riak_aae" };
                    let name = raw.name.unwrap_or_else(|| default.into());
                    (name, StrategyKind::RiakAae(config), repair)
                }
            };
            self.strategy_name(&name, &at("name"), &strategies);
            strategies.push(StrategyConfig { name, kind, repair });
        }
        strategies
    }

    /// A `kind = "monolithic"` strategy: one tree over each range, rebuilt every interval.
    fn monolithic(
        &mut self,
        raw: file::MonolithicFile,
        c: &ClusterFile,
        at: &dyn Fn(&str) -> String,
    ) -> (String, StrategyKind, RepairSettings) {
        let knobs = raw.reconciler_knobs();
        let file::MonolithicFile {
            name,
            leaves,
            interval,
            tree,
            order,
            pairs,
            session_overhead,
            reconciler,
            ..
        } = raw;
        let repair = Checker::repair_settings(pairs, session_overhead.map(|d| d.0)).with_reconciler(self.reconciler(
            reconciler,
            &knobs,
            matches!(tree, TreeFile::Live),
            c,
            at,
        ));
        // On a ring a tree covers one token range, whose size is known only once the
        // tokens are drawn: only the whole key space is checked (a smaller range gets
        // empty leaves; see ARCHITECTURE.md, the ring).
        self.leaves(leaves, &at("leaves"), c.keys, "keys");
        // Zero means back to back; a pass must then take time, or the run would loop
        // forever at one instant.
        let scans = c.scan_cost_per_key.0 > 0 && matches!(tree, TreeFile::Scheduled);
        self.require(
            interval.0 > 0 || scans,
            &at("interval"),
            "positive for a live tree or when `cluster.scan_cost_per_key` is zero",
            "0s",
            "a zero interval runs passes back to back, which needs a scan that takes time",
        );
        let kind = StrategyKind::Monolithic {
            leaves,
            interval_ns: interval.0,
            tree: tree.into(),
            order: match order {
                OrderFile::AllAtOnce => RangeOrder::AllAtOnce,
                OrderFile::NodeByNode => RangeOrder::NodeByNode,
                OrderFile::RangeByRange => RangeOrder::RangeByRange,
            },
        };
        (name.unwrap_or_else(|| "monolithic".into()), kind, repair)
    }

    /// A `kind = "segmented"` strategy: its repair settings and reconciler here, its
    /// segments in `segmented.rs`.
    fn segmented_strategy(
        &mut self,
        raw: file::SegmentedFile,
        c: &ClusterFile,
        at: &dyn Fn(&str) -> String,
    ) -> (String, StrategyKind, RepairSettings) {
        let knobs = raw.reconciler_knobs();
        let repair = Checker::repair_settings(raw.pairs, raw.session_overhead.map(|d| d.0))
            .with_reconciler(self.reconciler(raw.reconciler, &knobs, matches!(raw.tree, TreeFile::Live), c, at));
        let name = raw.name.clone().unwrap_or_else(|| "segmented".into());
        let scans = c.scan_cost_per_key.0 > 0;
        let partial = c.replication_factor.is_some_and(|rf| rf < c.nodes);
        if raw.misalignment.is_some() && partial {
            self.error(
                &at("misalignment"),
                "misaligned boundaries are modelled only when every node holds every key".into(),
                "remove `misalignment`, or set `cluster.replication_factor` to `nodes`",
            );
        }
        let config = self.segmented(scans, at, c.keys, raw);
        (name, StrategyKind::Segmented(config), repair)
    }

    /// A strategy's name at `path`: printable, short, unique among `earlier`.
    pub(super) fn strategy_name(&mut self, name: &str, path: &str, earlier: &[StrategyConfig]) {
        let name_ok = !name.is_empty()
            && name.chars().count() <= MAX_NAME_CHARS
            && name.chars().all(|c| !c.is_control() && c != ',' && c != '"');
        self.require(
            name_ok,
            path,
            "1 to 64 characters without commas, quotes or control characters",
            format!("{name:?}"),
            "the name labels the strategy's rows in every CSV",
        );
        if earlier.iter().any(|s| s.name == name) {
            self.error(
                path,
                format!("two strategies are named \"{name}\""),
                "give each [[strategy]] a distinct `name`",
            );
        }
    }
}
