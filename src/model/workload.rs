//! The client write stream: Poisson arrivals, a key distribution, a coordinator per write.
//!
//! Arrival times, keys and coordinators come from three separate random streams, so the
//! arrival times stay the same when only the key distribution changes.

use super::{Key, NodeId};
use crate::sim::{SimTime, StreamId, stream};
use rand::Rng;
use rand_chacha::ChaCha12Rng;
use rand_distr::{Distribution, Exp, Zipf};

/// How client writes choose their keys.
#[derive(Clone, Debug, PartialEq)]
pub enum KeyDistribution {
    /// Every key equally likely.
    Uniform,
    /// Key `r - 1` has weight `1 / r^exponent`: key 0 is the hottest.
    Zipf { exponent: f64 },
    /// A contiguous hot range of `key_fraction` of the key space takes `write_fraction`
    /// of the writes. With `shift_every_ns`, the hot range moves to the next block of
    /// the key space every that many nanoseconds (a shifting hotspot).
    Hotspot {
        key_fraction: f64,
        write_fraction: f64,
        shift_every_ns: Option<u64>,
    },
}

/// Workload parameters of a scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkloadConfig {
    pub writes_per_s: f64,
    pub keys: KeyDistribution,
    /// No client writes arrive at or after this instant.
    pub stop_at: SimTime,
}

/// One client write, before it is applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientWrite {
    pub key: Key,
    pub coordinator: NodeId,
}

/// Generates the client write stream of one run.
pub struct Workload {
    config: WorkloadConfig,
    key_count: u64,
    nodes: usize,
    interarrival: Option<Exp<f64>>,
    zipf: Option<Zipf<f64>>,
    arrivals_rng: ChaCha12Rng,
    keys_rng: ChaCha12Rng,
    coordinators_rng: ChaCha12Rng,
}

impl Workload {
    pub fn new(config: WorkloadConfig, key_count: u64, nodes: usize, seed: u64) -> Workload {
        let streams = [
            StreamId::WriteArrivals,
            StreamId::WriteKeys,
            StreamId::WriteCoordinators,
        ];
        Workload::with_streams(config, key_count, nodes, seed, streams)
    }

    /// The client read stream: arrivals, keys and coordinators drawn like the writes'
    /// from the read streams (`StreamId::ReadArrivals`, `ReadKeys`, `ReadCoordinators`),
    /// so reads shift no draw of the write stream.
    pub fn reads(config: WorkloadConfig, key_count: u64, nodes: usize, seed: u64) -> Workload {
        let streams = [StreamId::ReadArrivals, StreamId::ReadKeys, StreamId::ReadCoordinators];
        Workload::with_streams(config, key_count, nodes, seed, streams)
    }

    fn with_streams(
        config: WorkloadConfig,
        key_count: u64,
        nodes: usize,
        seed: u64,
        [arrivals, keys, coordinators]: [StreamId; 3],
    ) -> Workload {
        let interarrival = (config.writes_per_s > 0.0)
            .then(|| Exp::new(config.writes_per_s / 1e9).expect("validated positive finite rate"));
        let zipf = match config.keys {
            KeyDistribution::Zipf { exponent } => {
                Some(Zipf::new(key_count as f64, exponent).expect("validated zipf parameters"))
            }
            _ => None,
        };
        Workload {
            config,
            key_count,
            nodes,
            interarrival,
            zipf,
            arrivals_rng: stream(seed, arrivals),
            keys_rng: stream(seed, keys),
            coordinators_rng: stream(seed, coordinators),
        }
    }

    /// The instant of the next write after one at `now`, or `None` once writes stop.
    pub fn next_arrival(&mut self, now: SimTime) -> Option<SimTime> {
        let gap_ns = self.interarrival.as_ref()?.sample(&mut self.arrivals_rng);
        // At least one nanosecond apart, so time always moves forward between writes.
        let at = now.after((gap_ns.round() as u64).max(1));
        (at < self.config.stop_at).then_some(at)
    }

    /// No client write arrives at or after this instant.
    pub fn stop_at(&self) -> SimTime {
        self.config.stop_at
    }

    /// Draws the key and coordinator of the write arriving at `now`.
    pub fn next_write(&mut self, now: SimTime) -> ClientWrite {
        let key = self.next_key(now);
        let coordinator = self.coordinators_rng.random_range(0..self.nodes);
        ClientWrite { key, coordinator }
    }

    /// The hot key range at `now`, for hotspot workloads.
    pub fn hot_range(&self, now: SimTime) -> Option<super::KeyRange> {
        match self.config.keys {
            KeyDistribution::Hotspot {
                key_fraction,
                shift_every_ns,
                ..
            } => Some(hot_range(self.key_count, key_fraction, shift_every_ns, now)),
            _ => None,
        }
    }

    fn next_key(&mut self, now: SimTime) -> Key {
        match self.config.keys {
            KeyDistribution::Uniform => self.keys_rng.random_range(0..self.key_count),
            KeyDistribution::Zipf { .. } => {
                let rank = self.zipf.as_ref().expect("built with zipf").sample(&mut self.keys_rng);
                (rank as u64).clamp(1, self.key_count) - 1
            }
            KeyDistribution::Hotspot {
                key_fraction,
                write_fraction,
                shift_every_ns,
            } => {
                let hot = hot_range(self.key_count, key_fraction, shift_every_ns, now);
                let pick_hot = self.keys_rng.random_bool(write_fraction);
                let offset = if pick_hot {
                    self.keys_rng.random_range(0..hot.len())
                } else {
                    hot.len() + self.keys_rng.random_range(0..self.key_count - hot.len())
                };
                (hot.start + offset) % self.key_count
            }
        }
    }
}

/// The hot range of a hotspot workload at `now`: `key_fraction` of the key space
/// starting at key 0, moved forward by its own length every `shift_every_ns`.
pub fn hot_range(key_count: u64, key_fraction: f64, shift_every_ns: Option<u64>, now: SimTime) -> super::KeyRange {
    let len = ((key_count as f64 * key_fraction).round() as u64).clamp(1, key_count - 1);
    let epoch = shift_every_ns.map_or(0, |every| now.nanos() / every);
    let blocks = key_count / len;
    let start = (epoch % blocks) * len;
    super::KeyRange::new(start, start + len)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workload(keys: KeyDistribution) -> Workload {
        let config = WorkloadConfig {
            writes_per_s: 1000.0,
            keys,
            stop_at: SimTime::from_secs(1_000),
        };
        Workload::new(config, 1_000_000, 3, 5)
    }

    #[test]
    fn poisson_rate_is_respected() {
        let mut w = workload(KeyDistribution::Uniform);
        let mut now = SimTime::ZERO;
        let mut count = 0;
        while let Some(at) = w.next_arrival(now) {
            now = at;
            count += 1;
        }
        // 1000 writes/s for 1000 s: 10^6 +- a few standard deviations (1000).
        assert!((995_000..1_005_000).contains(&count), "{count} writes");
    }

    #[test]
    fn hotspot_sends_its_share_to_the_hot_range() {
        let dist = KeyDistribution::Hotspot {
            key_fraction: 0.01,
            write_fraction: 0.9,
            shift_every_ns: None,
        };
        let mut w = workload(dist);
        let hot = w.hot_range(SimTime::ZERO).unwrap();
        assert_eq!(hot, crate::model::KeyRange::new(0, 10_000));
        let in_hot = (0..100_000)
            .filter(|_| hot.contains(w.next_write(SimTime::ZERO).key))
            .count();
        // 90% hot plus the cold draws never land in the hot range.
        assert!((89_500..90_500).contains(&in_hot), "{in_hot}");
    }

    #[test]
    fn hotspot_shifts() {
        let r0 = hot_range(1_000, 0.1, Some(10), SimTime::from_nanos(5));
        let r1 = hot_range(1_000, 0.1, Some(10), SimTime::from_nanos(15));
        assert_eq!((r0.start, r1.start), (0, 100));
    }

    #[test]
    fn zipf_prefers_low_keys() {
        let mut w = workload(KeyDistribution::Zipf { exponent: 1.2 });
        let zeros = (0..10_000).filter(|_| w.next_write(SimTime::ZERO).key == 0).count();
        assert!(zeros > 1_000, "{zeros}");
    }
}
