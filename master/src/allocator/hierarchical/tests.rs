use super::*;

use std::time::{Duration, Instant};

use crate::allocator::spec::{Allocation, FrameworkCapabilities};

fn res(text: &str) -> Resources {
    Resources::parse(text, "*").unwrap()
}

fn allocated(text: &str, role: &str) -> Resources {
    let mut r = res(text);
    r.allocate(role);
    r
}

fn spec(roles: &[&str]) -> FrameworkSpec {
    FrameworkSpec {
        roles: roles.iter().map(|r| r.to_string()).collect(),
        capabilities: FrameworkCapabilities {
            multi_role: true,
            ..Default::default()
        },
    }
}

fn allocator() -> HierarchicalAllocator {
    HierarchicalAllocator::new(AllocatorOptions::default())
}

fn add_framework(a: &mut HierarchicalAllocator, id: &str, roles: &[&str]) {
    a.add_framework(id, spec(roles), &BTreeMap::new(), true, &BTreeSet::new())
        .unwrap();
}

fn add_agent(a: &mut HierarchicalAllocator, id: &str, total: &str) {
    a.add_slave(id, AgentCapabilities::ALL, res(total), &BTreeMap::new())
        .unwrap();
}

/// (framework, role, agent) → resources of a cycle's offers.
fn offers(allocations: &[Allocation]) -> BTreeMap<(String, String, String), Resources> {
    let mut out = BTreeMap::new();
    for a in allocations {
        for (role, agents) in &a.resources {
            for (agent, r) in agents {
                out.insert(
                    (a.framework_id.clone(), role.clone(), agent.clone()),
                    Resources::clone(r),
                );
            }
        }
    }
    out
}

fn key(f: &str, role: &str, agent: &str) -> (String, String, String) {
    (f.to_string(), role.to_string(), agent.to_string())
}

#[test]
fn drf_offers_the_next_agent_to_the_lowest_share() {
    let mut a = allocator();
    let now = Instant::now();
    add_framework(&mut a, "f1", &["r1"]);
    add_framework(&mut a, "f2", &["r2"]);
    add_agent(&mut a, "s1", "cpus:2;mem:1024");
    // Equal shares: the name breaks the tie, so r1 goes first.
    let first = offers(&a.allocate(now));
    assert_eq!(first.len(), 1);
    assert_eq!(
        first[&key("f1", "r1", "s1")],
        allocated("cpus:2;mem:1024", "r1")
    );
    add_agent(&mut a, "s2", "cpus:1;mem:512");
    let second = offers(&a.allocate(now));
    assert_eq!(
        second.keys().collect::<Vec<_>>(),
        vec![&key("f2", "r2", "s2")]
    );
    assert_eq!(a.role_order(), ["r2", "r1"]);
}

#[test]
fn frameworks_in_one_role_share_it_by_drf() {
    let mut a = allocator();
    let now = Instant::now();
    add_framework(&mut a, "f1", &["web"]);
    add_framework(&mut a, "f2", &["web"]);
    for i in 0..4 {
        add_agent(&mut a, &format!("s{i}"), "cpus:1;mem:256");
    }
    let got = offers(&a.allocate(now));
    let per_framework = |f: &str| got.keys().filter(|k| k.0 == f).count();
    assert_eq!((per_framework("f1"), per_framework("f2")), (2, 2));
}

#[test]
fn weights_one_to_three_split_twelve_agents_three_to_nine() {
    let mut options = AllocatorOptions::default();
    options.weights.insert("b".to_string(), 3.0);
    let mut a = HierarchicalAllocator::new(options);
    add_framework(&mut a, "fa", &["a"]);
    add_framework(&mut a, "fb", &["b"]);
    for i in 0..12 {
        add_agent(&mut a, &format!("s{i:02}"), "cpus:1;mem:1024");
    }
    // The frameworks keep everything (tasks hold it).
    let got = offers(&a.allocate(Instant::now()));
    let count = |f: &str| got.keys().filter(|k| k.0 == f).count();
    assert_eq!((count("fa"), count("fb")), (3, 9));
    let (sa, sb) = (a.role_share("a").unwrap(), a.role_share("b").unwrap());
    assert!((sa - 0.25).abs() < 1e-9, "{sa}");
    assert!((sb - 0.25).abs() < 1e-9, "{sb}");
}

#[test]
fn reserved_resources_go_only_to_their_role_and_subroles() {
    let mut a = allocator();
    let now = Instant::now();
    add_framework(&mut a, "other", &["r2"]);
    add_agent(&mut a, "s1", "cpus(r1):2;mem(r1):512;cpus:1;mem:128");
    let got = offers(&a.allocate(now));
    assert_eq!(
        got[&key("other", "r2", "s1")],
        allocated("cpus:1;mem:128", "r2")
    );
    add_framework(&mut a, "sub", &["r1/sub"]);
    let got = offers(&a.allocate(now));
    assert_eq!(
        got[&key("sub", "r1/sub", "s1")],
        allocated("cpus(r1):2;mem(r1):512", "r1/sub")
    );
}

#[test]
fn a_refusal_filters_the_agent_until_it_expires() {
    let mut a = allocator();
    let t0 = Instant::now();
    add_framework(&mut a, "f1", &["*"]);
    add_agent(&mut a, "s1", "cpus:4;mem:1024");
    let offer = offers(&a.allocate(t0))
        .remove(&key("f1", "*", "s1"))
        .unwrap();
    a.recover_resources("f1", "s1", &offer, Some(Duration::from_secs(10)), t0)
        .unwrap();
    assert_eq!(a.filter_count(), 1);
    assert!(a.allocate(t0 + Duration::from_secs(1)).is_empty());
    assert!(a.allocate(t0 + Duration::from_secs(9)).is_empty());
    let again = offers(&a.allocate(t0 + Duration::from_secs(10)));
    assert_eq!(again[&key("f1", "*", "s1")], offer);
    assert_eq!(a.filter_count(), 0);
}

#[test]
fn a_filtered_agent_goes_to_the_next_framework() {
    let mut a = allocator();
    let t0 = Instant::now();
    add_framework(&mut a, "f1", &["*"]);
    add_framework(&mut a, "f2", &["*"]);
    add_agent(&mut a, "s1", "cpus:4;mem:1024");
    let offer = offers(&a.allocate(t0))
        .remove(&key("f1", "*", "s1"))
        .unwrap();
    a.recover_resources("f1", "s1", &offer, Some(Duration::from_secs(60)), t0)
        .unwrap();
    let got = offers(&a.allocate(t0));
    assert_eq!(got.keys().collect::<Vec<_>>(), vec![&key("f2", "*", "s1")]);
}

#[test]
fn suppressed_roles_get_nothing_until_revived_and_revive_clears_filters() {
    let mut a = allocator();
    let t0 = Instant::now();
    add_framework(&mut a, "f1", &["*"]);
    add_agent(&mut a, "s1", "cpus:4;mem:1024");
    let offer = offers(&a.allocate(t0))
        .remove(&key("f1", "*", "s1"))
        .unwrap();
    a.recover_resources("f1", "s1", &offer, Some(Duration::from_secs(3600)), t0)
        .unwrap();
    a.suppress_offers("f1", &BTreeSet::new()).unwrap();
    assert!(a.allocate(t0).is_empty());
    a.revive_offers("f1", &BTreeSet::new()).unwrap();
    assert_eq!(a.filter_count(), 0);
    assert_eq!(offers(&a.allocate(t0))[&key("f1", "*", "s1")], offer);
}

#[test]
fn inactive_frameworks_get_nothing() {
    let mut a = allocator();
    let now = Instant::now();
    add_framework(&mut a, "f1", &["*"]);
    a.deactivate_framework("f1").unwrap();
    add_agent(&mut a, "s1", "cpus:4;mem:1024");
    assert!(a.allocate(now).is_empty());
    a.activate_framework("f1").unwrap();
    assert_eq!(a.allocate(now).len(), 1);
}

#[test]
fn inactive_agents_are_not_offered() {
    let mut a = allocator();
    let now = Instant::now();
    add_framework(&mut a, "f1", &["*"]);
    add_agent(&mut a, "s1", "cpus:4;mem:1024");
    a.deactivate_slave("s1").unwrap();
    assert!(a.allocate(now).is_empty());
    a.activate_slave("s1").unwrap();
    assert_eq!(a.allocate(now).len(), 1);
}

#[test]
fn removing_an_agent_takes_its_allocations_away() {
    let mut a = allocator();
    let now = Instant::now();
    add_framework(&mut a, "f1", &["r1"]);
    add_framework(&mut a, "f2", &["r2"]);
    add_agent(&mut a, "s1", "cpus:4;mem:1024");
    assert_eq!(offers(&a.allocate(now)).len(), 1);
    assert!(a.role_share("r1").unwrap() > 0.0);
    a.remove_slave("s1").unwrap();
    assert_eq!(a.allocation("f1", "s1"), Resources::new());
    assert_eq!(a.role_share("r1").unwrap(), 0.0);
    // r1 holds nothing now; with one allocation to its name the count
    // puts it after r2, as in Mesos.
    add_agent(&mut a, "s2", "cpus:4;mem:1024");
    assert_eq!(
        offers(&a.allocate(now)).keys().collect::<Vec<_>>(),
        vec![&key("f2", "r2", "s2")]
    );
}

#[test]
fn recovered_resources_are_offered_again() {
    let mut a = allocator();
    let now = Instant::now();
    add_framework(&mut a, "f1", &["*"]);
    add_agent(&mut a, "s1", "cpus:4;mem:1024");
    let offer = offers(&a.allocate(now))
        .remove(&key("f1", "*", "s1"))
        .unwrap();
    // A task keeps cpus:1;mem:256; the rest comes back without a filter.
    let rest = &offer - &allocated("cpus:1;mem:256", "*");
    a.recover_resources("f1", "s1", &rest, None, now).unwrap();
    assert_eq!(a.available("s1"), Some(&res("cpus:3;mem:768")));
    let got = offers(&a.allocate(now));
    assert_eq!(got[&key("f1", "*", "s1")], allocated("cpus:3;mem:768", "*"));
    assert_eq!(a.allocation("f1", "s1"), allocated("cpus:4;mem:1024", "*"));
}

#[test]
fn recovering_what_is_not_held_is_refused_and_changes_nothing() {
    let mut a = allocator();
    let now = Instant::now();
    add_framework(&mut a, "f1", &["*"]);
    add_agent(&mut a, "s1", "cpus:4;mem:1024");
    let err = a
        .recover_resources("f1", "s1", &allocated("cpus:1", "*"), None, now)
        .unwrap_err();
    assert!(matches!(err, AllocatorError::NotAllocated { .. }));
    assert_eq!(a.available("s1"), Some(&res("cpus:4;mem:1024")));
    assert_eq!(
        a.remove_framework("nope"),
        Err(AllocatorError::UnknownFramework("nope".to_string()))
    );
    assert!(a
        .add_slave(
            "s1",
            AgentCapabilities::ALL,
            res("cpus:1"),
            &BTreeMap::new()
        )
        .is_err());
}

#[test]
fn gpu_agents_go_only_to_gpu_capable_frameworks() {
    let mut a = allocator();
    let now = Instant::now();
    add_framework(&mut a, "plain", &["*"]);
    add_agent(&mut a, "gpu", "cpus:4;mem:1024;gpus:1");
    assert!(a.allocate(now).is_empty());
    let mut gpu = spec(&["*"]);
    gpu.capabilities.gpu_resources = true;
    a.add_framework("gpu-fw", gpu, &BTreeMap::new(), true, &BTreeSet::new())
        .unwrap();
    assert_eq!(offers(&a.allocate(now)).len(), 1);
}

#[test]
fn offers_below_the_minimum_are_not_made() {
    let mut a = allocator();
    add_framework(&mut a, "f1", &["*"]);
    add_agent(&mut a, "tiny", "cpus:0.005;mem:16");
    assert!(a.allocate(Instant::now()).is_empty());
}

#[test]
fn removing_a_framework_frees_what_it_held() {
    let mut a = allocator();
    let now = Instant::now();
    add_framework(&mut a, "f1", &["*"]);
    add_agent(&mut a, "s1", "cpus:4;mem:1024");
    assert_eq!(a.allocate(now).len(), 1);
    a.remove_framework("f1").unwrap();
    assert_eq!(a.available("s1"), Some(&res("cpus:4;mem:1024")));
    assert!(a.roles().is_empty());
    add_framework(&mut a, "f2", &["*"]);
    assert_eq!(a.allocate(now).len(), 1);
}

#[test]
fn agents_added_with_used_resources_count_them() {
    let mut a = allocator();
    let used = BTreeMap::from([("f1".to_string(), allocated("cpus:3;mem:512", "web"))]);
    a.add_slave("s1", AgentCapabilities::ALL, res("cpus:4;mem:1024"), &used)
        .unwrap();
    assert_eq!(a.available("s1"), Some(&res("cpus:1;mem:512")));
    add_framework(&mut a, "f1", &["web"]);
    let roles = a.roles();
    assert_eq!(roles.len(), 1);
    assert_eq!(roles[0].frameworks, ["f1"]);
    assert_eq!(roles[0].allocated, allocated("cpus:3;mem:512", "web"));
}
