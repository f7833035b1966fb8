//! The storage engines calibrated against, behind one small interface: fjall (a
//! pure-Rust LSM tree, the closest to Cassandra's, ScyllaDB's and Riak's leveled
//! storage) and redb (a pure-Rust copy-on-write B-tree).
//!
//! Records are the ones [`super::records`] makes: an 8-byte big-endian key (so the
//! engines' byte order is key order) and a value of the rest of the record. Writes go
//! in batches without a sync per write (as a replica's memtable takes them); reads and
//! scans are plain engine calls.

use std::path::{Path, PathBuf};

/// Which engine to measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum EngineKind {
    /// fjall, an LSM tree.
    Fjall,
    /// redb, a B-tree.
    Redb,
}

impl EngineKind {
    pub fn name(self) -> &'static str {
        match self {
            EngineKind::Fjall => "fjall",
            EngineKind::Redb => "redb",
        }
    }

    /// The crate's version, as Cargo.lock pins it (for the profile's comments).
    pub fn version(self) -> &'static str {
        match self {
            EngineKind::Fjall => "2.11.2",
            EngineKind::Redb => "2.6.4",
        }
    }
}

/// An engine failure, with the operation that failed.
#[derive(Debug)]
pub struct EngineError(pub String);

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn fail(what: &str) -> impl Fn(&dyn std::fmt::Display) -> EngineError + '_ {
    move |e| EngineError(format!("{what}: {e}"))
}

const REDB_TABLE: redb::TableDefinition<&[u8], &[u8]> = redb::TableDefinition::new("records");

/// An open store in a folder.
pub enum Store {
    Fjall {
        keyspace: fjall::Keyspace,
        partition: fjall::PartitionHandle,
        folder: PathBuf,
    },
    Redb {
        db: redb::Database,
        folder: PathBuf,
    },
}

impl Store {
    /// Opens (or creates) the engine's store in `folder`.
    pub fn open(kind: EngineKind, folder: &Path) -> Result<Store, EngineError> {
        match kind {
            EngineKind::Fjall => {
                let keyspace = fjall::Config::new(folder)
                    .open()
                    .map_err(|e| fail("opening fjall")(&e))?;
                let partition = keyspace
                    .open_partition("records", fjall::PartitionCreateOptions::default())
                    .map_err(|e| fail("opening fjall's partition")(&e))?;
                Ok(Store::Fjall {
                    keyspace,
                    partition,
                    folder: folder.to_path_buf(),
                })
            }
            EngineKind::Redb => {
                std::fs::create_dir_all(folder).map_err(|e| fail("creating redb's folder")(&e))?;
                let db = redb::Database::create(folder.join("records.redb")).map_err(|e| fail("opening redb")(&e))?;
                Ok(Store::Redb {
                    db,
                    folder: folder.to_path_buf(),
                })
            }
        }
    }

    /// The folder holding the store's files.
    pub fn folder(&self) -> &Path {
        match self {
            Store::Fjall { folder, .. } | Store::Redb { folder, .. } => folder,
        }
    }

    /// Writes `records` (key, value) in one batch.
    pub fn write_batch<'a>(&self, records: impl IntoIterator<Item = (&'a [u8], &'a [u8])>) -> Result<(), EngineError> {
        match self {
            Store::Fjall {
                keyspace, partition, ..
            } => {
                let mut batch = keyspace.batch();
                for (key, value) in records {
                    batch.insert(partition, key, value);
                }
                batch.commit().map_err(|e| fail("writing a fjall batch")(&e))
            }
            Store::Redb { db, .. } => {
                let mut txn = db.begin_write().map_err(|e| fail("starting a redb write")(&e))?;
                txn.set_durability(redb::Durability::None);
                {
                    let mut table = txn
                        .open_table(REDB_TABLE)
                        .map_err(|e| fail("opening redb's table")(&e))?;
                    for (key, value) in records {
                        table.insert(key, value).map_err(|e| fail("writing to redb")(&e))?;
                    }
                }
                txn.commit().map_err(|e| fail("committing a redb write")(&e))
            }
        }
    }

    /// Writes one record on its own (a point write).
    pub fn put(&self, key: &[u8], value: &[u8]) -> Result<(), EngineError> {
        match self {
            Store::Fjall { partition, .. } => partition.insert(key, value).map_err(|e| fail("writing to fjall")(&e)),
            Store::Redb { .. } => self.write_batch([(key, value)]),
        }
    }

    /// The value of `key`, if any (a point read).
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, EngineError> {
        match self {
            Store::Fjall { partition, .. } => partition
                .get(key)
                .map(|v| v.map(|v| v.to_vec()))
                .map_err(|e| fail("reading from fjall")(&e)),
            Store::Redb { db, .. } => {
                let txn = db.begin_read().map_err(|e| fail("starting a redb read")(&e))?;
                let table = txn
                    .open_table(REDB_TABLE)
                    .map_err(|e| fail("opening redb's table")(&e))?;
                let value = table.get(key).map_err(|e| fail("reading from redb")(&e))?;
                Ok(value.map(|v| v.value().to_vec()))
            }
        }
    }

    /// Visits every record with a key in `[start, end)` in key order (`end` None: to the
    /// last key); returns how many were visited.
    pub fn scan(
        &self,
        start: &[u8],
        end: Option<&[u8]>,
        mut visit: impl FnMut(&[u8], &[u8]),
    ) -> Result<u64, EngineError> {
        let mut count = 0;
        match self {
            Store::Fjall { partition, .. } => {
                let iter: Box<dyn Iterator<Item = fjall::Result<fjall::KvPair>>> = match end {
                    Some(end) => Box::new(partition.range(start..end)),
                    None => Box::new(partition.range(start..)),
                };
                for item in iter {
                    let (key, value) = item.map_err(|e| fail("scanning fjall")(&e))?;
                    visit(&key, &value);
                    count += 1;
                }
            }
            Store::Redb { db, .. } => {
                let txn = db.begin_read().map_err(|e| fail("starting a redb read")(&e))?;
                let table = txn
                    .open_table(REDB_TABLE)
                    .map_err(|e| fail("opening redb's table")(&e))?;
                let range = match end {
                    Some(end) => table.range(start..end),
                    None => table.range(start..),
                }
                .map_err(|e| fail("scanning redb")(&e))?;
                for item in range {
                    let (key, value) = item.map_err(|e| fail("scanning redb")(&e))?;
                    visit(key.value(), value.value());
                    count += 1;
                }
            }
        }
        Ok(count)
    }

    /// Makes everything written durable on disk, flushed out of memory buffers, so that
    /// a reopened store reads it from files.
    pub fn flush(&self) -> Result<(), EngineError> {
        match self {
            Store::Fjall {
                keyspace, partition, ..
            } => {
                partition
                    .rotate_memtable_and_wait()
                    .map_err(|e| fail("flushing fjall's memtable")(&e))?;
                keyspace
                    .persist(fjall::PersistMode::SyncAll)
                    .map_err(|e| fail("syncing fjall")(&e))
            }
            Store::Redb { db, .. } => {
                let mut txn = db.begin_write().map_err(|e| fail("starting a redb write")(&e))?;
                txn.set_durability(redb::Durability::Immediate);
                txn.open_table(REDB_TABLE)
                    .map_err(|e| fail("opening redb's table")(&e))?;
                txn.commit().map_err(|e| fail("syncing redb")(&e))
            }
        }
    }
}
