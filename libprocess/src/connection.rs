//! Outgoing messages: one persistent connection per peer address, messages
//! written in order, and links that fire `exited` when it breaks.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use crate::message::Message;
use crate::runtime::Runtime;
use crate::upid::UPID;

/// How long to wait for a peer to accept a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a closing connection waits for the peer to close its side.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);
/// Bytes of queued messages written in one go.
const WRITE_BATCH: usize = 256 * 1024;

/// The persistent connections of one runtime, by peer address.
#[derive(Default)]
pub(crate) struct Connections {
    peers: Mutex<HashMap<SocketAddr, Peer>>,
    next_generation: AtomicU64,
}

struct Peer {
    queue: mpsc::UnboundedSender<Message>,
    task: tokio::task::JoinHandle<()>,
    /// (linker, linked-to) pairs watching this connection.
    links: HashSet<(UPID, UPID)>,
    generation: u64,
}

impl Connections {
    fn peers(&self) -> std::sync::MutexGuard<'_, HashMap<SocketAddr, Peer>> {
        self.peers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `message` on the connection to its receiver's address,
    /// connecting first if there is none.
    pub(crate) fn send(&self, runtime: &Runtime, message: Message) {
        let address = message.to.address();
        let mut peers = self.peers();
        let peer = self.peer(&mut peers, runtime, address);
        // The receiving task only goes away after removing the peer, which
        // needs the lock we hold; a failed send means it is exiting anyway.
        let _ = peer.queue.send(message);
    }

    /// Links `linker` to remote `to`, connecting if needed.
    pub(crate) fn link(&self, runtime: &Runtime, linker: &UPID, to: &UPID) {
        let mut peers = self.peers();
        let peer = self.peer(&mut peers, runtime, to.address());
        peer.links.insert((linker.clone(), to.clone()));
    }

    /// Links `linker` to remote `to` over a new connection, replacing the
    /// one there is: it may be dead without our knowing yet (the peer
    /// restarted), and whatever is sent on it would be lost. The old
    /// connection's links move to the new one, without `exited`; what was
    /// queued on it and not yet written is dropped.
    pub(crate) fn relink(&self, runtime: &Runtime, linker: &UPID, to: &UPID) {
        let mut peers = self.peers();
        let links = match peers.remove(&to.address()) {
            Some(old) => {
                old.task.abort();
                old.links
            }
            None => HashSet::new(),
        };
        let peer = self.peer(&mut peers, runtime, to.address());
        peer.links = links;
        peer.links.insert((linker.clone(), to.clone()));
    }

    /// The addresses with a connection (open or being opened).
    pub(crate) fn addresses(&self) -> Vec<SocketAddr> {
        self.peers().keys().copied().collect()
    }

    /// Drops the links a terminated process made.
    pub(crate) fn forget_linker(&self, linker: &UPID) {
        for peer in self.peers().values_mut() {
            peer.links.retain(|(l, _)| l != linker);
        }
    }

    fn peer<'a>(
        &self,
        peers: &'a mut HashMap<SocketAddr, Peer>,
        runtime: &Runtime,
        address: SocketAddr,
    ) -> &'a mut Peer {
        peers.entry(address).or_insert_with(|| {
            let generation = self.next_generation.fetch_add(1, Ordering::Relaxed);
            let (queue, receiver) = mpsc::unbounded_channel();
            let task = runtime.spawn_handle(run(runtime.clone(), address, generation, receiver));
            Peer {
                queue,
                task,
                links: HashSet::new(),
                generation,
            }
        })
    }

    /// Closes every connection once what is queued on it is written, and
    /// waits for that, at most `timeout`.
    pub(crate) async fn drain(&self, timeout: Duration) {
        // Dropping a peer's sender ends its writer after the queued messages.
        let tasks: Vec<_> = self.peers().drain().map(|(_, peer)| peer.task).collect();
        let _ = tokio::time::timeout(timeout, futures::future::join_all(tasks)).await;
    }

    /// Forgets the connection of `generation` to `address` and returns its
    /// links; a newer connection to the same address is left alone.
    fn close(&self, address: SocketAddr, generation: u64) -> HashSet<(UPID, UPID)> {
        let mut peers = self.peers();
        match peers.get(&address) {
            Some(peer) if peer.generation == generation => {
                peers.remove(&address).map(|p| p.links).unwrap_or_default()
            }
            _ => HashSet::new(),
        }
    }
}

/// Owns one connection: connects, writes queued messages in order, reads
/// and discards the peer's answers, and on any failure forgets the
/// connection and fires `exited` for its links. Messages queued on a
/// broken connection are lost; the next send connects anew.
async fn run(
    runtime: Runtime,
    address: SocketAddr,
    generation: u64,
    mut queue: mpsc::UnboundedReceiver<Message>,
) {
    match connect(address).await {
        Ok(stream) => {
            let (mut reader, mut writer) = stream.into_split();
            let write = async {
                // Grows with the traffic: most connections (one per agent
                // on a master) carry a message now and then.
                let mut buffer = BytesMut::new();
                while let Some(message) = queue.recv().await {
                    message.encode_into(&mut buffer);
                    while buffer.len() < WRITE_BATCH {
                        match queue.try_recv() {
                            Ok(message) => message.encode_into(&mut buffer),
                            Err(_) => break,
                        }
                    }
                    if let Err(error) = writer.write_all(&buffer).await {
                        tracing::debug!("connection to {address} broke while writing: {error}");
                        return;
                    }
                    buffer.clear();
                }
                // Closed by `drain`: everything is written. Say so with a FIN.
                let _ = writer.shutdown().await;
            };
            let read = async {
                // The peer only ever answers `202 Accepted`s.
                let mut discard = [0u8; 512];
                loop {
                    match reader.read(&mut discard).await {
                        Ok(0) => return,
                        Ok(_) => {}
                        Err(error) => {
                            tracing::debug!("connection to {address} broke while reading: {error}");
                            return;
                        }
                    }
                }
            };
            tokio::pin!(read);
            tokio::select! {
                // The peer closed or broke the connection.
                _ = &mut read => {}
                // Our side is done; keep reading the peer's answers until it
                // closes too, since closing a socket with unread input resets
                // it and the peer would drop requests it has not read yet.
                _ = write => {
                    let _ = tokio::time::timeout(CLOSE_TIMEOUT, read).await;
                }
            }
        }
        Err(error) => tracing::debug!("failed to connect to {address}: {error}"),
    }
    queue.close();
    for (linker, linked) in runtime.connections().close(address, generation) {
        runtime.deliver_exited(&linker, &linked);
    }
}

async fn connect(address: SocketAddr) -> std::io::Result<TcpStream> {
    let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(address))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"))??;
    stream.set_nodelay(true)?;
    Ok(stream)
}
