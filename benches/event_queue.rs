//! The event queue under a hold model (pop the earliest event, push one a random delay
//! later) with 1 K and 1 M events pending, against a bare `std::collections::BinaryHeap`
//! of the same items ordered the same way: the queue's overhead over the heap it wraps.
//!
//! `cargo bench --bench event_queue`

mod common;

use aesim::model::{Key, NodeId, Version};
use aesim::sim::{EventQueue, SimTime};
use aesim::world::Event;
use common::{Rng, best_secs, print_ratio};
use std::cmp::Ordering;
use std::collections::BinaryHeap;

const PENDING: [usize; 2] = [1_000, 1_000_000];
/// Mean delay of a pushed event, in nanoseconds (1 ms).
const DELAY_NS: u64 = 1_000_000;

fn event(rng: &mut Rng) -> Event {
    Event::ReplicationArrives {
        from: 0,
        to: (rng.next() % 2) as NodeId,
        key: rng.next() as Key,
        version: rng.next() as Version,
        written: SimTime::ZERO,
    }
}

fn delay(rng: &mut Rng) -> u64 {
    rng.next() % (2 * DELAY_NS)
}

/// The bare heap's item: the same (time, sequence, event) the queue stores, earliest first.
struct Item {
    time: u64,
    seq: u64,
    event: Event,
}

impl PartialEq for Item {
    fn eq(&self, other: &Self) -> bool {
        (self.time, self.seq) == (other.time, other.seq)
    }
}
impl Eq for Item {}
impl PartialOrd for Item {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Item {
    fn cmp(&self, other: &Self) -> Ordering {
        (other.time, other.seq).cmp(&(self.time, self.seq))
    }
}

struct Bare {
    heap: BinaryHeap<Item>,
    seq: u64,
    rng: Rng,
}

impl Bare {
    fn new(pending: usize) -> Bare {
        let mut bare = Bare {
            heap: BinaryHeap::with_capacity(pending + 1),
            seq: 0,
            rng: Rng::new(7),
        };
        for _ in 0..pending {
            let time = delay(&mut bare.rng);
            let event = event(&mut bare.rng);
            bare.push(time, event);
        }
        bare
    }

    fn push(&mut self, time: u64, event: Event) {
        self.seq += 1;
        self.heap.push(Item {
            time,
            seq: self.seq,
            event,
        });
    }

    fn hold(&mut self) {
        let item = self.heap.pop().expect("pending");
        std::hint::black_box(&item.event);
        let at = item.time + delay(&mut self.rng);
        let event = event(&mut self.rng);
        self.push(at, event);
    }
}

struct Queue {
    queue: EventQueue<Event>,
    rng: Rng,
}

impl Queue {
    fn new(pending: usize) -> Queue {
        let mut queue = Queue {
            queue: EventQueue::new(),
            rng: Rng::new(7),
        };
        for _ in 0..pending {
            let time = delay(&mut queue.rng);
            let event = event(&mut queue.rng);
            queue.queue.push(SimTime::from_nanos(time), event);
        }
        queue
    }

    fn hold(&mut self) {
        let (time, popped) = self.queue.pop().expect("pending");
        std::hint::black_box(&popped);
        let at = time.after(delay(&mut self.rng));
        let next = event(&mut self.rng);
        self.queue.push(at, next);
    }
}

#[divan::bench(args = PENDING)]
fn aesim_event_queue(bencher: divan::Bencher, pending: usize) {
    let mut queue = Queue::new(pending);
    bencher.bench_local(|| queue.hold());
}

#[divan::bench(args = PENDING)]
fn reference_bare_binary_heap(bencher: divan::Bencher, pending: usize) {
    let mut bare = Bare::new(pending);
    bencher.bench_local(|| bare.hold());
}

fn main() {
    const OPS: usize = 2_000_000;
    println!("event queue: hold operations (pop + push) per second, same run");
    for pending in PENDING {
        let mut queue = Queue::new(pending);
        let mut bare = Bare::new(pending);
        // Interleaved, best of 5: both see the same machine state.
        let mut queue_s = f64::INFINITY;
        let mut bare_s = f64::INFINITY;
        for _ in 0..5 {
            queue_s = queue_s.min(best_secs(1, || (0..OPS).for_each(|_| queue.hold())));
            bare_s = bare_s.min(best_secs(1, || (0..OPS).for_each(|_| bare.hold())));
        }
        print_ratio(
            &format!("  {pending} pending: aesim EventQueue"),
            "ops/s",
            OPS as f64 / queue_s,
            "bare BinaryHeap",
            OPS as f64 / bare_s,
        );
    }
    println!("  (Event is {} bytes)", std::mem::size_of::<Event>());
    common::divan().main();
}
