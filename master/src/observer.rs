//! The slave observer: one process per agent (`slave-observer(N)`) that
//! pings the agent every `--agent_ping_timeout` and tells the master when
//! `--max_agent_ping_timeouts` pings in a row went unanswered.

use std::time::Duration;

use libprocess::{Context, Pid, Process, UPID};
use mesos_proto::internal::{PingSlaveMessage, PongSlaveMessage};

use crate::master::Master;

/// Pings one agent on behalf of the master.
pub struct SlaveObserver {
    agent: UPID,
    agent_id: String,
    master: Pid<Master>,
    timeout: Duration,
    max_timeouts: u64,
    /// Whether the last ping is still unanswered.
    pinged: bool,
    /// Consecutive unanswered pings.
    timeouts: u64,
    /// Whether the master sees the agent as connected (sent in pings).
    connected: bool,
}

impl SlaveObserver {
    /// An observer of agent `agent_id` at `agent`, reporting to `master`.
    pub fn new(
        agent: UPID,
        agent_id: String,
        master: Pid<Master>,
        timeout: Duration,
        max_timeouts: u64,
    ) -> SlaveObserver {
        SlaveObserver {
            agent,
            agent_id,
            master,
            timeout,
            max_timeouts,
            pinged: false,
            timeouts: 0,
            connected: true,
        }
    }

    /// The agent moved to a new UPID (it reregistered from a restarted
    /// process).
    pub fn reconnect(&mut self, agent: UPID) {
        self.agent = agent;
        self.connected = true;
        self.timeouts = 0;
    }

    /// The master saw the agent's socket break.
    pub fn disconnected(&mut self) {
        self.connected = false;
    }

    fn ping(&mut self, ctx: &mut Context<Self>) {
        ctx.send(
            &self.agent,
            &PingSlaveMessage {
                connected: self.connected,
            },
        );
        self.pinged = true;
        ctx.delay(self.timeout, |observer, ctx| observer.ping_timed_out(ctx));
    }

    fn pong(&mut self, from: &UPID) {
        if *from == self.agent {
            self.pinged = false;
            self.timeouts = 0;
        }
    }

    fn ping_timed_out(&mut self, ctx: &mut Context<Self>) {
        if self.pinged {
            self.timeouts += 1;
            if self.timeouts >= self.max_timeouts {
                let agent_id = self.agent_id.clone();
                self.master
                    .post(move |master, ctx| master.agent_ping_timed_out(ctx, &agent_id));
                // The master terminates us once the agent is removed; stop
                // pinging meanwhile.
                return;
            }
        }
        self.ping(ctx);
    }
}

impl Process for SlaveObserver {
    fn initialize(&mut self, ctx: &mut Context<Self>) {
        ctx.install::<PongSlaveMessage, _>(|observer, _ctx, from, _| observer.pong(from));
        self.ping(ctx);
    }
}
