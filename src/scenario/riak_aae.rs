//! Checks of a `kind = "riak_aae"` strategy (Riak's active anti-entropy, classic or
//! Tictac): its defaults are Riak's (riak.conf / riak_kv.schema; sources in
//! `scenarios/presets/riak-aae.toml` and `riak-tictac.toml`).

use super::Checker;
use super::file::{AaeReconcilerFile, ClusterFile, RiakAaeFile};
use crate::model::tictac_tree::TreeShape;
use crate::protocol::registry::ReconcilerChoice;
use crate::protocol::riak::BuildThrottle;
use crate::strategy::RiakAaeConfig;

/// `anti_entropy_tick`: 15 s.
pub(super) const DEFAULT_TICK_NS: u64 = 15_000_000_000;
/// `anti_entropy_expire`: one week.
pub(super) const DEFAULT_EXPIRE_NS: u64 = 7 * 24 * 3_600_000_000_000;
/// `anti_entropy_build_limit`: 1 build per hour.
pub(super) const DEFAULT_BUILD_LIMIT: u32 = 1;
pub(super) const DEFAULT_BUILD_LIMIT_PERIOD_NS: u64 = 3_600_000_000_000;
/// The build throttle's sleep per 1,000,000 bytes folded: 100 ms
/// (`riak_kv_index_hashtree.erl`: `DEFAULT_BUILD_THROTTLE {1000000, 100}`).
pub(super) const DEFAULT_BUILD_THROTTLE_NS: u64 = 100_000_000;
/// `anti_entropy_concurrency`: 2.
pub(super) const DEFAULT_CONCURRENCY: u32 = 2;
/// The pause between Tictac's two looks: kv_index_tictactree `aae_exchange.erl`,
/// `TRANSITION_PAUSE_MS 500` jittered as `uniform(500) + 250` ms; its mean.
pub(super) const DEFAULT_TICTAC_PAUSE_NS: u64 = 500_000_000;
/// `tictacaae_exchangetick`: 480,000 ms (basho/riak_kv `priv/riak_kv.schema`).
pub(super) const TICTAC_EXCHANGE_TICK_NS: u64 = 480_000_000_000;
/// `tictacaae_maxresults`: 64 segments repaired per exchange (`riak_kv.schema`).
pub(super) const DEFAULT_TICTAC_MAX_SEGMENTS: u32 = 64;
/// Tictac's large tree (kv_index_tictactree `include/aae.hrl`: `TREE_SIZE large`;
/// martinsumner/leveled `leveled_tictac.erl`: large = 4,096, `L2_CHUNKSIZE 256`).
pub(super) const TICTAC_BRANCHES: u32 = 4_096;
pub(super) const TICTAC_SEGMENTS_PER_BRANCH: u32 = 256;

impl Checker<'_> {
    /// A `riak_aae` strategy's configuration and its reconciler.
    pub(super) fn riak_aae(
        &mut self,
        at: &dyn Fn(&str) -> String,
        c: &ClusterFile,
        raw: &RiakAaeFile,
    ) -> (RiakAaeConfig, ReconcilerChoice) {
        let tictac = raw.reconciler == AaeReconcilerFile::Tictac;
        // Riak's trees when no shape is given: the classic hashtree's 1,024 x 1,024,
        // Tictac's large tree of 4,096 x 256; a `width` alone makes a square tree.
        let default_width = if tictac {
            TICTAC_BRANCHES
        } else {
            crate::model::tictac_tree::DEFAULT_WIDTH
        };
        let width = raw.width.unwrap_or(default_width);
        let default_per_branch = if tictac && raw.width.is_none() {
            TICTAC_SEGMENTS_PER_BRANCH
        } else {
            width
        };
        self.require(
            (2..=4_096).contains(&width),
            &at("width"),
            "between 2 and 4096",
            width,
            "branches of the root: Riak's classic hashtree has 1024 (1,048,576 segments), Tictac's large tree 4096",
        );
        let width = width.clamp(2, 4_096);
        let per_branch = raw.segments_per_branch.unwrap_or(default_per_branch.clamp(1, 4_096));
        self.require(
            (1..=4_096).contains(&per_branch),
            &at("segments_per_branch"),
            "between 1 and 4096",
            per_branch,
            "segments of each branch: Tictac's large tree has 256 (4,096 x 256), the classic hashtree `width`",
        );
        let shape = TreeShape {
            branches: width,
            segments_per_branch: per_branch.clamp(1, 4_096),
        };
        let default_tick_ns = if tictac {
            TICTAC_EXCHANGE_TICK_NS
        } else {
            DEFAULT_TICK_NS
        };
        let tick_ns = raw.tick.map_or(default_tick_ns, |d| d.0);
        self.positive(
            tick_ns,
            &at("tick"),
            "Riak's anti_entropy_tick is 15s, tictacaae_exchangetick 480s",
        );
        let expire_ns = self.riak_expire(at, raw, tictac);
        let build_limit = raw.build_limit.unwrap_or(DEFAULT_BUILD_LIMIT);
        self.require(
            build_limit >= 1,
            &at("build_limit"),
            "at least 1",
            build_limit,
            "builds per node per `build_limit_period`: Riak's is 1 per hour",
        );
        let build_limit_period_ns = raw.build_limit_period.map_or(DEFAULT_BUILD_LIMIT_PERIOD_NS, |d| d.0);
        self.positive(build_limit_period_ns, &at("build_limit_period"), "Riak's is 1h");
        let concurrency = raw.concurrency.unwrap_or(DEFAULT_CONCURRENCY);
        self.require(
            concurrency >= 1,
            &at("concurrency"),
            "at least 1",
            concurrency,
            "exchanges and builds one node takes part in at once: Riak's is 2",
        );
        self.tictac_knobs(at, raw, tictac);
        let reconciler = if tictac {
            ReconcilerChoice::Tictac {
                shape,
                pause_ns: raw.tictac_pause.map_or(DEFAULT_TICTAC_PAUSE_NS, |d| d.0),
                max_segments: Some(raw.tictac_max_segments.unwrap_or(DEFAULT_TICTAC_MAX_SEGMENTS).max(1)),
            }
        } else {
            ReconcilerChoice::RiakHashtree {
                width,
                hash_cost_ns: c.hash_cost.0,
                throttle: BuildThrottle {
                    pause_ns: raw.build_throttle.map_or(DEFAULT_BUILD_THROTTLE_NS, |d| d.0),
                    ..BuildThrottle::riak(c.record_bytes)
                },
            }
        };
        let config = RiakAaeConfig {
            leaves: shape.branches * shape.segments_per_branch,
            tick_ns: tick_ns.max(1),
            expire_ns,
            build_limit: build_limit.max(1),
            build_limit_period_ns: build_limit_period_ns.max(1),
            concurrency: concurrency.max(1),
            tictac,
        };
        (config, reconciler)
    }

    /// `expire`: how long a classic hashtree lives before it is rebuilt (a duration or
    /// "never"); Tictac trees never expire.
    fn riak_expire(&mut self, at: &dyn Fn(&str) -> String, raw: &RiakAaeFile, tictac: bool) -> Option<u64> {
        let expire_ns = match raw.expire.as_deref().map(str::trim) {
            None if tictac => None,
            None => Some(DEFAULT_EXPIRE_NS),
            Some("never") => None,
            Some(text) => match humantime::parse_duration(text) {
                Ok(d) if d.as_nanos() > 0 && d.as_nanos() <= u128::from(u64::MAX) => Some(d.as_nanos() as u64),
                _ => {
                    self.error(
                        &at("expire"),
                        format!(
                            "`{}` must be a positive duration or \"never\", got \"{text}\"",
                            at("expire")
                        ),
                        "Riak's anti_entropy_expire is one week: expire = \"1week\"",
                    );
                    None
                }
            },
        };
        if tictac && expire_ns.is_some() {
            self.error(
                &at("expire"),
                "Tictac trees are kept current by XOR deltas and never expire".into(),
                "remove `expire`, or set reconciler = \"riak_hashtree\"",
            );
        }
        expire_ns
    }

    /// Tictac's own knobs, refused beside the classic hashtree.
    fn tictac_knobs(&mut self, at: &dyn Fn(&str) -> String, raw: &RiakAaeFile, tictac: bool) {
        if tictac && raw.build_throttle.is_some() {
            self.error(
                &at("build_throttle"),
                "`build_throttle` slows classic AAE's tree builds; Tictac's trees are never rebuilt here".into(),
                "remove it, or set reconciler = \"riak_hashtree\"",
            );
        }
        if !tictac && raw.segments_per_branch.is_some() {
            self.error(
                &at("segments_per_branch"),
                "`segments_per_branch` shapes Tictac's tree; the classic hashtree is square (hashtree.erl: `width` x `width`)".into(),
                "remove it, or set reconciler = \"tictac\"",
            );
        }
        if !tictac && raw.tictac_pause.is_some() {
            self.error(
                &at("tictac_pause"),
                "`tictac_pause` is the pause of Tictac's double compare; the classic hashtree looks once".into(),
                "remove it, or set reconciler = \"tictac\"",
            );
        }
        if let Some(max) = raw.tictac_max_segments {
            if !tictac {
                self.error(
                    &at("tictac_max_segments"),
                    "`tictac_max_segments` bounds Tictac's clock fetches; the classic hashtree repairs every differing segment".into(),
                    "remove it, or set reconciler = \"tictac\"",
                );
            }
            self.require(
                max >= 1,
                &at("tictac_max_segments"),
                "at least 1",
                max,
                "differing segments one exchange repairs: Riak's tictacaae_maxresults is 64",
            );
        }
    }
}
