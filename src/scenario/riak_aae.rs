//! Checks of a `kind = "riak_aae"` strategy (Riak's active anti-entropy, classic or
//! Tictac): its defaults are Riak's (riak.conf / riak_kv.schema; sources in
//! `scenarios/presets/riak-aae.toml` and `riak-tictac.toml`).

use super::Checker;
use super::file::{AaeReconcilerFile, ClusterFile, RiakAaeFile};
use crate::protocol::registry::ReconcilerChoice;
use crate::strategy::RiakAaeConfig;

/// `anti_entropy_tick`: 15 s.
pub(super) const DEFAULT_TICK_NS: u64 = 15_000_000_000;
/// `anti_entropy_expire`: one week.
pub(super) const DEFAULT_EXPIRE_NS: u64 = 7 * 24 * 3_600_000_000_000;
/// `anti_entropy_build_limit`: 1 build per hour.
pub(super) const DEFAULT_BUILD_LIMIT: u32 = 1;
pub(super) const DEFAULT_BUILD_LIMIT_PERIOD_NS: u64 = 3_600_000_000_000;
/// `anti_entropy_concurrency`: 2.
pub(super) const DEFAULT_CONCURRENCY: u32 = 2;
/// The pause between Tictac's two looks (our choice: longer than replication takes).
pub(super) const DEFAULT_TICTAC_PAUSE_NS: u64 = 1_000_000_000;

impl Checker<'_> {
    /// A `riak_aae` strategy's configuration and its reconciler.
    pub(super) fn riak_aae(
        &mut self,
        at: &dyn Fn(&str) -> String,
        c: &ClusterFile,
        raw: &RiakAaeFile,
    ) -> (RiakAaeConfig, ReconcilerChoice) {
        let tictac = raw.reconciler == AaeReconcilerFile::Tictac;
        let width = raw.width.unwrap_or(crate::model::tictac_tree::DEFAULT_WIDTH);
        self.require(
            (2..=4_096).contains(&width),
            &at("width"),
            "between 2 and 4096",
            width,
            "branches of the root and segments per branch: Riak's is 1024 (1,048,576 segments)",
        );
        let width = width.clamp(2, 4_096);
        let tick_ns = raw.tick.map_or(DEFAULT_TICK_NS, |d| d.0);
        self.positive(tick_ns, &at("tick"), "Riak's anti_entropy_tick is 15s");
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
                width,
                pause_ns: raw.tictac_pause.map_or(DEFAULT_TICTAC_PAUSE_NS, |d| d.0),
                max_segments: raw.tictac_max_segments.map(|m| m.max(1)),
            }
        } else {
            ReconcilerChoice::RiakHashtree {
                width,
                hash_cost_ns: c.hash_cost.0,
            }
        };
        let config = RiakAaeConfig {
            leaves: width * width,
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
                "differing segments one exchange repairs (Tictac's max_results); leave it out for all",
            );
        }
    }
}
