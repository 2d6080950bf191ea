use super::*;
use crate::values::Ranges;

fn parse(text: &str) -> Resources {
    Resources::parse(text, "*").unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn err(text: &str) -> String {
    Resources::parse(text, "*").unwrap_err().to_string()
}

#[test]
fn parses_the_text_form() {
    let r = parse(
        "cpus:2;mem:1024;disk:10000;ports:[31000-32000,40000-40010];cpus(role1):1;gpus:0;foo:{a,b}",
    );
    assert_eq!(r.cpus(), Some(3.0));
    assert_eq!(r.mem(), Some(Bytes::from_gigabytes(1)));
    assert_eq!(r.disk(), Some(Bytes::from_megabytes(10000)));
    assert_eq!(
        r.ports().unwrap().intervals(),
        &[(31000, 32000), (40000, 40010)]
    );
    // `gpus:0` is empty, so it is dropped.
    assert_eq!(r.gpus(), None);
    assert_eq!(r.set("foo").unwrap().len(), 2);
    assert_eq!(r.reserved(Some("role1")).cpus(), Some(1.0));
    assert_eq!(r.unreserved().cpus(), Some(2.0));
    assert_eq!(
        r.to_string(),
        "cpus:2; mem:1024; disk:10000; ports:[31000-32000, 40000-40010]; \
         cpus(reservations: [(STATIC,role1)]):1; foo:{a, b}"
    );
}

#[test]
fn text_form_accepts_spaces_default_role_and_merges() {
    let r = Resources::parse(" cpus : 1.5 ; cpus:0.25; mem(*):10 ", "web").unwrap();
    assert_eq!(r.reserved(Some("web")).cpus(), Some(1.75));
    assert_eq!(r.unreserved().scalar("mem"), Some(10.0));
    assert_eq!(r.len(), 2);
}

#[test]
fn parses_the_json_form() {
    let r = parse(
        r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":2},"role":"*"},
            {"name":"mem","type":"SCALAR","scalar":{"value":512.5}},
            {"name":"ports","type":"RANGES","ranges":{"range":[{"begin":1,"end":5},{"begin":6,"end":9}]}},
            {"name":"disk","type":"SCALAR","scalar":{"value":10},"role":"ops"},
            {"name":"cpus","type":"SCALAR","scalar":{"value":1},
             "reservations":[{"type":"STATIC","role":"eng"}]},
            {"name":"zones","type":"SET","set":{"item":["a","b"]}}]"#,
    );
    assert_eq!(r.unreserved().cpus(), Some(2.0));
    assert_eq!(r.cpus(), Some(3.0));
    assert_eq!(r.scalar("mem"), Some(512.5));
    assert_eq!(r.ports().unwrap().intervals(), &[(1, 9)]);
    assert_eq!(r.reserved(Some("ops")).scalar("disk"), Some(10.0));
    assert_eq!(r.reserved(Some("eng")).cpus(), Some(1.0));
    assert_eq!(r.set("zones").unwrap().len(), 2);
}

#[test]
fn json_form_keeps_dynamic_reservations_outside_the_command_line() {
    let json: serde_json::Value = serde_json::from_str(
        r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":1},
             "reservations":[{"type":"DYNAMIC","role":"eng","principal":"ops",
                              "labels":{"labels":[{"key":"k","value":"v"}]}}]},
            {"name":"cpus","type":"SCALAR","scalar":{"value":1},"revocable":{}}]"#,
    )
    .unwrap();
    let r = Resources::from_json(&json, "*").unwrap();
    assert_eq!(r.len(), 2);
    assert_eq!(
        r.to_string(),
        "cpus(reservations: [(DYNAMIC,eng,ops,{k: v})]):1; cpus{REV}:1"
    );
    assert!(Resources::parse(&json.to_string(), "*")
        .unwrap_err()
        .to_string()
        .contains("dynamic reservations cannot be specified"));
}

#[test]
fn rejects_bad_resources() {
    assert!(err("cpus:-1").contains("negative"), "{}", err("cpus:-1"));
    assert!(err("cpus").contains("missing or extra ':'"));
    assert!(err("cpus:1:2").contains("missing or extra ':'"));
    assert!(err("cpus(role:1").contains("mismatched"));
    assert!(err("ports:[5-1]").contains("greater"));
    assert!(err("ports:[1-2").contains("mismatched brackets"));
    assert!(err("foo:{a,a}").contains("duplicate set item 'a'"));
    assert!(err("cpus:abc").contains("expecting a scalar, ranges or set"));
    assert!(err("cpus(*/x):1").contains("invalid role"));
    assert!(err("cpus(.):1").contains("invalid role"));
    assert!(err("cpus:1;cpus:[1-2]").contains("different types"));
    assert!(err(r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":-1}}]"#).contains("negative"));
    assert!(
        err(r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":0.0001}}]"#)
            .contains("value <= 0")
    );
    assert!(err(r#"[{"name":"cpus","type":"SCALAR"}]"#).contains("invalid scalar resource"));
    assert!(err(r#"[{"name":"p","type":"RANGES","ranges":{"range":[{"begin":1,"end":5},{"begin":3,"end":9}]}}]"#)
        .contains("overlapping"));
    assert!(err(r#"[{"name":"s","type":"SET","set":{"item":["a","a"]}}]"#).contains("duplicated"));
    assert!(err(r#"[{"type":"SCALAR","scalar":{"value":1}}]"#).contains("'name'"));
    assert!(err(r#"[{"name":"t","type":"TEXT","text":{"value":"x"}}]"#).contains("unsupported"));
    assert!(err(
        r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"reservation":{"principal":"p"}}]"#
    )
    .contains("cannot be dynamically reserved"));
}

#[test]
fn scalars_round_to_thousandths() {
    let r = parse("cpus:0.1;cpus:0.2");
    assert_eq!(r.cpus(), Some(0.3));
    assert_eq!(parse("cpus:1.0004").to_string(), "cpus:1");
    let mut r = parse("cpus:1");
    r.subtract_resource(&Resource::scalar("cpus", 0.999));
    assert_eq!(r.cpus(), Some(0.001));
    r.subtract_resource(&Resource::scalar("cpus", 0.001));
    assert!(r.is_empty());
}

#[test]
fn adds_and_subtracts_like_mesos() {
    let total = parse("cpus:4;mem:4096;ports:[31000-32000]");
    let used = parse("cpus:1.5;mem:1024;ports:[31000-31009,31500-31500]");
    let left = &total - &used;
    assert_eq!(left.cpus(), Some(2.5));
    assert_eq!(left.scalar("mem"), Some(3072.0));
    assert_eq!(
        left.ports().unwrap().intervals(),
        &[(31010, 31499), (31501, 32000)]
    );
    assert_eq!(&left + &used, total);
    assert!(total.contains(&used));
    assert!(!used.contains(&total));
    assert!(!left.contains(&used));

    // Over-subtraction drops the resource; subtracting what is absent
    // changes nothing.
    let mut r = parse("cpus:1;mem:10");
    r -= &parse("cpus:2;disk:5");
    assert_eq!(r, parse("mem:10"));
}

#[test]
fn roles_stay_apart() {
    let r = parse("cpus:1;cpus(a):2;cpus(a/b):3");
    assert_eq!(r.len(), 3);
    assert!(!r.unreserved().contains(&parse("cpus(a):1")));
    assert_eq!(r.allocatable_to("a").cpus(), Some(3.0));
    assert_eq!(r.allocatable_to("a/b").cpus(), Some(6.0));
    assert_eq!(r.allocatable_to("c").cpus(), Some(1.0));
    assert_eq!(r.to_unreserved(), parse("cpus:6"));
    assert_eq!(r.reserved(None).cpus(), Some(5.0));

    let mut allocated = parse("cpus:1;mem:5");
    allocated.allocate("web");
    assert_eq!(
        allocated.to_string(),
        "cpus(allocated: web):1; mem(allocated: web):5"
    );
    assert!(!allocated.contains(&parse("cpus:1")));
    allocated.unallocate();
    assert_eq!(allocated, parse("mem:5;cpus:1"));
}

#[test]
fn sets_add_and_subtract() {
    let mut r = parse("zones:{a,b}");
    r += &parse("zones:{b,c}");
    assert_eq!(r.set("zones").unwrap().len(), 3);
    r -= &parse("zones:{a,b,c}");
    assert!(r.is_empty());
    assert_eq!(r.to_string(), "{}");
}

#[test]
fn builds_the_endpoint_summary() {
    let mut r = parse("cpus:2;mem:1024;ports:[1-5];zones:{a}");
    let mut rev = Resource::scalar("cpus", 0.5);
    rev.revocable = true;
    r.add_resource(&rev);
    assert_eq!(
        r.to_json_summary(),
        serde_json::json!({
            "cpus": 2.0, "gpus": 0.0, "mem": 1024.0, "disk": 0.0,
            "cpus_revocable": 0.5, "ports": "[1-5]", "zones": "{a}"
        })
    );
}

#[test]
fn volumes_are_not_merged() {
    let mut volume = Resource::scalar("disk", 10.0)
        .reserved(ReservationInfo::new_dynamic("eng", Some("ops".to_string())));
    volume.disk = Some(Box::new(DiskInfo {
        source: None,
        persistence: Some(Persistence {
            id: "v1".to_string(),
            principal: None,
        }),
        volume: Some(VolumeMount {
            container_path: "data".to_string(),
            host_path: None,
            read_write: Some(true),
        }),
    }));
    let mut r = Resources::new();
    r.add_resource(&volume);
    r.add_resource(&volume);
    assert_eq!(r.len(), 2);
    assert_eq!(
        volume.to_string(),
        "disk(reservations: [(DYNAMIC,eng,ops)])[v1:data]:10"
    );
    let mut half = volume.clone();
    half.value = Value::Scalar(Scalar::from_f64(5.0));
    let whole: Resources = volume.clone().into();
    assert!(!whole.contains_resource(&half));
    assert!(whole.contains_resource(&volume));

    let mut cpus_with_disk = Resource::scalar("cpus", 1.0);
    cpus_with_disk.disk = Some(Box::default());
    assert!(cpus_with_disk.validate().is_err());
}

#[test]
fn ranges_resource_helpers() {
    let r: Resources = [Resource::ranges(
        "ports",
        Ranges::from_pairs([(10, 20)]).unwrap(),
    )]
    .into_iter()
    .collect();
    assert!(r.contains_resource(&Resource::ranges("ports", Ranges::single(12, 15))));
    assert!(!r.contains_resource(&Resource::ranges("ports", Ranges::single(19, 21))));
}
