//! The registry as the registrar keeps it in memory: each list of agents
//! (admitted, unreachable, gone) indexed by agent ID and kept in order,
//! each entry with its encoded bytes. An operation then costs O(log n),
//! and encoding the whole registry for a store is a concatenation of
//! bytes that are already there.
//!
//! Changes go through a `Journal`, so a batch whose store fails can be
//! undone entry by entry.

use std::collections::{BTreeMap, HashMap};

use bytes::{BufMut, Bytes, BytesMut};
use mesos_proto::internal::{registry, Registry};
use mesos_proto::mesos::MasterInfo;
use prost::Message;

/// Wire keys (field number << 3 | length-delimited) of the fields the
/// index encodes itself: `Registry.slaves` (2), `Registry.unreachable`
/// (7), `Registry.gone` (8), and the one repeated field (1) of each list.
const SLAVES_KEY: u8 = (2 << 3) | 2;
const UNREACHABLE_KEY: u8 = (7 << 3) | 2;
const GONE_KEY: u8 = (8 << 3) | 2;
const ENTRY_KEY: u8 = (1 << 3) | 2;

/// An entry of a list, kept only as its encoding as field 1 of the list
/// message: a decoded `SlaveInfo` weighs ten times its ~200 bytes on the
/// wire, and entries are read back rarely (an update, a failover).
#[derive(Debug, Clone)]
pub(crate) struct Entry<T> {
    chunk: Bytes,
    kind: std::marker::PhantomData<fn() -> T>,
}

impl<T: Message + Default> Entry<T> {
    fn new(value: T) -> Entry<T> {
        let mut chunk = BytesMut::with_capacity(value.encoded_len() + 6);
        chunk.put_u8(ENTRY_KEY);
        // Encoding into a growable buffer cannot run out of room.
        let _ = value.encode_length_delimited(&mut chunk);
        Entry {
            chunk: chunk.freeze(),
            kind: std::marker::PhantomData,
        }
    }

    /// The entry decoded. Our own encoding: it decodes.
    fn value(&self) -> T {
        let mut body = &self.chunk[1..];
        T::decode_length_delimited(&mut body).unwrap_or_default()
    }
}

/// What an entry was before a change: its place and value, or absent.
pub(crate) type Prior<T> = Option<(u64, Entry<T>)>;

/// One list of agents, in the order they joined it, indexed by ID.
#[derive(Debug, Clone)]
pub(crate) struct AgentList<T> {
    key: u8,
    ids: HashMap<String, u64>,
    entries: BTreeMap<u64, Entry<T>>,
    next: u64,
    /// Sum of the entries' chunk lengths: the list message's length.
    len: usize,
    /// Whether the registry has the list's field at all (even empty),
    /// so that what we build is what a decoder of our file would see.
    present: bool,
}

impl<T: Message + Default> AgentList<T> {
    fn new(key: u8) -> AgentList<T> {
        AgentList {
            key,
            ids: HashMap::new(),
            entries: BTreeMap::new(),
            next: 0,
            len: 0,
            present: false,
        }
    }

    fn load(key: u8, present: bool, values: Vec<T>, id: impl Fn(&T) -> String) -> AgentList<T> {
        let mut list = AgentList::new(key);
        list.present = present;
        for value in values {
            let id = id(&value);
            list.put(&id, value);
        }
        list
    }

    /// The entry for `id`.
    pub(crate) fn get(&self, id: &str) -> Option<T> {
        let seq = self.ids.get(id)?;
        self.entries.get(seq).map(Entry::value)
    }

    /// Whether `id` is in the list.
    pub(crate) fn contains(&self, id: &str) -> bool {
        self.ids.contains_key(id)
    }

    /// Agents in the list.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Sets `id`'s entry: in place when it is there, else at the end.
    fn put(&mut self, id: &str, value: T) -> Prior<T> {
        let entry = Entry::new(value);
        self.len += entry.chunk.len();
        match self.ids.get(id) {
            Some(&seq) => {
                let prior = self.entries.insert(seq, entry);
                if let Some(prior) = &prior {
                    self.len -= prior.chunk.len();
                }
                prior.map(|p| (seq, p))
            }
            None => {
                let seq = self.next;
                self.next += 1;
                self.ids.insert(id.to_string(), seq);
                self.entries.insert(seq, entry);
                None
            }
        }
    }

    /// Drops `id`'s entry.
    fn remove(&mut self, id: &str) -> Prior<T> {
        let seq = self.ids.remove(id)?;
        let entry = self.entries.remove(&seq)?;
        self.len -= entry.chunk.len();
        Some((seq, entry))
    }

    /// Puts back what `id`'s entry was before a change.
    fn restore(&mut self, id: &str, prior: Prior<T>) {
        self.remove(id);
        if let Some((seq, entry)) = prior {
            self.len += entry.chunk.len();
            self.ids.insert(id.to_string(), seq);
            self.entries.insert(seq, entry);
        }
    }

    fn values(&self) -> Vec<T> {
        self.entries.values().map(Entry::value).collect()
    }

    /// The list as a field of `Registry` (key, length, entries), in
    /// pieces; nothing when the registry has no such field.
    fn pieces(&self, out: &mut Vec<Bytes>) {
        if !self.present {
            return;
        }
        let mut head = BytesMut::with_capacity(11);
        head.put_u8(self.key);
        let _ = prost::encode_length_delimiter(self.len, &mut head);
        out.push(head.freeze());
        out.extend(self.entries.values().map(|e| e.chunk.clone()));
    }

    fn encoded_len(&self) -> usize {
        if self.present {
            1 + prost::length_delimiter_len(self.len) + self.len
        } else {
            0
        }
    }
}

/// One undoable change.
#[derive(Debug)]
enum Undo {
    Admitted(String, Prior<registry::Slave>),
    Unreachable(String, Prior<registry::UnreachableSlave>),
    Gone(String, Prior<registry::GoneSlave>),
}

/// The changes of one batch of operations, to undo them if their store
/// fails.
#[derive(Debug, Default)]
pub(crate) struct Journal {
    undo: Vec<Undo>,
    /// Which lists were present before the batch.
    present: Option<[bool; 3]>,
}

impl Journal {
    /// Whether the batch changed anything.
    pub(crate) fn is_empty(&self) -> bool {
        self.undo.is_empty()
    }
}

/// The registry, indexed. `Registry` fields other than the three agent
/// lists are kept as they are and encoded once.
#[derive(Debug, Clone)]
pub(crate) struct IndexedRegistry {
    rest: Registry,
    rest_bytes: Bytes,
    pub(crate) admitted: AgentList<registry::Slave>,
    pub(crate) unreachable: AgentList<registry::UnreachableSlave>,
    pub(crate) gone: AgentList<registry::GoneSlave>,
}

impl From<Registry> for IndexedRegistry {
    fn from(mut registry: Registry) -> IndexedRegistry {
        let slaves = registry.slaves.take();
        let unreachable = registry.unreachable.take();
        let gone = registry.gone.take();
        IndexedRegistry {
            rest_bytes: registry.encode_to_vec().into(),
            rest: registry,
            admitted: AgentList::load(
                SLAVES_KEY,
                slaves.is_some(),
                slaves.map(|s| s.slaves).unwrap_or_default(),
                |s| slave_id(&s.info).to_string(),
            ),
            unreachable: AgentList::load(
                UNREACHABLE_KEY,
                unreachable.is_some(),
                unreachable.map(|s| s.slaves).unwrap_or_default(),
                |s| s.id.value.clone(),
            ),
            gone: AgentList::load(
                GONE_KEY,
                gone.is_some(),
                gone.map(|s| s.slaves).unwrap_or_default(),
                |s| s.id.value.clone(),
            ),
        }
    }
}

/// An agent's ID as the registry keys it.
pub(crate) fn slave_id(info: &mesos_proto::mesos::SlaveInfo) -> &str {
    info.id.as_ref().map(|id| id.value.as_str()).unwrap_or("")
}

impl IndexedRegistry {
    /// Records `info` as the current master.
    pub(crate) fn set_master(&mut self, info: &MasterInfo) {
        self.rest.master = Some(registry::Master { info: info.clone() });
        self.rest_bytes = self.rest.encode_to_vec().into();
    }

    /// The registry as a message (a copy of every entry: O(n)).
    pub(crate) fn to_registry(&self) -> Registry {
        let mut registry = self.rest.clone();
        if self.admitted.present {
            registry.slaves = Some(registry::Slaves {
                slaves: self.admitted.values(),
            });
        }
        if self.unreachable.present {
            registry.unreachable = Some(registry::UnreachableSlaves {
                slaves: self.unreachable.values(),
            });
        }
        if self.gone.present {
            registry.gone = Some(registry::GoneSlaves {
                slaves: self.gone.values(),
            });
        }
        registry
    }

    /// The registry's encoding, in pieces to be written one after the
    /// other; cheap (reference counts), so the encoding can be written
    /// outside the registrar.
    pub(crate) fn pieces(&self) -> Vec<Bytes> {
        let mut out =
            Vec::with_capacity(4 + self.admitted.len() + self.unreachable.len() + self.gone.len());
        out.push(self.rest_bytes.clone());
        self.admitted.pieces(&mut out);
        self.unreachable.pieces(&mut out);
        self.gone.pieces(&mut out);
        out
    }

    /// Bytes the encoded registry takes.
    pub(crate) fn encoded_len(&self) -> usize {
        self.rest_bytes.len()
            + self.admitted.encoded_len()
            + self.unreachable.encoded_len()
            + self.gone.encoded_len()
    }

    fn note(&mut self, journal: &mut Journal) {
        if journal.present.is_none() {
            journal.present = Some([
                self.admitted.present,
                self.unreachable.present,
                self.gone.present,
            ]);
        }
        // Any change leaves an admitted list, as a registry written by
        // the registrar always has one.
        self.admitted.present = true;
    }

    /// Sets an admitted agent's entry (in place if admitted).
    pub(crate) fn put_admitted(&mut self, j: &mut Journal, id: &str, slave: registry::Slave) {
        self.note(j);
        let prior = self.admitted.put(id, slave);
        j.undo.push(Undo::Admitted(id.to_string(), prior));
    }

    /// Drops an admitted agent; returns its entry.
    pub(crate) fn remove_admitted(&mut self, j: &mut Journal, id: &str) -> Option<registry::Slave> {
        let prior = self.admitted.remove(id)?;
        self.note(j);
        let value = prior.1.value();
        j.undo.push(Undo::Admitted(id.to_string(), Some(prior)));
        Some(value)
    }

    /// Sets an unreachable agent's entry.
    pub(crate) fn put_unreachable(
        &mut self,
        j: &mut Journal,
        id: &str,
        slave: registry::UnreachableSlave,
    ) {
        self.note(j);
        self.unreachable.present = true;
        let prior = self.unreachable.put(id, slave);
        j.undo.push(Undo::Unreachable(id.to_string(), prior));
    }

    /// Drops an unreachable agent; returns its entry.
    pub(crate) fn remove_unreachable(
        &mut self,
        j: &mut Journal,
        id: &str,
    ) -> Option<registry::UnreachableSlave> {
        let prior = self.unreachable.remove(id)?;
        self.note(j);
        let value = prior.1.value();
        j.undo.push(Undo::Unreachable(id.to_string(), Some(prior)));
        Some(value)
    }

    /// Sets a gone agent's entry.
    pub(crate) fn put_gone(&mut self, j: &mut Journal, id: &str, slave: registry::GoneSlave) {
        self.note(j);
        self.gone.present = true;
        let prior = self.gone.put(id, slave);
        j.undo.push(Undo::Gone(id.to_string(), prior));
    }

    /// Undoes the changes recorded in `journal`, newest first.
    pub(crate) fn undo(&mut self, journal: Journal) {
        for undo in journal.undo.into_iter().rev() {
            match undo {
                Undo::Admitted(id, prior) => self.admitted.restore(&id, prior),
                Undo::Unreachable(id, prior) => self.unreachable.restore(&id, prior),
                Undo::Gone(id, prior) => self.gone.restore(&id, prior),
            }
        }
        if let Some([admitted, unreachable, gone]) = journal.present {
            self.admitted.present = admitted;
            self.unreachable.present = unreachable;
            self.gone.present = gone;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesos_proto::mesos::{SlaveId, SlaveInfo, TimeInfo};

    fn slave(id: &str) -> registry::Slave {
        registry::Slave {
            info: SlaveInfo {
                hostname: format!("host-{id}"),
                id: Some(SlaveId { value: id.into() }),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn concat(pieces: &[Bytes]) -> Vec<u8> {
        pieces.iter().flat_map(|p| p.iter().copied()).collect()
    }

    #[test]
    fn pieces_decode_to_the_registry() {
        let mut registry = IndexedRegistry::from(Registry::default());
        let mut j = Journal::default();
        registry.set_master(&MasterInfo {
            id: "m".into(),
            ..Default::default()
        });
        for n in 0..300 {
            let id = format!("a{n}");
            registry.put_admitted(&mut j, &id, slave(&id));
        }
        registry.remove_admitted(&mut j, "a7");
        registry.put_unreachable(
            &mut j,
            "a7",
            registry::UnreachableSlave {
                id: SlaveId { value: "a7".into() },
                timestamp: TimeInfo { nanoseconds: 3 },
                ..Default::default()
            },
        );
        let built = registry.to_registry();
        let bytes = concat(&registry.pieces());
        assert_eq!(bytes.len(), registry.encoded_len());
        assert_eq!(Registry::decode(bytes.as_slice()).unwrap(), built);
        assert_eq!(built.slaves.as_ref().unwrap().slaves.len(), 299);
        assert_eq!(built.unreachable.as_ref().unwrap().slaves.len(), 1);
        assert!(built.gone.is_none());
    }

    #[test]
    fn undo_restores_entries_order_and_lengths() {
        let mut registry = IndexedRegistry::from(Registry::default());
        let mut j = Journal::default();
        for id in ["a", "b", "c"] {
            registry.put_admitted(&mut j, id, slave(id));
        }
        let before = registry.to_registry();
        let before_len = registry.encoded_len();
        let mut j = Journal::default();
        registry.remove_admitted(&mut j, "b");
        let mut changed = slave("a");
        changed.info.hostname = "elsewhere".into();
        registry.put_admitted(&mut j, "a", changed);
        registry.put_admitted(&mut j, "d", slave("d"));
        registry.put_gone(
            &mut j,
            "b",
            registry::GoneSlave {
                id: SlaveId { value: "b".into() },
                timestamp: TimeInfo { nanoseconds: 1 },
            },
        );
        assert_ne!(registry.to_registry(), before);
        registry.undo(j);
        assert_eq!(registry.to_registry(), before);
        assert_eq!(registry.encoded_len(), before_len);
        assert_eq!(
            Registry::decode(concat(&registry.pieces()).as_slice()).unwrap(),
            before
        );
    }
}
