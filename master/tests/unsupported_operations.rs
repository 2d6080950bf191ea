//! Offer operations this master cannot perform yet (RESERVE, CREATE,
//! GROW_VOLUME, ...): the framework always hears they were dropped, in
//! Mesos's words where Mesos has some, and what they would have used goes
//! back to the allocator.

#[allow(dead_code)]
#[path = "scheduler_api/client.rs"]
mod client;
mod lifecycle;
mod support;

use client::{post, Stream, PROTOBUF};
use lifecycle::*;
use mesos_proto::internal::*;
use mesos_proto::mesos::{self, offer::operation, OperationId, Resource};
use mesos_proto::scheduler::Call;
use mesos_proto::v1::scheduler::event;
use prost::Message;
use support::{Peer, TestMaster};

/// A RESERVE of `resources` for role `a` (`id`: feedback asked for).
fn reserve(resources: Vec<Resource>, id: Option<&str>) -> mesos::offer::Operation {
    mesos::offer::Operation {
        r#type: Some(operation::Type::Reserve as i32),
        id: id.map(|id| OperationId { value: id.into() }),
        reserve: Some(operation::Reserve {
            resources,
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// An operation of `kind` with only its type (and `id`) set.
fn bare(kind: operation::Type, id: Option<&str>) -> mesos::offer::Operation {
    mesos::offer::Operation {
        r#type: Some(kind as i32),
        id: id.map(|id| OperationId { value: id.into() }),
        ..Default::default()
    }
}

#[test]
fn driver_hears_of_each_dropped_operation_and_its_resources_come_back() {
    let master = TestMaster::with_args(&["--allocation_interval=50ms"]);
    let (agent, agent_id) = register_agent(&master);
    let scheduler = Peer::start("scheduler-1");
    let framework_id = subscribe(&master, &scheduler, framework_info("ops"));
    let offer = next_offers(&scheduler).offers.remove(0);

    // RESERVE (without an id) next to a LAUNCH: the launch still happens.
    scheduler.send(
        &master.upid(),
        &accept_call(
            &framework_id,
            &offer.id,
            vec![
                reserve(vec![scalar("cpus", 1.0)], None),
                launch(vec![task("t1", &agent_id, 0.5)]),
            ],
            0.0,
        ),
    );
    let error: FrameworkErrorMessage = scheduler.expect();
    assert_eq!(
        error.message,
        "Operation RESERVE is not supported by this master"
    );
    let run: RunTaskMessage = agent.expect();
    assert_eq!(run.task.task_id.value, "t1");
    // All but the task's share is offered again, what RESERVE named too.
    let offer = next_offers(&scheduler).offers.remove(0);
    assert_eq!(amount(&offer.resources, "cpus"), 1.5);
    assert_eq!(amount(&offer.resources, "mem"), 1024.0 - 32.0);

    // A driver may not ask for operation feedback: Mesos's own error.
    scheduler.send(
        &master.upid(),
        &accept_call(
            &framework_id,
            &offer.id,
            vec![bare(operation::Type::Create, Some("volume-1"))],
            0.0,
        ),
    );
    let error: FrameworkErrorMessage = scheduler.expect();
    assert_eq!(
        error.message,
        "The 'id' field was set in an offer operation, but operation feedback is not \
         supported for the SchedulerDriver API; please use the HTTP scheduler API for this \
         feature"
    );
    let mut offer = next_offers(&scheduler).offers.remove(0);
    assert_eq!(amount(&offer.resources, "cpus"), 1.5);

    // Every kind this master cannot perform is named, and leaves the
    // offer whole.
    for kind in [
        operation::Type::Unreserve,
        operation::Type::Destroy,
        operation::Type::GrowVolume,
        operation::Type::ShrinkVolume,
        operation::Type::CreateDisk,
        operation::Type::DestroyDisk,
    ] {
        scheduler.send(
            &master.upid(),
            &accept_call(&framework_id, &offer.id, vec![bare(kind, None)], 0.0),
        );
        let error: FrameworkErrorMessage = scheduler.expect();
        assert_eq!(
            error.message,
            format!(
                "Operation {} is not supported by this master",
                kind.as_str_name()
            )
        );
        offer = next_offers(&scheduler).offers.remove(0);
        assert_eq!(amount(&offer.resources, "cpus"), 1.5, "after {kind:?}");
    }
    master.settle();
    let state = master.json("/master/state");
    let framework = framework(&state, &framework_id);
    assert_eq!(framework["used_resources"]["cpus"], 0.5);
    assert_eq!(framework["tasks"].as_array().unwrap().len(), 1);
}

#[test]
fn http_scheduler_gets_an_operation_status_or_an_error_and_the_resources_back() {
    let master = TestMaster::with_args(&["--allocation_interval=50ms"]);
    let (_agent, _agent_id) = register_agent(&master);
    let subscribe = subscribe_call(framework_info("v1-ops"), false);
    let mut stream = Stream::open(&master, PROTOBUF, PROTOBUF, &subscribe.encode_to_vec());
    assert_eq!(stream.status, 200);
    let stream_id = stream.stream_id();
    let subscribed = stream.next();
    let framework_id = subscribed.subscribed.unwrap().framework_id.value;
    let first = stream_next(&mut stream, event::Type::Offers)
        .offers
        .unwrap()
        .offers
        .remove(0);
    let headers = [("Content-Type", PROTOBUF), ("Mesos-Stream-Id", &stream_id)];
    let accept = |offer: &str, operation: mesos::offer::Operation| -> Call {
        accept_call(
            &framework_id,
            &mesos::OfferId {
                value: offer.into(),
            },
            vec![operation],
            0.0,
        )
    };

    // With an id: an OPERATION_ERROR update for it, as Mesos drops one.
    let call = accept(
        &first.id.value,
        bare(operation::Type::Unreserve, Some("op-1")),
    );
    let (status, _) = post(&master, &headers, &call.encode_to_vec());
    assert_eq!(status, 202);
    let event = stream.next();
    assert_eq!(
        event.r#type,
        Some(event::Type::UpdateOperationStatus as i32),
        "{event:?}"
    );
    let update = event.update_operation_status.unwrap().status;
    assert_eq!(update.operation_id.unwrap().value, "op-1");
    assert_eq!(
        update.state,
        mesos_proto::v1::OperationState::OperationError as i32
    );
    assert_eq!(
        update.message.as_deref(),
        Some("Operation UNRESERVE is not supported by this master")
    );
    // The whole offer comes back.
    let second = stream_next(&mut stream, event::Type::Offers)
        .offers
        .unwrap()
        .offers
        .remove(0);
    let cpus: f64 = second
        .resources
        .iter()
        .filter(|r| r.name == "cpus")
        .filter_map(|r| r.scalar.map(|s| s.value))
        .sum();
    assert_eq!(cpus, 2.0);

    // Without an id: an ERROR event naming it.
    let call = accept(&second.id.value, bare(operation::Type::GrowVolume, None));
    let (status, _) = post(&master, &headers, &call.encode_to_vec());
    assert_eq!(status, 202);
    let event = stream.next();
    assert_eq!(event.r#type, Some(event::Type::Error as i32), "{event:?}");
    assert_eq!(
        event.error.unwrap().message,
        "Operation GROW_VOLUME is not supported by this master"
    );
    let third = stream_next(&mut stream, event::Type::Offers);
    assert_eq!(third.offers.unwrap().offers[0].agent_id, second.agent_id);
    // The call was an ACCEPT, not a subscription: the framework stays.
    let state = master.json("/master/state");
    assert_eq!(framework(&state, &framework_id)["active"], true);
}

/// The next event of `kind` (skipping heartbeats only).
fn stream_next(stream: &mut Stream, kind: event::Type) -> mesos_proto::v1::scheduler::Event {
    let event = stream.next();
    assert_eq!(event.r#type, Some(kind as i32), "{event:?}");
    event
}
