//! What `mesos-master` runs: load the flags (command line, then
//! `MESOS_*`), start a libprocess runtime on `--ip`/`--port` and the
//! master in it, and serve until killed. A function, so that other
//! binaries (`mesos-local` invoked as `mesos-master`) can run it too.

use std::net::IpAddr;
use std::process::ExitCode;

use libprocess::{Config, Runtime};

use crate::flags::{flag_set, MasterFlags};
use crate::master::VERSION;
use crate::{MasterHandle, MasterOptions};

/// The binary's `main`; returns only on a bad flag or a failed start.
pub fn main_entry() -> ExitCode {
    let set = flag_set();
    let flags = set.load_or_exit();
    if flags.get_bool("version") == Some(true) {
        println!("mesos {VERSION}");
        return ExitCode::SUCCESS;
    }
    let master_flags = match MasterFlags::from_flags(&flags) {
        Ok(f) => f,
        Err(error) => {
            eprintln!("{}", set.usage(flags.program(), Some(&error.to_string())));
            return ExitCode::FAILURE;
        }
    };
    if flags.get_bool("quiet") != Some(true) {
        // Through libprocess, so that /logging/toggle can raise it.
        libprocess::builtin::init_logging(libprocess::builtin::level_from_mesos(
            flags.get_str("logging_level").unwrap_or("INFO"),
        ));
    }
    let mut config = match Config::from_env() {
        Ok(c) => c,
        Err(error) => return fail(&error.to_string()),
    };
    if let Some(ip) = flags.get_str("ip") {
        match ip.parse::<IpAddr>() {
            Ok(ip) => config.ip = ip,
            Err(_) => return fail("invalid --ip"),
        }
    }
    config.port = flags.get_u16("port").unwrap_or(5050);
    if let Some(ip) = flags.get_str("advertise_ip") {
        match ip.parse() {
            Ok(ip) => config.advertise_ip = Some(ip),
            Err(_) => return fail("invalid --advertise_ip"),
        }
    }
    if let Some(port) = flags.get_u16("advertise_port") {
        config.advertise_port = Some(port);
    }
    let runtime = match Runtime::start(config) {
        Ok(r) => r,
        Err(error) => return fail(&error.to_string()),
    };
    let master = match MasterHandle::start(
        &runtime,
        MasterOptions {
            flags: master_flags,
        },
    ) {
        Ok(m) => m,
        Err(error) => return fail(&error.to_string()),
    };
    tracing::info!("master started at {}", master.upid());
    // Run until killed.
    loop {
        std::thread::park();
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("mesos-master: {message}");
    ExitCode::FAILURE
}
