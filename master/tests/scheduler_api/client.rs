//! An HTTP scheduler's side of `/api/v1/scheduler` for the tests: calls
//! POSTed with `ureq`, and the SUBSCRIBE response read off a raw socket,
//! chunk by chunk and record by record.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use mesos_proto::v1::scheduler::{event, Event};
use prost::Message;
use serde_json::Value;

use crate::support::{TestMaster, BOUND};

pub const JSON: &str = "application/json";
pub const PROTOBUF: &str = "application/x-protobuf";

pub fn url(master: &TestMaster) -> String {
    format!("http://{}/api/v1/scheduler", master.runtime.bound_address())
}

/// POSTs `body` to the API with `headers`; status and body, errors
/// included.
pub fn post(master: &TestMaster, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
    let mut request = ureq::post(&url(master)).timeout(BOUND);
    for (name, value) in headers {
        request = request.set(name, value);
    }
    let response = match request.send_bytes(body) {
        Ok(response) => response,
        Err(ureq::Error::Status(_, response)) => response,
        Err(error) => panic!("POST failed: {error}"),
    };
    let status = response.status();
    (status, response.into_string().unwrap_or_default())
}

/// A SUBSCRIBE response being read: its headers, then events.
pub struct Stream {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    reader: BufReader<TcpStream>,
    pub content_type: String,
    /// Sizes of the HTTP chunks read so far, and records per chunk.
    pub chunks: Vec<(usize, usize)>,
    pending: Vec<u8>,
}

impl Stream {
    /// POSTs a SUBSCRIBE `body` in `content_type`, accepting `accept`.
    pub fn open(master: &TestMaster, content_type: &str, accept: &str, body: &[u8]) -> Stream {
        let mut socket = TcpStream::connect(master.runtime.bound_address()).expect("connect");
        socket.set_read_timeout(Some(BOUND)).unwrap();
        let head = format!(
            "POST /api/v1/scheduler HTTP/1.1\r\nHost: test\r\nContent-Type: {content_type}\r\n\
             Accept: {accept}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        socket.write_all(head.as_bytes()).unwrap();
        socket.write_all(body).unwrap();
        let mut reader = BufReader::new(socket);
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let status = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        let mut headers = Vec::new();
        loop {
            line.clear();
            reader.read_line(&mut line).unwrap();
            let trimmed = line.trim_end();
            if trimmed.is_empty() {
                break;
            }
            let (name, value) = trimmed.split_once(':').unwrap();
            headers.push((name.to_ascii_lowercase(), value.trim().to_string()));
        }
        let content_type = headers
            .iter()
            .find(|(n, _)| n == "content-type")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        Stream {
            status,
            headers,
            reader,
            content_type,
            chunks: Vec::new(),
            pending: Vec::new(),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == &name.to_ascii_lowercase())
            .map(|(_, v)| v.as_str())
    }

    pub fn stream_id(&self) -> String {
        self.header("Mesos-Stream-Id").expect("a stream ID").into()
    }

    /// The next HTTP chunk, or None at the end of the response.
    fn chunk(&mut self) -> Option<Vec<u8>> {
        let mut line = String::new();
        if self.reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let size = usize::from_str_radix(line.trim(), 16).expect("a chunk size");
        if size == 0 {
            return None;
        }
        let mut data = vec![0; size + 2];
        self.reader.read_exact(&mut data).expect("the chunk");
        data.truncate(size);
        Some(data)
    }

    /// The next RecordIO record, or None at the end of the stream.
    fn record(&mut self) -> Option<Vec<u8>> {
        loop {
            if let Some(newline) = self.pending.iter().position(|b| *b == b'\n') {
                let length: usize = std::str::from_utf8(&self.pending[..newline])
                    .unwrap()
                    .parse()
                    .expect("a record length");
                if self.pending.len() > newline + length {
                    let record = self.pending[newline + 1..=newline + length].to_vec();
                    self.pending.drain(..=newline + length);
                    return Some(record);
                }
            }
            let chunk = self.chunk()?;
            let records = count_records(&chunk);
            self.chunks.push((chunk.len(), records));
            self.pending.extend_from_slice(&chunk);
        }
    }

    /// The next event, as JSON (protobuf streams are decoded and rendered
    /// by their typed fields).
    pub fn event(&mut self) -> Option<Event> {
        let record = self.record()?;
        Some(if self.content_type == PROTOBUF {
            Event::decode(record.as_slice()).expect("a v1 Event")
        } else {
            let json: Value = serde_json::from_slice(&record).expect("a JSON event");
            json_event(&json)
        })
    }

    /// The next event that is not a HEARTBEAT.
    pub fn next(&mut self) -> Event {
        loop {
            let event = self.event().expect("the stream goes on");
            if event.r#type != Some(event::Type::Heartbeat as i32) {
                return event;
            }
        }
    }
}

/// How many whole RecordIO records `chunk` holds exactly.
fn count_records(chunk: &[u8]) -> usize {
    let mut rest = chunk;
    let mut n = 0;
    while let Some(newline) = rest.iter().position(|b| *b == b'\n') {
        let Ok(length) = std::str::from_utf8(&rest[..newline])
            .unwrap_or("x")
            .parse::<usize>()
        else {
            return n;
        };
        if rest.len() < newline + 1 + length {
            return n;
        }
        rest = &rest[newline + 1 + length..];
        n += 1;
    }
    n
}

/// The fields of a JSON event the tests look at, as a typed `Event`.
fn json_event(json: &Value) -> Event {
    let kind = json["type"].as_str().expect("a type name");
    let mut event = Event {
        r#type: Some(event::Type::from_str_name(kind).expect("a known type") as i32),
        ..Default::default()
    };
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    match kind {
        "SUBSCRIBED" => {
            let s = &json["subscribed"];
            event.subscribed = Some(event::Subscribed {
                framework_id: mesos_proto::v1::FrameworkId {
                    value: text(&s["framework_id"]["value"]),
                },
                heartbeat_interval_seconds: s["heartbeat_interval_seconds"].as_f64(),
                master_info: None,
            });
        }
        "OFFERS" => {
            let offers = json["offers"]["offers"].as_array().expect("offers");
            event.offers = Some(event::Offers {
                offers: offers
                    .iter()
                    .map(|o| mesos_proto::v1::Offer {
                        id: mesos_proto::v1::OfferId {
                            value: text(&o["id"]["value"]),
                        },
                        agent_id: mesos_proto::v1::AgentId {
                            value: text(&o["agent_id"]["value"]),
                        },
                        hostname: text(&o["hostname"]),
                        ..Default::default()
                    })
                    .collect(),
            });
        }
        "UPDATE" => {
            let s = &json["update"]["status"];
            event.update = Some(event::Update {
                status: mesos_proto::v1::TaskStatus {
                    task_id: mesos_proto::v1::TaskId {
                        value: text(&s["task_id"]["value"]),
                    },
                    state: mesos_proto::v1::TaskState::from_str_name(&text(&s["state"]))
                        .expect("a task state") as i32,
                    uuid: s["uuid"]
                        .as_str()
                        .map(|u| STANDARD.decode(u).expect("base64").into()),
                    ..Default::default()
                },
            });
        }
        "ERROR" => {
            event.error = Some(event::Error {
                message: text(&json["error"]["message"]),
            });
        }
        _ => {}
    }
    event
}
