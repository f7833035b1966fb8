//! The exchange's wire format over a real TCP connection, with every byte counted.
//!
//! A frame is a 1-byte kind, a 4-byte little-endian payload length, and the payload:
//! - `Segment`: the range's start and end (8 bytes each) and the leaf count (4);
//! - `Hashes`: 32-byte hashes, back to back (the frontier's, in frontier order);
//! - `Records`: records of `record_bytes` each (8-byte key, then the value);
//! - `Done`: no payload (the end of a side's stream, or of the session).

use std::io::{BufReader, BufWriter, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Bytes of a frame's header.
pub const FRAME_HEADER_BYTES: u64 = 5;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    Segment = 1,
    Hashes = 2,
    Records = 3,
    Done = 4,
}

impl Kind {
    fn from_byte(byte: u8) -> std::io::Result<Kind> {
        Ok(match byte {
            1 => Kind::Segment,
            2 => Kind::Hashes,
            3 => Kind::Records,
            4 => Kind::Done,
            other => return Err(std::io::Error::other(format!("unknown frame kind {other}"))),
        })
    }
}

/// Bytes and frames one side sent, shared by its reader and writer halves.
#[derive(Debug, Default)]
pub struct Counted {
    pub bytes: AtomicU64,
    pub frames: AtomicU64,
}

impl Counted {
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }
    pub fn frames(&self) -> u64 {
        self.frames.load(Ordering::Relaxed)
    }
}

/// The sending half of a connection.
pub struct Sender {
    out: BufWriter<TcpStream>,
    pub sent: Arc<Counted>,
}

impl Sender {
    pub fn new(stream: TcpStream, sent: Arc<Counted>) -> Sender {
        Sender {
            out: BufWriter::with_capacity(256 << 10, stream),
            sent,
        }
    }

    /// Writes one frame (buffered: call [`flush`](Self::flush) before waiting for an answer).
    pub fn frame(&mut self, kind: Kind, payload: &[u8]) -> std::io::Result<()> {
        let len = u32::try_from(payload.len()).map_err(|_| std::io::Error::other("frame too large"))?;
        self.out.write_all(&[kind as u8])?;
        self.out.write_all(&len.to_le_bytes())?;
        self.out.write_all(payload)?;
        self.sent
            .bytes
            .fetch_add(FRAME_HEADER_BYTES + payload.len() as u64, Ordering::Relaxed);
        self.sent.frames.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }

    /// Closes both directions of the connection (after a failure, so the peer stops).
    pub fn shutdown(&mut self) -> std::io::Result<()> {
        self.out.get_ref().shutdown(std::net::Shutdown::Both)
    }
}

/// The receiving half of a connection.
pub struct Receiver {
    input: BufReader<TcpStream>,
}

impl Receiver {
    pub fn new(stream: TcpStream) -> Receiver {
        Receiver {
            input: BufReader::with_capacity(256 << 10, stream),
        }
    }

    /// Reads one frame into `payload`; returns its kind.
    pub fn frame(&mut self, payload: &mut Vec<u8>) -> std::io::Result<Kind> {
        let mut header = [0u8; 5];
        self.input.read_exact(&mut header)?;
        let kind = Kind::from_byte(header[0])?;
        let len = u32::from_le_bytes(header[1..5].try_into().expect("4 bytes")) as usize;
        payload.resize(len, 0);
        self.input.read_exact(payload)?;
        Ok(kind)
    }

    /// Reads one frame and checks its kind.
    pub fn expect(&mut self, kind: Kind, payload: &mut Vec<u8>) -> std::io::Result<()> {
        let got = self.frame(payload)?;
        if got == kind {
            Ok(())
        } else {
            Err(std::io::Error::other(format!("expected a {kind:?} frame, got {got:?}")))
        }
    }
}

/// Both halves of one end of a connection.
pub fn split(stream: TcpStream) -> std::io::Result<(Sender, Receiver, Arc<Counted>)> {
    stream.set_nodelay(true)?;
    let sent = Arc::new(Counted::default());
    let reader = stream.try_clone()?;
    Ok((Sender::new(stream, sent.clone()), Receiver::new(reader), sent))
}
