//! Logging, and `/logging/toggle`: raise the verbosity for a while, as
//! glog's `-v` is raised in libprocess. Verbosity 1 adds `debug` events,
//! 2 and above add `trace`.

use std::sync::atomic::{AtomicU8, Ordering};

use tracing::Level;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::clock::Timer;
use crate::http::{Reply, Response};
use crate::process::{Context, Process};

/// 0 = error ... 4 = trace; what is logged without extra verbosity.
static BASE: AtomicU8 = AtomicU8::new(2);
/// The current `-v` level.
static VERBOSITY: AtomicU8 = AtomicU8::new(0);

fn rank(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 0,
        Level::WARN => 1,
        Level::INFO => 2,
        Level::DEBUG => 3,
        Level::TRACE => 4,
    }
}

fn enabled(level: &Level) -> bool {
    let verbosity = VERBOSITY.load(Ordering::Relaxed);
    let allowed = BASE.load(Ordering::Relaxed).max(match verbosity {
        0 => 0,
        1 => 3,
        _ => 4,
    });
    rank(level) <= allowed
}

/// Logs `level` and above to stderr, as Mesos's `--logging_level` does;
/// `/logging/toggle` can raise it for a while. Does nothing if a global
/// subscriber is already installed (the first caller wins).
pub fn init(level: Level) {
    BASE.store(rank(&level), Ordering::Relaxed);
    let filter = tracing_subscriber::filter::filter_fn(|meta| enabled(meta.level()));
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(filter),
        )
        .try_init();
}

use tracing_subscriber::Layer;

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
        VERBOSITY.store(level, Ordering::Relaxed);
        if let Some(timer) = self.revert.take() {
            ctx.cancel(timer);
        }
        if level != 0 {
            self.revert = Some(ctx.delay(duration, |logging, _| {
                logging.revert = None;
                VERBOSITY.store(0, Ordering::Relaxed);
            }));
        }
        Response::status(200)
    }
}
