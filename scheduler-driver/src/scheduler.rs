//! The `Scheduler` trait: what a framework implements to hear from the
//! driver, with the callbacks of Mesos's `Scheduler`.

use mesos_proto::mesos::{
    ExecutorId, FrameworkId, MasterInfo, Offer, OfferId, SlaveId, TaskStatus,
};

use crate::driver::SchedulerDriver;

/// A framework's scheduler. The driver calls these on its own process,
/// one at a time and in the order the events arrived; each gets the
/// driver so it can act (launch tasks, decline, stop) from inside. Driver
/// operations called from a callback take effect after it returns.
///
/// A callback must not block for long (it holds up every later event)
/// and must not call `join` (it would wait for itself).
pub trait Scheduler: Send + 'static {
    /// Registered with a master for the first time (or after failing
    /// over to a new scheduler instance with `force`); `framework_id` is
    /// the framework's id from now on.
    fn registered(
        &mut self,
        driver: &dyn SchedulerDriver,
        framework_id: &FrameworkId,
        master_info: &MasterInfo,
    );

    /// Registered again, with a master that already knew the framework
    /// (a master failover, or the same master after a disconnection).
    fn reregistered(&mut self, driver: &dyn SchedulerDriver, master_info: &MasterInfo);

    /// The master went away or a new one was elected. The driver keeps
    /// trying to register; `reregistered` follows once it succeeds.
    fn disconnected(&mut self, driver: &dyn SchedulerDriver);

    /// Resources offered to the framework. An offer stays valid until it
    /// is accepted, declined, or rescinded; using one twice is an error
    /// the master reports with a `TASK_LOST`/`TASK_DROPPED` update.
    fn resource_offers(&mut self, driver: &dyn SchedulerDriver, offers: &[Offer]);

    /// An offer is no longer valid (e.g. its agent was lost or another
    /// framework used it); launches against it will fail.
    fn offer_rescinded(&mut self, driver: &dyn SchedulerDriver, offer_id: &OfferId);

    /// A task changed state. With implicit acknowledgements the driver
    /// acknowledges it once this returns; otherwise the framework must
    /// call `acknowledge_status_update` for updates with a `uuid`.
    fn status_update(&mut self, driver: &dyn SchedulerDriver, status: &TaskStatus);

    /// A message an executor sent to the framework. Best effort: not
    /// retried if lost.
    fn framework_message(
        &mut self,
        driver: &dyn SchedulerDriver,
        executor_id: &ExecutorId,
        slave_id: &SlaveId,
        data: &[u8],
    );

    /// An agent is lost (removed or unreachable); its tasks are reported
    /// separately through status updates.
    fn slave_lost(&mut self, driver: &dyn SchedulerDriver, slave_id: &SlaveId);

    /// An executor exited or was terminated, with its wait status.
    fn executor_lost(
        &mut self,
        driver: &dyn SchedulerDriver,
        executor_id: &ExecutorId,
        slave_id: &SlaveId,
        status: i32,
    );

    /// An unrecoverable error (the master refused the framework, the
    /// master value could not be used, ...). The driver is already
    /// aborted when this runs.
    fn error(&mut self, driver: &dyn SchedulerDriver, message: &str);
}
