//! `mesos-master`: [`mesos_master::cli::main_entry`] on jemalloc.

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options: a background thread hands pages freed after a
/// burst (a registration storm, a large `/master/state`) back to the
/// system within about a second, instead of on some later allocation.
/// No separate arena for large allocations (`oversize_threshold:0`): its
/// pages go back at once, so every `/master/state` body (megabytes)
/// faulted in fresh pages; from the normal arenas the next body reuses
/// the last one's.
#[allow(non_upper_case_globals)]
#[export_name = "_rjem_malloc_conf"]
pub static malloc_conf: &[u8] =
    b"background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:1000,oversize_threshold:0\0";

fn main() -> std::process::ExitCode {
    mesos_master::cli::main_entry()
}
