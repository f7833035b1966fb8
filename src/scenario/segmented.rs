//! Checks of a `kind = "segmented"` strategy: segments, workers, the hot-first policy,
//! misaligned boundaries and Reaper's knobs.

use super::file::{MisalignmentFile, ParallelismFile, PolicyFile, SegmentSplitFile, SegmentedFile, TreeFile};
use super::{Checker, MAX_SEGMENTS, MAX_WORKERS};
use crate::strategy::{Misalignment, Policy, ReaperKnobs, RepairParallelism, SegmentSplit, SegmentedConfig};

impl Checker<'_> {
    /// A `kind = "segmented"` strategy's fields (its name aside, which `strategies` checks).
    pub(super) fn segmented(
        &mut self,
        scans: bool,
        at: &dyn Fn(&str) -> String,
        keys: u64,
        raw: SegmentedFile,
    ) -> SegmentedConfig {
        let segments_ok = raw.segments >= 1 && raw.segments <= keys && raw.segments <= MAX_SEGMENTS;
        self.require(
            segments_ok,
            &at("segments"),
            "between 1 and the number of keys (and at most 10^7)",
            raw.segments,
            "the lesson uses 10_000 segments of 100_000 keys",
        );
        let shortest_segment = keys / raw.segments.max(1);
        self.leaves(
            raw.leaves,
            &at("leaves"),
            shortest_segment,
            "keys of the smallest segment",
        );
        self.require(
            (1..=MAX_WORKERS).contains(&raw.workers),
            &at("workers"),
            "between 1 and 4096",
            raw.workers,
            "segments compared at once; the node's cores bound how many builds really run in parallel",
        );
        let (max_interval_ns, interval_ns, poll_ns) = self.pacing(scans, at, &raw);
        if let Some(limit) = raw.max_sessions_per_node {
            self.require(
                limit >= 1,
                &at("max_sessions_per_node"),
                "at least 1",
                limit,
                "Reaper lets a node take part in one repair session at a time",
            );
        }
        let misalignment = self.misalignment(at, keys, &raw);
        SegmentedConfig {
            segments: raw.segments.max(1),
            leaves: raw.leaves,
            workers: raw.workers,
            policy: match raw.policy {
                PolicyFile::RoundRobin => Policy::RoundRobin,
                PolicyFile::HottestFirst => Policy::HottestFirst,
                PolicyFile::AgeWeighted => Policy::AgeWeighted,
            },
            max_interval_ns,
            interval_ns,
            poll_ns,
            tree: raw.tree.into(),
            misalignment,
            max_sessions_per_node: raw.max_sessions_per_node,
            reaper: self.reaper_knobs(at, &raw),
        }
    }

    /// How a segmented strategy paces its comparisons: (max_interval, interval, poll)
    /// in nanoseconds. Each policy reads only its own pacing knob; a knob the policy
    /// ignores is an error rather than a silent no-op.
    fn pacing(&mut self, scans: bool, at: &dyn Fn(&str) -> String, raw: &SegmentedFile) -> (u64, u64, u64) {
        let prioritised = raw.policy != PolicyFile::RoundRobin;
        let max_interval_ns = match raw.max_interval {
            Some(d) => {
                self.require(
                    d.0 > 0,
                    &at("max_interval"),
                    "positive",
                    "0s",
                    "the starvation bound, e.g. \"10min\"",
                );
                d.0
            }
            None if prioritised => {
                self.error(
                    &at("policy"),
                    "a prioritised policy needs `max_interval`, its starvation bound".into(),
                    "add max_interval = \"10min\": every segment is compared at least that often",
                );
                u64::MAX
            }
            None => u64::MAX,
        };
        if prioritised && raw.interval.is_some() {
            self.error(
                &at("interval"),
                "`interval` paces round-robin passes; prioritised policies do not use it".into(),
                "remove it; `max_interval` bounds how long any segment waits",
            );
        }
        if !prioritised && raw.max_interval.is_some() {
            self.error(
                &at("max_interval"),
                "`max_interval` is the starvation bound of prioritised policies; round robin does not use it".into(),
                "remove it, or set policy = \"hottest_first\" or \"age_weighted\"",
            );
        }
        let interval_ns = raw.interval.map_or(0, |d| d.0);
        if !prioritised {
            let live = matches!(raw.tree, TreeFile::Live);
            self.require(
                interval_ns > 0 || (scans && !live),
                &at("interval"),
                "positive for live trees or when `cluster.scan_cost_per_key` is zero",
                "0s",
                "back-to-back passes need a scan that takes time, or the run loops at one instant",
            );
        }
        let poll_ns = raw.poll.map_or(100_000_000, |d| d.0);
        self.require(
            poll_ns > 0,
            &at("poll"),
            "positive",
            "0s",
            "idle workers look for work this often, e.g. \"100ms\"",
        );
        (max_interval_ns, interval_ns, poll_ns)
    }

    /// Whether the peers agree on segment boundaries with node 0, and how they do not.
    fn misalignment(&mut self, at: &dyn Fn(&str) -> String, keys: u64, raw: &SegmentedFile) -> Misalignment {
        match raw.misalignment {
            None => Misalignment::Aligned,
            Some(MisalignmentFile::Offset { keys: offset }) => {
                self.require(
                    offset >= 1 && offset < keys,
                    &at("misalignment.keys"),
                    "between 1 and the number of keys - 1",
                    offset,
                    "",
                );
                Misalignment::Offset { keys: offset }
            }
            Some(MisalignmentFile::Segments { peer_segments }) => {
                self.require(
                    peer_segments >= 1 && peer_segments < raw.segments,
                    &at("misalignment.peer_segments"),
                    "between 1 and `segments` - 1",
                    peer_segments,
                    "the peers cut fewer segments than node 0, so every peer segment is still compared",
                );
                Misalignment::SegmentCount {
                    peer_segments: peer_segments.max(1),
                }
            }
        }
    }

    /// Reaper's knobs of a segmented strategy: `segment_timeout`, `intensity`,
    /// `parallelism`; absent, they change nothing.
    pub(super) fn reaper_knobs(&mut self, at: &dyn Fn(&str) -> String, raw: &SegmentedFile) -> ReaperKnobs {
        if let Some(timeout) = raw.segment_timeout {
            self.positive(
                timeout.0,
                &at("segment_timeout"),
                "Reaper's hangingRepairTimeoutMins is 30: segment_timeout = \"30min\"",
            );
        }
        let intensity = raw.intensity.unwrap_or(1.0);
        let intensity_ok = intensity.is_finite() && intensity > 0.0 && intensity <= 1.0;
        self.require(
            intensity_ok,
            &at("intensity"),
            "a number in (0, 1]",
            intensity,
            "after a segment of duration d a worker pauses d x (1 - intensity) / intensity: 0.5 sleeps half the time",
        );
        if let Some(interval) = raw.scheduling_interval {
            self.positive(
                interval.0,
                &at("scheduling_interval"),
                "Reaper's repairManagerSchedulingIntervalSeconds is 10: scheduling_interval = \"10s\"",
            );
        }
        ReaperKnobs {
            segment_timeout_ns: raw.segment_timeout.map(|d| d.0.max(1)),
            split: match raw.segment_split {
                Some(SegmentSplitFile::Reaper) => SegmentSplit::Reaper,
                _ => SegmentSplit::Proportional,
            },
            scheduling_interval_ns: raw.scheduling_interval.map(|d| d.0.max(1)),
            postpone_sleep_ns: raw.postpone_sleep.map_or(0, |d| d.0),
            intensity: if intensity_ok { intensity } else { 1.0 },
            // One data centre: datacenter-aware repair (all replicas of one DC at a
            // time) is parallel repair.
            parallelism: match raw.parallelism {
                Some(ParallelismFile::Sequential) => RepairParallelism::Sequential,
                _ => RepairParallelism::Parallel,
            },
        }
    }
}
