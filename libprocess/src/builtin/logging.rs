//! Logging, and `/logging/toggle`: raise the verbosity for a while, as
//! glog's `-v` is raised in libprocess. Verbosity 1 adds `debug` events,
//! 2 and above add `trace`.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;

use tracing::Level;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{reload, Registry};

use crate::clock::Timer;
use crate::http::{Reply, Response};
use crate::process::{Context, Process};

/// The level asked for at start (`--logging_level`).
static BASE: AtomicU8 = AtomicU8::new(2);
/// The current `-v` level.
static VERBOSITY: AtomicU8 = AtomicU8::new(0);
/// Swaps the level filter of the installed subscriber (and rebuilds
/// tracing's per-callsite cache, so a raised level takes effect at once).
static RELOAD: OnceLock<reload::Handle<LevelFilter, Registry>> = OnceLock::new();

fn rank(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 0,
        Level::WARN => 1,
        Level::INFO => 2,
        Level::DEBUG => 3,
        Level::TRACE => 4,
    }
}

/// What is logged at the base level raised by verbosity `v`.
fn filter_for(v: u8) -> LevelFilter {
    let allowed = BASE.load(Ordering::Relaxed).max(match v {
        0 => 0,
        1 => 3,
        _ => 4,
    });
    match allowed {
        0 => LevelFilter::ERROR,
        1 => LevelFilter::WARN,
        2 => LevelFilter::INFO,
        3 => LevelFilter::DEBUG,
        _ => LevelFilter::TRACE,
    }
}

/// Sets verbosity `v` on the installed subscriber.
fn set_verbosity(v: u8) {
    VERBOSITY.store(v, Ordering::Relaxed);
    if let Some(handle) = RELOAD.get() {
        let _ = handle.reload(filter_for(v));
    }
}

/// The level Mesos's `--logging_level` names (`INFO`, `WARNING`, `ERROR`);
/// anything else is `INFO`, Mesos's default.
pub fn level_from_mesos(name: &str) -> Level {
    match name.trim().to_ascii_uppercase().as_str() {
        "WARNING" => Level::WARN,
        "ERROR" => Level::ERROR,
        _ => Level::INFO,
    }
}

/// Logs `level` and above to stderr, as Mesos's `--logging_level` does;
/// `/logging/toggle` can raise it for a while. Does nothing if a global
/// subscriber is already installed (the first caller wins).
pub fn init(level: Level) {
    BASE.store(rank(&level), Ordering::Relaxed);
    let (filter, handle) = reload::Layer::new(filter_for(VERBOSITY.load(Ordering::Relaxed)));
    let installed = tracing_subscriber::registry()
        .with(filter)
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .try_init();
    if installed.is_ok() {
        let _ = RELOAD.set(handle);
    }
}

const HELP: &str = "Sets the logging verbosity level for a period of time.\n\n\
Query parameters: 'level' (0 and up; 1 adds debug, 2 adds trace) and \
'duration' (e.g. 10mins), both required. With neither, returns the current \
level.";

/// Serves `/logging/toggle` and reverts the level when its time is up.
#[derive(Default)]
pub(crate) struct Logging {
    revert: Option<Timer>,
}

impl Process for Logging {
    fn initialize(&mut self, ctx: &mut Context<Self>) {
        ctx.route("/toggle", Some(HELP), |logging, ctx, request| {
            Reply::Now(logging.toggle(
                ctx,
                request.query.get("level").map(String::as_str),
                request.query.get("duration").map(String::as_str),
            ))
        });
    }
}

impl Logging {
    fn toggle(
        &mut self,
        ctx: &mut Context<Self>,
        level: Option<&str>,
        duration: Option<&str>,
    ) -> Response {
        let (level, duration) = match (level, duration) {
            (None, None) => {
                return Response::ok(
                    "text/plain",
                    format!("{}\n", VERBOSITY.load(Ordering::Relaxed)),
                )
            }
            (Some(_), None) => {
                return Response::bad_request("Expecting 'duration=value' in query.\n")
            }
            (None, Some(_)) => return Response::bad_request("Expecting 'level=value' in query.\n"),
            (Some(level), Some(duration)) => (level, duration),
        };
        let level: u8 = match level.trim().parse() {
            Ok(level) => level,
            Err(_) => return Response::bad_request(format!("Invalid level '{level}'.\n")),
        };
        let duration = match super::parse_duration(duration) {
            Ok(duration) => duration,
            Err(error) => return Response::bad_request(format!("{error}.\n")),
        };
        set_verbosity(level);
        if let Some(timer) = self.revert.take() {
            ctx.cancel(timer);
        }
        if level != 0 {
            self.revert = Some(ctx.delay(duration, |logging, _| {
                logging.revert = None;
                set_verbosity(0);
            }));
        }
        Response::status(200)
    }
}
