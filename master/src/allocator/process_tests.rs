use std::sync::mpsc;

use libprocess::{Config, Runtime};
use mesos_proto::mesos::{framework_info, slave_info, FrameworkInfo};

use crate::allocator::{AllocatorHandle, OfferCallback};

use super::*;

type Offered = (String, BTreeMap<String, BTreeMap<String, Arc<Resources>>>);

const BOUND: Duration = Duration::from_secs(10);

fn runtime() -> Runtime {
    Runtime::start(Config {
        ip: "127.0.0.1".parse().unwrap(),
        port: 0,
        ..Config::default()
    })
    .expect("runtime starts")
}

fn start(runtime: &Runtime) -> (AllocatorHandle, mpsc::Receiver<Offered>) {
    let (tx, rx) = mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let callback: OfferCallback = Arc::new(move |framework, offers| {
        let _ = tx.lock().unwrap().send((framework, offers));
    });
    let handle = AllocatorHandle::spawn(runtime, AllocatorOptions::default(), callback)
        .expect("allocator spawns");
    (handle, rx)
}

fn framework(role: &str) -> FrameworkInfo {
    #[allow(deprecated)]
    FrameworkInfo {
        name: "test".to_string(),
        user: "root".to_string(),
        role: Some(role.to_string()),
        capabilities: vec![framework_info::Capability {
            r#type: Some(framework_info::capability::Type::MultiRole as i32),
        }],
        roles: vec![role.to_string()],
        ..Default::default()
    }
}

/// What a current agent announces.
fn agent_capabilities() -> Vec<slave_info::Capability> {
    use slave_info::capability::Type;
    [
        Type::MultiRole,
        Type::HierarchicalRole,
        Type::ReservationRefinement,
    ]
    .into_iter()
    .map(|t| slave_info::Capability {
        r#type: Some(t as i32),
    })
    .collect()
}

/// Adds an active framework `id` in `role`, suppressing nothing.
fn add_framework(handle: &AllocatorHandle, id: &str, role: &str) {
    handle.add_framework(id, &framework(role), BTreeMap::new(), true, BTreeSet::new());
}

/// A paused runtime with an allocator, and framework `f1` in role `*`.
fn paused_with_framework() -> (Runtime, AllocatorHandle, mpsc::Receiver<Offered>) {
    let runtime = runtime();
    runtime.clock().pause();
    let (handle, offers) = start(&runtime);
    add_framework(&handle, "f1", "*");
    (runtime, handle, offers)
}

/// Adds an agent `id` of `resources` that runs nothing yet.
fn add_agent(handle: &AllocatorHandle, id: &str, resources: &str) {
    handle.add_slave(id, &agent_capabilities(), res(resources), BTreeMap::new());
}

fn res(text: &str) -> Resources {
    Resources::parse(text, "*").unwrap()
}

/// Waits until every event queued before it has been handled.
fn settle(runtime: &Runtime, handle: &AllocatorHandle) {
    let pid = handle.pid().clone();
    runtime
        .block_on(async move { pid.dispatch(|_, _| ()).await })
        .expect("allocator alive");
}

/// Adds `count` agents `s000`, `s001`, ... of one cpu each and returns
/// what each was offered as it came.
fn add_agents_and_take_their_offers(
    runtime: &Runtime,
    handle: &AllocatorHandle,
    offers: &mpsc::Receiver<Offered>,
    count: usize,
) -> BTreeMap<String, Arc<Resources>> {
    for i in 0..count {
        add_agent(handle, &format!("s{i:03}"), "cpus:1;mem:256");
    }
    settle(runtime, handle);
    let mut held = BTreeMap::new();
    while held.len() < count {
        let (_, offer) = offers.recv_timeout(BOUND).expect("the new agents' offers");
        held.extend(offer.into_values().flatten());
    }
    held
}

fn agents_offered(offer: &Offered) -> Vec<String> {
    offer
        .1
        .values()
        .flat_map(|agents| agents.keys().cloned())
        .collect()
}

#[test]
fn a_new_agent_is_offered_soon_and_a_refusal_lasts_until_the_clock_passes_it() {
    let (runtime, handle, offers) = paused_with_framework();
    add_agent(&handle, "s1", "cpus:2;mem:1024");

    // Adding resources triggers a cycle without waiting for the interval.
    let (framework_id, offered) = offers.recv_timeout(BOUND).expect("an offer");
    assert_eq!(framework_id, "f1");
    let resources = Resources::clone(&offered["*"]["s1"]);
    let mut expected = res("cpus:2;mem:1024");
    expected.allocate("*");
    assert_eq!(resources, expected);

    handle.recover_resources("f1", "s1", resources, Some(Duration::from_secs(3)));
    settle(&runtime, &handle);
    runtime.clock().advance(Duration::from_secs(1));
    settle(&runtime, &handle);
    runtime.clock().advance(Duration::from_secs(1));
    settle(&runtime, &handle);
    assert!(offers.try_recv().is_err(), "filtered for 3 seconds");

    // The batch cycle at 3 seconds finds the filter expired.
    runtime.clock().advance(Duration::from_secs(1));
    let (framework_id, offered) = offers.recv_timeout(BOUND).expect("offered again");
    assert_eq!(framework_id, "f1");
    assert_eq!(agents_offered(&(framework_id, offered)), ["s1"]);
    runtime.shutdown();
}

#[test]
fn a_burst_of_events_causes_one_cycle() {
    let runtime = runtime();
    runtime.clock().pause();
    let (handle, offers) = start(&runtime);

    // Hold the process while the burst is queued.
    let (release, held) = mpsc::channel::<()>();
    handle.pid().post(move |_, _| {
        let _ = held.recv_timeout(BOUND);
    });
    add_framework(&handle, "f1", "web");
    for i in 0..5 {
        add_agent(&handle, &format!("s{i}"), "cpus:1;mem:256");
    }
    release.send(()).unwrap();
    settle(&runtime, &handle);

    let first = offers.recv_timeout(BOUND).expect("offers");
    assert_eq!(agents_offered(&first).len(), 5);
    settle(&runtime, &handle);
    assert!(offers.try_recv().is_err(), "one callback for the burst");
    runtime.shutdown();
}

#[test]
fn suppressed_frameworks_get_offers_again_after_revive() {
    let (runtime, handle, offers) = paused_with_framework();
    handle.suppress_offers("f1", BTreeSet::new());
    add_agent(&handle, "s1", "cpus:2;mem:1024");
    settle(&runtime, &handle);
    runtime.clock().advance(Duration::from_secs(2));
    settle(&runtime, &handle);
    assert!(offers.try_recv().is_err());

    handle.revive_offers("f1", BTreeSet::new());
    let offer = offers.recv_timeout(BOUND).expect("an offer after revive");
    assert_eq!(agents_offered(&offer), ["s1"]);

    let roles = runtime
        .block_on({
            let handle = handle.clone();
            async move { handle.roles().await }
        })
        .unwrap();
    assert_eq!(roles.len(), 1);
    assert_eq!(roles[0].role, "*");
    assert_eq!(roles[0].frameworks, ["f1"]);
    assert_eq!(roles[0].allocated.cpus(), Some(2.0));
    runtime.shutdown();
}

#[test]
fn recovered_resources_wait_for_the_next_batch() {
    let (runtime, handle, offers) = paused_with_framework();
    add_agent(&handle, "s1", "cpus:2;mem:1024");
    let (_, offered) = offers.recv_timeout(BOUND).expect("an offer");
    let resources = Resources::clone(&offered["*"]["s1"]);

    // Declined without a filter: not offered again until the batch comes
    // round.
    handle.recover_resources("f1", "s1", resources, None);
    settle(&runtime, &handle);
    runtime.clock().advance(Duration::from_millis(500));
    settle(&runtime, &handle);
    assert!(offers.try_recv().is_err(), "offered before the batch");

    runtime.clock().advance(Duration::from_millis(500));
    let offer = offers.recv_timeout(BOUND).expect("offered by the batch");
    assert_eq!(agents_offered(&offer), ["s1"]);
    runtime.shutdown();
}

#[test]
fn what_ended_tasks_give_back_is_offered_again_a_slice_gap_later() {
    let (runtime, handle, offers) = paused_with_framework();
    add_agent(&handle, "s1", "cpus:2;mem:1024");
    let (_, offered) = offers.recv_timeout(BOUND).expect("an offer");
    let resources = Resources::clone(&offered["*"]["s1"]);
    // The offer was accepted; its task ended at once.
    handle.offer_closed();
    handle.release_resources("f1", "s1", resources);
    settle(&runtime, &handle);
    assert!(offers.try_recv().is_err(), "offered before the slice gap");

    runtime.clock().advance(MIN_SLICE_GAP);
    let offer = offers
        .recv_timeout(BOUND)
        .expect("offered a slice gap later");
    assert_eq!(agents_offered(&offer), ["s1"]);
    runtime.shutdown();
}

#[test]
fn freed_agents_are_looked_at_no_faster_than_the_batch_looks_at_agents() {
    let (runtime, handle, offers) = paused_with_framework();
    let held = add_agents_and_take_their_offers(&runtime, &handle, &offers, 200);
    // Every task ends at once.
    for (agent, resources) in held {
        handle.offer_closed();
        handle.release_resources("f1", &agent, Resources::clone(&resources));
    }
    settle(&runtime, &handle);

    // The batch looks at 200 agents a second: 2 per 10ms gap.
    let mut seen = BTreeSet::new();
    for gap in 0..3 {
        runtime.clock().advance(MIN_SLICE_GAP);
        let offer = offers.recv_timeout(BOUND).expect("a slice of freed agents");
        let slice = agents_offered(&offer);
        assert_eq!(slice.len(), 2, "gap {gap}: {slice:?}");
        seen.extend(slice);
        for _ in 0..2 {
            handle.offer_closed();
        }
        settle(&runtime, &handle);
        assert!(offers.try_recv().is_err(), "one slice per gap");
    }
    assert_eq!(seen.len(), 6);
    runtime.shutdown();
}

#[test]
fn freed_resources_wait_while_frameworks_sit_on_their_offers() {
    let (runtime, handle, offers) = paused_with_framework();
    // Three slices of agents, all offered and none answered: more open
    // offers than a slice makes.
    let held = add_agents_and_take_their_offers(&runtime, &handle, &offers, 3 * MIN_SLICE_AGENTS);
    let resources = Resources::clone(&held["s000"]);
    handle.release_resources("f1", "s000", resources);
    for _ in 0..5 {
        runtime.clock().advance(MIN_SLICE_GAP);
        settle(&runtime, &handle);
    }
    assert!(offers.try_recv().is_err(), "offered while frameworks lag");

    // The framework answers all but a slice's worth of its offers: the
    // next slice gap offers what was freed.
    for _ in 0..2 * MIN_SLICE_AGENTS {
        handle.offer_closed();
    }
    runtime.clock().advance(MIN_SLICE_GAP);
    let offer = offers
        .recv_timeout(BOUND)
        .expect("offered once they caught up");
    assert_eq!(agents_offered(&offer), ["s000"]);
    runtime.shutdown();
}

#[test]
fn the_batch_offers_each_agent_once_per_interval_in_slices() {
    let (runtime, handle, offers) = paused_with_framework();
    let agents = 4 * MIN_SLICE_AGENTS;
    // Everything offered as the agents came is declined at once.
    let held = add_agents_and_take_their_offers(&runtime, &handle, &offers, agents);
    for (agent, resources) in held {
        handle.recover_resources("f1", &agent, Resources::clone(&resources), None);
    }
    settle(&runtime, &handle);
    assert!(offers.try_recv().is_err());

    // The default interval is one second: four slices of 250ms, from
    // whenever the current round's next tick falls.
    let mut waited = Duration::ZERO;
    let first = loop {
        runtime.clock().advance(Duration::from_millis(250));
        waited += Duration::from_millis(250);
        settle(&runtime, &handle);
        if let Ok(offer) = offers.try_recv() {
            break offer;
        }
        assert!(
            waited <= Duration::from_secs(1),
            "no slice within the interval"
        );
    };
    let mut seen = BTreeSet::new();
    let mut offer = first;
    for slice in 0..4 {
        if slice > 0 {
            runtime.clock().advance(Duration::from_millis(250));
            offer = offers.recv_timeout(BOUND).expect("a slice's offers");
        }
        let slice_agents = agents_offered(&offer);
        assert_eq!(slice_agents.len(), MIN_SLICE_AGENTS, "slice {slice}");
        for agent in slice_agents {
            assert!(seen.insert(agent.clone()), "{agent} offered twice");
        }
        settle(&runtime, &handle);
        assert!(offers.try_recv().is_err(), "one offer per slice");
    }
    assert_eq!(seen.len(), agents);
    runtime.shutdown();
}
