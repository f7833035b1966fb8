//! The loopback connection's latency and bandwidth, measured before a validation so the
//! simulator is given the network the real exchange runs on: the median of 500 round
//! trips of a 64-byte message (halved: one-way latency), and 32 MiB streamed in 256 KiB
//! writes (bytes per second).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Instant;

/// One-way latency (ns) and bandwidth (bytes/s) of a loopback TCP connection.
#[derive(Clone, Copy, Debug)]
pub struct Loopback {
    pub latency_ns: u64,
    pub bandwidth_bytes_per_s: u64,
}

const PINGS: usize = 500;
const STREAM_BYTES: usize = 32 << 20;
const CHUNK: usize = 256 << 10;

pub fn measure() -> std::io::Result<Loopback> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let address = listener.local_addr()?;
    let echo = std::thread::spawn(move || -> std::io::Result<()> {
        let (mut stream, _) = listener.accept()?;
        stream.set_nodelay(true)?;
        let mut ping = [0u8; 64];
        for _ in 0..PINGS {
            stream.read_exact(&mut ping)?;
            stream.write_all(&ping)?;
        }
        let mut chunk = vec![0u8; CHUNK];
        let mut left = STREAM_BYTES;
        while left > 0 {
            let n = stream.read(&mut chunk)?;
            if n == 0 {
                break;
            }
            left = left.saturating_sub(n);
        }
        stream.write_all(&[1])
    });
    let mut stream = TcpStream::connect(address)?;
    stream.set_nodelay(true)?;
    let mut ping = [7u8; 64];
    let mut round_trips = Vec::with_capacity(PINGS);
    for _ in 0..PINGS {
        let start = Instant::now();
        stream.write_all(&ping)?;
        stream.read_exact(&mut ping)?;
        round_trips.push(start.elapsed().as_nanos() as u64);
    }
    round_trips.sort_unstable();
    let chunk = vec![3u8; CHUNK];
    let start = Instant::now();
    for _ in 0..STREAM_BYTES / CHUNK {
        stream.write_all(&chunk)?;
    }
    let mut done = [0u8; 1];
    stream.read_exact(&mut done)?;
    let elapsed = start.elapsed().as_secs_f64().max(1e-9);
    echo.join()
        .map_err(|_| std::io::Error::other("the echo thread panicked"))??;
    Ok(Loopback {
        latency_ns: (round_trips[PINGS / 2] / 2).max(1),
        bandwidth_bytes_per_s: (STREAM_BYTES as f64 / elapsed) as u64,
    })
}
