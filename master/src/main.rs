//! `mesos-master`: loads its flags (command line, then `MESOS_*`), starts
//! a libprocess runtime on `--ip`/`--port`, and runs the master until
//! killed.

use std::net::IpAddr;

use libprocess::{Config, Runtime};
use mesos_master::flags::{flag_set, MasterFlags};
use mesos_master::master::VERSION;
use mesos_master::{MasterHandle, MasterOptions};

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options: a background thread hands pages freed after a
/// burst (a registration storm, a large `/master/state`) back to the
/// system within about a second, instead of on some later allocation.
#[allow(non_upper_case_globals)]
#[export_name = "_rjem_malloc_conf"]
pub static malloc_conf: &[u8] = b"background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:1000\0";

fn main() {
    let set = flag_set();
    let flags = set.load_or_exit();
    if flags.get_bool("version") == Some(true) {
        println!("mesos {VERSION}");
        return;
    }
    let master_flags = match MasterFlags::from_flags(&flags) {
        Ok(f) => f,
        Err(error) => {
            eprintln!("{}", set.usage(flags.program(), Some(&error.to_string())));
            std::process::exit(1);
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
        Err(error) => fail(&error.to_string()),
    };
    if let Some(ip) = flags.get_str("ip") {
        config.ip = ip
            .parse::<IpAddr>()
            .unwrap_or_else(|_| fail("invalid --ip"));
    }
    config.port = flags.get_u16("port").unwrap_or(5050);
    if let Some(ip) = flags.get_str("advertise_ip") {
        config.advertise_ip = Some(
            ip.parse()
                .unwrap_or_else(|_| fail("invalid --advertise_ip")),
        );
    }
    if let Some(port) = flags.get_u16("advertise_port") {
        config.advertise_port = Some(port);
    }
    let runtime = match Runtime::start(config) {
        Ok(r) => r,
        Err(error) => fail(&error.to_string()),
    };
    let master = match MasterHandle::start(
        &runtime,
        MasterOptions {
            flags: master_flags,
        },
    ) {
        Ok(m) => m,
        Err(error) => fail(&error.to_string()),
    };
    tracing::info!("master started at {}", master.upid());
    // Run until killed.
    loop {
        std::thread::park();
    }
}

fn fail(message: &str) -> ! {
    eprintln!("mesos-master: {message}");
    std::process::exit(1);
}
