//! What a run measures: counters, the repair-latency histogram and the sampled time
//! series. Plain data, no I/O: `output` turns it into files.

pub mod paths;
pub mod ring;

use crate::sim::SimTime;
use hdrhistogram::Histogram;

/// Cumulative counters of one strategy's run. All counts are exact.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Client writes acknowledged by a coordinator.
    pub writes: u64,
    /// Client writes whose coordinator was not a replica of the key and forwarded it
    /// to every replica (token ring with `coordinator = "any"`).
    pub writes_forwarded: u64,
    /// Replication messages sent (one per write per other replica).
    pub replication_messages: u64,
    /// Replication messages the network lost.
    pub lost_messages: u64,
    /// Divergence episodes ended by the replication of the write that began them (or
    /// of a later write while an earlier one's message was still on its way): transient
    /// divergence, nothing was lost.
    pub healed_by_replication: u64,
    /// Divergence episodes begun by a lost replication message and ended when a later
    /// write's replication reached the stale replica: a lost write covered up by a later
    /// one, not repaired.
    pub lost_writes_covered: u64,
    /// Divergence episodes ended by anti-entropy: the keys it repaired (lost writes,
    /// and whatever else only anti-entropy could have fixed).
    pub keys_repaired: u64,
    /// Divergence episodes anti-entropy ended while the replication message carrying the
    /// same version was still in flight: it only raced replication. Not counted in
    /// `keys_repaired` nor in the repair latencies.
    pub repairs_raced_replication: u64,
    /// Streamed records that changed a replica (a key repaired on two replicas counts twice).
    pub records_applied: u64,
    /// Anti-entropy sessions completed (one tree comparison of one range on all replicas).
    pub sessions: u64,
    /// Tree builds (snapshots) started, over all nodes.
    pub tree_builds: u64,
    /// Sessions the strategy stopped for running too long (Reaper's segment timeout);
    /// not a summary column yet.
    pub sessions_timed_out: u64,
    /// Keys scanned by tree builds (each charged `scan_cost_per_key` of virtual time).
    pub keys_scanned: u64,
    /// Hashes sent, counting both directions.
    pub hashes_sent: u64,
    /// Bytes of hashes sent, both directions.
    pub hash_bytes: u64,
    /// Hash-exchange round trips (one per tree level visited per replica pair).
    pub round_trips: u64,
    /// Leaves found divergent and streamed (per replica pair).
    pub leaves_streamed: u64,
    /// Streamed leaves in which no record was actually needed: false divergence.
    pub clean_leaves_streamed: u64,
    /// Records streamed: every key of every divergent leaf, both directions.
    pub records_streamed: u64,
    /// Streamed records the receiver truly lacked (newer than its own) when sent.
    pub records_needed: u64,
    /// Bytes of records streamed, both directions.
    pub stream_bytes: u64,
    /// Full passes over the key space completed (strategy-defined cycles).
    pub full_passes: u64,
    /// Sum of the durations of the completed full passes, in nanoseconds.
    pub full_pass_ns_total: u64,
    /// Longest time any range went without a comparison starting (including from the
    /// start of the run and until its end): the observed starvation bound.
    pub max_revisit_gap_ns: u64,
    /// Hash operations live trees spent on the write path (every changed record, on
    /// every replica), and their modelled CPU time.
    pub write_path_hash_ops: u64,
    pub write_path_hash_ns: u64,
    /// Consistency levels, hinted handoff, reads and read repair.
    pub paths: paths::PathCounters,
}

impl Counters {
    /// Streamed records that were not needed.
    pub fn records_overstreamed(&self) -> u64 {
        self.records_streamed - self.records_needed
    }

    /// Mean duration of a full pass, in nanoseconds (0 before the first one completes).
    pub fn mean_full_pass_ns(&self) -> u64 {
        self.full_pass_ns_total.checked_div(self.full_passes).unwrap_or(0)
    }
}

/// One row of the time series.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sample {
    pub time: SimTime,
    pub divergent_keys: u64,
    /// Tree builds running at this instant, summed over nodes (cores busy scanning).
    pub cores_busy: u64,
    /// Anti-entropy sessions in flight (busy workers).
    pub sessions_running: u64,
    /// Integrals up to this instant of cores busy and of sessions in flight, in
    /// level-nanoseconds: two samples give the time-weighted mean between them.
    pub cores_busy_ns: u128,
    pub sessions_ns: u128,
    /// Divergent keys in each of [`STALENESS_BUCKETS`] equal slices of the key space.
    pub divergent_per_bucket: Vec<u64>,
    pub counters: Counters,
}

/// A level that changes at instants (cores busy, sessions in flight) with its integral
/// over time, so samples can report its mean between them, not just its value at the
/// instant of the sample, which can miss a short build or catch a rare one.
#[derive(Clone, Debug, Default)]
pub struct TimeWeighted {
    level: u64,
    since: SimTime,
    integral: u128,
}

impl TimeWeighted {
    /// The level becomes `level` at `now`.
    pub fn set(&mut self, now: SimTime, level: u64) {
        self.integral = self.integral_at(now);
        self.level = level;
        self.since = now;
    }

    /// The current level.
    pub fn level(&self) -> u64 {
        self.level
    }

    /// The integral of the level from time zero to `now`, in level-nanoseconds.
    pub fn integral_at(&self, now: SimTime) -> u128 {
        self.integral + u128::from(self.level) * u128::from(now.since(self.since))
    }
}

/// The time-weighted mean level between two samples `(time, integral)`; at a single
/// instant (no time between them), `level_at_end`.
pub fn mean_between(start: (SimTime, u128), end: (SimTime, u128), level_at_end: u64) -> f64 {
    let span = end.0.since(start.0);
    if span == 0 {
        return level_at_end as f64;
    }
    (end.1 - start.1) as f64 / span as f64
}

/// Slices of the key space in the staleness heatmap (`staleness.csv`).
pub const STALENESS_BUCKETS: u64 = 64;

/// Repair latencies in nanoseconds, from the instant a key diverged to the instant
/// anti-entropy made all replicas agree again.
pub struct LatencyHistogram(Histogram<u64>);

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram(Histogram::new(3).expect("3 significant digits is valid"))
    }
}

impl LatencyHistogram {
    pub fn record(&mut self, nanos: u64) {
        // The histogram resizes itself to any latency; recording cannot fail then.
        self.0
            .record(nanos.max(1))
            .expect("auto-resizing histogram accepts any value");
    }

    pub fn count(&self) -> u64 {
        self.0.len()
    }

    /// The latency at `quantile` (0..=1), in nanoseconds; 0 when empty.
    pub fn quantile_ns(&self, quantile: f64) -> u64 {
        if self.0.is_empty() {
            0
        } else {
            self.0.value_at_quantile(quantile)
        }
    }

    pub fn max_ns(&self) -> u64 {
        if self.0.is_empty() { 0 } else { self.0.max() }
    }

    pub fn mean_ns(&self) -> f64 {
        if self.0.is_empty() { 0.0 } else { self.0.mean() }
    }

    /// (value, count) of every recorded histogram bucket, in increasing value; the value
    /// is the bucket's highest equivalent value, as [`quantile_ns`](Self::quantile_ns)
    /// reports.
    fn buckets(&self) -> Vec<(u64, u64)> {
        self.0
            .iter_recorded()
            .map(|v| (v.value_iterated_to(), v.count_at_value()))
            .collect()
    }
}

/// The repair-latency distribution with keys still divergent at the end of the run
/// counted as *censored* observations: a key open for `a` seconds when the run ended
/// would have taken longer than `a` to repair. Leaving them out (as the plain
/// percentiles do) makes a strategy that leaves many keys unrepaired look fast; the
/// Kaplan-Meier estimator uses them as "still waiting at age `a`".
///
/// Both inputs are histograms with 3 significant digits, so the estimate is as precise.
/// Episodes that healed by replication are in neither (they are not lost writes).
pub struct CensoredLatency {
    /// (latency, survival just after it) at each repair latency: the fraction of
    /// episodes estimated to take longer than that latency.
    steps: Vec<(u64, f64)>,
}

impl CensoredLatency {
    /// The Kaplan-Meier estimate from the `repaired` latencies and the ages of the keys
    /// still `open` at the end. Ties: a key censored at the same age as a repair counts
    /// as still at risk at that repair (the usual convention).
    pub fn new(repaired: &LatencyHistogram, open: &LatencyHistogram) -> CensoredLatency {
        let events = repaired.buckets();
        let censored = open.buckets();
        let mut at_risk = repaired.count() + open.count();
        let (mut e, mut c) = (0, 0);
        let mut survival = 1.0;
        let mut steps = Vec::with_capacity(events.len());
        while e < events.len() {
            let (t, deaths) = events[e];
            // Censored observations strictly before t leave the risk set first.
            while c < censored.len() && censored[c].0 < t {
                at_risk -= censored[c].1;
                c += 1;
            }
            survival *= 1.0 - deaths as f64 / at_risk as f64;
            steps.push((t, survival));
            at_risk -= deaths;
            e += 1;
        }
        CensoredLatency { steps }
    }

    /// The latency at `quantile` (0..=1) of all episodes, open ones included: the least
    /// latency by which at least that fraction is estimated to have been repaired. `None`
    /// when the run cannot tell: keys still open at the end hold more than `1 - quantile`
    /// of the estimate beyond the longest repair seen (the quantile is later than that).
    pub fn quantile_ns(&self, quantile: f64) -> Option<u64> {
        // A tolerance for the product's rounding, far below one key in 10^9.
        self.steps
            .iter()
            .find(|(_, survival)| 1.0 - survival >= quantile - 1e-12)
            .map(|&(t, _)| t)
    }
}

/// Everything one strategy's run measured.
pub struct StrategyResult {
    pub strategy: String,
    pub counters: Counters,
    pub repair_latency: LatencyHistogram,
    /// Repair latency of keys inside the hotspot when they diverged (hotspot workloads).
    pub hot_repair_latency: LatencyHistogram,
    /// Repair latency of all other keys.
    pub cold_repair_latency: LatencyHistogram,
    pub samples: Vec<Sample>,
    /// Integral of divergent keys over the run, in key-nanoseconds.
    pub divergence_key_ns: u128,
    /// Keys still divergent when the run ended (not in the latency histogram).
    pub divergent_at_end: u64,
    /// How long each of those had been divergent: the censored observations of
    /// [`CensoredLatency`].
    pub open_divergence_ages: LatencyHistogram,
    /// The most keys divergent at once, at any instant of the run (exact, from the
    /// oracle; the time series only samples it).
    pub divergent_peak: u64,
    /// How long the oldest of those had been divergent, in nanoseconds.
    pub oldest_divergence_ns: u64,
    /// Core time tree builds spent scanning (keys scanned x `scan_cost_per_key`), in
    /// nanoseconds: what scheduled trees pay, to set beside a live tree's write-path
    /// hashing (`Counters::write_path_hash_ns`).
    pub scan_core_ns: u128,
    /// Keys stored in the sparse replica state at the end (memory grows with this).
    pub stored_keys: u64,
    /// Events the run processed.
    pub events: u64,
    /// Divergence episodes begun over the run (see [`paths::Attribution`]).
    pub divergences_begun: u64,
    /// What hinted handoff did (all zero when hints are off).
    pub hints: crate::model::hints::HintCounters,
    /// The scenario's gc_grace (its `[deletes]` table's, or Cassandra's 10 days): what
    /// the longest time a range went without a complete repair is held against.
    pub gc_grace_ns: u64,
    /// The longest any range of the ring (or the one range without a ring) went without
    /// a complete repair, and how many ranges went longer than gc_grace.
    pub max_unrepaired_ns: u64,
    pub ranges_over_gc_grace: u64,
    /// What deletes did, resurrections included (`None` when the scenario has none).
    pub deletes: Option<crate::model::tombstones::DeleteCounters>,
    /// What the modelled faults did (`None` when the scenario has none).
    pub faults: Option<crate::model::faults::FaultCounters>,
    /// Per node and per range results (`None` unless the scenario configures a ring).
    pub ring: Option<ring::RingResult>,
    /// Wall time the run took, from making the world to its results. For the terminal
    /// (`aesim run --profile`) only: never written to result files, which must not
    /// depend on the machine.
    pub wall: std::time::Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn histogram(values: &[u64]) -> LatencyHistogram {
        let mut h = LatencyHistogram::default();
        for &v in values {
            h.record(v);
        }
        h
    }

    #[test]
    fn without_open_keys_the_censored_estimate_is_the_plain_one() {
        let repaired = histogram(&[10, 20, 30, 40]);
        let km = CensoredLatency::new(&repaired, &LatencyHistogram::default());
        for q in [0.25, 0.5, 0.75, 1.0] {
            assert_eq!(km.quantile_ns(q), Some(repaired.quantile_ns(q)), "q {q}");
        }
    }

    #[test]
    fn open_keys_push_the_median_out_where_leaving_them_out_does_not() {
        // Four repairs at 10..40; four keys still open at 100, older than any repair. The
        // plain median (20) ignores them; of all eight episodes, half are repaired by 40,
        // and the rest wait longer than the run can show.
        let repaired = histogram(&[10, 20, 30, 40]);
        let open = histogram(&[100, 100, 100, 100]);
        let km = CensoredLatency::new(&repaired, &open);
        assert_eq!(repaired.quantile_ns(0.5), 20);
        assert_eq!(km.quantile_ns(0.1), Some(10), "1 of 8 repaired by 10");
        assert_eq!(km.quantile_ns(0.5), Some(40), "4 of 8 repaired by 40");
        assert_eq!(km.quantile_ns(0.6), None, "not estimable: beyond the longest repair");
        // Censored in between: repairs at 10, 20, 30; open at 5, 15, 35. At 10, 5 of 6
        // are at risk (the key open at 5 left first): S = 4/5. At 20, 3 are at risk
        // (15 left): S = 4/5 * 2/3 = 8/15. At 30, 2: S = 8/15 * 1/2 = 4/15.
        let km = CensoredLatency::new(&histogram(&[10, 20, 30]), &histogram(&[15, 5, 35]));
        assert_eq!(km.quantile_ns(0.2), Some(10));
        assert_eq!(km.quantile_ns(0.4), Some(20), "1 - 8/15 = 0.467");
        assert_eq!(km.quantile_ns(0.7), Some(30), "1 - 4/15 = 0.733");
        assert_eq!(km.quantile_ns(0.8), None);
    }

    #[test]
    fn a_level_is_integrated_over_time_and_averaged_between_samples() {
        let t = SimTime::from_secs;
        let mut busy = TimeWeighted::default();
        let first = (t(0), busy.integral_at(t(0)));
        busy.set(t(2), 3);
        busy.set(t(4), 1);
        let second = (t(5), busy.integral_at(t(5)));
        assert_eq!(busy.integral_at(t(10)), 3 * 2_000_000_000 + 6_000_000_000);
        assert_eq!(mean_between(first, second, 1), 7.0 / 5.0);
        assert_eq!(mean_between(second, second, 1), 1.0, "one instant: the level then");
    }
}
