use super::*;

const TABLE: &[FlagSpec] = &[
    FlagSpec::u16("port", "Port to listen on.").default("5050"),
    FlagSpec::string("ip", "IP address to listen on."),
    FlagSpec::path("work_dir", "Where to store data.").required(),
    FlagSpec::duration("agent_ping_timeout", "Ping timeout.")
        .default("15secs")
        .deprecated_alias("slave_ping_timeout"),
    FlagSpec::bool("authenticate_agents", "Require agents to authenticate.").default("false"),
    FlagSpec::bytes("max_size", "Largest size.").default("1024MB"),
    FlagSpec::f64("ratio", "A ratio.\nSecond help line.").default("0.5"),
    FlagSpec::u32("quorum", "Replicas needed.").validate(|v| match v {
        FlagValue::U32(0) => Err("must be positive".to_string()),
        _ => Ok(()),
    }),
];

fn set() -> FlagSet {
    FlagSet::new(TABLE)
}

fn load(args: &[&str]) -> Result<Flags> {
    load_env(args, &[])
}

fn load_env(args: &[&str], env: &[(&str, &str)]) -> Result<Flags> {
    let argv = std::iter::once("/usr/sbin/mesos-master").chain(args.iter().copied());
    let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string()));
    set().load(Some(MESOS_ENV_PREFIX), argv, env)
}

#[test]
fn loads_typed_values_and_defaults() {
    let flags = load(&[
        "--work_dir=/tmp/m",
        "--port=5051",
        "--agent_ping_timeout=1.5mins",
    ])
    .unwrap();
    assert_eq!(flags.get_u16("port"), Some(5051));
    assert_eq!(flags.get_str("work_dir"), Some("/tmp/m"));
    assert_eq!(
        flags.get_duration("agent_ping_timeout"),
        Some(Duration::from_secs(90))
    );
    assert_eq!(flags.get_bool("authenticate_agents"), Some(false));
    assert_eq!(flags.get_bytes("max_size"), Some(Bytes::from_gigabytes(1)));
    assert_eq!(flags.get_f64("ratio"), Some(0.5));
    assert_eq!(flags.get_str("ip"), None);
    assert_eq!(flags.get_u32("quorum"), None);
    assert!(flags.is_given("port"));
    assert!(!flags.is_given("ratio"));
    assert_eq!(flags.program(), "mesos-master");
}

#[test]
fn booleans_take_stout_forms() {
    let base = ["--work_dir=/w"];
    let with = |extra: &str| {
        let mut args = base.to_vec();
        args.push(extra);
        load(&args).map(|f| f.get_bool("authenticate_agents"))
    };
    assert_eq!(with("--authenticate_agents").unwrap(), Some(true));
    assert_eq!(with("--authenticate_agents=").unwrap(), Some(true));
    assert_eq!(with("--authenticate_agents=1").unwrap(), Some(true));
    assert_eq!(with("--authenticate_agents=false").unwrap(), Some(false));
    assert_eq!(with("--no-authenticate_agents").unwrap(), Some(false));
    assert_eq!(
        with("--no-authenticate_agents=true")
            .unwrap_err()
            .to_string(),
        "Failed to load boolean flag 'authenticate_agents' via \
         'no-authenticate_agents' with value 'true'"
    );
    let err = with("--authenticate_agents=yes").unwrap_err().to_string();
    assert_eq!(
        err,
        "Failed to load flag 'authenticate_agents': Failed to load value 'yes': \
         Expecting a boolean (e.g., true or false)"
    );
}

#[test]
fn reports_bad_input_like_mesos() {
    let err = |args: &[&str]| load(args).unwrap_err().to_string();
    assert_eq!(
        err(&["--work_dir=/w", "--foo=1"]),
        "Failed to load unknown flag 'foo'"
    );
    assert_eq!(
        err(&["--work_dir=/w", "--no-foo"]),
        "Failed to load unknown flag 'foo' via 'no-foo'"
    );
    assert_eq!(
        err(&["--work_dir=/w", "--port"]),
        "Failed to load non-boolean flag 'port': Missing value"
    );
    assert_eq!(
        err(&["--work_dir=/w", "--no-port"]),
        "Failed to load non-boolean flag 'port' via 'no-port'"
    );
    assert_eq!(
        err(&["--work_dir=/w", "--port=1", "--port=2"]),
        "Flag 'port' is already loaded via name 'port'"
    );
    assert_eq!(
        err(&["--work_dir=/w", "--port=70000"]),
        "Failed to load flag 'port': Failed to load value '70000': \
         Failed to convert into required type"
    );
    assert!(
        err(&["--work_dir=/w", "--agent_ping_timeout=5sec"]).starts_with(
            "Failed to load flag 'agent_ping_timeout': Failed to load value '5sec': \
         invalid duration '5sec': unknown unit 'sec'"
        )
    );
    assert_eq!(
        err(&[]),
        "Flag 'work_dir' is required, but it was not provided"
    );
    assert_eq!(
        err(&["--work_dir=/w", "--quorum=0"]),
        "Invalid value for flag 'quorum': must be positive"
    );
}

#[test]
fn environment_fills_in_and_command_line_wins() {
    let flags = load_env(
        &["--port=6000"],
        &[
            ("MESOS_WORK_DIR", "/from/env"),
            ("MESOS_PORT", "7000"),
            ("MESOS_UNKNOWN_THING", "ignored"),
            ("OTHER_IP", "ignored"),
            ("MESOS_ip", "10.0.0.1"),
        ],
    )
    .unwrap();
    assert_eq!(flags.get_str("work_dir"), Some("/from/env"));
    assert_eq!(flags.get_u16("port"), Some(6000));
    assert_eq!(flags.get_str("ip"), Some("10.0.0.1"));

    let err = load_env(&[], &[("MESOS_WORK_DIR", "/w"), ("MESOS_PORT", "x")]).unwrap_err();
    assert!(err.to_string().contains("'port'"), "{err}");
}

#[test]
fn aliases_load_and_warn_when_deprecated() {
    let flags = load(&["--work_dir=/w", "--slave_ping_timeout=20secs"]).unwrap();
    assert_eq!(
        flags.get_duration("agent_ping_timeout"),
        Some(Duration::from_secs(20))
    );
    assert_eq!(
        flags.warnings(),
        &["Loaded deprecated flag 'slave_ping_timeout'".to_string()]
    );
    assert_eq!(
        flags.to_json()["flags"]["slave_ping_timeout"],
        json!("20secs")
    );
    let err = load(&[
        "--work_dir=/w",
        "--slave_ping_timeout=1secs",
        "--agent_ping_timeout=2secs",
    ])
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Flag 'slave_ping_timeout' is already loaded via name 'agent_ping_timeout'"
    );
}

#[test]
fn reads_file_values_except_for_paths() {
    let dir = std::env::temp_dir().join(format!("mesos-common-flags-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("ip");
    std::fs::write(&file, "192.168.1.1").unwrap();
    let ip = format!("--ip=file://{}", file.display());
    let work_dir = format!("--work_dir=file://{}", file.display());
    let flags = load(&[&ip, &work_dir]).unwrap();
    assert_eq!(flags.get_str("ip"), Some("192.168.1.1"));
    assert_eq!(
        flags.get_str("work_dir"),
        Some(format!("file://{}", file.display()).as_str())
    );

    let err = load(&["--work_dir=/w", "--ip=file:///no/such/file"]).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("Failed to load flag 'ip': Failed to load value 'file:///no/such/file': Error reading file '/no/such/file'"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn keeps_non_flag_arguments() {
    let flags = load(&["--work_dir=/w", "run", "--", "--port=1", "x"]).unwrap();
    assert_eq!(flags.args(), &["run", "--port=1", "x"]);
    assert_eq!(flags.get_u16("port"), Some(5050));
    let flags = load(&["--WORK_DIR=/w", "  --port=1  "]).unwrap();
    assert_eq!(flags.get_u16("port"), Some(1));
}

#[test]
fn help_short_circuits_validation() {
    let flags = load(&["--help", "--bogus"]).unwrap();
    assert!(flags.help_requested());
    let flags = load(&["--work_dir=/w", "--help=false"]).unwrap();
    assert!(!flags.help_requested());
    assert_eq!(flags.get_bool("help"), Some(false));
}

#[test]
fn renders_help_like_stout() {
    let usage = set().usage("mesos-master", Some("Oops"));
    let expected = "\
Oops

Usage: mesos-master [options]

  --agent_ping_timeout=VALUE, --slave_ping_timeout=VALUE     Ping timeout. (default: 15secs)
  --[no-]authenticate_agents                                 Require agents to authenticate. (default: false)
  --[no-]help                                                Prints this help message (default: false)
  --ip=VALUE                                                 IP address to listen on.
  --max_size=VALUE                                           Largest size. (default: 1GB)
  --port=VALUE                                               Port to listen on. (default: 5050)
  --quorum=VALUE                                             Replicas needed.
  --ratio=VALUE                                              A ratio.
                                                             Second help line. (default: 0.5)
  --work_dir=VALUE                                           Where to store data. (default: )
";
    assert_eq!(usage, expected);
    let custom = FlagSet::new(&[]).with_usage_message("Usage: tool [flags]");
    assert!(custom
        .usage("x", None)
        .starts_with("Usage: tool [flags]\n\n  --[no-]help"));
}

#[test]
fn renders_flags_json_and_env() {
    let flags = load(&["--work_dir=/w", "--max_size=2048MB", "--ratio=0.25"]).unwrap();
    assert_eq!(
        flags.to_json(),
        json!({"flags": {
            "agent_ping_timeout": "15secs",
            "authenticate_agents": "false",
            "help": "false",
            "max_size": "2GB",
            "port": "5050",
            "ratio": "0.25",
            "work_dir": "/w",
        }})
    );
    let env = flags.to_env("MESOS_");
    assert_eq!(env["MESOS_WORK_DIR"], "/w");
    assert_eq!(env.len(), 7);
    assert!(flags
        .to_string()
        .contains("--port=\"5050\" --ratio=\"0.25\""));
}

#[test]
#[should_panic(expected = "declares 'port' twice")]
fn rejects_duplicate_table_rows() {
    FlagSet::new(&[FlagSpec::u16("port", ""), FlagSpec::u16("port", "")]);
}

#[test]
#[should_panic(expected = "default 'soon' of flag 'timeout' is invalid")]
fn rejects_bad_table_defaults() {
    FlagSet::new(&[FlagSpec::duration("timeout", "").default("soon")]);
}

#[test]
#[should_panic(expected = "not declared")]
fn undeclared_getter_is_a_programming_error() {
    let flags = load(&["--work_dir=/w"]).unwrap();
    flags.get_str("nope");
}
