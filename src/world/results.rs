//! The end of a run and its measurements: the time-series samples, the final checks,
//! and the result of one strategy (per node and per range on a ring).

use super::{Event, InvariantChecks, InvariantViolation, World};
use crate::metrics::ring::{NodeRow, RingResult};
use crate::metrics::{LatencyHistogram, STALENESS_BUCKETS, Sample, StrategyResult};
use crate::model::KeyRange;
use crate::strategy::Ctx;

impl World {
    /// A sample point: the whole-state invariants are checked (unless only at the end),
    /// a time-series row is recorded and the next sample is queued.
    pub(super) fn sample(&mut self) {
        if self.invariant_checks == InvariantChecks::EverySample
            && let Err(violation) = self.check_state("the check at a sample point")
        {
            self.violation = Some(violation);
            return;
        }
        self.record_sample();
        let next = self.now.after(self.params.sample_interval_ns);
        if next <= self.params.end {
            self.queue.push(next, Event::Sample);
        }
    }

    /// Runs to the end, checks the invariants and returns the measurements.
    pub fn run(mut self) -> Result<StrategyResult, InvariantViolation> {
        self.run_until(self.params.end);
        if let Some(violation) = self.violation.take() {
            return Err(violation);
        }
        self.now = self.params.end;
        let mut ctx = Ctx::new(self.now, &mut self.commands, &self.faults);
        self.strategy.on_end(&mut ctx);
        self.apply_commands_at_end();
        if self.samples.last().is_none_or(|s| s.time < self.now) {
            self.record_sample();
        }
        self.check_state("the end-of-run check")?;
        let scan_core_ns = u128::from(self.counters.keys_scanned) * u128::from(self.params.scan_cost_ns_per_key);
        // Keys still divergent are censored repair latencies (`metrics::CensoredLatency`).
        let mut open_divergence_ages = LatencyHistogram::default();
        let mut oldest = 0;
        for (_, since) in self
            .cluster
            .replicas
            .divergent_in(KeyRange::new(0, self.params.key_count))
        {
            let age = self.now.since(since);
            open_divergence_ages.record(age);
            oldest = oldest.max(age);
        }
        let ring = self.ring_result();
        let gc_grace_ns = self.paths.gc_grace_ns();
        let unrepaired = self.unrepaired_per_range();
        let max_unrepaired_ns = unrepaired.iter().copied().max().unwrap_or(0);
        let ranges_over_gc_grace = unrepaired.iter().filter(|&&gap| gap > gc_grace_ns).count() as u64;
        Ok(StrategyResult {
            strategy: self.params.strategy_name,
            counters: self.counters,
            repair_latency: self.latencies.all,
            hot_repair_latency: self.latencies.hot,
            cold_repair_latency: self.latencies.cold,
            samples: self.samples,
            divergence_key_ns: self.cluster.replicas.divergence_key_ns(self.now),
            divergent_at_end: self.cluster.replicas.divergent_keys(),
            open_divergence_ages,
            divergent_peak: self.cluster.replicas.divergent_peak(),
            scan_core_ns,
            oldest_divergence_ns: oldest,
            stored_keys: self.cluster.replicas.stored_keys(),
            events: self.events,
            divergences_begun: self.cluster.replicas.divergences_begun(),
            hints: self.paths.hints.as_ref().map(|h| h.counters).unwrap_or_default(),
            deletes: self.paths.tombstones.as_ref().map(|t| t.counters.clone()),
            gc_grace_ns,
            max_unrepaired_ns,
            ranges_over_gc_grace,
            faults: (!self.faults.config().is_none()).then(|| self.faults.finish()),
            ring,
            wall: self.created.elapsed(),
        })
    }

    /// The longest each piece of the ring (or the one range) went without a complete
    /// repair, up to now: the gc_grace headline.
    fn unrepaired_per_range(&self) -> Vec<u64> {
        let pieces = self.cluster.ring.pieces();
        self.repairs
            .range_repairs
            .finish(self.now, |i| pieces[i].token_range, |_| Vec::new())
            .iter()
            .map(|row| row.max_unrepaired_ns)
            .collect()
    }

    /// Per node and per range results, when the scenario configures a ring.
    fn ring_result(&self) -> Option<RingResult> {
        if !self.with_ring {
            return None;
        }
        let repairs = &self.repairs.range_repairs;
        let ownership = self.cluster.ring.ownership();
        let mut stale = vec![0u64; self.params.nodes];
        for piece in self.cluster.ring.pieces() {
            let replicas = &self.cluster.ring.replica_sets()[piece.replica_set];
            for (column, count) in self
                .cluster
                .replicas
                .stale_per_replica(piece.keys)
                .into_iter()
                .enumerate()
            {
                stale[replicas[column]] += count;
            }
        }
        let nodes = (0..self.params.nodes)
            .map(|node| NodeRow {
                node,
                rack: self.cluster.ring.rack(node),
                tokens: self.cluster.ring.primary_ranges(node) as u64,
                ownership: ownership.per_node[node],
                load: self.repairs.node_load[node],
                stale_keys: stale[node],
            })
            .collect();
        let pieces = self.cluster.ring.pieces();
        let ranges = repairs.finish(
            self.now,
            |i| pieces[i].token_range,
            |i| self.cluster.ring.replica_sets()[pieces[i].replica_set].clone(),
        );
        Some(RingResult { nodes, ranges })
    }

    pub(super) fn record_sample(&mut self) {
        let key_space = KeyRange::new(0, self.params.key_count);
        let buckets = STALENESS_BUCKETS.min(key_space.len());
        let divergent_per_bucket = (0..buckets)
            .map(|b| self.cluster.replicas.divergent_count_in(key_space.part(b, buckets)))
            .collect();
        self.samples.push(Sample {
            time: self.now,
            divergent_keys: self.cluster.replicas.divergent_keys(),
            cores_busy: self.repairs.cores_busy.level(),
            sessions_running: self.repairs.sessions.len() as u64,
            cores_busy_ns: self.repairs.cores_busy.integral_at(self.now),
            sessions_ns: self.repairs.sessions_running.integral_at(self.now),
            divergent_per_bucket,
            counters: self.counters.clone(),
        });
    }
}
