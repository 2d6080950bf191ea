//! The HTTP executor's side of `/api/v1/executor` for the tests: calls
//! POSTed with `ureq`, and the SUBSCRIBE response read off a raw socket,
//! chunk by chunk and record by record, on a thread of its own.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::mpsc;

use mesos_proto::v1::executor::{call, event, Call, Event};
use prost::Message;
use serde_json::Value;

use crate::common::WAIT;

pub const JSON: &str = "application/json";
pub const PROTOBUF: &str = "application/x-protobuf";
/// The executor the tests subscribe as.
pub const EXECUTOR: &str = "http-exec";

pub fn url(agent: SocketAddr, path: &str) -> String {
    format!("http://{agent}{path}")
}

/// POSTs `body` to `/api/v1/executor` with `headers`: status and body.
pub fn post(agent: SocketAddr, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
    let mut request = ureq::post(&url(agent, "/api/v1/executor")).timeout(WAIT);
    for (name, value) in headers {
        request = request.set(name, value);
    }
    match request.send_bytes(body) {
        Ok(r) => (r.status(), r.into_string().unwrap_or_default()),
        Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap_or_default()),
        Err(error) => panic!("POST failed: {error}"),
    }
}

pub fn post_json(agent: SocketAddr, call: &Value) -> (u16, String) {
    post(
        agent,
        &[("Content-Type", JSON)],
        call.to_string().as_bytes(),
    )
}

pub fn post_call(agent: SocketAddr, call: &Call) -> (u16, String) {
    post(agent, &[("Content-Type", PROTOBUF)], &call.encode_to_vec())
}

pub fn ids(framework: &str) -> (mesos_proto::v1::FrameworkId, mesos_proto::v1::ExecutorId) {
    (
        mesos_proto::v1::FrameworkId {
            value: framework.into(),
        },
        mesos_proto::v1::ExecutorId {
            value: EXECUTOR.into(),
        },
    )
}

pub fn subscribe_call(
    framework: &str,
    tasks: Vec<mesos_proto::v1::TaskInfo>,
    updates: Vec<call::Update>,
) -> Call {
    let (framework_id, executor_id) = ids(framework);
    Call {
        executor_id,
        framework_id,
        r#type: Some(call::Type::Subscribe as i32),
        subscribe: Some(call::Subscribe {
            unacknowledged_tasks: tasks,
            unacknowledged_updates: updates,
        }),
        ..Default::default()
    }
}

pub fn new_uuid() -> bytes::Bytes {
    bytes::Bytes::copy_from_slice(uuid::Uuid::new_v4().as_bytes())
}

pub fn status(task: &str, state: mesos_proto::v1::TaskState) -> mesos_proto::v1::TaskStatus {
    mesos_proto::v1::TaskStatus {
        task_id: mesos_proto::v1::TaskId { value: task.into() },
        state: state as i32,
        source: Some(mesos_proto::v1::task_status::Source::Executor as i32),
        uuid: Some(new_uuid()),
        ..Default::default()
    }
}

pub fn update_call(framework: &str, status: mesos_proto::v1::TaskStatus) -> Call {
    let (framework_id, executor_id) = ids(framework);
    Call {
        executor_id,
        framework_id,
        r#type: Some(call::Type::Update as i32),
        update: Some(call::Update { status }),
        ..Default::default()
    }
}

/// An open SUBSCRIBE response: its status and headers, then its RecordIO
/// records as a reader thread gets them.
pub struct Subscription {
    pub status: u16,
    pub headers: HashMap<String, String>,
    records: mpsc::Receiver<Vec<u8>>,
    socket: TcpStream,
}

impl Subscription {
    /// POSTs a SUBSCRIBE `body` to `path` in `content_type`, accepting
    /// `accept`.
    pub fn open(
        agent: SocketAddr,
        path: &str,
        content_type: &str,
        accept: &str,
        body: &[u8],
    ) -> Subscription {
        let mut socket = TcpStream::connect(agent).expect("connect");
        socket.set_read_timeout(Some(WAIT)).unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {agent}\r\nContent-Type: {content_type}\r\n\
             Accept: {accept}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        socket.write_all(head.as_bytes()).unwrap();
        socket.write_all(body).unwrap();
        let mut reader = BufReader::new(socket.try_clone().unwrap());
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("a status line: {line:?}"));
        let mut headers = HashMap::new();
        loop {
            line.clear();
            reader.read_line(&mut line).unwrap();
            let trimmed = line.trim_end();
            if trimmed.is_empty() {
                break;
            }
            let (name, value) = trimmed.split_once(':').unwrap();
            headers.insert(name.to_ascii_lowercase(), value.trim().to_string());
        }
        let (tx, records) = mpsc::channel();
        std::thread::spawn(move || read_records(reader, tx));
        Subscription {
            status,
            headers,
            records,
            socket,
        }
    }

    /// The next record within `WAIT`; None when the stream ended.
    pub fn record(&self) -> Option<Vec<u8>> {
        match self.records.recv_timeout(WAIT) {
            Ok(record) => Some(record),
            Err(mpsc::RecvTimeoutError::Disconnected) => None,
            Err(mpsc::RecvTimeoutError::Timeout) => panic!("no event within {WAIT:?}"),
        }
    }

    /// The next event of a protobuf stream.
    pub fn event(&self) -> Event {
        let record = self.record().expect("the stream goes on");
        Event::decode(record.as_slice()).expect("a v1 executor Event")
    }

    /// The next event of a JSON stream.
    pub fn json(&self) -> Value {
        let record = self.record().expect("the stream goes on");
        serde_json::from_slice(&record).expect("a JSON event")
    }

    /// Whether the agent ended the stream (after any events still
    /// buffered, which are skipped).
    pub fn ends(&self) -> bool {
        while self.record().is_some() {}
        true
    }

    pub fn close(&self) {
        let _ = self.socket.shutdown(Shutdown::Both);
    }
}

/// Decodes the chunked body into RecordIO records, until it ends.
fn read_records(mut reader: BufReader<TcpStream>, tx: mpsc::Sender<Vec<u8>>) {
    let mut pending: Vec<u8> = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let Ok(size) = usize::from_str_radix(line.trim(), 16) else {
            return;
        };
        if size == 0 {
            return;
        }
        let mut chunk = vec![0; size + 2];
        if reader.read_exact(&mut chunk).is_err() {
            return;
        }
        chunk.truncate(size);
        pending.extend_from_slice(&chunk);
        while let Some(newline) = pending.iter().position(|b| *b == b'\n') {
            let length: usize = std::str::from_utf8(&pending[..newline])
                .ok()
                .and_then(|s| s.parse().ok())
                .expect("a record length");
            if pending.len() < newline + 1 + length {
                break;
            }
            let record = pending[newline + 1..newline + 1 + length].to_vec();
            pending.drain(..newline + 1 + length);
            if tx.send(record).is_err() {
                return;
            }
        }
    }
}

pub fn kind(event: &Event) -> event::Type {
    event::Type::try_from(event.r#type.unwrap_or(0)).unwrap_or(event::Type::Unknown)
}
