//! The load generator's side of a run: one libprocess runtime (one OS
//! process, one listening socket, as a machine running many agents would
//! look to the master) hosting the simulated agents `slave(1)`..
//! `slave(N)` and frameworks `scheduler-<uuid>`.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use libprocess::{Config, Pid, Runtime, UPID};

use crate::agent::{AgentSettings, Preloaded, SimAgent};
use crate::framework::{FrameworkSettings, SimFramework};
use crate::tally::Tally;

/// Simulated agents and frameworks of one run.
pub struct Cluster {
    runtime: Runtime,
    /// What they saw.
    pub tally: Arc<Tally>,
    master: UPID,
    agents: Vec<Pid<SimAgent>>,
    frameworks: Vec<Pid<SimFramework>>,
}

impl Cluster {
    /// A runtime on loopback with `workers` threads, for a master at
    /// `master`.
    pub fn new(master: UPID, workers: usize) -> Result<Cluster, String> {
        let runtime = Runtime::start(Config {
            ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            worker_threads: workers,
            ..Config::default()
        })
        .map_err(|e| format!("cannot start the load generator's runtime: {e}"))?;
        Ok(Cluster {
            runtime,
            tally: Arc::new(Tally::new()),
            master,
            agents: Vec::new(),
            frameworks: Vec::new(),
        })
    }

    /// The master the cluster talks to.
    pub fn master(&self) -> &UPID {
        &self.master
    }

    /// Settings for agents of `resources` keeping `keep_running` tasks.
    pub fn agent_settings(
        &self,
        resources: &crate::wire::Scalars,
        keep_running: usize,
    ) -> Arc<AgentSettings> {
        Arc::new(AgentSettings {
            master: self.master.clone(),
            resources: resources.clone(),
            keep_running,
            tally: self.tally.clone(),
        })
    }

    /// Spawns `count` agents that have not registered yet.
    pub fn spawn_agents(
        &mut self,
        count: usize,
        settings: &Arc<AgentSettings>,
    ) -> Result<(), String> {
        let port = self.runtime.address().port();
        for _ in 0..count {
            let id = self.runtime.generate_id("slave");
            let hostname = format!("bench-{}", self.agents.len() + 1);
            let agent = SimAgent::new(settings.clone(), &hostname, port);
            let pid = self
                .runtime
                .spawn(&id, agent)
                .map_err(|e| format!("cannot spawn {id}: {e}"))?;
            self.agents.push(pid);
        }
        Ok(())
    }

    /// Spawns agents that already have IDs and tasks, made by `preload`
    /// from the agent's index.
    pub fn spawn_preloaded_agents(
        &mut self,
        count: usize,
        settings: &Arc<AgentSettings>,
        preload: impl Fn(usize) -> Preloaded,
    ) -> Result<(), String> {
        let port = self.runtime.address().port();
        for i in 0..count {
            let id = self.runtime.generate_id("slave");
            let preloaded = preload(i);
            let hostname = preloaded.id.clone();
            let agent = SimAgent::preloaded(settings.clone(), &hostname, port, preloaded);
            let pid = self
                .runtime
                .spawn(&id, agent)
                .map_err(|e| format!("cannot spawn {id}: {e}"))?;
            self.agents.push(pid);
        }
        Ok(())
    }

    /// Tells every agent to register.
    pub fn register_agents(&self) {
        for agent in &self.agents {
            agent.post(|a, ctx| a.register(ctx));
        }
    }

    /// Tells every agent and framework that a master was elected (as a
    /// ZooKeeper detector would): they (re)register.
    pub fn detected(&self) {
        for agent in &self.agents {
            agent.post(|a, ctx| a.detected(ctx));
        }
        for framework in &self.frameworks {
            framework.post(|f, ctx| f.detected(ctx));
        }
    }

    /// Spawns `count` frameworks; they subscribe at once.
    pub fn spawn_frameworks(
        &mut self,
        count: usize,
        settings: &Arc<FrameworkSettings>,
    ) -> Result<(), String> {
        for _ in 0..count {
            let id = format!("scheduler-{}", uuid::Uuid::new_v4());
            let name = format!("bench-framework-{}", self.frameworks.len() + 1);
            let pid = self
                .runtime
                .spawn(&id, SimFramework::new(settings.clone(), name))
                .map_err(|e| format!("cannot spawn {id}: {e}"))?;
            self.frameworks.push(pid);
        }
        Ok(())
    }

    /// Agents spawned.
    pub fn agent_count(&self) -> usize {
        self.agents.len()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.runtime.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use mesos_master::{MasterHandle, MasterOptions};

    use super::*;
    use crate::wire::Scalars;

    /// The simulated agents and frameworks speak the protocol well enough
    /// for a master to register them, run their tasks to completion, and
    /// take them back after the agents' link broke.
    #[test]
    fn agents_register_run_tasks_and_reregister_with_our_master() {
        let master_runtime = Runtime::start(Config {
            ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            worker_threads: 1,
            ..Config::default()
        })
        .unwrap();
        let master = MasterHandle::start(
            &master_runtime,
            MasterOptions {
                flags: Default::default(),
            },
        )
        .unwrap();
        let mut cluster = Cluster::new(master.upid().clone(), 1).unwrap();
        let agent = Scalars::parse("cpus:0.1;mem:320").unwrap();
        let task = Scalars::parse("cpus:0.01;mem:32").unwrap();
        // Each agent keeps 2 of its 10 slots RUNNING; the rest churn.
        let settings = cluster.agent_settings(&agent, 2);
        cluster.spawn_agents(5, &settings).unwrap();
        cluster.register_agents();
        let tally = cluster.tally.clone();
        let bound = Duration::from_secs(10);
        assert!(tally.wait(bound, |t| t.registered.get() == 5));

        let frameworks = Arc::new(FrameworkSettings {
            master: cluster.master().clone(),
            role: "*".into(),
            task,
            max_tasks_per_offer: usize::MAX,
            labels: 0,
            max_in_flight: usize::MAX,
            refuse_seconds: 5.0,
            tally: tally.clone(),
        });
        cluster.spawn_frameworks(2, &frameworks).unwrap();
        assert!(tally.wait(bound, |t| t.subscribed.get() == 2));
        assert!(tally.wait(bound, |t| t.finished.get() >= 100));
        assert_eq!(tally.kept_running.get(), 10);
        assert_eq!(tally.failed.get(), 0);
        assert_eq!(tally.shutdowns.get(), 0);

        // The link breaking (here: the master's runtime going away) is
        // noticed by every agent.
        let port = master_runtime.bound_address().port();
        master_runtime.shutdown();
        assert!(tally.wait(bound, |t| t.disconnected.get() == 5));

        // A new master on the same address: told of it, agents come back
        // with their RUNNING tasks and frameworks resubscribe.
        let master_runtime = Runtime::start(Config {
            ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port,
            worker_threads: 1,
            ..Config::default()
        })
        .unwrap();
        let _master = MasterHandle::start(
            &master_runtime,
            MasterOptions {
                flags: Default::default(),
            },
        )
        .unwrap();
        cluster.detected();
        assert!(tally.wait(bound, |t| t.reregistered.get() == 5));
        assert!(tally.wait(bound, |t| t.resubscribed.get() == 2));
        let state =
            crate::target::http_get(master_runtime.bound_address(), "/metrics/snapshot", bound)
                .map(|(_, body)| serde_json::from_slice::<serde_json::Value>(&body).unwrap())
                .unwrap();
        assert_eq!(state["master/tasks_running"].as_f64(), Some(10.0));
        master_runtime.shutdown();
    }
}
