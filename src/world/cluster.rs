//! The data plane: the ring, the replica table, the write versions handed out and the
//! replication messages in flight, with one door for every change of a replica's
//! record, [`Cluster::apply`].
//!
//! Every path that changes a record (a client write, replication, a hint replay, read
//! repair, a repair stream, a tombstone purge, bitrot) names itself as a
//! [`RecordChange`], and [`RecordChange::rules`] states in one `match` what each kind
//! does: which table method applies it, whether a changed record costs write-path
//! hashes, which fault mark it changes, whether a resurrection is checked, whether the
//! strategy hears of it, and which counter gets the credit when it ends a divergence.
//! Adding a kind means adding a variant and its arm there: a kind that does not say how
//! it is attributed does not compile.
//!
//! The cluster does not know the event queue, the network or sessions: the world's
//! handlers decide *when* a change happens and pass what it may touch in a
//! [`ChangeEnv`].

use crate::metrics::{Counters, LatencyHistogram};
use crate::model::faults::Faults;
use crate::model::replicas::{Applied, ReplicaTable};
use crate::model::ring::Ring;
use crate::model::tombstones::Tombstones;
use crate::model::workload::Workload;
use crate::model::{Column, Key, NodeId, Version};
use crate::sim::SimTime;
use crate::strategy::Strategy;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A replica of a key: its node, and its column in the key's replica set (the replica
/// table's index).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Replica {
    pub node: NodeId,
    pub column: Column,
}

/// What applying a write's record does for the write's acknowledgement: the
/// consistency-level rule, decided here and only here ([`Acknowledgement::rule`]).
/// At QUORUM or ALL the count of replicas that applied a write in time is kept by the
/// world's paths (`world::paths`, `write_begins` / `replication_arrived`), which this
/// rule hands the decision to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Acknowledgement {
    /// This apply acknowledges the write: the coordinator is a replica and the level
    /// is ONE.
    ByThisApply,
    /// The first replica to apply it acknowledges it: a coordinator that is not a
    /// replica forwarded it, at ONE.
    ByFirstApply,
    /// This apply does not decide it: at QUORUM or ALL the paths count the replicas
    /// that applied it; at ONE the replica coordinator already acknowledged it.
    Elsewhere,
}

impl Acknowledgement {
    /// The rule for an apply by `applier_is_coordinator` (the coordinator's own apply,
    /// or a replication message's), with writes at a level `above_one` or not, and a
    /// coordinator that is or is not a replica of the key.
    pub fn rule(above_one: bool, coordinator_is_replica: bool, applier_is_coordinator: bool) -> Acknowledgement {
        match (above_one, coordinator_is_replica, applier_is_coordinator) {
            (true, _, _) => Acknowledgement::Elsewhere,
            (false, true, true) => Acknowledgement::ByThisApply,
            (false, true, false) => Acknowledgement::Elsewhere,
            (false, false, _) => Acknowledgement::ByFirstApply,
        }
    }
}

/// One change of a replica's record, by the path that makes it. Each kind's rules are
/// in [`RecordChange::rules`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum RecordChange {
    /// The coordinator, a replica of the key, applies a client write (a new version,
    /// newer than every copy).
    ClientWrite {
        to: Replica,
        acknowledgement: Acknowledgement,
    },
    /// A write's replication message is applied by a replica; `written` is when the
    /// client wrote it (to tell a write's own replication from a later write covering
    /// an earlier lost one).
    Replication {
        to: Replica,
        acknowledgement: Acknowledgement,
        written: SimTime,
    },
    /// A hint the coordinator `source` held is replayed to its replica.
    Hint { to: Replica, source: NodeId },
    /// A read at QUORUM or ALL writes the newest version it saw (held by `source`) to
    /// a contacted replica that lacked it.
    ReadRepair { to: Replica, source: NodeId },
    /// Anti-entropy streams a record from `source`. `backwards` is the test hook of a
    /// broken repair (the receiver's older version written over the sender's): it is
    /// applied by `set_version`, and the check that no repair lowers a version stops
    /// the run.
    RepairStream {
        to: Replica,
        source: NodeId,
        backwards: bool,
    },
    /// A compaction purges a tombstone older than gc_grace from every replica holding
    /// it.
    Purge,
    /// Bitrot reverts a stored record to version 0 (the node does not notice).
    Rot { to: Replica },
    // A node joining the ring and streaming its ranges (bootstrap or rebuild) would be
    // `BootstrapStream { to: Replica, source: NodeId }`: table `ApplyRepair` (not a
    // write for incremental repair), `charges_write_path: true`, fault mark `Repaired`,
    // resurrection checked from `source`, strategy not told (it sees the new node's
    // ranges, not its records), its own credit counter (`Credit::Bootstrap`) so the
    // attribution invariant names it.
}

/// Which replica-table method applies a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TableMethod {
    /// `client_write`: applies and acknowledges (the acknowledged-latest version moves).
    ClientWrite(Replica),
    /// `apply`: last writer wins, a write for `written_since`.
    Apply(Replica),
    /// `apply_forwarded`: the first replica to apply it acknowledges it.
    ApplyForwarded(Replica),
    /// `apply_repair`: last writer wins, not a write for `written_since`.
    ApplyRepair(Replica),
    /// `set_version`: any version, older included (faults and the broken-repair hook).
    SetVersion(Replica),
    /// `purge`: every replica holding the version goes back to 0.
    PurgeEveryReplica,
}

impl TableMethod {
    /// The table method that carries out `acknowledgement` on `to`.
    fn acknowledging(acknowledgement: Acknowledgement, to: Replica) -> TableMethod {
        match acknowledgement {
            Acknowledgement::ByThisApply => TableMethod::ClientWrite(to),
            Acknowledgement::ByFirstApply => TableMethod::ApplyForwarded(to),
            Acknowledgement::Elsewhere => TableMethod::Apply(to),
        }
    }

    fn replica(self) -> Option<Replica> {
        match self {
            TableMethod::ClientWrite(r)
            | TableMethod::Apply(r)
            | TableMethod::ApplyForwarded(r)
            | TableMethod::ApplyRepair(r)
            | TableMethod::SetVersion(r) => Some(r),
            TableMethod::PurgeEveryReplica => None,
        }
    }
}

/// What a changed record does to the fault model's marks (which fault broke a record).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FaultMark {
    /// Untouched.
    Untouched,
    /// A newer write replaced it: whatever a fault did no longer matters.
    Superseded,
    /// Anti-entropy repaired it: the fault that broke it gets the credit.
    Repaired,
}

/// Which counter is credited when a change ends a key's divergence episode (every
/// episode is ended by exactly one, an invariant: `World::unattributed_divergences`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Credit {
    /// The change cannot end a divergence (a client write makes a new version; rot
    /// only strikes a version another replica also holds).
    Never,
    /// `healed_by_replication`, or `lost_writes_covered` when a later write covered
    /// an earlier lost one.
    Replication { written: SimTime },
    /// `paths.healed_by_hint`.
    Hint,
    /// `paths.healed_by_read_repair`.
    ReadRepair,
    /// `keys_repaired` with its repair latency, or `repairs_raced_replication` when
    /// replication was about to deliver the same version.
    AntiEntropy,
    /// `paths.healed_by_purge`.
    Purge,
}

/// A counter of records a path applied, counted per applied record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum WorkCounter {
    None,
    /// `records_applied`, for each changed record.
    RecordsApplied,
    /// `paths.read_repair_records`, for each record written.
    ReadRepairRecords,
}

/// The rules of one kind of change, stated together.
#[derive(Clone, Copy, Debug)]
struct Rules {
    table: TableMethod,
    /// A changed record costs a live tree's write-path hashes.
    charges_write_path: bool,
    fault_mark: FaultMark,
    /// The node whose copy the changed record came from, checked for a resurrection
    /// (a value whose tombstone was purged coming back).
    resurrection_from: Option<NodeId>,
    /// The strategy hears of the changed record (`Strategy::on_local_write`).
    strategy_hears: bool,
    credit: Credit,
    work: WorkCounter,
    /// The change is checked never to lower the replica's version (a violation stops
    /// the run): the per-event check on repairs.
    checks_not_lowered: bool,
}

impl RecordChange {
    /// Every kind's rules, in one match.
    fn rules(self) -> Rules {
        match self {
            RecordChange::ClientWrite { to, acknowledgement } => Rules {
                table: TableMethod::acknowledging(acknowledgement, to),
                charges_write_path: true,
                fault_mark: FaultMark::Superseded,
                resurrection_from: None,
                strategy_hears: true,
                credit: Credit::Never,
                work: WorkCounter::None,
                checks_not_lowered: false,
            },
            RecordChange::Replication {
                to,
                acknowledgement,
                written,
            } => Rules {
                table: TableMethod::acknowledging(acknowledgement, to),
                charges_write_path: true,
                fault_mark: FaultMark::Superseded,
                resurrection_from: None,
                strategy_hears: true,
                credit: Credit::Replication { written },
                work: WorkCounter::None,
                checks_not_lowered: false,
            },
            // A hint held past gc_grace (Cassandra would have let it expire) can bring
            // back a value whose tombstone was purged meanwhile.
            RecordChange::Hint { to, source } => Rules {
                table: TableMethod::Apply(to),
                charges_write_path: true,
                fault_mark: FaultMark::Superseded,
                resurrection_from: Some(source),
                strategy_hears: true,
                credit: Credit::Hint,
                work: WorkCounter::None,
                checks_not_lowered: false,
            },
            RecordChange::ReadRepair { to, source } => Rules {
                table: TableMethod::Apply(to),
                charges_write_path: true,
                fault_mark: FaultMark::Superseded,
                resurrection_from: Some(source),
                strategy_hears: true,
                credit: Credit::ReadRepair,
                work: WorkCounter::ReadRepairRecords,
                checks_not_lowered: false,
            },
            RecordChange::RepairStream { to, source, backwards } => Rules {
                table: if backwards {
                    TableMethod::SetVersion(to)
                } else {
                    TableMethod::ApplyRepair(to)
                },
                charges_write_path: true,
                fault_mark: FaultMark::Repaired,
                resurrection_from: Some(source),
                strategy_hears: false,
                credit: Credit::AntiEntropy,
                work: WorkCounter::RecordsApplied,
                checks_not_lowered: true,
            },
            RecordChange::Purge => Rules {
                table: TableMethod::PurgeEveryReplica,
                charges_write_path: false,
                fault_mark: FaultMark::Untouched,
                resurrection_from: None,
                strategy_hears: false,
                credit: Credit::Purge,
                work: WorkCounter::None,
                checks_not_lowered: false,
            },
            // Rot costs no write-path hashing: the node does not notice.
            RecordChange::Rot { to } => Rules {
                table: TableMethod::SetVersion(to),
                charges_write_path: false,
                fault_mark: FaultMark::Untouched,
                resurrection_from: None,
                strategy_hears: false,
                credit: Credit::Never,
                work: WorkCounter::None,
                checks_not_lowered: false,
            },
        }
    }
}

/// A change lowered a replica's version (a broken repair): the run must stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Lowered {
    pub before: Version,
    pub after: Version,
}

/// Repair latencies of every key anti-entropy repaired, and split by whether the key
/// was in the workload's hot range when it diverged (hotspot workloads).
#[derive(Default)]
pub(super) struct RepairLatencies {
    pub all: LatencyHistogram,
    pub hot: LatencyHistogram,
    pub cold: LatencyHistogram,
}

/// What a record change may touch besides the cluster, borrowed for one change.
pub(super) struct ChangeEnv<'a> {
    pub now: SimTime,
    pub counters: &'a mut Counters,
    pub faults: &'a mut Faults,
    pub strategy: &'a mut dyn Strategy,
    /// Deletes' tombstones (`None`: no deletes).
    pub tombstones: Option<&'a mut Tombstones>,
    pub latencies: &'a mut RepairLatencies,
    /// The write workload (which keys are hot when).
    pub workload: &'a Workload,
}

/// The ring, the replicas and the writes in flight between them.
pub(super) struct Cluster {
    /// Which nodes store which keys.
    pub ring: Arc<Ring>,
    pub replicas: ReplicaTable,
    next_version: Version,
    /// Replication messages scheduled and not yet arrived: with no loss, zero of them
    /// after the writes stop means the replicas must be identical.
    pub replication_in_flight: u64,
    /// Replication messages in flight, by (key, receiver, version), with their number
    /// (duplicates count twice): tells a repair of a lost write from one that merely
    /// beat replication to the key.
    in_flight: BTreeMap<(Key, NodeId, Version), u32>,
    /// Hashes a changed record costs on the write path (0 unless trees are live).
    write_path_hashes_per_change: u64,
    hash_cost_ns: u64,
}

impl Cluster {
    pub fn new(ring: Arc<Ring>, key_count: u64, write_path_hashes_per_change: u64, hash_cost_ns: u64) -> Cluster {
        Cluster {
            replicas: ReplicaTable::for_key_space(ring.replication_factor(), key_count),
            ring,
            next_version: 1,
            replication_in_flight: 0,
            in_flight: BTreeMap::new(),
            write_path_hashes_per_change,
            hash_cost_ns,
        }
    }

    /// The version of the next client write (versions only grow).
    pub fn new_version(&mut self) -> Version {
        let version = self.next_version;
        self.next_version += 1;
        version
    }

    /// `key`'s replica on `node`, if `node` is one.
    pub fn replica(&self, node: NodeId, key: Key) -> Option<Replica> {
        self.ring.position(node, key).map(|column| Replica { node, column })
    }

    /// A replication message of `version` of `key` to `to` was scheduled.
    pub fn replication_scheduled(&mut self, key: Key, to: NodeId, version: Version) {
        self.replication_in_flight += 1;
        *self.in_flight.entry((key, to, version)).or_insert(0) += 1;
    }

    /// Forgets one in-flight replication message (it arrived or was dropped on arrival).
    pub fn replication_landed(&mut self, key: Key, to: NodeId, version: Version) {
        self.replication_in_flight -= 1;
        let count = self
            .in_flight
            .get_mut(&(key, to, version))
            .expect("sent before it arrives");
        *count -= 1;
        if *count == 0 {
            self.in_flight.remove(&(key, to, version));
        }
    }

    /// Applies one record change of `version` of `key`, with its kind's rules: the one
    /// door through which a replica's record changes. Returns what the table did, or
    /// the lowering a checked kind must never make.
    pub fn apply(
        &mut self,
        change: RecordChange,
        key: Key,
        version: Version,
        env: &mut ChangeEnv,
    ) -> Result<Applied, Lowered> {
        let rules = change.rules();
        let replica = rules.table.replica();
        let before = match (rules.checks_not_lowered, replica) {
            (true, Some(r)) => Some(self.replicas.version(r.column, key)),
            _ => None,
        };
        let applied = self.apply_to_table(rules.table, key, version, env);
        if let (Some(before), Some(r)) = (before, replica) {
            let after = self.replicas.version(r.column, key);
            if after < before {
                return Err(Lowered { before, after });
            }
        }
        match rules.work {
            WorkCounter::None => {}
            WorkCounter::RecordsApplied => env.counters.records_applied += u64::from(applied.changed),
            WorkCounter::ReadRepairRecords => env.counters.paths.read_repair_records += 1,
        }
        if applied.changed {
            self.changed(&rules, replica, key, version, env);
        }
        if let Some(latency_ns) = applied.healed_after_ns {
            self.credit(rules.credit, replica, key, version, latency_ns, env);
        }
        Ok(applied)
    }

    /// The table method of a change, and the acknowledgement it counts.
    fn apply_to_table(&mut self, table: TableMethod, key: Key, version: Version, env: &mut ChangeEnv) -> Applied {
        let now = env.now;
        match table {
            TableMethod::ClientWrite(to) => {
                env.counters.paths.writes_acknowledged += 1;
                self.replicas.client_write(to.column, key, version, now)
            }
            TableMethod::Apply(to) => self.replicas.apply(to.column, key, version, now),
            TableMethod::ApplyForwarded(to) => {
                let (applied, acknowledges) = self.replicas.apply_forwarded(to.column, key, version, now);
                env.counters.paths.writes_acknowledged += u64::from(acknowledges);
                applied
            }
            TableMethod::ApplyRepair(to) => self.replicas.apply_repair(to.column, key, version, now),
            TableMethod::SetVersion(to) => self.replicas.set_version(to.column, key, version, now),
            TableMethod::PurgeEveryReplica => self.replicas.purge(key, version, now),
        }
    }

    /// A changed record's consequences: the fault mark, the write-path charge, the
    /// resurrection check and the strategy's notice, as the kind's rules say.
    fn changed(&mut self, rules: &Rules, replica: Option<Replica>, key: Key, version: Version, env: &mut ChangeEnv) {
        let node = replica.map(|r| r.node);
        match (rules.fault_mark, node) {
            (FaultMark::Superseded, Some(node)) => env.faults.superseded(key, node),
            (FaultMark::Repaired, Some(node)) => env.faults.repaired(key, node),
            _ => {}
        }
        if rules.charges_write_path {
            // A live tree pays one leaf rehash and one per ancestor on the write path.
            // (The tree cache needs no notice: it asks the replica table what changed
            // when a tree is next requested.)
            let hashes = self.write_path_hashes_per_change;
            env.counters.write_path_hash_ops += hashes;
            env.counters.write_path_hash_ns += hashes.saturating_mul(self.hash_cost_ns);
        }
        if let Some(source) = rules.resurrection_from {
            self.check_resurrection(key, version, source, env);
        }
        if rules.strategy_hears
            && let Some(node) = node
        {
            env.strategy.on_local_write(node, key, env.now);
        }
    }

    /// A change ended `key`'s divergence episode of `latency_ns`: its kind's counter
    /// gets the credit.
    fn credit(
        &mut self,
        credit: Credit,
        replica: Option<Replica>,
        key: Key,
        version: Version,
        latency_ns: u64,
        env: &mut ChangeEnv,
    ) {
        let now = env.now;
        let counters = &mut *env.counters;
        match credit {
            Credit::Never => return,
            Credit::Replication { written } => {
                // The key diverged before this write was made, and no older message
                // for this replica is still on its way: an earlier write's message was
                // lost, and this later write covered it up rather than repairing it.
                let to = replica.expect("replication goes to a replica").node;
                let diverged = now.nanos() - latency_ns;
                let older_in_flight = self.in_flight.range((key, to, 0)..(key, to, version)).next().is_some();
                if diverged < written.nanos() && !older_in_flight {
                    counters.lost_writes_covered += 1;
                } else {
                    counters.healed_by_replication += 1;
                }
            }
            Credit::Hint => counters.paths.healed_by_hint += 1,
            Credit::ReadRepair => counters.paths.healed_by_read_repair += 1,
            Credit::Purge => counters.paths.healed_by_purge += 1,
            Credit::AntiEntropy => {
                env.faults.healed(key, now);
                let target = replica.expect("a stream goes to a replica").node;
                if self
                    .in_flight
                    .range((key, target, version)..=(key, target, u64::MAX))
                    .next()
                    .is_some()
                {
                    // Replication was about to deliver this very version: anti-entropy
                    // only raced it. Not a lost write, so not a repair latency.
                    counters.repairs_raced_replication += 1;
                    return;
                }
                counters.keys_repaired += 1;
                env.latencies.all.record(latency_ns);
                let diverged = SimTime::from_nanos(now.nanos() - latency_ns);
                if env.workload.hot_range(diverged).is_some_and(|hot| hot.contains(key)) {
                    env.latencies.hot.record(latency_ns);
                } else {
                    env.latencies.cold.record(latency_ns);
                }
                return;
            }
        }
        env.faults.healed(key, now);
    }

    /// A change copied `version` of `key` from `source` (which held it): counts a
    /// resurrection if the key's tombstone was purged and the version is older.
    fn check_resurrection(&self, key: Key, version: Version, source: NodeId, env: &mut ChangeEnv) {
        let range = self.ring.piece_of(key);
        if let Some(tombstones) = env.tombstones.as_deref_mut() {
            let newest_held = self.replicas.versions(key).into_iter().max().unwrap_or(0);
            tombstones.repaired(key, version, newest_held, (source, range), env.now);
        }
    }
}
