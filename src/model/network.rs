//! The network between nodes: message latency, loss of replication messages, and the
//! bandwidth of each directed link.
//!
//! Replication messages are small, fire-and-forget and lossy: a lost one leaves the
//! receiver stale, which is the drift anti-entropy exists to repair. Anti-entropy
//! traffic (hash exchanges and record streams) runs over a reliable connection: it is
//! never lost, but it queues behind earlier anti-entropy traffic on the same link and
//! takes `bytes / bandwidth` to transmit, so streaming a large range takes real time.

use super::NodeId;
use crate::sim::{SimTime, StreamId, stream};
use rand::Rng;
use rand_chacha::ChaCha12Rng;
use rand_distr::{Distribution, Exp};

/// A distribution of one-way message latency, in nanoseconds.
#[derive(Clone, Debug, PartialEq)]
pub enum Latency {
    Constant { nanos: u64 },
    Uniform { min_nanos: u64, max_nanos: u64 },
    Exponential { mean_nanos: u64 },
}

impl Latency {
    pub fn sample(&self, rng: &mut ChaCha12Rng) -> u64 {
        match *self {
            Latency::Constant { nanos } => nanos,
            Latency::Uniform { min_nanos, max_nanos } => rng.random_range(min_nanos..=max_nanos),
            Latency::Exponential { mean_nanos } => {
                if mean_nanos == 0 {
                    return 0;
                }
                let exp = Exp::new(1.0 / mean_nanos as f64).expect("positive rate");
                exp.sample(rng).round() as u64
            }
        }
    }
}

impl NetworkConfig {
    /// A latency almost every message stays under: the maximum, or eight times the
    /// exponential mean (exceeded with probability e^-8), for sizing estimates.
    pub fn latency_bound_ns(&self) -> u64 {
        match self.latency {
            Latency::Constant { nanos } => nanos,
            Latency::Uniform { max_nanos, .. } => max_nanos,
            Latency::Exponential { mean_nanos } => mean_nanos.saturating_mul(8),
        }
    }
}

/// Network parameters of a scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkConfig {
    /// Probability that one replication message is lost.
    pub loss_probability: f64,
    pub latency: Latency,
    /// Capacity of each directed link for anti-entropy traffic.
    pub bandwidth_bytes_per_s: u64,
}

/// Fate of one replication message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    Arrives(SimTime),
    Lost,
}

/// The cluster's links and the random streams that decide message fates.
pub struct Network {
    config: NetworkConfig,
    nodes: usize,
    /// When each directed link (`from * nodes + to`) finishes its queued transmissions.
    link_free_at: Vec<SimTime>,
    loss_rng: ChaCha12Rng,
    replication_latency_rng: ChaCha12Rng,
    exchange_latency_rng: ChaCha12Rng,
}

impl Network {
    pub fn new(config: NetworkConfig, nodes: usize, seed: u64) -> Network {
        Network {
            config,
            nodes,
            link_free_at: vec![SimTime::ZERO; nodes * nodes],
            loss_rng: stream(seed, StreamId::ReplicationLoss),
            replication_latency_rng: stream(seed, StreamId::ReplicationLatency),
            exchange_latency_rng: stream(seed, StreamId::ExchangeLatency),
        }
    }

    /// Decides the fate of a replication message sent at `now`. Exactly one loss draw
    /// and one latency draw per message, whatever the outcome, so the fates of later
    /// messages do not depend on earlier ones.
    pub fn send_replication(&mut self, now: SimTime) -> Delivery {
        let lost = self.loss_rng.random_bool(self.config.loss_probability);
        let latency = self.config.latency.sample(&mut self.replication_latency_rng);
        if lost {
            Delivery::Lost
        } else {
            Delivery::Arrives(now.after(latency))
        }
    }

    /// Puts `bytes` of other traffic (a hint's replay) on the link from `from` to `to` at
    /// `now`, after earlier traffic on it, and returns when its transmission ends:
    /// anti-entropy sent after it waits until then. Draws nothing.
    pub fn occupy_link(&mut self, from: NodeId, to: NodeId, bytes: u64, now: SimTime) -> SimTime {
        let link = from * self.nodes + to;
        let start = self.link_free_at[link].max(now);
        let transmit_ns = u128::from(bytes) * 1_000_000_000 / u128::from(self.config.bandwidth_bytes_per_s);
        self.link_free_at[link] = start.after(u64::try_from(transmit_ns).unwrap_or(u64::MAX));
        self.link_free_at[link]
    }

    /// Sends `bytes` of anti-entropy traffic from `from` to `to` at `now`; returns the
    /// arrival time. Transmission waits for earlier traffic on the same link.
    pub fn send_exchange(&mut self, from: NodeId, to: NodeId, bytes: u64, now: SimTime) -> SimTime {
        let done = self.occupy_link(from, to, bytes, now);
        done.after(self.config.latency.sample(&mut self.exchange_latency_rng))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(loss_probability: f64) -> NetworkConfig {
        NetworkConfig {
            loss_probability,
            latency: Latency::Constant { nanos: 1_000 },
            bandwidth_bytes_per_s: 1_000_000,
        }
    }

    #[test]
    fn other_traffic_on_a_link_delays_anti_entropy_behind_it() {
        let mut network = Network::new(config(0.0), 2, 1);
        // 1 MB/s: half a megabyte of hints holds the link 0.5 s.
        network.occupy_link(0, 1, 500_000, SimTime::ZERO);
        let arrival = network.send_exchange(0, 1, 1_000, SimTime::ZERO);
        assert_eq!(arrival.nanos(), 500_000_000 + 1_000_000 + 1_000);
        // The other direction is a link of its own.
        assert_eq!(network.send_exchange(1, 0, 1_000, SimTime::ZERO).nanos(), 1_001_000);
    }

    #[test]
    fn bandwidth_queues_transmissions() {
        let mut network = Network::new(config(0.0), 2, 1);
        let t0 = SimTime::ZERO;
        // 1 MB at 1 MB/s takes one second, then one microsecond of latency.
        assert_eq!(
            network.send_exchange(0, 1, 1_000_000, t0),
            SimTime::from_nanos(1_000_001_000)
        );
        // The second message waits for the first on the same link...
        assert_eq!(
            network.send_exchange(0, 1, 500_000, t0),
            SimTime::from_nanos(1_500_001_000)
        );
        // ...but not on the reverse link.
        assert_eq!(
            network.send_exchange(1, 0, 500_000, t0),
            SimTime::from_nanos(500_001_000)
        );
    }

    #[test]
    fn loss_rate_is_respected() {
        let mut network = Network::new(config(0.1), 2, 9);
        let lost = (0..100_000)
            .filter(|_| network.send_replication(SimTime::ZERO) == Delivery::Lost)
            .count();
        assert!((9_500..10_500).contains(&lost), "lost {lost} of 100000 at p = 0.1");
    }

    #[test]
    fn exponential_latency_has_its_mean() {
        let mut rng = stream(3, StreamId::ReplicationLatency);
        let latency = Latency::Exponential { mean_nanos: 2_000_000 };
        let mean = (0..100_000).map(|_| latency.sample(&mut rng)).sum::<u64>() / 100_000;
        assert!((1_960_000..2_040_000).contains(&mean), "mean {mean}");
    }
}
