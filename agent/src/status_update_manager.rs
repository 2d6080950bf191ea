//! The task status update manager, as Mesos's: one stream per task; each
//! update is checkpointed (for checkpointing frameworks) before anything
//! else happens to it; only the oldest unacknowledged update of a stream
//! is sent, and resent with backoff (10s doubling to 10min) until the
//! framework acknowledges it; then the next one goes. So updates reach the
//! framework in order, at least once, and survive an agent restart.
//!
//! This is plain state: the agent process calls it and does the sending
//! and the timer ticks.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use bytes::Bytes;
use mesos_proto::internal::{status_update_record, StatusUpdate, StatusUpdateRecord};

use crate::error::Result;
use crate::state::checkpoint::append_record;

/// First retry interval.
pub const RETRY_INTERVAL_MIN: Duration = Duration::from_secs(10);
/// Longest retry interval.
pub const RETRY_INTERVAL_MAX: Duration = Duration::from_secs(600);

/// A stream is keyed by framework and task id.
pub type StreamKey = (String, String);

#[derive(Debug)]
struct Stream {
    pending: VecDeque<StatusUpdate>,
    received: HashSet<Bytes>,
    acknowledged: HashSet<Bytes>,
    log: Option<PathBuf>,
    /// When the head is sent next; `None` until it was sent once.
    next_retry: Option<Instant>,
    backoff: Duration,
    terminated: bool,
}

impl Stream {
    fn new(log: Option<PathBuf>) -> Stream {
        Stream {
            pending: VecDeque::new(),
            received: HashSet::new(),
            acknowledged: HashSet::new(),
            log,
            next_retry: None,
            backoff: RETRY_INTERVAL_MIN,
            terminated: false,
        }
    }

    fn checkpoint(&self, record: &StatusUpdateRecord) -> Result<()> {
        match &self.log {
            Some(path) => append_record(path, record),
            None => Ok(()),
        }
    }

    /// Marks the head as sent now and returns it.
    fn send_head(&mut self, now: Instant) -> Option<StatusUpdate> {
        let head = self.pending.front()?.clone();
        self.backoff = RETRY_INTERVAL_MIN;
        self.next_retry = Some(now + self.backoff);
        Some(head)
    }
}

/// What happened to an update handed to the manager.
#[derive(Debug, PartialEq)]
pub enum Received {
    /// Seen before (an executor resending after a reconnect): dropped.
    Duplicate,
    /// Checkpointed and queued; send this now if present (the stream was
    /// idle).
    Queued(Option<Box<StatusUpdate>>),
}

/// What an acknowledgement did.
#[derive(Debug, PartialEq)]
pub struct Acknowledged {
    /// The update that was acknowledged.
    pub update: StatusUpdate,
    /// The stream ended: its terminal update was acknowledged.
    pub stream_ended: bool,
    /// The next update of the stream, to send now.
    pub next: Option<StatusUpdate>,
}

/// Why an acknowledgement was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum AckError {
    /// No stream for the task.
    UnknownStream,
    /// Acknowledged already (a duplicate from the framework).
    Duplicate,
    /// Not the update the stream is waiting for.
    Unexpected,
}

/// Every task's stream.
#[derive(Debug, Default)]
pub struct StatusUpdateManager {
    streams: BTreeMap<StreamKey, Stream>,
    paused: bool,
}

fn is_terminal(update: &StatusUpdate) -> bool {
    mesos_executor::is_terminal(update.status.state)
}

fn uuid(update: &StatusUpdate) -> Bytes {
    update.uuid.clone().unwrap_or_default()
}

fn key(update: &StatusUpdate) -> StreamKey {
    (
        update.framework_id.value.clone(),
        update.status.task_id.value.clone(),
    )
}

impl StatusUpdateManager {
    /// A manager with no streams, paused until the agent registers.
    pub fn new() -> StatusUpdateManager {
        StatusUpdateManager {
            streams: BTreeMap::new(),
            paused: true,
        }
    }

    /// Takes `update`: checkpoints it to `log` (when the framework
    /// checkpoints), queues it, and says whether to send it now.
    pub fn update(
        &mut self,
        update: StatusUpdate,
        log: Option<PathBuf>,
        now: Instant,
    ) -> Result<Received> {
        let paused = self.paused;
        let stream = self
            .streams
            .entry(key(&update))
            .or_insert_with(|| Stream::new(log));
        let id = uuid(&update);
        if stream.received.contains(&id) {
            return Ok(Received::Duplicate);
        }
        stream.checkpoint(&StatusUpdateRecord {
            r#type: status_update_record::Type::Update as i32,
            update: Some(update.clone()),
            uuid: None,
        })?;
        stream.received.insert(id);
        stream.pending.push_back(update);
        if stream.pending.len() == 1 && !paused {
            return Ok(Received::Queued(stream.send_head(now).map(Box::new)));
        }
        Ok(Received::Queued(None))
    }

    /// The framework acknowledged `uuid` for `(framework, task)`: record it,
    /// drop the head, and give the next update to send.
    pub fn acknowledge(
        &mut self,
        framework: &str,
        task: &str,
        uuid_bytes: &Bytes,
        now: Instant,
    ) -> std::result::Result<Result<Acknowledged>, AckError> {
        let key = (framework.to_string(), task.to_string());
        let stream = self.streams.get_mut(&key).ok_or(AckError::UnknownStream)?;
        if stream.acknowledged.contains(uuid_bytes) {
            return Err(AckError::Duplicate);
        }
        match stream.pending.front() {
            Some(head) if uuid(head) == *uuid_bytes => {}
            _ => return Err(AckError::Unexpected),
        }
        if let Err(e) = stream.checkpoint(&StatusUpdateRecord {
            r#type: status_update_record::Type::Ack as i32,
            update: None,
            uuid: Some(uuid_bytes.clone()),
        }) {
            return Ok(Err(e));
        }
        stream.acknowledged.insert(uuid_bytes.clone());
        let update = stream.pending.pop_front().ok_or(AckError::Unexpected)?;
        stream.next_retry = None;
        if is_terminal(&update) {
            stream.terminated = true;
        }
        let next = if self.paused {
            None
        } else {
            stream.send_head(now)
        };
        let stream_ended = stream.terminated && stream.pending.is_empty();
        if stream_ended {
            self.streams.remove(&key);
        }
        Ok(Ok(Acknowledged {
            update,
            stream_ended,
            next,
        }))
    }

    /// Heads whose retry time has come, with their backoff doubled.
    pub fn due(&mut self, now: Instant) -> Vec<StatusUpdate> {
        if self.paused {
            return Vec::new();
        }
        let mut out = Vec::new();
        for stream in self.streams.values_mut() {
            if let (Some(at), Some(head)) = (stream.next_retry, stream.pending.front()) {
                if at <= now {
                    stream.backoff = (stream.backoff * 2).min(RETRY_INTERVAL_MAX);
                    stream.next_retry = Some(now + stream.backoff);
                    out.push(head.clone());
                }
            }
        }
        out
    }

    /// Stops sending (the agent lost its master).
    pub fn pause(&mut self) {
        self.paused = true;
    }

    /// Starts sending again: every stream's head goes now.
    pub fn resume(&mut self, now: Instant) -> Vec<StatusUpdate> {
        self.paused = false;
        self.streams
            .values_mut()
            .filter_map(|s| s.send_head(now))
            .collect()
    }

    /// Rebuilds a task's stream from its checkpointed log: updates not
    /// acknowledged are pending again. Returns whether the stream is
    /// still open.
    pub fn recover(
        &mut self,
        updates: &[StatusUpdate],
        acks: &[Bytes],
        log: Option<PathBuf>,
    ) -> bool {
        let Some(first) = updates.first() else {
            return false;
        };
        let mut stream = Stream::new(log);
        let acked: HashSet<Bytes> = acks.iter().cloned().collect();
        for update in updates {
            let id = uuid(update);
            stream.received.insert(id.clone());
            if acked.contains(&id) {
                stream.acknowledged.insert(id);
                if is_terminal(update) {
                    stream.terminated = true;
                }
            } else {
                stream.pending.push_back(update.clone());
            }
        }
        if stream.terminated && stream.pending.is_empty() {
            return false;
        }
        self.streams.insert(key(first), stream);
        true
    }

    /// Forgets every stream of `framework` (it was shut down).
    pub fn cleanup(&mut self, framework: &str) {
        self.streams.retain(|(fw, _), _| fw != framework);
    }

    /// Whether the task has updates not yet acknowledged.
    pub fn has_pending(&self, framework: &str, task: &str) -> bool {
        self.streams
            .get(&(framework.to_string(), task.to_string()))
            .is_some_and(|s| !s.pending.is_empty())
    }

    /// The number of open streams.
    pub fn len(&self) -> usize {
        self.streams.len()
    }

    /// Whether there is no open stream.
    pub fn is_empty(&self) -> bool {
        self.streams.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesos_proto::mesos::{FrameworkId, TaskId, TaskState, TaskStatus};

    fn update(task: &str, state: TaskState, n: u8) -> StatusUpdate {
        StatusUpdate {
            framework_id: FrameworkId { value: "F".into() },
            status: TaskStatus {
                task_id: TaskId { value: task.into() },
                state: state as i32,
                ..Default::default()
            },
            uuid: Some(Bytes::from(vec![n; 16])),
            ..Default::default()
        }
    }

    #[test]
    fn in_order_one_at_a_time_with_retries() {
        let t0 = Instant::now();
        let mut m = StatusUpdateManager::new();
        assert!(m.resume(t0).is_empty());
        let u1 = update("t", TaskState::TaskRunning, 1);
        let u2 = update("t", TaskState::TaskFinished, 2);
        assert_eq!(
            m.update(u1.clone(), None, t0).unwrap(),
            Received::Queued(Some(Box::new(u1.clone())))
        );
        assert_eq!(
            m.update(u2.clone(), None, t0).unwrap(),
            Received::Queued(None)
        );
        assert_eq!(m.update(u1.clone(), None, t0).unwrap(), Received::Duplicate);

        assert!(m.due(t0 + Duration::from_secs(9)).is_empty());
        assert_eq!(m.due(t0 + Duration::from_secs(10)), vec![u1.clone()]);
        // The backoff doubled: next retry 20s later.
        assert!(m.due(t0 + Duration::from_secs(29)).is_empty());
        assert_eq!(m.due(t0 + Duration::from_secs(30)).len(), 1);

        assert_eq!(
            m.acknowledge("F", "t", &uuid(&u2), t0).err(),
            Some(AckError::Unexpected),
            "out-of-order ack refused"
        );
        let ack = m.acknowledge("F", "t", &uuid(&u1), t0).unwrap().unwrap();
        assert_eq!(ack.next, Some(u2.clone()));
        assert!(!ack.stream_ended);
        let ack = m.acknowledge("F", "t", &uuid(&u2), t0).unwrap().unwrap();
        assert!(ack.stream_ended);
        assert!(m.is_empty());
        assert_eq!(
            m.acknowledge("F", "t", &uuid(&u2), t0).err(),
            Some(AckError::UnknownStream)
        );
    }

    #[test]
    fn paused_manager_holds_updates_until_resumed() {
        let t0 = Instant::now();
        let mut m = StatusUpdateManager::new();
        let u1 = update("t", TaskState::TaskRunning, 1);
        assert_eq!(
            m.update(u1.clone(), None, t0).unwrap(),
            Received::Queued(None)
        );
        assert!(m.due(t0 + RETRY_INTERVAL_MAX).is_empty());
        assert_eq!(m.resume(t0), vec![u1]);
    }

    #[test]
    fn checkpointed_stream_recovers_unacknowledged_updates() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("task.updates");
        let t0 = Instant::now();
        let mut m = StatusUpdateManager::new();
        m.resume(t0);
        let u1 = update("t", TaskState::TaskRunning, 1);
        let u2 = update("t", TaskState::TaskFinished, 2);
        m.update(u1.clone(), Some(log.clone()), t0).unwrap();
        m.update(u2.clone(), Some(log.clone()), t0).unwrap();
        m.acknowledge("F", "t", &uuid(&u1), t0).unwrap().unwrap();

        let (records, torn) =
            crate::state::checkpoint::read_records::<StatusUpdateRecord>(&log).unwrap();
        assert!(!torn);
        assert_eq!(records.len(), 3);
        let updates: Vec<_> = records.iter().filter_map(|r| r.update.clone()).collect();
        let acks: Vec<_> = records.iter().filter_map(|r| r.uuid.clone()).collect();

        let mut again = StatusUpdateManager::new();
        assert!(again.recover(&updates, &acks, Some(log)));
        assert_eq!(again.resume(t0), vec![u2.clone()]);
        assert_eq!(again.update(u1, None, t0).unwrap(), Received::Duplicate);
    }
}
