//! Server memory per idle WebSocket connection, measured with a counting allocator.
//!
//! Clients are blocking `std` sockets speaking the handshake by hand, so they allocate
//! (almost) nothing themselves: the live-bytes delta is the server's cost.

mod protocol_support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Read, Write};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::Arc;

use protocol_support::*;

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to the system allocator and only counts sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Open a WebSocket by hand and read the 101 response and the first frame.
fn open(addr: std::net::SocketAddr) -> std::net::TcpStream {
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    let req = format!(
        "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Cookie: livetemplate-id=0123456789abcdef0123456789abcdef\r\n\r\n"
    );
    s.write_all(req.as_bytes()).expect("write");
    let mut buf = [0u8; 4096];
    let mut got = 0;
    // Read until the end of the first frame (the full tree ends with "}}").
    loop {
        let n = s.read(&mut buf[got..]).expect("read");
        assert!(n > 0, "closed early");
        got += n;
        if buf[..got].ends_with(b"}}") {
            return s;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connection_costs_under_12_kib() {
    let handler = counter();
    let registry = Arc::clone(handler.registry());
    let addr = start(handler).await;
    // Warm up (lazy statics, runtime structures) with a few connections we keep.
    let warm = tokio::task::spawn_blocking(move || (0..8).map(|_| open(addr)).collect::<Vec<_>>())
        .await
        .expect("warm");
    eventually(|| registry.len() == 8).await;
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;

    const N: usize = 200;
    let before = LIVE.load(Ordering::SeqCst);
    let conns = tokio::task::spawn_blocking(move || (0..N).map(|_| open(addr)).collect::<Vec<_>>())
        .await
        .expect("open");
    eventually(|| registry.len() == N + 8).await;
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let after = LIVE.load(Ordering::SeqCst);
    let per_conn = (after - before) / N as isize;
    println!("server memory per idle connection: {per_conn} bytes");
    assert!(per_conn < 12 * 1024, "{per_conn} bytes per idle connection");
    drop((warm, conns));
}
